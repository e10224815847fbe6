"""TP collectives over PCIe (PCIe-only cards, NVLink-bridged pairs at TP > 2), by hand.

Source of the two fractions: NVIDIA/nccl issue #1639 (8 x RTX 5090 on PCIe Gen5 x16, whose
64 GB/s per direction gave an all-reduce bus bandwidth of 35 GB/s over 4 GPUs and 28 GB/s
over 8); the engines' own all-reduce kernels need NVLink, so over PCIe the engine's fitted
NVLink efficiency does not apply (perf.step.collective_bytes_s).
"""

from __future__ import annotations

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.step import (
    collective_bytes_s,
    comm_s,
    nvlink_peers,
    pcie_bytes_s,
    step_model,
)


def _sm(gpu: str, tp: int, engine: str = "trtllm"):  # type: ignore[no-untyped-def]
    return step_model(
        get_model("llama-3.1-70b"), get_accelerator(gpu), get_quant_format("fp8"), 1.0,
        get_engine(engine), tp=tp,
    )  # fmt: skip


def test_link_kind_of_each_catalog_card() -> None:
    # L40S: no GPU-to-GPU link (PCIe Gen4 x16, 32 GB/s per direction); H100 NVL: bridged
    # pairs (PCIe Gen5, 64 GB/s); H100 SXM: the whole NVSwitch board.
    assert nvlink_peers(get_accelerator("L40S")) == 1.0
    assert pcie_bytes_s(get_accelerator("L40S")) == 32e9
    assert nvlink_peers(get_accelerator("h100-nvl")) == 2.0
    assert pcie_bytes_s(get_accelerator("h100-nvl")) == 64e9
    assert nvlink_peers(get_accelerator("H100")) == 0.0


def test_collective_bandwidth_by_link_kind_and_group_size() -> None:
    eff = 0.3
    # PCIe-only, Gen4: 4 GPUs at 35/64 of 32 GB/s = 17.5 GB/s; 8 GPUs at 28/64 = 14 GB/s;
    # the engine's efficiency plays no part
    assert float(collective_bytes_s(32e9, eff, 1.0, 32e9, 4)) == pytest.approx(17.5e9)
    assert float(collective_bytes_s(32e9, eff, 1.0, 32e9, 8)) == pytest.approx(14e9)
    # a bridged pair at TP 2 stays on the 300 GB/s bridge x the engine's efficiency = 90 GB/s;
    # at TP 4 the ring leaves the bridge: 35/64 of PCIe Gen5's 64 GB/s = 35 GB/s
    assert float(collective_bytes_s(300e9, eff, 2.0, 64e9, 2)) == pytest.approx(90e9)
    assert float(collective_bytes_s(300e9, eff, 2.0, 64e9, 4)) == pytest.approx(35e9)
    # an NVSwitch board: 450 GB/s x 0.3 = 135 GB/s at any TP
    assert float(collective_bytes_s(450e9, eff, 0.0, 64e9, 8)) == pytest.approx(135e9)


def test_l40s_tp4_all_reduce_time_by_hand() -> None:
    # Llama-3.1-70B on 4 x L40S: 160 all-reduces per step (80 layers x 2), each
    # latency x log2(4) + 2 x 3/4 x tokens x 8,192 x 2 B / 17.5 GB/s. For 64 tokens:
    # 2 x 0.75 x 1,048,576 B / 17.5e9 = 89.88 µs of bandwidth per all-reduce.
    sm = _sm("L40S", 4)
    lat = get_engine("trtllm").allreduce_latency_s
    want = 160 * (2 * lat + 2 * 0.75 * 64 * 8192 * 2 / 17.5e9)
    assert float(comm_s(sm, 64.0)) == pytest.approx(want, rel=1e-12)


def test_pcie_collective_is_slower_than_nvlink_and_tp8_crosses_the_fraction() -> None:
    # Same TP 8 decode on L40S (PCIe) and H100 SXM (NVSwitch): the PCIe all-reduce of 64
    # tokens' activations takes 2 x 7/8 x 1 MiB / 14 GB/s = 131 µs of bandwidth per
    # all-reduce, against 2 x 7/8 x 1 MiB / (450 GB/s x the fitted efficiency) on NVLink.
    lat = get_engine("trtllm").allreduce_latency_s
    pcie = float(comm_s(_sm("L40S", 8), 64.0))
    assert pcie == pytest.approx(160 * (3 * lat + 2 * 0.875 * 64 * 8192 * 2 / 14e9), rel=1e-12)
    # (on NVLink TensorRT-LLM's own kernel runs: 1 MiB is past its 500,000-byte one-shot
    # threshold at 8 GPUs, so two-shot plus (7 - 1.75) x 500,000 B, perf.step
    # allreduce_traffic_bytes)
    nvl = _sm("H100", 8)
    link = float(nvl.link_bytes_s) * float(nvl.comm_efficiency)
    want_nvl = 160 * (3 * lat + (2 * 0.875 * 64 * 8192 * 2 + 5.25 * 500_000) / link)
    assert float(comm_s(nvl, 64.0)) == pytest.approx(want_nvl, rel=1e-12)
