"""Iteration-level simulation of continuous batching for tail latency, goodput and saturation.

Build a :class:`Workload` (arrival process + length distributions, or a trace), describe one
replica with a :class:`ReplicaConfig` (a ``perf.step.StepModel`` plus the engine's limits and
KV capacity), and call :func:`simulate`. The ``sim`` layer sits below ``predict``: it takes
plain inputs, and ``infercost simulate`` (cli) resolves names into them.

For long runs, :class:`WorkloadStream` draws the same requests in chunks instead of holding
them, and :func:`simulate` keeps only the requests in flight as Python state.

Example::

    rng = np.random.default_rng(0)
    wl = synthetic_workload(poisson_arrivals(10.0, rng, num_requests=1000),
                            Fixed(512), Fixed(256), rng)
    res = simulate(wl, ReplicaConfig(step, 256, 8192, kv_capacity_tokens=4e5))
    res.summary.ttft.p99, res.saturation.overloaded
"""

from __future__ import annotations

import math
from collections.abc import Callable

from infercost.errors import InputError
from infercost.sim.arrivals import (
    ArrivalPlan,
    gamma_arrival_plan,
    gamma_arrivals,
    poisson_arrivals,
    profile_arrival_plan,
    profile_arrivals,
)
from infercost.sim.config import (
    ClosedLoop,
    ReplicaConfig,
    SpecDecoding,
    expected_tokens_per_step,
)
from infercost.sim.engine import (
    ROUTERS,
    SIM_JSON_KEYS,
    ReplicaStats,
    RequestTimings,
    SimResult,
    simulate,
)
from infercost.sim.lengths import Empirical, Fixed, LengthDist, LogNormal, Normal, length_dist
from infercost.sim.metrics import Slo, Stats, Summary
from infercost.sim.saturation import RateSearch, Saturation, detect, max_rate_meeting
from infercost.sim.trace import QuarantinedRow, TraceLoad, load_trace
from infercost.sim.workload import RequestSource, Workload, WorkloadStream, synthetic_workload


def find_max_rate(
    make_workload: Callable[[float], RequestSource],
    config: ReplicaConfig,
    slo: Slo,
    *,
    replicas: int = 1,
    router: str = "round-robin",
    rel_tol: float = 0.02,
    max_probes: int = 16,
    max_work: float | None = None,
) -> tuple[RateSearch, SimResult]:
    """Highest request rate whose run is not overloaded and meets ``slo``.

    ``make_workload(rate)`` must return the same kind of workload at any rate (same seed and
    request count), with every request at t = 0 for ``rate = inf``. The closed-batch run at
    infinite rate gives the sustainable rate, the upper end of the bisection. ``max_work``
    applies to each run (see :func:`simulate`).

    Returns:
        (the search result, the capacity probe's SimResult).

    Raises:
        InputError: an SLO with no target, or a probe that completes nothing.
    """
    if not slo.is_set:
        raise InputError("Give --slo-ttft-p99 and/or --slo-tpot-p99 to search for a rate.")
    probe = simulate(
        make_workload(math.inf), config, replicas=replicas, router=router, max_work=max_work
    )
    upper = probe.saturation.sustainable_rate_req_s
    if upper is None or not math.isfinite(upper) or upper <= 0:
        raise InputError(
            "The capacity probe (all requests at once) completed too few requests to measure "
            "a sustainable rate; raise --num-requests."
        )

    def passes(rate: float) -> bool:
        res = simulate(
            make_workload(rate), config, replicas=replicas, router=router, slo=slo,
            max_work=max_work,
        )  # fmt: skip
        return not res.saturation.overloaded and bool(res.summary.slo_met)

    return max_rate_meeting(passes, upper, rel_tol=rel_tol, max_probes=max_probes), probe


__all__ = [
    "ROUTERS",
    "SIM_JSON_KEYS",
    "ArrivalPlan",
    "ClosedLoop",
    "Empirical",
    "Fixed",
    "LengthDist",
    "LogNormal",
    "Normal",
    "QuarantinedRow",
    "RateSearch",
    "ReplicaConfig",
    "ReplicaStats",
    "RequestSource",
    "RequestTimings",
    "Saturation",
    "SimResult",
    "Slo",
    "SpecDecoding",
    "Stats",
    "Summary",
    "TraceLoad",
    "Workload",
    "WorkloadStream",
    "detect",
    "expected_tokens_per_step",
    "find_max_rate",
    "gamma_arrival_plan",
    "gamma_arrivals",
    "length_dist",
    "load_trace",
    "max_rate_meeting",
    "poisson_arrivals",
    "profile_arrival_plan",
    "profile_arrivals",
    "simulate",
    "synthetic_workload",
]
