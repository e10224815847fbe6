"""A run whose requests all arrive at t = 0 (``--rate inf``, or a trace with one timestamp):
the library's ``to_dict`` holds no infinity; its offered rate is null (the verdict's reason
says every request arrived at once), so the CLI and REST print it as is."""

from __future__ import annotations

import json

import numpy as np
from sim_types import StepFactory

from infercost.sim import Fixed, ReplicaConfig, simulate, synthetic_workload


def test_all_at_once_offered_rate_is_null_and_nothing_is_infinite(
    make_step: StepFactory,
) -> None:
    rng = np.random.default_rng(0)
    wl = synthetic_workload(np.zeros(40), Fixed(64), Fixed(8), rng, 0.0, 1, 0)
    cfg = ReplicaConfig(make_step(), 8, max_num_batched_tokens=512, kv_capacity_tokens=60_000.0)
    d = simulate(wl, cfg).to_dict()
    assert d["offered_rate_req_s"] is None
    assert d["overloaded"] is True
    # 40 requests, 8 at a time, 10 ms steps: a finite completion rate is the sustainable one
    assert d["sustainable_rate_req_s"] is not None and d["sustainable_rate_req_s"] > 0
    json.dumps(d, allow_nan=False)  # raises on any inf or nan
