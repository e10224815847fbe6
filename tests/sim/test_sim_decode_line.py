"""The decode fast path (issue 16): one checked line of step time per batch size."""

from __future__ import annotations

import numpy as np
import pytest
from sim_types import StepFactory

from infercost.sim import ReplicaConfig, Workload, simulate
from infercost.sim.scheduler import Replica, Requests
from infercost.sim.steptime import FastStep


class _NoSink:
    def finished(self, i: int) -> None:
        raise AssertionError("no request runs here")

    def rejected(self, i: int) -> None:
        raise AssertionError("no request runs here")


def _replica(cfg: ReplicaConfig, b: int) -> Replica:
    rep = Replica(cfg, Requests(), _NoSink())
    rep.b = b
    return rep


def test_memory_bound_decode_is_one_line_per_batch(make_step: StepFactory) -> None:
    # KV reads 1e5 bytes per context token at 1e12 B/s: 1e-7 s per token of context sum X,
    # plus 1e-7 s per token written (one layer), plus 10 ms of weights; no FLOP: the decode
    # step at batch b is 0.01 + 1e-7 b + 1e-7 X seconds, a line in X with slope 1e-7.
    cfg = ReplicaConfig(make_step(kv_layer_token_bytes=1e5), 256, 8192, 1e6)
    for b in (1, 7, 64):
        line = _replica(cfg, b)._decode_line(b)
        assert line is not None
        a, slope, lo, hi = line
        assert slope == pytest.approx(1e-7, rel=1e-9)
        assert a == pytest.approx(0.01 + 1e-7 * b, rel=1e-9)
        assert lo == b
        assert hi >= 4e6


def test_a_roofline_kink_inside_the_range_falls_back(make_step: StepFactory) -> None:
    # Attention at 1.01e8 FLOP per context token and 1e15 FLOP/s: 1.01e-7 s per token of X,
    # against the memory side 1e-7 X + 1e-7 b: compute wins past X = 100 b, a kink inside
    # [b, 4 x capacity]. No single line is cached, and runs are checked and split as before:
    # the simulation equals stepping every iteration through mixed_step.
    step = make_step(kv_layer_token_bytes=1e5, attn_flop_per_ctx=1.01e8)
    cfg = ReplicaConfig(step, 256, 8192, 1e6)
    assert _replica(cfg, 4)._decode_line(4) is None
    fast = FastStep(step)
    # slope 1e-7 below the kink (X = 400 at b = 4), 1.01e-7 above it
    assert fast.time_s(4, 300.0) - fast.time_s(4, 200.0) == pytest.approx(100 * 1e-7, rel=1e-6)
    assert fast.time_s(4, 600.0) - fast.time_s(4, 500.0) == pytest.approx(100 * 1.01e-7, rel=1e-6)
    rng = np.random.default_rng(2)
    arrivals = np.cumsum(rng.exponential(0.05, 60))
    wl = Workload.from_arrays(arrivals, 300, rng.integers(50, 600, 60))
    a = simulate(wl, cfg)
    b = simulate(wl, cfg, reference=True)
    assert a.requests is not None and b.requests is not None
    np.testing.assert_allclose(a.requests.finish_s, b.requests.finish_s, rtol=1e-9)
    assert a.replicas[0].iterations == b.replicas[0].iterations
