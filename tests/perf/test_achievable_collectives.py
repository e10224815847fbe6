"""The scale-up link scaled by each GPU's measured all-reduce bus bandwidth (ninth session).

achievable.csv: NCCL/RCCL all_reduce_perf bus bandwidth at 8 GB over 8 GPUs on Azure's ND
boards: H100 478.87 GB/s on a 450 GB/s NVLink, A100 231.58 on 300, MI300X 316.82 on 448.
"""

from __future__ import annotations

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.achievable import achievable_scale
from infercost.perf.step import collective_link_bytes_s, step_model

H100_SHARE = 478.87 / 450.0  # 1.064


@pytest.mark.parametrize(
    ("gpu", "factor"),
    [
        ("h100-sxm", 1.0),  # the reference
        ("mi300x", (316.82 / 448.0) / H100_SHARE),  # 0.7072 / 1.0642 = 0.6646
        ("a100-80gb-sxm", (231.58 / 300.0) / H100_SHARE),  # 0.7719 / 1.0642 = 0.7254
        ("b200", 1.0),  # no measured figure: H100's share (the prior)
    ],
)
def test_collective_factor(gpu: str, factor: float) -> None:
    assert achievable_scale(gpu).collective == pytest.approx(factor, rel=1e-12)


def test_step_model_link_is_the_scaled_link() -> None:
    acc = get_accelerator("MI300X")
    sm = step_model(
        get_model("llama-3.1-70b"), acc, get_quant_format("bf16"), 2.0, get_engine("vllm"), tp=8
    )
    assert sm.link_bytes_s == pytest.approx(448e9 * (316.82 / 448.0) / H100_SHARE, rel=1e-12)
    assert collective_link_bytes_s(acc) == sm.link_bytes_s


def test_pcie_cards_keep_their_pcie_link() -> None:
    # an L40S has no scale-up link: PCIe Gen4 x16, 32 GB/s a direction (perf.step
    # PCIE_X16_BYTES_S), unscaled (its collectives take the PCIe NCCL share)
    assert collective_link_bytes_s(get_accelerator("L40S")) == 32e9
