"""Hand-derived checks of the step-time terms beyond weights and KV (logits traffic,
per-sequence overhead) and of trtllm-bench engine sizing."""

from __future__ import annotations

import dataclasses

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.serving import steady_state
from infercost.perf.step import StepModel, decode_step, step_model


def _sm(model: str):  # type: ignore[no-untyped-def]
    return step_model(
        get_model(model), get_accelerator("H100"), get_quant_format("fp8"), 1.0, get_engine("vllm")
    )


def test_logits_are_written_and_read_once_per_sequence_in_fp32() -> None:
    # Llama-3.1-8B vocab 128,256 x 4 bytes x 2 passes = 1,026,048 B per sequence;
    # 100 decoding sequences move 102,604,800 B of logits.
    sm = _sm("llama-3.1-8b")
    assert float(sm.logits_bytes_per_seq) == 1_026_048.0
    without = decode_step(dataclasses.replace(sm, logits_bytes_per_seq=0.0), 100, 500)
    with_logits = decode_step(sm, 100, 500)
    assert float(with_logits.read_bytes - without.read_bytes) == pytest.approx(102_604_800.0)


def test_seq_overhead_adds_per_sequence_time() -> None:
    # 100 sequences x 2 µs = 0.2 ms on top of the fixed per-step overhead.
    sm = dataclasses.replace(_sm("llama-3.1-8b"), seq_overhead_s=2e-6)
    step = decode_step(sm, 100, 500)
    assert float(step.overhead_s) == pytest.approx(float(sm.step_overhead_s) + 200e-6)


def _round_step() -> StepModel:
    # 1e10 weight bytes at 1e12 B/s = 10 ms per iteration from memory; 2e10 FLOP per token at
    # 1e15 FLOP/s = 20 µs per token from compute; no KV, attention, communication or overhead.
    return StepModel(
        dense_bytes=1e10,
        expert_bytes=0.0,
        num_experts=0,
        experts_per_token=0,
        kv_layer_token_bytes=0.0,
        full_layers=1.0,
        sliding_layers=0.0,
        sliding_window=0.0,
        linear_flop_per_token=2e10,
        lm_head_flop_per_seq=0.0,
        attn_flop_per_ctx=0.0,
        hidden_size=1,
        mem_bw_bytes_s=1e12,
        peak_flop_s=1e15,
        mbu=1.0,
        mfu=1.0,
        step_overhead_s=0.0,
        allreduce_latency_s=0.0,
        tp=1,
        pp=1,
        link_bytes_s=1e11,
    )


def test_prefill_bound_steady_state_fills_every_iteration() -> None:
    # N = 500, ISL 900, OSL 101, budget 1,000 tokens per iteration: fusing 499 prompts into
    # 100 decode steps needs 500 + 499 x 9 = 4,991 tokens per iteration > 1,000, so prefill
    # bounds: n_dec = 1,000 x 100 / (900 + 100) = 100 decodes + 900 prompt tokens (one prompt)
    # per iteration = 1,000 tokens x 20 µs = 20 ms (> 10 ms of weights). One request finishes
    # its prompt per iteration: 50 req/s, 50 x 101 = 5,050 output tok/s; TPOT 20 ms;
    # E2E = 500 / 50 = 10 s (Little); TTFT = 10 - 100 x 0.02 = 8 s.
    sp = steady_state(_round_step(), 500.0, 900.0, 101.0, token_budget=1000.0)
    assert float(sp.tpot_s) == pytest.approx(0.020)
    assert float(sp.request_s) == pytest.approx(50.0)
    assert float(sp.output_tok_s) == pytest.approx(5050.0)
    assert float(sp.e2e_s) == pytest.approx(10.0)
    assert float(sp.ttft_s) == pytest.approx(8.0)


def test_budget_does_not_bind_at_light_load() -> None:
    # N = 2: 2 + 1 x 9 = 11 tokens per iteration, far below the budget: the fused cycle
    # applies (TPOT = decode step at N = 2 + the other prompt's marginal time spread over the
    # 1 + 100 iterations of this request's life).
    sp = steady_state(_round_step(), 2.0, 900.0, 101.0, token_budget=1000.0)
    # decode step: max(10 ms, 2 x 20 µs) = 10 ms; the prompt's iteration (900 + 1 tokens):
    # 18.02 ms, marginal over the 1-decode step (10 ms) = 8.02 ms, spread over 101 iterations;
    # TTFT = the prompt's iteration 18.02 ms + its share 8.02 / 101 ms.
    assert float(sp.tpot_s) == pytest.approx(0.010 + 0.00802 / 101)
    assert float(sp.ttft_s) == pytest.approx(0.01802 + 0.00802 / 101)
