"""The simulator's scalar step time agrees with perf.step.mixed_step and with hand figures."""

from __future__ import annotations

import numpy as np
import pytest
from sim_types import StepFactory

from infercost.errors import InputError
from infercost.perf.step import mixed_step, step_model
from infercost.predict import resolve
from infercost.sim.steptime import FastStep

DEPLOYMENTS = [
    ("llama-3.1-8b", "H100", 1, "vllm"),  # dense GQA
    ("llama-3.1-70b", "H200", 4, "trtllm"),  # TP all-reduces
    ("mixtral-8x7b", "H100", 2, "sglang"),  # MoE experts touched
    ("gemma-3-27b", "H100", 2, "vllm"),  # sliding-window layers
    ("gpt-oss-20b", "H100", 1, "vllm"),  # MoE + sliding window
    ("deepseek-v3", "H200", 8, "vllm"),  # MLA + MoE
]


@pytest.mark.parametrize(("model", "gpu", "tp", "engine"), DEPLOYMENTS)
def test_agrees_with_mixed_step_to_1e9(model: str, gpu: str, tp: int, engine: str) -> None:
    # The fast path is a transcription of mixed_step in floats; any difference beyond
    # rounding (~1e-15) means the two have drifted apart.
    r = resolve(model, gpu, tp=tp, engine=engine)
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    fast = FastStep(sm)
    rng = np.random.default_rng(7)
    for _ in range(300):
        b = int(rng.integers(0, 400))
        ctx = float(rng.uniform(1.0, 20_000.0))
        seqs = int(rng.integers(0, 4))
        per_seq = int(rng.integers(1, 3000)) if seqs else 0
        c0 = float(rng.integers(0, 5000)) if seqs else 0.0
        ref = float(mixed_step(sm, b, ctx, per_seq * seqs, c0, seqs).total_s)
        got = fast.time_s(
            b,
            ctx * b,
            per_seq * seqs,
            seqs,
            seqs * fast.eff_context(c0),
            seqs * fast.chunk_pairs(per_seq, c0),
        )
        assert got == pytest.approx(ref, rel=1e-9)


def test_hand_derived_decode_step(make_step: StepFactory) -> None:
    # 100 sequences at context 1,000 on a 10-layer model with 1,000 KV bytes per token-layer:
    # GEMMs: max(1e10 B / 1e12 B/s = 10 ms, 100 tok x 2e10 FLOP / 1e15 = 2 ms) = 10 ms
    # attention: KV read 100 x 1,000 x 10 layers x 1,000 B = 1e9 B -> 1 ms,
    #            KV write 100 x 10 x 1,000 B = 1e6 B -> 0.001 ms; no attention FLOP -> 1.001 ms
    # + 0.5 ms fixed overhead = 11.501 ms.
    sm = make_step(
        kv_layer_token_bytes=1000.0,
        full_layers=10.0,
        linear_flop_per_token=2e10,
        step_overhead_s=0.5e-3,
    )
    assert FastStep(sm).time_s(100, 100 * 1000.0) == pytest.approx(11.501e-3, rel=1e-12)


def test_verify_step_runs_k_plus_1_tokens_per_sequence(make_step: StepFactory) -> None:
    # Speculative verify at batch 512 with q = 5 tokens per sequence: 2,560 tokens x 2e10
    # FLOP / 1e15 FLOP/s = 51.2 ms of GEMM compute (> 10 ms of weight reads).
    sm = make_step(linear_flop_per_token=2e10)
    assert FastStep(sm).time_s(512, 0.0, query_per_seq=5.0) == pytest.approx(51.2e-3, rel=1e-12)


def test_sliding_window_caps_context(make_step: StepFactory) -> None:
    # 1 full + 1 sliding layer, window 100: a sequence at context 1,000 has effective context
    # 1,000 + 100 = 1,100 token-layers; a chunk of 10 after 1,000 has 10 x 1,000 + 50 = 10,050
    # pairs on the full layer and min(10,050, 10 x 100) = 1,000 on the sliding one.
    fast = FastStep(make_step(full_layers=1.0, sliding_layers=1.0, sliding_window=100.0))
    assert fast.eff_context(1000.0) == 1100.0
    assert fast.chunk_pairs(10.0, 1000.0) == 11_050.0


def test_array_step_model_is_refused(make_step: StepFactory) -> None:
    sm = make_step(dense_bytes=np.array([1e10, 2e10]))
    with pytest.raises(InputError, match="one configuration"):
        FastStep(sm)


@pytest.mark.parametrize(("model", "gpu", "tp", "engine"), DEPLOYMENTS)
def test_time_fn_gives_the_same_bits_as_time_s(model: str, gpu: str, tp: int, engine: str) -> None:
    # The scheduler's prompt iterations call FastStep.time_fn(), a closure that drops the
    # terms that are zero for a dense model without window or top-k; it must return exactly
    # what time_s returns (bit for bit: results may not depend on which one ran).
    r = resolve(model, gpu, tp=tp, engine=engine)
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    fast = FastStep(sm)
    fn = fast.time_fn()
    rng = np.random.default_rng(3)
    for _ in range(300):
        b = int(rng.integers(0, 400))
        ctx_sum = float(rng.integers(b, 400 * b + 1))
        seqs = int(rng.integers(0, 4))
        tokens = int(rng.integers(1, 8192)) if seqs else 0
        c0 = float(rng.integers(0, 5000)) if seqs else 0.0
        q = float(rng.integers(1, 6))
        args = (b, ctx_sum, tokens, seqs, seqs * fast.eff_context(c0),
                seqs * fast.chunk_pairs(tokens, c0), q)  # fmt: skip
        assert fn(*args) == fast.time_s(*args)
