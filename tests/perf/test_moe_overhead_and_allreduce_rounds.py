"""The per-MoE-layer overhead and the log2(TP) latency rounds of a TP all-reduce, by hand."""

from __future__ import annotations

import dataclasses

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.step import comm_s, decode_step, step_model


def _sm(model: str, tp: int = 1, pp: int = 1, engine: str = "vllm"):  # type: ignore[no-untyped-def]
    return step_model(
        get_model(model), get_accelerator("H100"), get_quant_format("fp8"), 1.0,
        get_engine(engine), tp=tp, pp=pp,
    )  # fmt: skip


def test_moe_layer_overhead_adds_per_moe_layer_per_step() -> None:
    # DeepSeek-V3: 61 layers, the first 3 dense (first_k_dense_replace = 3): 58 MoE layers.
    # 100 µs each adds 5.8 ms to every step, whatever the batch.
    sm = dataclasses.replace(_sm("deepseek-v3", tp=8), moe_layer_overhead_s=0.0)
    assert float(sm.moe_layers) == 58.0
    with_moe = dataclasses.replace(sm, moe_layer_overhead_s=100e-6)
    for batch in (1, 64):
        base = float(decode_step(sm, batch, 2000).total_s)
        more = float(decode_step(with_moe, batch, 2000).total_s)
        assert more - base == pytest.approx(58 * 100e-6, rel=1e-9)


def test_moe_layer_overhead_splits_over_pipeline_stages_and_skips_dense_models() -> None:
    # PP 2: each stage holds 29 of the 58 MoE layers.
    assert float(_sm("deepseek-v3", tp=4, pp=2).moe_layers) == 29.0
    # a dense model has no MoE layer: the term is zero whatever its value
    dense = dataclasses.replace(_sm("llama-3.1-8b"), moe_layer_overhead_s=1e-3)
    assert float(dense.moe_layers) == 0.0
    assert float(decode_step(dense, 1, 100).total_s) == float(
        decode_step(_sm("llama-3.1-8b"), 1, 100).total_s
    )


def test_allreduce_latency_takes_log2_tp_rounds() -> None:
    # Llama-3.1-70B: 80 layers, 2 all-reduces each = 160 per step. One token (16 KiB, below
    # vLLM's one-shot thresholds: every GPU reads it from each of its TP - 1 peers,
    # perf.step.allreduce_traffic_bytes; at TP 2 that is the ring's 2 (TP-1)/TP = 1 as well):
    # the bandwidth term is (TP - 1) x 8,192 x 2 B / (link x efficiency); the latency term is
    # 160 x latency x log2(TP): 1 round at TP 2, 3 at TP 8.
    lat = get_engine("vllm").allreduce_latency_s
    for tp, rounds in ((2, 1.0), (4, 2.0), (8, 3.0)):
        sm = _sm("llama-3.1-70b", tp=tp)
        link = float(sm.link_bytes_s) * float(sm.comm_efficiency)
        bw_s = 160 * (tp - 1) * 8192 * 2 / link
        assert float(comm_s(sm, 1.0)) == pytest.approx(160 * rounds * lat + bw_s, rel=1e-12)
