"""``POST /api/simulate``: ``infercost simulate`` with a synthetic workload (Poisson or gamma
arrivals, a rate profile, or a closed loop of ``concurrency`` clients); returns the command's
``--json`` object.

Trace replay is CLI-only: no endpoint reads a path a request names. The number of simulated
requests and the seconds of arrivals are bounded (:class:`~infercost.api.settings.Limits`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np
from fastapi import APIRouter, Request
from pydantic import Field

from infercost.api.respond import respond
from infercost.api.schema import LIMITS, Count, Floats, Name, Tokens
from infercost.api.schema import Request as Body
from infercost.domains import ALL_AT_ONCE
from infercost.errors import InputError
from infercost.perf.step import step_model
from infercost.predict import (
    Resolved,
    replica_config,
    resolve,
)
from infercost.sim import (
    ClosedLoop,
    SimResult,
    Slo,
    SpecDecoding,
    Workload,
    find_max_rate,
    gamma_arrivals,
    length_dist,
    profile_arrivals,
    simulate,
    synthetic_workload,
)
from infercost.sim.config import check_closed_loop_options

router = APIRouter(tags=["simulate"])
ARRIVALS = ("poisson", "gamma")


class SimulateRequest(Body):
    """``infercost simulate`` options (``rate_profile`` is a list of req/s; ``concurrency``
    and ``client_overhead`` are ``--concurrency`` and ``--client-overhead``: a closed loop)."""

    command: ClassVar[str | None] = "simulate"

    model: Name | None = None
    gpu: Name
    isl: Tokens
    osl: Tokens
    num_gpus: Count | None = None
    tp: Count | None = None
    pp: Count = 1
    ep: Count = 1
    weight_dtype: Name | None = None
    kv_dtype: Name = "auto"
    engine: Name = "vllm"
    replicas: Annotated[int, Field(le=64)] = 1
    router: Name = "round-robin"
    rate: float | None = None
    arrival: Name = "poisson"
    rate_profile: Floats | None = None
    profile_period: float = 86_400.0
    burstiness: float | None = None
    duration: Annotated[float, Field(le=LIMITS.max_sim_duration_s)] | None = None
    num_requests: Annotated[int, Field(le=LIMITS.max_sim_requests)] | None = None
    length_dist: Name = "fixed"
    length_cv: float | None = None
    prefix_share: float = 0.0
    prefix_tokens: Tokens = 0
    num_prefixes: Annotated[int, Field(le=10_000)] = 1
    spec_tokens: Annotated[int, Field(le=64)] = 0
    spec_acceptance: float | None = None
    draft_model: Name | None = None
    slo_ttft_p99: float | None = None
    slo_tpot_p99: float | None = None
    find_max_rate: bool = False
    concurrency: Count | None = None
    client_overhead: float | None = None
    seed: Annotated[int, Field(le=2**32 - 1)] = 0


def _check(req: SimulateRequest) -> None:
    """The CLI's flag checks (same messages), then the service's size limits."""
    if req.arrival not in ARRIVALS:
        raise InputError(f"Unknown --arrival {req.arrival!r}; use poisson or gamma.")
    if req.seed < 0:
        raise InputError(f"--seed must be a whole number >= 0, got {req.seed}.")
    check_closed_loop_options(
        req.concurrency,
        req.client_overhead is not None,
        {
            "--rate": req.rate is not None,
            "--rate-profile": req.rate_profile is not None,
            "--find-max-rate": req.find_max_rate,
            "--duration": req.duration is not None,
            "--arrival": req.arrival != "poisson",
            "--burstiness": req.burstiness is not None,
        },
        req.num_requests,
    )
    for name, v in (("--isl", req.isl), ("--osl", req.osl)):
        if v < 1:
            raise InputError(f"{name} must be >= 1 token, got {v}.")
    if req.rate_profile is not None and (req.rate is not None or req.find_max_rate):
        raise InputError("--rate-profile sets the arrivals; drop --rate / --find-max-rate.")
    if req.find_max_rate and req.rate is not None:
        raise InputError(
            "--find-max-rate searches for the rate itself; drop --rate (or drop "
            "--find-max-rate to simulate that rate)."
        )
    if req.length_cv is not None and req.length_dist == "fixed":
        raise InputError(
            "--length-cv needs --length-dist normal or lognormal (lengths are fixed by default)."
        )
    if req.burstiness is not None and req.arrival != "gamma":
        raise InputError("--burstiness needs --arrival gamma (arrivals are Poisson by default).")
    if req.spec_tokens == 0:
        for flag, given in (
            ("--spec-acceptance", req.spec_acceptance is not None),
            ("--draft-model", req.draft_model is not None),
        ):
            if given:
                raise InputError(
                    f"{flag} needs --spec-tokens K (draft tokens per step; 0 = no speculation)."
                )
    if req.rate is not None and not req.rate > 0:
        raise InputError(
            f"--rate must be a positive number of requests per second (or inf), got {req.rate:g}."
        )
    if (
        req.rate is None
        and req.rate_profile is None
        and not req.find_max_rate
        and req.concurrency is None
    ):
        raise InputError(
            "Give --rate (requests/s), --rate-profile, --trace FILE, --concurrency C (closed "
            "loop), or --find-max-rate with an SLO."
        )
    if req.concurrency is not None and req.num_requests is None:
        n = 10 * req.concurrency
        if n > LIMITS.max_sim_requests:
            raise InputError(
                f"--concurrency {req.concurrency:,} sends 10 x C = {n:,} requests by default; "
                f"the service simulates at most {LIMITS.max_sim_requests:,} per run (give "
                "num_requests, a lower concurrency, or use the CLI)."
            )
    if req.duration is not None and req.num_requests is None:
        peak = req.rate if req.rate is not None else max(req.rate_profile or [0.0])
        if peak * req.duration > LIMITS.max_sim_requests:
            raise InputError(
                f"rate x duration asks for about {peak * req.duration:,.0f} requests; the "
                f"service simulates at most {LIMITS.max_sim_requests:,} per run (give "
                "num_requests, a shorter duration, or use the CLI)."
            )
    if req.profile_period <= 0 or req.profile_period > 7 * 86_400:
        raise InputError(
            f"profile_period must be > 0 and at most one week, got {req.profile_period:g} s."
        )


def _workload(req: SimulateRequest, rate: float, num_requests: int | None) -> Workload:
    rng = np.random.default_rng(req.seed)
    cv = 0.5 if req.length_cv is None else req.length_cv
    if req.rate_profile is not None:
        arr = profile_arrivals(
            req.rate_profile, rng, req.profile_period, num_requests, req.duration
        )
    else:
        shape = 1.0 if req.arrival == "poisson" or req.burstiness is None else req.burstiness
        arr = gamma_arrivals(rate, shape, rng, num_requests, req.duration)
    return synthetic_workload(
        arr,
        length_dist(req.length_dist, req.isl, cv),
        length_dist(req.length_dist, req.osl, cv),
        rng,
        req.prefix_share,
        req.num_prefixes,
        req.prefix_tokens,
    )


@dataclass(frozen=True, slots=True)
class SimOutcome:
    """The ``simulate --json`` object and the result (None with only a max-rate search)."""

    data: dict[str, Any]
    result: SimResult | None

    def to_dict(self) -> dict[str, Any]:
        """``simulate --json``."""
        return self.data


def run_simulate(req: SimulateRequest) -> SimOutcome:
    """One simulation (or max-rate search), exactly as ``infercost simulate``."""
    _check(req)
    num_requests = req.num_requests
    loop: ClosedLoop | None = None
    if req.concurrency is not None:
        overhead = 0.0 if req.client_overhead is None else req.client_overhead
        loop = ClosedLoop(req.concurrency, overhead)
        if num_requests is None:
            num_requests = 10 * loop.concurrency  # InferenceMAX: --num-prompts CONC * 10
    if num_requests is None and req.duration is None:
        num_requests = 2000
    slo = Slo(req.slo_ttft_p99, req.slo_tpot_p99)
    r = resolve(
        req.model, req.gpu, num_gpus=req.num_gpus, tp=req.tp, pp=req.pp, ep=req.ep,
        weight_dtype=req.weight_dtype, kv_dtype=req.kv_dtype, engine=req.engine,
    )  # fmt: skip
    spec = None
    d: Resolved | None = None
    if req.spec_tokens:
        draft_step = None
        if req.draft_model:
            d = resolve(req.draft_model, req.gpu, tp=r.tp, kv_dtype=req.kv_dtype,
                        engine=req.engine)  # fmt: skip
            draft_step = step_model(
                d.model, d.acc, d.weight_fmt, d.kv_bytes_per_elem, d.engine, d.tp
            )
        acceptance = 0.7 if req.spec_acceptance is None else req.spec_acceptance
        spec = SpecDecoding(req.spec_tokens, acceptance, draft_step)
    # a closed loop's requests are all available at t = 0; the clients pace them
    rate = math.inf if loop is not None else req.rate
    wl = _workload(req, 1.0 if rate is None else rate, num_requests)
    mean_ctx = float(np.mean(wl.input_tokens) + np.mean(wl.output_tokens))
    cfg = replica_config(r, mean_ctx, spec, d)
    search_out: dict[str, Any] | None = None
    if req.find_max_rate:
        n = num_requests or max(int(wl.num_requests), 200)
        search, probe = find_max_rate(
            lambda rt: _workload(req, rt, n), cfg, slo, replicas=req.replicas, router=req.router
        )
        search_out = {
            "rate_req_s": search.rate_req_s,
            "sustainable_rate_req_s": probe.saturation.sustainable_rate_req_s,
            "probes": [{"rate_req_s": p, "passed": ok} for p, ok in search.probes],
            "reason": search.reason,
        }
        rate = search.rate_req_s if search.rate_req_s > 0 else None
        if rate is not None:
            wl = _workload(req, rate, n)
    res: SimResult | None = None
    if rate is not None or req.rate_profile is not None:
        res = simulate(
            wl, cfg, replicas=req.replicas, router=req.router, slo=slo if slo.is_set else None,
            closed_loop=loop,
        )  # fmt: skip
    out: dict[str, Any] = {
        "model": r.model.id,
        "gpu": r.acc.id,
        "engine": r.engine.id,
        "num_gpus": r.num_gpus,
        "tp": r.tp,
        "weight_dtype": r.weight_fmt.id,
        "kv_dtype": r.kv_dtype,
        "arrival": "closed-loop"
        if loop is not None
        else "profile"
        if req.rate_profile
        else ALL_AT_ONCE
        if rate is not None and math.isinf(rate)
        else req.arrival,
        "rate_req_s": None if rate is None or loop is not None or math.isinf(rate) else rate,
        "concurrency": None if loop is None else loop.concurrency,
        "seed": req.seed,
        "kv_capacity_tokens": cfg.kv_capacity_tokens,
        "quarantined_rows": 0,
        "result": res.to_dict() if res is not None else None,
        "max_rate_search": search_out,
    }
    return SimOutcome(out, res)


@router.post("/api/simulate", summary="Simulate serving under load (simulate --json)")
async def simulate_endpoint(body: SimulateRequest, request: Request) -> dict[str, Any]:
    """Tail latency, goodput and saturation (OVERLOADED runs report the sustainable rate)."""
    return await respond(request, run_simulate, body)
