"""Monotonic physics, checked over random configurations (hypothesis)."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.moe import expected_experts_touched
from infercost.perf.serving import steady_state
from infercost.perf.step import decode_step, prefill_step, step_model

MODELS = ["llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "deepseek-v3", "gpt-oss-120b"]


def _sm(model: str, tp: int):  # type: ignore[no-untyped-def]
    return step_model(
        get_model(model),
        get_accelerator("H100"),
        get_quant_format("fp8"),
        1.0,
        get_engine("vllm"),
        tp=tp,
    )


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    tp=st.sampled_from([1, 2, 4, 8]),
    batch=st.integers(1, 2048),
    extra=st.integers(1, 512),
    context=st.integers(1, 32768),
)
def test_more_batch_never_lowers_step_time(
    model: str, tp: int, batch: int, extra: int, context: int
) -> None:
    sm = _sm(model, tp)
    assert float(decode_step(sm, batch + extra, context).total_s) >= float(
        decode_step(sm, batch, context).total_s
    )


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    batch=st.integers(1, 1024),
    context=st.integers(1, 16384),
    factor=st.floats(1.0, 4.0),
)
def test_more_bandwidth_never_raises_step_time(
    model: str, batch: int, context: int, factor: float
) -> None:
    sm = _sm(model, 1)
    faster = dataclasses.replace(sm, mem_bw_bytes_s=float(sm.mem_bw_bytes_s) * factor)
    assert float(decode_step(faster, batch, context).total_s) <= float(
        decode_step(sm, batch, context).total_s
    )


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8192), extra=st.integers(1, 4096))
def test_longer_prompts_take_longer_to_prefill(n: int, extra: int) -> None:
    sm = _sm("llama-3.1-8b", 1)
    assert float(prefill_step(sm, n + extra).total_s) > float(prefill_step(sm, n).total_s)


def test_prefill_attention_grows_with_the_square_of_the_prompt() -> None:
    # Attention FLOP of a fresh prompt: 4 x heads x head_dim x n^2 / 2 per layer, so the
    # attention part of 2n tokens is 4x that of n tokens.
    sm = dataclasses.replace(
        _sm("llama-3.1-8b", 1), linear_flop_per_token=0.0, lm_head_flop_per_seq=0.0
    )
    f1 = float(prefill_step(sm, 4096).flop)
    f2 = float(prefill_step(sm, 8192).flop)
    assert f2 / f1 == 4.0


def test_moe_experts_touched_batch_1_and_large_batch() -> None:
    # E (1 - (1 - k/E)^T): T = 1 gives k; Mixtral (E 8, k 2) at T = 64 gives
    # 8 x (1 - 0.75^64) = 7.99999; DeepSeek-V3 (256, 8) at T = 32: 256 x (1 - (31/32)^32).
    assert float(expected_experts_touched(8, 2, 1)) == 2.0
    assert float(expected_experts_touched(8, 2, 64)) == np.float64(8 * (1 - 0.75**64))
    assert float(expected_experts_touched(256, 8, 32)) == 256 * (1 - (1 - 8 / 256) ** 32)


def test_moe_decode_reads_fewer_bytes_at_batch_1_than_at_large_batch() -> None:
    sm = _sm("mixtral-8x7b", 1)
    b1 = float(decode_step(sm, 1, 100).read_bytes)
    b256 = (
        float(decode_step(sm, 256, 100).read_bytes)
        - 255
        * float(
            sm.kv_layer_token_bytes  # type: ignore[arg-type]
        )
        * 32
        * 101
    )  # remove the extra KV reads/writes of 255 more sequences
    assert b1 < 0.4 * b256  # batch 1 reads 2 of 8 experts; batch 256 reads all 8


def test_tp_adds_allreduce_latency_at_small_batch() -> None:
    one = decode_step(_sm("llama-3.1-70b", 1), 1, 100)
    four = decode_step(_sm("llama-3.1-70b", 4), 1, 100)
    # 2 all-reduces x 80 layers x 10 µs latency (vLLM profile) at least.
    assert float(four.comm_s) >= 2 * 80 * 10e-6
    assert float(one.comm_s) == 0.0


def test_steady_state_batch_1_is_prefill_plus_decode_steps() -> None:
    # At N = 1 there is no other request: E2E = TTFT + (osl - 1) x one decode step.
    sm = _sm("llama-3.1-8b", 1)
    sp = steady_state(sm, 1.0, 1000.0, 100.0)
    assert float(sp.tpot_s) == float(decode_step(sm, 1, 1050).total_s)
    assert float(sp.e2e_s) == float(sp.ttft_s) + 99 * float(sp.tpot_s)
