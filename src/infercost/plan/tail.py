"""Percentile (p99) targets for the short-list, checked with the iteration-level simulator.

The vectorised search judges configurations by their steady-state *mean* TTFT and TPOT. A p99
target needs queueing and length variation, which only a simulation shows. Each configuration
(a batch cap C among the rest) is simulated (:func:`infercost.sim.simulate`) under Poisson
arrivals at ``load`` x its steady-state request rate at C, with the engine's running-sequence
cap set to C:

    rate = load x output tok/s(C) ÷ osl       (requests/s)
    $/M at that load = steady-state $/M(C) ÷ load   (the replica is paid while it idles)

At that rate the server does not run C sequences but fewer: about the smallest batch B whose
steady-state throughput carries the load, output tok/s(B) >= load x output tok/s(C). Its mean
latencies are the means of the run, and a p99 is not below its mean; so the short-list is the
``shortlist`` cheapest configurations whose mean TTFT and TPOT *at B* meet the p99 targets
(:func:`implied_batch_index`). Judging them at C instead (the steady state at the cap) would
drop configurations whose simulated batch is well below the cap and which pass.

The cheapest configuration whose run is not overloaded and whose p99 TTFT and TPOT meet the
targets wins. Pipeline-parallel layouts are not simulated (the simulator models one stage) and
are reported as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from infercost.domains import check_args, check_work
from infercost.errors import InputError
from infercost.perf.step import step_model
from infercost.plan.candidate import Candidate, candidate
from infercost.plan.search import Targets, latency_ok, ranked_configs, run_sweep
from infercost.plan.sweep import Sweep
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

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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

    def describe_targets(self) -> str:
        """``p99 TTFT <= 0.2 s, p99 TPOT <= 40 ms`` (values as given)."""
        parts = []
        if self.ttft_p99_s is not None:
            parts.append(f"p99 TTFT <= {self.ttft_p99_s:g} s")
        if self.tpot_p99_s is not None:
            parts.append(f"p99 TPOT <= {self.tpot_p99_s * 1e3:g} ms")
        return ", ".join(parts)

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


def implied_batch_index(output_tok_s: FloatArray, load: float) -> IntArray:
    """For every concurrency level j (last axis), the index of the smallest level whose
    throughput reaches ``load`` x the throughput at j: the batch a server capped at level j
    runs when requests arrive at ``load`` x its capacity. Same shape as ``output_tok_s``.

    Throughput is made non-decreasing along the axis first (a running maximum), so the answer
    is never above j."""
    x = np.asarray(output_tok_s, dtype=np.float64)
    reach = np.maximum.accumulate(np.nan_to_num(x, nan=0.0), axis=-1)
    out = np.empty(x.shape, dtype=np.int64)
    for j in range(x.shape[-1]):  # one pass per concurrency level, each over the whole grid
        need = load * reach[..., j : j + 1] * (1.0 - 1e-12)
        out[..., j] = np.argmax(reach >= need, axis=-1)
    return out


def shortlist_cost(sweep: Sweep, slo: Slo, load: float) -> FloatArray:
    """$/M output (incl. input) where the configuration fits, is priced, and its mean TTFT and
    TPOT at the batch the load implies (:func:`implied_batch_index`) meet the p99 targets;
    +inf elsewhere. Shape (G, W, P, K, C)."""
    shape = sweep.grid.shape
    idx = implied_batch_index(np.broadcast_to(sweep.output_tok_s, shape), load)
    ok = np.broadcast_to(sweep.fits, shape) & np.broadcast_to(
        np.isfinite(sweep.replica_usd_per_hour), shape
    )
    for target, values in ((slo.ttft_p99_s, sweep.ttft_s), (slo.tpot_p99_s, sweep.tpot_s)):
        if target is not None:
            at_b = np.take_along_axis(np.broadcast_to(values, shape), idx, axis=-1)
            ok = ok & (at_b <= target)
    cost = np.broadcast_to(sweep.usd_per_m_output_incl_input, shape)
    return np.asarray(np.where(ok, cost, np.inf), dtype=np.float64)


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
        request_overhead_s=r.engine.request_overhead_for(online=True),
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
    max_ttft_s: float | None = None,
    max_tpot_s: float | None = None,
    **sweep_options: Any,
) -> TailResult:
    """Cheapest configuration whose simulated p99 TTFT/TPOT meet the targets (module
    docstring). Mean targets (``max_ttft_s``, ``max_tpot_s``), when given, must also hold at
    the batch cap, as in :func:`infercost.plan.search.search`. ``sweep_options`` as
    :func:`infercost.plan.search.run_sweep`.

    Raises:
        InputError: no target, a load outside (0, 1], fewer than 20 requests, a negative
            length CV, or a short-list below 1.
    """
    if ttft_p99_s is None and tpot_p99_s is None:
        raise InputError("Give a p99 target (--ttft-p99-s and/or --tpot-p99-ms).")
    if ttft_p99_s is not None and not (math.isfinite(ttft_p99_s) and ttft_p99_s > 0):
        raise InputError(f"--ttft-p99-s must be a positive number of seconds, got {ttft_p99_s:g}.")
    if tpot_p99_s is not None and not (math.isfinite(tpot_p99_s) and tpot_p99_s > 0):
        raise InputError(
            f"--tpot-p99-ms must be a positive number of milliseconds, got {tpot_p99_s * 1e3:g}."
        )
    slo = Slo(ttft_p99_s, tpot_p99_s)
    if not (math.isfinite(load) and 0 < load <= 1):
        raise InputError(f"--load must lie in (0, 1], got {load!r}.")
    if num_requests < 20:
        raise InputError(f"--num-requests must be at least 20, got {num_requests}.")
    if not (math.isfinite(length_cv) and length_cv >= 0):
        raise InputError(f"--length-cv must be >= 0, got {length_cv!r}.")
    if shortlist < 1:
        raise InputError(f"--shortlist must be >= 1, got {shortlist}.")
    check_args(shortlist=shortlist, num_requests=num_requests, seed=seed)
    check_work(
        "plan tail", float(shortlist) * num_requests, sweep_options.get("max_work"),
        "--shortlist x --num-requests",
    )  # fmt: skip
    engine = str(sweep_options.get("engine", "vllm"))
    sweep = run_sweep(model, isl, osl, **sweep_options)
    cost = shortlist_cost(sweep, slo, load)
    mean_ttft_ok, mean_tpot_ok = latency_ok(sweep, Targets(max_ttft_s, max_tpot_s))
    cost = np.where(mean_ttft_ok & mean_tpot_ok, cost, np.inf)
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
