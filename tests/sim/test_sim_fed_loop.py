"""The fed iteration loop (issue 16): one replica queues a whole chunk of open-loop requests
itself (``Replica.serve``), with its state in locals and finished requests recorded in
batches; it must give what the per-request protocol (``advance_until`` then ``enqueue``) and
the reference per-iteration stepper give."""

from __future__ import annotations

import gc
import math
from typing import Any

import numpy as np
import pytest
from sim_types import StepFactory

from infercost.errors import InputError
from infercost.perf.step import step_model
from infercost.predict import resolve
from infercost.sim import ReplicaConfig, Workload, simulate
from infercost.sim import engine as sim_engine
from infercost.sim import scheduler as sim_scheduler
from infercost.sim.scheduler import Replica, Requests


def _mixed_workload() -> Workload:
    """200 requests 0.5-0.6 s apart: log-normal prompts (300-3,000 tokens) and outputs
    (1-1,500, every 17th a single token), half of them behind one of three 256-token shared
    prefixes, and request 50 longer (9,000 tokens) than the model length allowed below."""
    rng = np.random.default_rng(11)
    n = 200
    arrivals = np.cumsum(rng.uniform(0.5, 0.6, n))
    isl = np.clip(rng.lognormal(np.log(600), 0.6, n).astype(int), 300, 3000)
    osl = np.clip(rng.lognormal(np.log(150), 1.0, n).astype(int), 1, 1500)
    osl[::17] = 1
    pid = np.where(rng.random(n) < 0.5, rng.integers(0, 3, n), -1)
    isl[50] = 9000
    return Workload.from_arrays(arrivals, isl, osl, pid, np.where(pid >= 0, 256, 0))


@pytest.fixture(scope="module")
def mixed_cfg() -> ReplicaConfig:
    """Llama-3.1-8B on one H100 (vLLM step physics) with a 512-token budget (prompts run
    in chunks), 64 sequences, a KV cache of only 6,000 tokens (long outputs preempt), 3 ms
    of request overhead and an 8,192-token model length."""
    r = resolve("llama-3.1-8b", "H100", engine="vllm")
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    return ReplicaConfig(sm, 64, 512, 6000.0, request_overhead_s=0.003, max_model_len=8192)


def test_fed_loop_agrees_with_the_reference_stepper_on_a_mixed_workload(
    mixed_cfg: ReplicaConfig,
) -> None:
    # The fast path sums decode runs in closed form and computes step times with the scalar
    # mirror; the reference steps every iteration through perf.step.mixed_step. Both share
    # the scheduler, so admissions, chunks, prefix hits, preemptions and finishes must fall
    # on the same iterations, and the times may differ only by float rounding: mixed_step
    # describes an iteration exactly when it carries at most one prompt chunk, which the
    # 0.5 s spacing ensures here (a preempted request readmitted beside a new one would
    # not be). Observed: 2.6e-16 relative; 1e-12 leaves room for the summation order.
    wl = _mixed_workload()
    fast = simulate(wl, mixed_cfg)
    ref = simulate(wl, mixed_cfg, reference=True)
    a, b = fast.requests, ref.requests
    assert a is not None and b is not None
    # the workload reaches the paths the test is about
    assert fast.summary.rejected == 1 and bool(a.rejected[50])
    assert int(a.preemptions.sum()) > 0
    assert int(np.count_nonzero(a.output_tokens == 1)) == 12  # requests 0, 17, ..., 187
    assert fast.replicas[0].decode_runs < fast.replicas[0].iterations / 5
    np.testing.assert_array_equal(a.preemptions, b.preemptions)
    np.testing.assert_array_equal(a.rejected, b.rejected)
    for f in ("sched_s", "first_token_s", "finish_s"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-12, equal_nan=True)
    assert fast.replicas[0].iterations == ref.replicas[0].iterations
    assert fast.replicas[0].preemptions == ref.replicas[0].preemptions


class _Times:
    """A sink that keeps each request's ready, scheduled, first-token and finish times and
    frees its slot."""

    def __init__(self, reqs: Requests, n: int) -> None:
        self.reqs = reqs
        self.times = {f: np.full(n, np.nan) for f in ("ready_s", "sched_s", "first_s", "finish_s")}

    def finished(self, i: int) -> None:
        for f, arr in self.times.items():
            arr[self.reqs.gid[i]] = getattr(self.reqs, f)[i]
        self.reqs.free(i)

    def rejected(self, i: int) -> None:
        self.reqs.free(i)


def test_fed_loop_equals_one_call_per_request(mixed_cfg: ReplicaConfig) -> None:
    # The per-request protocol the multi-replica router still uses: advance the replica to
    # each ready time, then queue the request (requests that can never be served are not
    # queued). Feeding the chunk to the replica must give bit-identical times.
    wl = _mixed_workload()
    fed = simulate(wl, mixed_cfg).requests
    assert fed is not None
    reqs = Requests()
    sink = _Times(reqs, wl.num_requests)
    rep = Replica(mixed_cfg, reqs, sink)
    for g in range(wl.num_requests):
        isl, osl = int(wl.input_tokens[g]), int(wl.output_tokens[g])
        if isl + osl > 8192:
            continue
        ready = float(wl.arrival_s[g]) + 0.003
        rep.advance_until(ready)
        pid, ptok = int(wl.prefix_id[g]), int(wl.prefix_tokens[g]) // 16 * 16
        rep.enqueue(reqs.add(g, float(wl.arrival_s[g]), ready, isl, osl, pid, ptok, 0))
    rep.advance_until(math.inf)
    served = ~fed.rejected
    for f, kept in (("ready_s", fed.ready_s), ("sched_s", fed.sched_s),
                    ("first_s", fed.first_token_s), ("finish_s", fed.finish_s)):  # fmt: skip
        np.testing.assert_array_equal(sink.times[f][served], kept[served])
    assert np.isnan(sink.times["finish_s"][~served]).all()


def test_fed_loop_by_hand_with_an_idle_gap_and_a_rejection(make_step: StepFactory) -> None:
    # Every iteration takes 10 ms (conftest's step). Request 0 at t = 0: its 10-token prompt
    # runs in one iteration (first token at 10 ms), then 2 decode iterations: done at 30 ms.
    # Request 1 (at 0.1 s) needs 60 + 60 + half a block (8) = 128 tokens of KV, more than
    # the 100-token cache: rejected at arrival. The replica is idle until request 2 at
    # 0.2 s: first token at 0.21 s, done at 0.23 s.
    cfg = ReplicaConfig(make_step(), 8, 64, 100.0)
    wl = Workload.from_arrays([0.0, 0.1, 0.2], [10, 60, 10], [3, 60, 3])
    res = simulate(wl, cfg)
    t = res.requests
    assert t is not None
    np.testing.assert_allclose(t.first_token_s, [0.01, np.nan, 0.21], rtol=1e-12)
    np.testing.assert_allclose(t.finish_s, [0.03, np.nan, 0.23], rtol=1e-12)
    assert t.rejected.tolist() == [False, True, False]
    assert res.summary.completed == 2
    # 3 iterations per served request: 6 in all
    assert res.replicas[0].iterations == 6


@pytest.mark.parametrize("keep", [True, False])
def test_records_appended_by_the_loop_equal_one_finished_call_each(
    mixed_cfg: ReplicaConfig, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    # The loop appends each finished request's record to the recorder's list itself
    # (Sink.direct_records) and asks it to drain only now and then, so the list may hold more
    # than a batch; the recorder must still reduce the records in the same batches as when
    # each finish was a call (the batch sums of a float32 run, here every run past 100
    # requests, depend on where batches end). Batches of 7, a drain every 5 records, and a
    # rejection (request 50) that flushes while records wait, with the per-request arrays.
    monkeypatch.setattr(sim_engine, "_FLUSH", 7)
    monkeypatch.setattr(sim_scheduler, "_RECORDS", 5)
    monkeypatch.setattr(sim_engine, "FLOAT64_MAX", 100)
    wl = _mixed_workload()
    direct = simulate(wl, mixed_cfg, keep_requests=keep)
    init = sim_engine._Recorder.__init__

    def per_call(self: sim_engine._Recorder, *args: Any, **kw: Any) -> None:
        init(self, *args, **kw)
        self.direct_records = None

    monkeypatch.setattr(sim_engine._Recorder, "__init__", per_call)
    calls = simulate(wl, mixed_cfg, keep_requests=keep)
    assert direct.summary == calls.summary
    assert direct.to_dict() == calls.to_dict()
    if keep:
        a, b = direct.requests, calls.requests
        assert a is not None and b is not None
        for f in ("sched_s", "first_token_s", "finish_s", "preemptions", "replica"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_the_garbage_collector_is_paused_during_a_run_and_restored(
    make_step: StepFactory,
) -> None:
    # simulate() pauses the collector (its tuples would start a collection every few hundred
    # requests) and leaves it as it found it: enabled or disabled, and after an error too.
    cfg = ReplicaConfig(make_step(), 8, 64, 100.0)
    wl = Workload.from_arrays([0.0, 0.1, 0.2], [10, 60, 10], [3, 60, 3])
    seen: list[bool] = []
    simulate(wl, cfg, progress=lambda i, n: seen.append(gc.isenabled()))
    assert seen and not any(seen)
    assert gc.isenabled()
    gc.disable()
    try:
        simulate(wl, cfg)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(InputError):
        simulate(wl, cfg, replicas=0)
    assert gc.isenabled()
