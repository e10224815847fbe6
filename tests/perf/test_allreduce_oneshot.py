"""One-shot and two-shot TP all-reduces on NVLink, by hand (perf.step).

The engines' own all-reduce kernels read the whole message from every peer below a size
threshold (one-shot: (n - 1) x message bytes per GPU) and run reduce-scatter + all-gather above
it (two-shot: 2 (n - 1) / n x message). Thresholds, from each engine's source (catalog
engines.toml ``allreduce_source``): vLLM and SGLang 512 KiB for 3-4 GPUs and 256 KiB for 5-8;
TensorRT-LLM's AUTO strategy 1,000,000 and 500,000 bytes. PCIe groups and groups spread over
scale-up domains run NCCL's ring (no one-shot).
"""

from __future__ import annotations

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.step import (
    allreduce_traffic_bytes,
    comm_s,
    mixed_step,
    oneshot_threshold_bytes,
    step_model,
)


def _sm(gpu: str, tp: int, engine: str):  # type: ignore[no-untyped-def]
    return step_model(
        get_model("llama-3.1-70b"), get_accelerator(gpu), get_quant_format("bf16"), 2.0,
        get_engine(engine), tp=tp,
    )  # fmt: skip


def test_engine_thresholds_from_the_catalog() -> None:
    vllm, trt = get_engine("vllm"), get_engine("trtllm")
    assert (vllm.allreduce_oneshot_max_bytes_4, vllm.allreduce_oneshot_max_bytes_8) == (
        512 * 1024,
        256 * 1024,
    )
    assert (trt.allreduce_oneshot_max_bytes_4, trt.allreduce_oneshot_max_bytes_8) == (1e6, 5e5)
    assert get_engine("sglang").allreduce_oneshot_max_bytes_8 == 256 * 1024


def test_threshold_by_group() -> None:
    # NVSwitch board (peers 0): 3-4 GPUs the first threshold, 5-8 the second
    assert float(oneshot_threshold_bytes(4, 4, 0.0, 524288, 262144)) == 524288
    assert float(oneshot_threshold_bytes(8, 8, 0.0, 524288, 262144)) == 262144
    # 2 GPUs: either kernel moves the message once; no threshold needed
    assert float(oneshot_threshold_bytes(2, 2, 0.0, 524288, 262144)) == 0.0
    # a TP 16 group with 8 GPUs per domain, and a PCIe-only card (peers 1): NCCL's ring
    assert float(oneshot_threshold_bytes(8, 16, 0.0, 524288, 262144)) == 0.0
    assert float(oneshot_threshold_bytes(4, 4, 1.0, 524288, 262144)) == 0.0
    # NVLink-bridged pairs at TP 4 leave the bridge: ring
    assert float(oneshot_threshold_bytes(4, 4, 2.0, 524288, 262144)) == 0.0


def test_traffic_below_at_and_above_the_threshold() -> None:
    thr = 262144.0
    # 8 GPUs, 100 kB: one-shot reads 7 x 100,000 = 700,000 B
    assert float(allreduce_traffic_bytes(100e3, 8, thr)) == pytest.approx(700e3)
    # at the threshold both give 7 x 262,144 = 1,835,008 B (continuous)
    assert float(allreduce_traffic_bytes(thr, 8, thr)) == pytest.approx(7 * thr)
    # 1 MB: two-shot 1.75 x 1e6 + (7 - 1.75) x 262,144 = 1,750,000 + 1,376,256 = 3,126,256 B
    assert float(allreduce_traffic_bytes(1e6, 8, thr)) == pytest.approx(3_126_256.0)
    # no threshold: the ring's 2 x 7/8 x 1e6 = 1,750,000 B
    assert float(allreduce_traffic_bytes(1e6, 8, 0.0)) == pytest.approx(1.75e6)


def test_decode_all_reduce_of_a_small_batch_by_hand() -> None:
    # Llama-3.1-70B (hidden 8,192, 80 layers: 160 all-reduces a step), vLLM TP 8 on H100
    # SXM, 8 decode tokens: 8 x 8,192 x 2 B = 131,072 B < 256 KiB, so one-shot: 7 x 131,072 =
    # 917,504 B per all-reduce at the link x the engine's efficiency, plus 3 latency rounds.
    sm = _sm("H100", 8, "vllm")
    link = float(sm.link_bytes_s) * float(sm.comm_efficiency)
    lat = float(sm.allreduce_latency_s)
    want = 160 * (3 * lat + 917_504 / link)
    assert float(comm_s(sm, 8.0)) == pytest.approx(want, rel=1e-12)
    # the scalar path of mixed_step carries the same communication
    step = mixed_step(sm, 8.0, 1000.0)
    arr = mixed_step(sm, [8.0], [1000.0])
    assert float(step.comm_s) == pytest.approx(float(arr.comm_s[0]), rel=1e-12)
    assert float(step.comm_s) == pytest.approx(want, rel=1e-12)


def test_small_messages_cost_more_per_byte_than_large_ones() -> None:
    # TP 8: 8 tokens (one-shot) move 7 B per message byte; 4,096 tokens (64 MiB, two-shot)
    # about 1.75 + 5.25 x 262,144 / 67,108,864 = 1.77 B per byte
    sm = _sm("H100", 8, "vllm")
    link = float(sm.link_bytes_s) * float(sm.comm_efficiency)
    lat = float(sm.allreduce_latency_s)
    small = (float(comm_s(sm, 8.0)) / 160 - 3 * lat) * link / (8 * 16384)
    large = (float(comm_s(sm, 4096.0)) / 160 - 3 * lat) * link / (4096 * 16384)
    assert small == pytest.approx(7.0)
    assert large == pytest.approx(1.75 + 5.25 * 262144 / (4096 * 16384))
