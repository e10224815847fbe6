"""Behaviour under load: agreement with the steady-state model at low load, TTFT growth with
load, the OVERLOADED verdict and sustainable rate past capacity, and the SLO rate search."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sim_types import StepFactory

from infercost.perf.serving import steady_state
from infercost.perf.step import StepModel, step_model
from infercost.predict import resolve
from infercost.sim import (
    ReplicaConfig,
    Slo,
    Workload,
    find_max_rate,
    poisson_arrivals,
    simulate,
)


def _llama_8b() -> tuple[StepModel, ReplicaConfig, float]:
    r = resolve("llama-3.1-8b", "H100", engine="vllm")
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    cfg = ReplicaConfig(
        sm,
        r.engine.max_num_seqs,
        r.engine.max_num_batched_tokens,
        4e5,
        request_overhead_s=r.engine.request_overhead_s,
    )
    return sm, cfg, r.engine.request_overhead_s


def test_isolated_requests_match_steady_state_at_concurrency_1() -> None:
    # Requests 20 s apart never overlap, so each sees concurrency 1.
    # TTFT: both are request overhead + one 467-token prefill iteration with no decodes
    # (mixed_step(sm, 0, ., 467, 0, 1)), so they agree to rounding.
    # TPOT: the simulator averages the 255 decode steps at contexts 467..721, which (step time
    # linear in context at batch 1) is the step at 467 + 127 = 594; steady_state charges one
    # decode step at the mean context isl + osl / 2 = 595 per token. They differ by
    # t(595) / t(594) - 1, one token of KV read against 15 GB of weights: about 1e-5.
    sm, cfg, overhead = _llama_8b()
    wl = Workload.from_arrays(np.arange(5) * 20.0, 467, 256)
    res = simulate(wl, cfg)
    sp = steady_state(sm, 1.0, 467.0, 256.0, cfg.max_num_batched_tokens, overhead)
    assert res.summary.ttft.mean == pytest.approx(float(sp.ttft_s), rel=1e-9)
    assert res.summary.tpot.mean == pytest.approx(float(sp.tpot_s), rel=1e-4)
    assert not res.saturation.overloaded


def test_poisson_low_load_mean_ttft_near_steady_state() -> None:
    # At 0.05 req/s (E2E about 2 s, so about 10% of requests overlap another) the mean TTFT
    # is the concurrency-1 figure plus rare waits for a running decode step (a few ms):
    # within 5%.
    sm, cfg, overhead = _llama_8b()
    arr = poisson_arrivals(0.05, np.random.default_rng(11), num_requests=400)
    res = simulate(Workload.from_arrays(arr, 467, 256), cfg)
    sp = steady_state(sm, 1.0, 467.0, 256.0, cfg.max_num_batched_tokens, overhead)
    assert res.summary.ttft.mean == pytest.approx(float(sp.ttft_s), rel=0.05)
    assert res.summary.ttft.mean >= float(sp.ttft_s) * (1 - 1e-9)


def _seats_cfg(make_step: StepFactory) -> ReplicaConfig:
    # 10 ms per iteration whatever the batch, 4 seats, 10 output tokens: a request holds a
    # seat for 10 iterations (its prefill samples token 1, 9 decodes follow), seats refill at
    # the next boundary, so capacity = 4 seats / (10 x 10 ms) = 40 requests/s exactly.
    return ReplicaConfig(make_step(), 4, 8192, 1e9)


def _run(cfg: ReplicaConfig, rate: float, n: int = 4000, seed: int = 3) -> object:
    arr = poisson_arrivals(rate, np.random.default_rng(seed), num_requests=n)
    return simulate(Workload.from_arrays(arr, 10, 10), cfg)


def test_ttft_grows_with_load_and_overload_is_reported(make_step: StepFactory) -> None:
    cfg = _seats_cfg(make_step)
    below = [_run(cfg, rate) for rate in (10.0, 20.0, 30.0)]
    ttft = [r.summary.ttft.mean for r in below]  # type: ignore[attr-defined]
    assert ttft[0] < ttft[1] < ttft[2]
    assert not any(r.saturation.overloaded for r in below)  # type: ignore[attr-defined]
    over = _run(cfg, 60.0)
    sat = over.saturation  # type: ignore[attr-defined]
    assert sat.overloaded
    # Saturated, the server completes 40 req/s; the verdict reports that as sustainable.
    assert sat.sustainable_rate_req_s == pytest.approx(40.0, rel=0.03)
    assert over.to_dict()["ttft_s"] is None  # type: ignore[attr-defined]
    assert over.to_dict()["unstable_latency"]["ttft_s"]["p99"] > 1.0  # type: ignore[attr-defined]


def test_closed_batch_is_overloaded_with_capacity_as_sustainable_rate(
    make_step: StepFactory,
) -> None:
    # 400 requests at t = 0 on the 40 req/s server: a closed batch.
    res = simulate(Workload.from_arrays(np.zeros(400), 10, 10), _seats_cfg(make_step))
    assert res.saturation.overloaded
    assert res.saturation.sustainable_rate_req_s == pytest.approx(40.0, rel=0.02)


def test_max_rate_meeting_slo_is_bracketed(make_step: StepFactory) -> None:
    # SLO p99 TTFT <= 50 ms on the 40 req/s server. The unloaded TTFT is 10-20 ms, so low
    # rates pass; queueing past about 30 req/s pushes the p99 over 50 ms, and the rate must
    # stay below capacity.
    cfg = _seats_cfg(make_step)
    slo = Slo(ttft_p99_s=0.05)

    def make(rate: float) -> Workload:
        rng = np.random.default_rng(9)
        if math.isinf(rate):
            return Workload.from_arrays(np.zeros(2000), 10, 10)
        return Workload.from_arrays(poisson_arrivals(rate, rng, num_requests=2000), 10, 10)

    search, probe = find_max_rate(make, cfg, slo)
    assert probe.saturation.sustainable_rate_req_s == pytest.approx(40.0, rel=0.02)
    assert 10.0 < search.rate_req_s < 40.0
    passed = [r for r, ok in search.probes if ok]
    failed = [r for r, ok in search.probes if not ok]
    assert max(passed) == search.rate_req_s
    assert min(failed) > search.rate_req_s
    assert (min(failed) - search.rate_req_s) <= 0.02 * min(failed) + 1e-9
    at = simulate(make(search.rate_req_s), cfg, slo=slo)
    assert at.summary.ttft.p99 <= 0.05
