"""Percentile (p99) targets for the short-list, checked with the iteration-level simulator.

The vectorised search judges configurations by their steady-state *mean* TTFT and TPOT. A p99
target needs queueing and length variation, which only a simulation shows. Since a p99 is never
below the mean, every configuration meeting a p99 target also meets it as a mean: the short-list
is the ``shortlist`` cheapest mean-feasible configurations (:func:`search.ranked_configs`), and
each is simulated (:func:`infercost.sim.simulate`) under Poisson arrivals at ``load`` x its
steady-state request rate, with the engine's running-sequence cap set to its batch:

    rate = load x output tok/s ÷ osl       (requests/s)
    $/M at that load = steady-state $/M ÷ load   (the replica is paid while it idles)

The cheapest configuration whose run is not overloaded and whose p99 TTFT and TPOT meet the
targets wins. Pipeline-parallel layouts are not simulated (the simulator models one stage) and
are reported as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from infercost.errors import InputError
from infercost.perf.step import step_model
from infercost.plan.candidate import Candidate, candidate
from infercost.plan.search import Targets, feasible_cost, ranked_configs, run_sweep
from infercost.predict import kv_budget_bytes_per_gpu, kv_bytes_per_seq_per_gpu, resolve
from infercost.sim import (
    Fixed,
    LengthDist,
    LogNormal,
    ReplicaConfig,
    Slo,
    poisson_arrivals,
    simulate,
    synthetic_workload,
)


@dataclass(frozen=True, slots=True)
class TailCheck:
    """One short-listed configuration under simulation.

    Attributes:
        config: the configuration (steady-state figures).
        simulated: False for layouts the simulator does not model (``reason`` says why).
        ttft_p99_s, tpot_p99_s: simulated p99 latencies, seconds (None if not simulated).
        overloaded: the queue grew without bound at this rate.
        passes: p99 targets met and not overloaded.
        usd_per_m_at_load: $/M output (prefill included) at the simulated load.
        reason: why it was not simulated ("" otherwise).
    """

    config: Candidate
    simulated: bool
    ttft_p99_s: float | None
    tpot_p99_s: float | None
    overloaded: bool
    passes: bool
    usd_per_m_at_load: float | None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "config": self.config.to_dict(),
            "simulated": self.simulated,
            "ttft_p99_s": self.ttft_p99_s,
            "tpot_p99_s": self.tpot_p99_s,
            "overloaded": self.overloaded,
            "passes": self.passes,
            "usd_per_m_at_load": self.usd_per_m_at_load,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class TailResult:
    """The short-list under p99 targets and the winner (None: none passed)."""

    model: str
    isl: int
    osl: int
    ttft_p99_s: float | None
    tpot_p99_s: float | None
    load: float
    num_requests: int
    checks: tuple[TailCheck, ...]

    @property
    def winner(self) -> TailCheck | None:
        """The cheapest short-listed configuration that passes."""
        passing = [c for c in self.checks if c.passes and c.usd_per_m_at_load is not None]
        return min(passing, key=lambda c: c.usd_per_m_at_load or math.inf, default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        w = self.winner
        return {
            "model": self.model,
            "isl": self.isl,
            "osl": self.osl,
            "ttft_p99_s": self.ttft_p99_s,
            "tpot_p99_s": self.tpot_p99_s,
            "load": self.load,
            "num_requests": self.num_requests,
            "winner": w.to_dict() if w else None,
            "shortlist": [c.to_dict() for c in self.checks],
        }


def _lengths(mean: int, cv: float) -> LengthDist:
    return Fixed(mean) if cv == 0 else LogNormal(float(mean), cv * mean)


def check_candidate(
    model: str,
    c: Candidate,
    isl: int,
    osl: int,
    slo: Slo,
    *,
    load: float,
    num_requests: int,
    length_cv: float,
    engine: str,
    seed: int,
) -> TailCheck:
    """Simulate one configuration at ``load`` x its steady-state request rate."""
    at_load = (
        None if c.usd_per_m_output_incl_input is None else c.usd_per_m_output_incl_input / load
    )
    if c.pp > 1:
        return TailCheck(
            c, False, None, None, False, False, at_load, "pipeline parallelism is not simulated"
        )
    r = resolve(
        model,
        c.gpu,
        num_gpus=c.num_gpus,
        tp=c.tp,
        pp=c.pp,
        ep=c.ep,
        weight_dtype=c.weight_dtype,
        kv_dtype=c.kv_dtype,
        engine=engine,
    )
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    kv_tokens = kv_budget_bytes_per_gpu(r)[2] / kv_bytes_per_seq_per_gpu(r, 1.0)
    config = ReplicaConfig(
        step=sm,
        max_num_seqs=c.concurrency,
        max_num_batched_tokens=r.engine.max_num_batched_tokens,
        kv_capacity_tokens=kv_tokens,
        request_overhead_s=r.engine.request_overhead_s,
    )
    rng = np.random.default_rng(seed)
    rate = load * c.output_tok_s / osl
    arrivals = poisson_arrivals(rate, rng, num_requests=num_requests)
    wl = synthetic_workload(arrivals, _lengths(isl, length_cv), _lengths(osl, length_cv), rng)
    res = simulate(wl, config, slo=slo)
    s = res.summary
    overloaded = bool(res.saturation.overloaded)
    passes = not overloaded and bool(s.slo_met)
    return TailCheck(
        c,
        True,
        s.ttft.p99,
        s.tpot.p99,
        overloaded,
        passes,
        at_load,
    )


def search_p99(
    model: str,
    isl: int,
    osl: int,
    *,
    ttft_p99_s: float | None = None,
    tpot_p99_s: float | None = None,
    shortlist: int = 6,
    load: float = 0.8,
    num_requests: int = 300,
    length_cv: float = 0.0,
    seed: int = 0,
    **sweep_options: Any,
) -> TailResult:
    """Cheapest configuration whose simulated p99 TTFT/TPOT meet the targets (module
    docstring). ``sweep_options`` as :func:`infercost.plan.search.run_sweep`.

    Raises:
        InputError: no target, a load outside (0, 1], fewer than 20 requests, a negative
            length CV, or a short-list below 1.
    """
    slo = Slo(ttft_p99_s, tpot_p99_s)
    if not slo.is_set:
        raise InputError("Give a p99 target (--ttft-p99-s and/or --tpot-p99-ms).")
    if not (math.isfinite(load) and 0 < load <= 1):
        raise InputError(f"--load must lie in (0, 1], got {load!r}.")
    if num_requests < 20:
        raise InputError(f"--num-requests must be at least 20, got {num_requests}.")
    if not (math.isfinite(length_cv) and length_cv >= 0):
        raise InputError(f"--length-cv must be >= 0, got {length_cv!r}.")
    if shortlist < 1:
        raise InputError(f"--shortlist must be >= 1, got {shortlist}.")
    engine = str(sweep_options.get("engine", "vllm"))
    sweep = run_sweep(model, isl, osl, **sweep_options)
    cost = feasible_cost(sweep, Targets(ttft_p99_s, tpot_p99_s))
    checks = tuple(
        check_candidate(
            model,
            candidate(sweep, ix),
            isl,
            osl,
            slo,
            load=load,
            num_requests=num_requests,
            length_cv=length_cv,
            engine=engine,
            seed=seed,
        )
        for ix in ranked_configs(cost, shortlist)
    )
    return TailResult(
        sweep.grid.model.id, isl, osl, ttft_p99_s, tpot_p99_s, load, num_requests, checks
    )
