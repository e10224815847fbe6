"""Scheduler behaviour on round-number step models, every figure derived by hand.

Unless a test says otherwise the step model takes exactly 10 ms per iteration (1e10 weight
bytes at 1e12 B/s, nothing else; see conftest.py), so times are multiples of 10 ms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sim_types import StepFactory

from infercost.perf.step import step_model
from infercost.predict import resolve
from infercost.sim import (
    ReplicaConfig,
    SpecDecoding,
    Workload,
    expected_tokens_per_step,
    simulate,
)
from infercost.sim.config import decode_iteration

BIG_KV = 1e9


def _cfg(make_step: StepFactory, **kw: object) -> ReplicaConfig:
    base: dict[str, object] = {
        "step": make_step(),
        "max_num_seqs": 256,
        "max_num_batched_tokens": 8192,
        "kv_capacity_tokens": BIG_KV,
    }
    base.update(kw)
    return ReplicaConfig(**base)  # type: ignore[arg-type]


def test_single_request_timeline(make_step: StepFactory) -> None:
    # Arrives at 1.0 s; 5 ms request overhead -> scheduled at 1.005; one 10 ms prefill
    # iteration samples token 1 at 1.015 (TTFT 15 ms); 10 more tokens take 10 decode
    # iterations (100 ms): E2E 115 ms, TPOT = (115 - 15) / (11 - 1) = 10 ms.
    wl = Workload.from_arrays([1.0], 100, 11)
    res = simulate(wl, _cfg(make_step, request_overhead_s=0.005))
    r = res.requests
    assert r.first_token_s[0] - r.arrival_s[0] == pytest.approx(0.015, abs=1e-12)
    assert r.finish_s[0] - r.arrival_s[0] == pytest.approx(0.115, abs=1e-12)
    assert res.summary.tpot.mean == pytest.approx(0.010, abs=1e-12)
    assert res.summary.queue.mean == pytest.approx(0.0, abs=1e-12)


def test_chunked_prefill_spreads_prompt_over_budget_sized_iterations(
    make_step: StepFactory,
) -> None:
    # 250-token prompt, budget 100 tokens per iteration: chunks 100 + 100 + 50 -> 3 iterations
    # before the first token: TTFT 30 ms; then 4 decode iterations: E2E 70 ms.
    wl = Workload.from_arrays([0.0], 250, 5)
    res = simulate(wl, _cfg(make_step, max_num_batched_tokens=100))
    assert res.requests.first_token_s[0] == pytest.approx(0.030, abs=1e-12)
    assert res.requests.finish_s[0] == pytest.approx(0.070, abs=1e-12)


def test_full_admission_waits_for_kv_room(make_step: StepFactory) -> None:
    # "full" admission reserves prompt + output + half a 16-token block: 100 + 10 + 8 = 118
    # tokens. A 240-token cache admits two (236) of three requests arriving at t = 0.
    # Requests 0 and 1 prefill together (first token 10 ms) and finish after 9 more
    # iterations at 100 ms; request 2 is admitted then: first token 110 ms, finish 200 ms.
    wl = Workload.from_arrays([0.0, 0.0, 0.0], 100, 10)
    res = simulate(wl, _cfg(make_step, kv_capacity_tokens=240.0, admission="full"))
    r = res.requests
    np.testing.assert_allclose(r.first_token_s, [0.01, 0.01, 0.11], atol=1e-12)
    np.testing.assert_allclose(r.finish_s, [0.10, 0.10, 0.20], atol=1e-12)
    np.testing.assert_allclose(r.sched_s, [0.0, 0.0, 0.10], atol=1e-12)
    assert res.summary.queue.p99 > 0.09


def test_max_num_seqs_caps_the_batch(make_step: StepFactory) -> None:
    # One seat: the second request waits for the first (10 tokens: finish at 100 ms), then
    # prefills (first token 110 ms).
    wl = Workload.from_arrays([0.0, 0.0], 100, 10)
    res = simulate(wl, _cfg(make_step, max_num_seqs=1))
    np.testing.assert_allclose(res.requests.first_token_s, [0.01, 0.11], atol=1e-12)


def test_preemption_by_recompute_when_the_cache_fills(make_step: StepFactory) -> None:
    # "prompt" admission, 250-token cache, 16-token blocks (8 tokens of slack per sequence).
    # Both 100-token prompts are admitted (2 x 108 = 216) and sample token 1 at 10 ms. Each
    # decode iteration adds 2 tokens; before iteration j + 1 the cache must hold
    # 216 + 2 j + 2 <= 250, so after j = 17 iterations (t = 0.18 s) request 1, the latest
    # admitted, is preempted with 1 + 17 = 18 tokens generated. It cannot return while
    # request 0 runs (125 + 118 + 8 + 1 > 250). Request 0 finishes after its 99 decode
    # iterations at 1.00 s; request 1 recomputes 100 + 18 tokens in one iteration (token 19 at
    # 1.01 s) and decodes the remaining 81: finish 1.82 s. Its TTFT stays 10 ms.
    wl = Workload.from_arrays([0.0, 0.0], 100, 100)
    res = simulate(wl, _cfg(make_step, kv_capacity_tokens=250.0, admission="prompt"))
    r = res.requests
    np.testing.assert_allclose(r.first_token_s, [0.01, 0.01], atol=1e-12)
    np.testing.assert_allclose(r.finish_s, [1.00, 1.82], atol=1e-9)
    assert r.preemptions.tolist() == [0, 1]
    assert res.replicas[0].preemptions == 1


def test_full_admission_never_preempts_on_the_same_cache(make_step: StepFactory) -> None:
    # Reserving 100 + 100 + 8 = 208 tokens each, only one fits at a time: request 1 starts at
    # 1.00 s (first token 1.01 s) and finishes at 2.00 s; nothing is preempted.
    wl = Workload.from_arrays([0.0, 0.0], 100, 100)
    res = simulate(wl, _cfg(make_step, kv_capacity_tokens=250.0, admission="full"))
    np.testing.assert_allclose(res.requests.finish_s, [1.00, 2.00], atol=1e-9)
    assert res.requests.preemptions.tolist() == [0, 0]


def test_prefix_cache_hit_skips_the_cached_part_of_prefill(make_step: StepFactory) -> None:
    # Weights 1e9 B -> 1 ms; 1e11 FLOP per token at 1e15 FLOP/s -> 0.1 ms per token.
    # A (prefix 0, 64 cached-able tokens of a 100-token prompt) prefills 100 tokens: 10 ms.
    # B (same prefix, arrives after A finished) prefills 100 - 64 = 36 tokens: 3.6 ms.
    # C (another prefix) prefills all 100: 10 ms.
    step = make_step(dense_bytes=1e9, linear_flop_per_token=1e11)
    wl = Workload.from_arrays([0.0, 1.0, 2.0], 100, 2, prefix_id=[0, 0, 1], prefix_tokens=64)
    ttft = simulate(wl, _cfg(make_step, step=step)).requests
    np.testing.assert_allclose(
        ttft.first_token_s - ttft.arrival_s, [0.010, 0.0036, 0.010], rtol=1e-9
    )
    off = simulate(wl, _cfg(make_step, step=step, prefix_caching=False)).requests
    np.testing.assert_allclose(off.first_token_s - off.arrival_s, [0.010] * 3, rtol=1e-9)


def test_spec_decoding_expected_tokens_per_step() -> None:
    # (1 - 0.8^5) / (1 - 0.8) = (1 - 0.32768) / 0.2 = 3.3616; a = 1 keeps all k + 1 = 5.
    assert expected_tokens_per_step(4, 0.8) == pytest.approx(3.3616, abs=1e-12)
    assert expected_tokens_per_step(4, 1.0) == 5.0
    assert expected_tokens_per_step(4, 0.0) == 1.0


def _spec_setup(make_step: StepFactory) -> tuple[ReplicaConfig, ReplicaConfig]:
    # Target: 10 ms of weight reads, 20 us of GEMM compute per token (2e10 FLOP at 1e15/s).
    # Draft: 1 ms of weight reads, 2 us per token.
    target = make_step(linear_flop_per_token=2e10)
    draft = make_step(dense_bytes=1e9, linear_flop_per_token=2e9)
    plain = ReplicaConfig(target, 512, 8192, BIG_KV)
    spec = ReplicaConfig(target, 512, 8192, BIG_KV, spec=SpecDecoding(4, 0.8, draft))
    return plain, spec


def test_spec_decoding_lowers_latency_at_batch_1(make_step: StepFactory) -> None:
    # Batch 1 is memory-bound: a verify step of 5 tokens still takes max(10 ms, 5 x 20 us)
    # = 10 ms, plus 4 draft steps of 1 ms = 14 ms for 3.3616 tokens on average.
    # One request, osl 101: 100 tokens after the first need ceil(100 / 3.3616) = 30 verify
    # iterations = 420 ms -> TPOT 4.2 ms, against 10 ms without speculation.
    plain, spec = _spec_setup(make_step)
    wl = Workload.from_arrays([0.0], 10, 101)
    assert simulate(wl, plain).summary.tpot.mean == pytest.approx(0.010, rel=1e-12)
    assert simulate(wl, spec).summary.tpot.mean == pytest.approx(0.0042, rel=1e-12)


def test_spec_decoding_lowers_throughput_at_high_batch(make_step: StepFactory) -> None:
    # Why: at batch 512 decode is compute-bound. Without speculation a step costs
    # max(10 ms, 512 x 20 us = 10.24 ms) = 10.24 ms for 512 tokens: 50,000 tok/s. A verify
    # step runs 512 x 5 = 2,560 tokens of FLOP (51.2 ms) plus 4 draft steps of
    # max(1 ms, 512 x 2 us) = 1.024 ms, 55.296 ms in all, and keeps only 512 x 3.3616 =
    # 1,721.1 tokens: 31,125.7 tok/s. The rejected drafts' FLOP are paid and thrown away.
    plain, spec = _spec_setup(make_step)
    t_plain, tok_plain = decode_iteration(plain, 512, 0.0)
    t_spec, tok_spec = decode_iteration(spec, 512, 0.0)
    assert t_plain == pytest.approx(0.01024, rel=1e-12)
    assert tok_plain == pytest.approx(50_000.0, rel=1e-12)
    assert t_spec == pytest.approx(0.055296, rel=1e-12)
    assert tok_spec == pytest.approx(512 * 3.3616 / 0.055296, rel=1e-12)
    # End to end, 512 one-token prompts at t = 0, osl 1,000. Plain: one prefill iteration
    # (512 tokens x 20 us = 10.24 ms) + 999 decode iterations of 10.24 ms = 10.24 s for
    # 512,000 tokens = 50,000 tok/s. Speculative: prefill 10.24 ms + draft prefill 1.024 ms,
    # then ceil(999 / 3.3616) = 298 verify iterations x 55.296 ms: 16.489472 s.
    wl = Workload.from_arrays(np.zeros(512), 1, 1000)
    assert simulate(wl, plain).summary.output_tok_s == pytest.approx(50_000.0, rel=1e-9)
    expected = 512_000 / (0.01024 + 0.001024 + 298 * 0.055296)
    assert simulate(wl, spec).summary.output_tok_s == pytest.approx(expected, rel=1e-9)


def test_least_loaded_router_avoids_the_busy_replica(make_step: StepFactory) -> None:
    # Two replicas of one seat each. Request 0 (osl 100) holds replica A until 1.00 s;
    # request 1 (osl 1, t = 1 ms) goes to B and is done by 11 ms; request 2 (t = 0.1 s):
    # round-robin sends it to A, where it waits until 1.00 s (TTFT 1.01 - 0.1 = 0.91 s);
    # least-loaded sends it to the idle B (TTFT 10 ms).
    wl = Workload.from_arrays([0.0, 0.001, 0.1], 10, [100, 1, 1])
    cfg = _cfg(make_step, max_num_seqs=1)
    rr = simulate(wl, cfg, replicas=2, router="round-robin").requests
    ll = simulate(wl, cfg, replicas=2, router="least-loaded").requests
    assert rr.replica.tolist() == [0, 1, 0]
    assert ll.replica.tolist() == [0, 1, 1]
    assert rr.first_token_s[2] - rr.arrival_s[2] == pytest.approx(0.91, abs=1e-9)
    assert ll.first_token_s[2] - ll.arrival_s[2] == pytest.approx(0.01, abs=1e-9)


def test_requests_longer_than_the_model_context_are_rejected(make_step: StepFactory) -> None:
    # 90 + 20 = 110 tokens > max_model_len 100: rejected, counted, not timed.
    wl = Workload.from_arrays([0.0, 0.0], [90, 50], [20, 20])
    res = simulate(wl, _cfg(make_step, max_model_len=100))
    assert res.summary.rejected == 1
    assert res.summary.completed == 1
    assert math.isnan(res.requests.finish_s[0])


@pytest.mark.parametrize(
    ("model", "tp"), [("llama-3.1-8b", 1), ("gemma-3-27b", 2), ("mixtral-8x7b", 2)]
)
def test_fast_path_equals_per_iteration_mixed_step(model: str, tp: int) -> None:
    # The closed-form decode runs and scalar step times must reproduce stepping every
    # iteration through perf.step.mixed_step. Fixed 512-token prompts with an 8,192-token
    # budget give whole-prompt chunks at offset 0, which mixed_step describes exactly, so
    # only float rounding may differ. gemma-3 crosses its sliding-window kink mid-run.
    r = resolve(model, "H100", tp=tp, engine="vllm")
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    cfg = ReplicaConfig(sm, 256, 8192, 2e5, request_overhead_s=0.002)
    rng = np.random.default_rng(5)
    arrivals = np.cumsum(rng.exponential(1 / 8.0, 120))
    wl = Workload.from_arrays(arrivals, 512, rng.integers(20, 1500, 120))
    fast = simulate(wl, cfg)
    ref = simulate(wl, cfg, reference=True)
    np.testing.assert_allclose(fast.requests.finish_s, ref.requests.finish_s, rtol=1e-9)
    np.testing.assert_allclose(fast.requests.first_token_s, ref.requests.first_token_s, rtol=1e-9)
    assert fast.replicas[0].iterations == ref.replicas[0].iterations
    assert fast.replicas[0].decode_runs < fast.replicas[0].iterations / 5


def test_same_seed_same_result(make_step: StepFactory) -> None:
    from infercost.sim import LogNormal, poisson_arrivals, synthetic_workload

    def run(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        arr = poisson_arrivals(30.0, rng, num_requests=300)
        wl = synthetic_workload(arr, LogNormal(200, 100), LogNormal(20, 10), rng)
        return simulate(wl, _cfg(make_step, max_num_seqs=8)).requests.finish_s

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))
