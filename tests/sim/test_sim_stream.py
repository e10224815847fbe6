"""The streaming simulator: chunked workloads give the same requests, the same results, and
memory that follows the requests in flight."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sim_types import StepFactory

from infercost.sim import (
    ClosedLoop,
    Fixed,
    LogNormal,
    Normal,
    ReplicaConfig,
    Slo,
    Workload,
    WorkloadStream,
    gamma_arrival_plan,
    gamma_arrivals,
    profile_arrival_plan,
    simulate,
    synthetic_workload,
)
from infercost.sim import engine as sim_engine
from infercost.sim.lengths import Empirical, LengthDist
from infercost.sim.metrics import summarize
from infercost.sim.scheduler import Requests

FIELDS = ("arrival_s", "input_tokens", "output_tokens", "prefix_id", "prefix_tokens")


@pytest.mark.parametrize("chunk", [13, 777, 1 << 16])
@pytest.mark.parametrize(
    ("plan_args", "isl", "osl", "share"),
    [
        (("gamma", 7.0, 0.5, None, 3000.0), LogNormal(500, 300), Normal(100, 40), 0.4),
        (("gamma", 3.0, 1.0, 4001, None), Fixed(10), Empirical((1, 5, 9, 2_000_000)), 0.0),
        (("gamma", math.inf, 1.0, 1500, None), Fixed(64), LogNormal(30, 10), 1.0),
        (("profile", [1.0, 0.0, 3.0], 100.0, None, 1500.0), LogNormal(50, 50), Fixed(3), 0.2),
    ],
)
def test_stream_draws_the_same_requests_as_synthetic_workload(
    chunk: int, plan_args: tuple, isl: LengthDist, osl: LengthDist, share: float
) -> None:
    # Same seed, same distributions: the chunked stream replays the generator from the states
    # it recorded, so every array is equal bit for bit, and the caller's generator ends in
    # the same state.
    kind, *args = plan_args
    plan = gamma_arrival_plan(*args) if kind == "gamma" else profile_arrival_plan(*args)
    r1, r2 = np.random.default_rng(9), np.random.default_rng(9)
    wl = synthetic_workload(plan.materialize(r1), isl, osl, r1, share, 5, 300)
    stream = WorkloadStream(plan, isl, osl, r2, share, 5, 300, chunk=chunk)
    w2 = stream.materialize()
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(w2, f), getattr(wl, f), err_msg=f)
    assert stream.num_requests == wl.num_requests
    assert stream.arrival_marks() == wl.arrival_marks()
    assert stream.mean_tokens() == wl.mean_tokens()
    assert stream.median_tokens() == wl.median_tokens()
    assert r1.random() == r2.random()


def test_arrival_plan_matches_the_one_shot_arrivals() -> None:
    plan = gamma_arrival_plan(5.0, 0.7, 10_000)
    chunks = np.concatenate(list(plan.chunks(np.random.default_rng(3), 999)))
    np.testing.assert_array_equal(
        chunks, gamma_arrivals(5.0, 0.7, np.random.default_rng(3), 10_000)
    )


def _cfg(make_step: StepFactory, **kw: object) -> ReplicaConfig:
    # 1e9 weight bytes at 1e12 B/s (1 ms a step) plus KV reads, so steps grow with context.
    step = make_step(dense_bytes=1e9, kv_layer_token_bytes=2e5, attn_flop_per_ctx=1e3)
    args: dict[str, object] = {"kv_capacity_tokens": 60_000.0, "max_num_batched_tokens": 512}
    args.update(kw)
    return ReplicaConfig(step, 32, **args)  # type: ignore[arg-type]


def _stream(n: int, rate: float, chunk: int) -> WorkloadStream:
    plan = gamma_arrival_plan(rate, 1.0, n)
    return WorkloadStream(
        plan, LogNormal(300, 200), LogNormal(60, 40), np.random.default_rng(1), 0.3, 4, 64,
        chunk=chunk,
    )  # fmt: skip


def test_streamed_run_equals_the_in_memory_run(make_step: StepFactory) -> None:
    # The same 6,000 requests in chunks of 500 and as arrays: identical summaries, verdicts
    # and per-request timings (the scheduler breaks finishing ties on the request number,
    # not on the slot a request occupies).
    cfg = _cfg(make_step, kv_capacity_tokens=5000.0)  # small: requests get preempted
    slo = Slo(0.5, 0.01)
    stream = _stream(6000, 150.0, 500)
    a = simulate(stream, cfg, slo=slo, replicas=2, router="least-loaded")
    b = simulate(stream.materialize(), cfg, slo=slo, replicas=2, router="least-loaded")
    assert a.summary == b.summary
    assert a.saturation == b.saturation
    assert a.replicas == b.replicas
    assert a.requests is not None and b.requests is not None
    for f in ("sched_s", "first_token_s", "finish_s", "preemptions", "replica", "rejected"):
        np.testing.assert_array_equal(getattr(a.requests, f), getattr(b.requests, f))
    assert a.summary.completed > 0 and a.replicas[0].preemptions + a.replicas[1].preemptions > 0


def test_without_per_request_arrays_the_summary_is_unchanged(make_step: StepFactory) -> None:
    wl = _stream(3000, 80.0, 1 << 16).materialize()
    kept = simulate(wl, _cfg(make_step), slo=Slo(0.2))
    lean = simulate(wl, _cfg(make_step), slo=Slo(0.2), keep_requests=False)
    assert lean.requests is None and kept.requests is not None
    assert lean.summary == kept.summary and lean.saturation == kept.saturation


def test_float32_latencies_agree_within_their_rounding(
    make_step: StepFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past FLOAT64_MAX requests the five per-request latencies are kept in float32 (relative
    # rounding 2^-24 = 6e-8 each); means are summed in float64, percentiles interpolate
    # between float32 values: every figure within 1e-6 relative of the float64 run, and the
    # counts, throughputs and verdict unchanged.
    wl = _stream(4000, 100.0, 1 << 16).materialize()
    exact = simulate(wl, _cfg(make_step), slo=Slo(0.3, 0.02), keep_requests=False)
    monkeypatch.setattr(sim_engine, "FLOAT64_MAX", 100)
    rounded = simulate(wl, _cfg(make_step), slo=Slo(0.3, 0.02), keep_requests=False)
    e, r = exact.summary, rounded.summary
    assert (r.completed, r.rejected, r.duration_s) == (e.completed, e.rejected, e.duration_s)
    assert (r.output_tok_s, r.total_tok_s) == (e.output_tok_s, e.total_tok_s)
    for name in ("ttft", "tpot", "e2e", "queue"):
        for stat in ("mean", "p50", "p90", "p95", "p99"):
            x, y = getattr(getattr(e, name), stat), getattr(getattr(r, name), stat)
            assert y == pytest.approx(x, rel=1e-6, abs=1e-12), (name, stat)
    assert r.itl_mean_s == pytest.approx(e.itl_mean_s, rel=1e-12)
    assert r.slo_attainment_frac == pytest.approx(e.slo_attainment_frac, abs=1e-3)
    assert rounded.saturation.overloaded == exact.saturation.overloaded


def test_python_state_follows_the_requests_in_flight(
    make_step: StepFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20,000 requests at a light load: a few dozen in flight at any time, so the slot store
    # (the only per-request Python state) never grows past a few dozen slots.
    peak = [0]
    add = Requests.add

    def tracked(self: Requests, *args: object) -> int:
        slot = add(self, *args)  # type: ignore[arg-type]
        peak[0] = max(peak[0], len(self.gid))
        return slot

    monkeypatch.setattr(Requests, "add", tracked)
    res = simulate(_stream(20_000, 30.0, 4096), _cfg(make_step))
    assert res.summary.completed == 20_000 and not res.saturation.overloaded
    assert peak[0] < 200
    assert res.requests is not None  # 20,000 <= KEEP_REQUESTS_MAX keeps the arrays


def test_a_long_run_keeps_no_per_request_arrays_by_default(
    make_step: StepFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim_engine, "KEEP_REQUESTS_MAX", 1000)
    res = simulate(_stream(1500, 30.0, 512), _cfg(make_step))
    assert res.requests is None
    assert res.to_dict()["completed"] == 1500


def test_a_workload_in_memory_is_its_own_single_chunk() -> None:
    wl = Workload.from_arrays([0.0, 1.0, 2.0], 10, 5)
    (chunk,) = list(wl.request_chunks())
    assert [c.tolist() for c in chunk] == [[0.0, 1.0, 2.0], [10] * 3, [5] * 3, [-1] * 3, [0] * 3]
    assert wl.arrival_marks() == (0.0, 1.0, 2.0)


@pytest.mark.parametrize("replicas", [1, 3])
def test_open_loop_records_read_arrivals_and_lengths_from_the_workload(
    make_step: StepFactory, monkeypatch: pytest.MonkeyPatch, replicas: int
) -> None:
    # An open loop's finish records carry only the gid and the replica's times; the
    # recorder reads each request's arrival, ready time (arrival + request overhead) and
    # lengths from the workload's chunks by gid. In chunks of 13 with batches of 7 records
    # (batches straddle chunks, chunks end in mid-batch, some requests rejected), the
    # per-request arrays equal the workload's own and the in-memory run's (one chunk,
    # batches of 16,384), and every chunk is dropped once all its requests have left.
    cfg = _cfg(make_step, kv_capacity_tokens=1200.0, request_overhead_s=0.003)
    stream = _stream(2000, 150.0, 13)
    wl = stream.materialize()
    whole = simulate(wl, cfg, replicas=replicas, keep_requests=True)
    recorders: list[sim_engine._Recorder] = []
    summary = sim_engine._Recorder.summary

    def spy(self: sim_engine._Recorder, *args: object) -> object:
        recorders.append(self)
        return summary(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sim_engine._Recorder, "summary", spy)
    monkeypatch.setattr(sim_engine, "_FLUSH", 7)
    chunked = simulate(stream, cfg, replicas=replicas, keep_requests=True)
    a, b = chunked.requests, whole.requests
    assert a is not None and b is not None
    assert 0 < int(a.rejected.sum()) < 100  # requests over the 1,200-token cache
    np.testing.assert_array_equal(a.arrival_s, wl.arrival_s)
    np.testing.assert_array_equal(a.ready_s, wl.arrival_s + 0.003)
    np.testing.assert_array_equal(a.input_tokens, wl.input_tokens)
    np.testing.assert_array_equal(a.output_tokens, wl.output_tokens)
    for f in ("sched_s", "first_token_s", "finish_s", "preemptions", "replica", "rejected"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert chunked.summary == whole.summary
    assert recorders[0]._chunks == []


def test_realised_mean_lengths_count_every_request_rejected_ones_too(
    make_step: StepFactory,
) -> None:
    # Lengths 10, 20 and 900 input, 3, 5 and 400 output tokens; the third needs 1,308
    # tokens of KV, more than the 1,000-token cache: rejected, and still in the means
    # (930 / 3 = 310 input, 408 / 3 = 136 output tokens), in the summary, the JSON result
    # and summarize() over the per-request arrays alike. The closed loop's requests take
    # the same lengths.
    wl = Workload.from_arrays([0.0, 0.1, 0.2], [10, 20, 900], [3, 5, 400])
    cfg = _cfg(make_step, kv_capacity_tokens=1000.0)
    res = simulate(wl, cfg)
    assert res.summary.rejected == 1
    assert (res.summary.isl_mean_tokens, res.summary.osl_mean_tokens) == (310.0, 136.0)
    d = res.to_dict()
    assert (d["isl_mean_tokens"], d["osl_mean_tokens"]) == (310.0, 136.0)
    t = res.requests
    assert t is not None
    again = summarize(
        t.arrival_s, t.ready_s, t.sched_s, t.first_token_s, t.finish_s, t.input_tokens,
        t.output_tokens, t.rejected,
    )  # fmt: skip
    assert (again.isl_mean_tokens, again.osl_mean_tokens) == (310.0, 136.0)
    fixed = simulate(_stream(500, 50.0, 64), cfg)
    isl, osl = _stream(500, 50.0, 64).materialize().mean_tokens()
    assert (fixed.summary.isl_mean_tokens, fixed.summary.osl_mean_tokens) == (isl, osl)
    closed = simulate(Workload.from_arrays(np.zeros(4), 100, [3, 5, 7, 9]), cfg,
                      closed_loop=ClosedLoop(2))  # fmt: skip
    assert (closed.summary.isl_mean_tokens, closed.summary.osl_mean_tokens) == (100.0, 6.0)
