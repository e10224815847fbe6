"""``POST /api/plan/<command>``: the ``infercost plan`` decisions with their options as JSON
(comma-separated options become lists); each returns the command's ``--json`` object.

Sweeps are bounded (GPUs per replica, concurrency levels, list lengths, simulated requests
for p99 targets) so one request cannot take the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np
from fastapi import APIRouter, Request
from pydantic import Field

from infercost.api.respond import respond
from infercost.api.schema import LIMITS, Count, Floats, Name, Names, Tokens, TokensF
from infercost.api.schema import Request as Body
from infercost.cost.trend import price_elasticity
from infercost.domains import Domain
from infercost.errors import InputError
from infercost.plan.breakeven import Breakeven, BreakevenInputs, breakeven, inputs_from_names
from infercost.plan.fleet import FleetPlan, Replica, replica_from_search, size_fleet
from infercost.plan.hybrid import HybridResult, hybrid
from infercost.plan.pareto import ParetoResult, pareto
from infercost.plan.payback import (
    DistillationPayback,
    FeatureRoi,
    distillation_payback,
    prefix_cache_roi,
    speculative_roi,
)
from infercost.plan.routing import CascadeResult, cascade, parse_tier, tier_cost_usd_per_m
from infercost.plan.scenarios import (
    Generations,
    GrowthScenarios,
    Projection,
    growth_scenarios,
    hardware_generations,
    project,
)
from infercost.plan.search import SearchResult, search
from infercost.plan.tail import TailResult, search_p99
from infercost.plan.traffic import DAYS_PER_BILLING_MONTH, diurnal_profile, traffic
from infercost.units import HOURS_PER_MONTH

router = APIRouter(tags=["plan"])

Money = Annotated[float, Field(ge=-1e15, le=1e15)]
Days = Annotated[float, Field(ge=0, le=1e4)]
Hour = Annotated[int, Field(ge=-(10**6), le=10**6)]


def _ms(value: float | None) -> float | None:
    return None if value is None else value / 1e3


def _names(items: list[str] | None, name: str) -> list[str] | None:
    """A list option: None when absent; the CLI's message when given but empty."""
    if items is None:
        return None
    items = [t.strip() for t in items if t.strip()]
    if not items:
        raise InputError(f"{name} is empty; give comma-separated names, or drop the option.")
    return items


def _numbers(items: list[float] | None, name: str) -> list[float] | None:
    if items is None:
        return None
    if not items:
        raise InputError(f"{name} is empty; give comma-separated numbers, or drop the option.")
    return list(items)


def _only_with(needs: str, *flags: tuple[str, object]) -> None:
    for name, value in flags:
        if value is not None:
            raise InputError(f"{name} only applies with {needs}; give {needs} or drop {name}.")


def _model_needs(gpu: str | None, api_model: str | None) -> tuple[str, str]:
    if gpu is None or api_model is None:
        missing = [n for n, v in (("--gpu", gpu), ("--api-model", api_model)) if v is None]
        raise InputError(
            f"--model needs {' and '.join(missing)} (the accelerator to self-host on and the "
            "API model to compare with)."
        )
    return gpu, api_model


def _not_both(first: str, second: str, *flags: tuple[str, object]) -> None:
    given = [name for name, value in flags if value is not None]
    if given:
        raise InputError(
            f"Give {first}, or {second}, not both ({', '.join(given)} would be ignored)."
        )


class SweepRequest(Body):
    """Options shared by ``plan search`` and ``plan pareto``."""

    model: Name
    isl: Tokens
    osl: Tokens
    max_ttft_s: float | None = None
    max_tpot_ms: float | None = None
    gpu: Names | None = None
    weight_dtypes: Names | None = None
    kv_dtypes: Names | None = None
    max_gpus: Annotated[int, Field(le=LIMITS.max_sweep_gpus)] = 8
    concurrency_levels: Annotated[int, Field(le=LIMITS.max_sweep_levels)] = 64
    max_concurrency: Count | None = None
    engine: Name = "vllm"
    gpu_hour_usd: float | None = None
    allow_spot: bool = False
    cached_share: float = 0.0

    def sweep_options(self) -> dict[str, Any]:
        """The keywords of :func:`infercost.plan.sweep.run_sweep`, as the CLI builds them."""
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise InputError(
                f"--max-concurrency must be at least 1 sequence, got {self.max_concurrency}."
            )
        return {
            "gpus": self.gpu or None,
            "weight_dtypes": _names(self.weight_dtypes, "--weight-dtypes"),
            "kv_dtypes": _names(self.kv_dtypes, "--kv-dtypes"),
            "max_gpus": self.max_gpus,
            "concurrency_count": self.concurrency_levels,
            "max_concurrency": self.max_concurrency,
            "engine": self.engine,
            "gpu_hour_usd": self.gpu_hour_usd,
            "allow_spot": self.allow_spot,
            "cached_prefix_share": self.cached_share,
        }


class SearchRequest(SweepRequest):
    """``infercost plan search`` options."""

    command: ClassVar[str | None] = "plan search"

    top: Annotated[int, Field(le=100)] = 5
    ttft_p99_s: float | None = None
    tpot_p99_ms: float | None = None
    shortlist: Annotated[int, Field(le=LIMITS.max_p99_shortlist)] = 6
    load: float = 0.8
    length_cv: float = 0.0
    num_requests: Annotated[int, Field(le=LIMITS.max_p99_requests)] = 300


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """A search and, with p99 targets, its simulated short-list."""

    result: SearchResult
    tail: TailResult | None

    def to_dict(self) -> dict[str, Any]:
        """``plan search --json``."""
        data = self.result.to_dict()
        data["p99"] = self.tail.to_dict() if self.tail else None
        return data


def run_search(req: SearchRequest) -> SearchOutcome:
    """Cheapest configuration under the targets, exactly as ``infercost plan search``."""
    options = req.sweep_options()
    result = search(
        req.model, req.isl, req.osl, max_ttft_s=req.max_ttft_s,
        max_tpot_s=_ms(req.max_tpot_ms), top=req.top, **options,
    )  # fmt: skip
    tail = None
    if req.ttft_p99_s is not None or req.tpot_p99_ms is not None:
        tail = search_p99(
            req.model, req.isl, req.osl, ttft_p99_s=req.ttft_p99_s,
            tpot_p99_s=_ms(req.tpot_p99_ms), shortlist=req.shortlist, load=req.load,
            num_requests=req.num_requests, length_cv=req.length_cv,
            max_ttft_s=req.max_ttft_s, max_tpot_s=_ms(req.max_tpot_ms), **options,
        )  # fmt: skip
    return SearchOutcome(result, tail)


def run_pareto(req: SweepRequest) -> ParetoResult:
    """The frontier, exactly as ``infercost plan pareto``."""
    return pareto(
        req.model, req.isl, req.osl, max_ttft_s=req.max_ttft_s,
        max_tpot_s=_ms(req.max_tpot_ms), **req.sweep_options(),
    )  # fmt: skip


class FleetRequest(Body):
    """``infercost plan fleet`` options (``profile``: 24 relative hourly loads)."""

    command: ClassVar[str | None] = "plan fleet"

    isl: TokensF
    osl: TokensF
    output_tokens_per_day: float | None = None
    requests_per_day: float | None = None
    tokens_per_day: float | None = None
    profile: Floats | None = None
    peak_to_average: float | None = None
    peak_hour: Hour = 14
    growth_per_month: float = 0.0
    months: Annotated[float, Field(le=1200)] = 0.0
    replica_output_tok_s: float | None = None
    gpus_per_replica: Count | None = None
    gpu_hour_usd: float | None = None
    reserved_usd_per_gpu_hour: float | None = None
    spot_usd_per_gpu_hour: float | None = None
    model: Name | None = None
    gpu: Name | None = None
    weight_dtype: Name | None = None
    kv_dtype: Name | None = None
    num_gpus: Count | None = None
    max_ttft_s: float | None = None
    max_tpot_ms: float | None = None
    engine: Name = "vllm"
    headroom: float = 0.3
    min_replicas: Count = 1
    autoscaling_lag_min: float = 10.0
    scale_down_delay_min: float = 0.0
    days_per_month: Days = DAYS_PER_BILLING_MONTH
    max_spot_share: float = 0.5


def run_fleet(req: FleetRequest) -> FleetPlan:
    """Fleet sizing, exactly as ``infercost plan fleet``."""
    t = traffic(
        isl=req.isl, osl=req.osl, output_tokens_per_day=req.output_tokens_per_day,
        requests_per_day=req.requests_per_day, tokens_per_day=req.tokens_per_day,
        profile=_numbers(req.profile, "--profile"), peak_to_average=req.peak_to_average,
        peak_hour=req.peak_hour, growth_per_month=req.growth_per_month, months=req.months,
    )  # fmt: skip
    gpr, ng = req.gpus_per_replica, req.num_gpus
    if gpr is not None and ng is not None and gpr != ng:
        raise InputError(f"--gpus-per-replica {gpr} and --num-gpus {ng} disagree; give one.")
    replica_gpus = gpr if gpr is not None else ng
    if replica_gpus is not None and replica_gpus < 1:
        raise InputError(f"--gpus-per-replica must be >= 1, got {replica_gpus}.")
    if req.model is not None:
        if req.gpu is None:
            raise InputError("--model needs --gpu (the accelerator to size replicas on).")
        if req.replica_output_tok_s is not None:
            raise InputError(
                "Give --replica-output-tok-s or --model/--gpu (which size the replica by "
                "search), not both."
            )
        replica, _ = replica_from_search(
            req.model, req.gpu, round(req.isl) or 1, round(req.osl),
            max_ttft_s=req.max_ttft_s, max_tpot_s=_ms(req.max_tpot_ms),
            weight_dtype=req.weight_dtype, kv_dtype=req.kv_dtype, num_gpus=replica_gpus,
            engine=req.engine,
            gpu_hour_usd=req.gpu_hour_usd,
            reserved_usd_per_gpu_hour=req.reserved_usd_per_gpu_hour,
            spot_usd_per_gpu_hour=req.spot_usd_per_gpu_hour, traffic=t,
            headroom=req.headroom, min_replicas=req.min_replicas,
        )  # fmt: skip
    else:
        _only_with(
            "--model", ("--gpu", req.gpu), ("--weight-dtype", req.weight_dtype),
            ("--kv-dtype", req.kv_dtype),
            ("--max-ttft-s", req.max_ttft_s), ("--max-tpot-ms", req.max_tpot_ms),
        )  # fmt: skip
        if req.replica_output_tok_s is None or req.gpu_hour_usd is None:
            raise InputError(
                "Give --replica-output-tok-s and --gpu-hour-usd, or --model and --gpu to size "
                "the replica from the catalog."
            )
        n = 1 if replica_gpus is None else replica_gpus
        replica = Replica(
            req.replica_output_tok_s, n, req.gpu_hour_usd, req.reserved_usd_per_gpu_hour,
            req.spot_usd_per_gpu_hour,
            f"given: {n} GPU(s), {req.replica_output_tok_s:,.0f} output tok/s, "
            f"${req.gpu_hour_usd:g}/GPU-h",
        )  # fmt: skip
    return size_fleet(
        t, replica, headroom=req.headroom, min_replicas=req.min_replicas,
        autoscaling_lag_min=req.autoscaling_lag_min,
        scale_down_delay_min=req.scale_down_delay_min, days_per_month=req.days_per_month,
        max_spot_share=req.max_spot_share,
    )  # fmt: skip


class BreakevenRequest(Body):
    """``infercost plan breakeven`` options (simple flags, or model + gpu + api_model)."""

    command: ClassVar[str | None] = "plan breakeven"

    api_input_usd_per_m: float | None = None
    api_output_usd_per_m: float | None = None
    input_share: float | None = None
    gpu_hour_usd: float | None = None
    tok_s: float | None = None
    ops_usd_per_month: Money = 0.0
    gpus_per_replica: Count | None = None
    api_cached_input_usd_per_m: float | None = None
    cached_share: float = 0.0
    api_cache_write_usd_per_m: float | None = None
    cache_write_share: float = 0.0
    max_utilization: float = 1.0
    peak_to_average: float = 1.0
    spare_replicas: Count = 0
    min_replicas: Count = 1
    hours_per_month: Annotated[float, Field(ge=0, le=1e4)] = HOURS_PER_MONTH
    days_per_month: Days = DAYS_PER_BILLING_MONTH
    volumes: Floats | None = None
    model: Name | None = None
    gpu: Name | None = None
    offer: Name | None = None
    api_model: Name | None = None
    api_provider: Name | None = None
    isl: Tokens = 1000
    osl: Tokens = 300
    weight_dtype: Name | None = None
    max_ttft_s: float | None = None
    max_tpot_ms: float | None = None
    engine: Name = "vllm"


def breakeven_inputs(req: BreakevenRequest) -> BreakevenInputs:
    """The break-even inputs, from names (the catalog) or from the simple figures."""
    common: dict[str, Any] = {
        "ops_usd_per_month": req.ops_usd_per_month,
        "max_utilization": req.max_utilization,
        "peak_to_average": req.peak_to_average,
        "spare_replicas": req.spare_replicas,
        "min_replicas": req.min_replicas,
        "hours_per_month": req.hours_per_month,
        "days_per_month": req.days_per_month,
    }
    if req.model is not None:
        gpu, api_model = _model_needs(req.gpu, req.api_model)
        _not_both(
            "the simple flags (--api-input-usd-per-m, --tok-s, ...)",
            "--model, --gpu and --api-model",
            ("--api-input-usd-per-m", req.api_input_usd_per_m),
            ("--api-output-usd-per-m", req.api_output_usd_per_m),
            ("--api-cached-input-usd-per-m", req.api_cached_input_usd_per_m),
            ("--api-cache-write-usd-per-m", req.api_cache_write_usd_per_m),
            ("--input-share", req.input_share),
            ("--tok-s", req.tok_s),
            ("--gpus-per-replica", req.gpus_per_replica),
        )
        return inputs_from_names(
            req.model, gpu, req.isl, req.osl, api_model, api_provider=req.api_provider,
            offer=req.offer, gpu_hour_usd=req.gpu_hour_usd, max_ttft_s=req.max_ttft_s,
            max_tpot_s=_ms(req.max_tpot_ms), weight_dtype=req.weight_dtype,
            engine=req.engine, cached_share=req.cached_share,
            cache_write_share=req.cache_write_share, **common,
        )  # fmt: skip
    _only_with(
        "--model", ("--gpu", req.gpu), ("--api-model", req.api_model),
        ("--api-provider", req.api_provider), ("--offer", req.offer),
        ("--weight-dtype", req.weight_dtype), ("--max-ttft-s", req.max_ttft_s),
        ("--max-tpot-ms", req.max_tpot_ms),
    )  # fmt: skip
    given = {
        "--api-input-usd-per-m": req.api_input_usd_per_m,
        "--api-output-usd-per-m": req.api_output_usd_per_m,
        "--input-share": req.input_share,
        "--gpu-hour-usd": req.gpu_hour_usd,
        "--tok-s": req.tok_s,
    }
    missing = [name for name, v in given.items() if v is None]
    if missing:
        raise InputError(f"Missing {', '.join(missing)}; or give --model, --gpu and --api-model.")
    api_in, api_out = req.api_input_usd_per_m or 0.0, req.api_output_usd_per_m or 0.0
    share, rate, tok_s = req.input_share or 0.0, req.gpu_hour_usd or 0.0, req.tok_s or 0.0
    n = 1 if req.gpus_per_replica is None else req.gpus_per_replica
    return BreakevenInputs(
        api_in, api_out, share, rate, tok_s, gpus_per_replica=n,
        api_cached_input_usd_per_m=req.api_cached_input_usd_per_m,
        cached_share=req.cached_share,
        api_cache_write_usd_per_m=req.api_cache_write_usd_per_m,
        cache_write_share=req.cache_write_share,
        description=(
            f"self-host: {n} GPU(s) at ${rate:g}/GPU-h, {tok_s:,.0f} tok/s; API "
            f"${api_in:g}/M in, ${api_out:g}/M out, {share:.0%} input"
        ),
        **common,
    )  # fmt: skip


def run_breakeven(req: BreakevenRequest) -> Breakeven:
    """Self-host vs API, exactly as ``infercost plan breakeven``."""
    inp = breakeven_inputs(req)
    vols = _numbers(req.volumes, "--volumes")
    return breakeven(inp, np.asarray(vols, dtype=np.float64) if vols else None)


class HybridRequest(Body):
    """``infercost plan hybrid`` options."""

    command: ClassVar[str | None] = "plan hybrid"

    tokens_per_day: float
    profile: Floats | None = None
    peak_to_average: float | None = None
    peak_hour: Hour = 14
    tok_s: float | None = None
    replica_usd_per_hour: float | None = None
    api_usd_per_m: float | None = None
    ops_usd_per_month: Money = 0.0
    max_utilization: float = 1.0
    days_per_month: Days = DAYS_PER_BILLING_MONTH
    model: Name | None = None
    gpu: Name | None = None
    api_model: Name | None = None
    offer: Name | None = None
    gpu_hour_usd: float | None = None
    isl: Tokens = 1000
    osl: Tokens = 300
    max_tpot_ms: float | None = None


def run_hybrid(req: HybridRequest) -> HybridResult:
    """Own baseline, API for the peaks, exactly as ``infercost plan hybrid``."""
    shape = _numbers(req.profile, "--profile")
    if req.peak_to_average is not None:
        if shape is not None:
            raise InputError("Give --profile or --peak-to-average, not both.")
        shape = [float(x) for x in diurnal_profile(req.peak_to_average, req.peak_hour)]
    tok_s, usd_h, api_m = req.tok_s, req.replica_usd_per_hour, req.api_usd_per_m
    if req.model is not None:
        gpu, api_model = _model_needs(req.gpu, req.api_model)
        _not_both(
            "--tok-s, --replica-usd-per-hour and --api-usd-per-m",
            "--model, --gpu and --api-model",
            ("--tok-s", tok_s), ("--replica-usd-per-hour", usd_h), ("--api-usd-per-m", api_m),
        )  # fmt: skip
        inp = inputs_from_names(
            req.model, gpu, req.isl, req.osl, api_model, offer=req.offer,
            gpu_hour_usd=req.gpu_hour_usd, max_tpot_s=_ms(req.max_tpot_ms),
        )  # fmt: skip
        tok_s, usd_h, api_m = inp.tok_s, inp.replica_usd_per_hour, inp.api_blended_usd_per_m
    else:
        _only_with(
            "--model", ("--gpu", req.gpu), ("--api-model", req.api_model),
            ("--offer", req.offer), ("--gpu-hour-usd", req.gpu_hour_usd),
            ("--max-tpot-ms", req.max_tpot_ms),
        )  # fmt: skip
    if tok_s is None or usd_h is None or api_m is None:
        raise InputError(
            "Give --tok-s, --replica-usd-per-hour and --api-usd-per-m, or --model, --gpu and "
            "--api-model."
        )
    return hybrid(
        req.tokens_per_day, tok_s, usd_h, api_m, profile=shape,
        ops_usd_per_month=req.ops_usd_per_month, max_utilization=req.max_utilization,
        days_per_month=req.days_per_month,
    )  # fmt: skip


class CascadeRequest(Body):
    """``infercost plan cascade`` options (``tier``: NAME:SHARE:COST, cheapest first)."""

    tier: Annotated[list[Name], Field(min_length=1, max_length=16)]
    mode: Name = "router"
    attempt_fraction: float | None = None
    router_usd_per_m: float | None = None
    baseline: Name | None = None
    isl: Tokens = 1000
    osl: Tokens = 300


def run_cascade(req: CascadeRequest) -> CascadeResult:
    """Routed or cascaded tiers, exactly as ``infercost plan cascade``."""
    tiers = [parse_tier(s, req.isl, req.osl) for s in req.tier]
    base = tier_cost_usd_per_m(req.baseline, req.isl, req.osl)[0] if req.baseline else None
    return cascade(
        tiers, mode=req.mode, attempt_fraction=req.attempt_fraction,
        router_usd_per_m=req.router_usd_per_m, baseline_usd_per_m=base,
    )  # fmt: skip


class PaybackRequest(Body):
    """``infercost plan payback`` options."""

    command: ClassVar[str | None] = "plan payback"

    training_usd: float | None = None
    teacher: Name | None = None
    student: Name | None = None
    tokens_per_month: float | None = None
    traffic_share: float = 1.0
    quality_retention: float = 1.0
    extra_ops_usd_per_month: Money = 0.0
    model: Name | None = None
    gpu: Name | None = None
    isl: Tokens = 1000
    osl: Tokens = 300
    draft_tokens: Annotated[int, Field(le=64)] | None = None
    acceptance: float = 0.7
    draft_model: Name | None = None
    draft_step_ratio: float | None = None
    cached_share: float | None = None
    output_tokens_per_month: float = 0.0
    weight_dtype: Name | None = None
    num_gpus: Count | None = None
    max_ttft_s: float | None = None
    max_tpot_ms: float | None = None
    gpu_hour_usd: float | None = None
    engine: Name = "vllm"


def run_payback(req: PaybackRequest) -> dict[str, Any]:
    """Distillation payback and feature ROI, exactly as ``infercost plan payback --json``."""
    data: dict[str, Any] = {}
    distill: DistillationPayback | None = None
    features: list[FeatureRoi] = []
    if req.training_usd is None:
        _only_with(
            "--training-usd", ("--teacher", req.teacher), ("--student", req.student),
            ("--tokens-per-month", req.tokens_per_month),
        )  # fmt: skip
    else:
        if req.teacher is None or req.student is None:
            raise InputError("Distillation needs --teacher and --student costs.")
        if req.tokens_per_month is None:
            raise InputError(
                "Distillation needs --tokens-per-month (the volume the student would take "
                "over); without it there is no saving to pay the training back."
            )
        distill = distillation_payback(
            req.training_usd,
            tier_cost_usd_per_m(req.teacher, req.isl, req.osl)[0],
            tier_cost_usd_per_m(req.student, req.isl, req.osl)[0],
            req.tokens_per_month, traffic_share=req.traffic_share,
            quality_retention=req.quality_retention,
            extra_ops_usd_per_month=req.extra_ops_usd_per_month,
        )  # fmt: skip
        data["distillation"] = distill.to_dict()
    point: dict[str, Any] = {
        "max_ttft_s": req.max_ttft_s,
        "max_tpot_s": _ms(req.max_tpot_ms),
        "weight_dtype": req.weight_dtype,
        "num_gpus": req.num_gpus,
        "gpu_hour_usd": req.gpu_hour_usd,
        "engine": req.engine,
        "output_tokens_per_month": req.output_tokens_per_month,
    }
    wants = req.draft_tokens is not None or req.cached_share is not None
    if wants and (req.model is None or req.gpu is None):
        raise InputError("Speculative decoding and prefix caching need --model and --gpu.")
    if req.draft_tokens is not None and req.model and req.gpu:
        features.append(
            speculative_roi(
                req.model, req.gpu, req.isl, req.osl, num_draft_tokens=req.draft_tokens,
                acceptance_rate=req.acceptance, draft_model=req.draft_model,
                draft_step_ratio=req.draft_step_ratio, **point,
            )
        )  # fmt: skip
    if req.cached_share is not None and req.model and req.gpu:
        features.append(
            prefix_cache_roi(
                req.model, req.gpu, req.isl, req.osl, cached_prefix_share=req.cached_share,
                **point,
            )
        )  # fmt: skip
    if distill is None and not features:
        raise InputError(
            "Nothing to compute: give --training-usd (distillation), --draft-tokens "
            "(speculative decoding) or --cached-share (prefix caching)."
        )
    for f in features:
        key = "speculative_decoding" if f.feature.startswith("spec") else "prefix_caching"
        data[key] = f.to_dict()
    return data


class ScenariosRequest(Body):
    """``infercost plan scenarios`` options."""

    command: ClassVar[str | None] = "plan scenarios"

    usd_per_m: float | None = None
    tokens_per_month: float = 0.0
    decline_per_year: float | None = None
    years: float = 5.0
    volume_growth_per_year: float = 0.0
    elasticity: float | None = None
    price_ratio: float | None = None
    volume_ratio: float | None = None
    model: Name | None = None
    isl: Tokens = 1000
    osl: Tokens = 300
    gpu: Names | None = None
    output_tokens_per_day: float | None = None
    replica_output_tok_s: float | None = None
    gpu_hour_usd: float | None = None
    gpus_per_replica: Count = 1
    peak_to_average: float | None = None
    multipliers: Floats = Field(default_factory=lambda: [1.0, 10.0, 100.0])
    output_expansion: float = 1.0
    headroom: float = 0.3
    api_input_usd_per_m: float | None = None
    api_output_usd_per_m: float | None = None


@dataclass(frozen=True, slots=True)
class ScenariosOutcome:
    """The projection, growth scenarios and hardware generations of one request."""

    projection: Projection
    growth: GrowthScenarios | None
    generations: Generations | None

    def to_dict(self) -> dict[str, Any]:
        """``plan scenarios --json``."""
        return {
            "projection": self.projection.to_dict(),
            "growth": self.growth.to_dict() if self.growth else None,
            "generations": self.generations.to_dict() if self.generations else None,
        }


def run_scenarios(req: ScenariosRequest) -> ScenariosOutcome:
    """Growth, price projection and hardware trend, exactly as ``infercost plan scenarios``."""
    generations = None
    if req.model is not None:
        generations = hardware_generations(req.model, req.isl, req.osl, gpus=req.gpu or None)
    elasticity = req.elasticity
    if elasticity is not None:
        _not_both(
            "--elasticity",
            "--price-ratio with --volume-ratio (which measure it)",
            ("--price-ratio", req.price_ratio),
            ("--volume-ratio", req.volume_ratio),
        )
    else:
        pr, vr = req.price_ratio, req.volume_ratio
        if (pr is None) != (vr is None):
            raise InputError("Give both --price-ratio and --volume-ratio, or --elasticity.")
        elasticity = price_elasticity(pr, vr) if pr is not None and vr is not None else 0.0
        if elasticity > 0:
            raise InputError(
                f"--price-ratio {pr:g} with --volume-ratio {vr:g} gives an elasticity of "
                f"{elasticity:+.3g}: volume moved with the price, not against it, so it is "
                "not a price response; give --elasticity (<= 0) instead."
            )
    decline = req.decline_per_year
    if decline is None:
        if generations is None or generations.decline_per_year is None:
            raise InputError("Give --decline-per-year, or --model to take it from the catalog.")
        decline = generations.projected_decline_per_year
    usd_per_m = req.usd_per_m
    if usd_per_m is None:
        if generations is None:
            raise InputError("Give --usd-per-m, or --model to take today's cheapest $/M.")
        usd_per_m = float(generations.usd_per_m.min())
    projection = project(
        usd_per_m, req.tokens_per_month, decline_per_year=decline, years=req.years,
        volume_growth_per_year=req.volume_growth_per_year, elasticity=elasticity,
    )  # fmt: skip
    growth = None
    if req.output_tokens_per_day is not None:
        if req.replica_output_tok_s is None or req.gpu_hour_usd is None:
            raise InputError("Growth needs --replica-output-tok-s and --gpu-hour-usd.")
        base = traffic(
            isl=req.isl, osl=req.osl, output_tokens_per_day=req.output_tokens_per_day,
            peak_to_average=req.peak_to_average,
        )  # fmt: skip
        growth = growth_scenarios(
            base,
            Replica(
                req.replica_output_tok_s, req.gpus_per_replica, req.gpu_hour_usd,
                description=f"{req.replica_output_tok_s:,.0f} output tok/s",
            ),
            multipliers=_numbers(req.multipliers, "--multipliers") or [],
            headroom=req.headroom, output_expansion=req.output_expansion,
            api_input_usd_per_m=req.api_input_usd_per_m,
            api_output_usd_per_m=req.api_output_usd_per_m,
        )  # fmt: skip
    return ScenariosOutcome(projection, growth, generations)


#: ``plan fleet`` takes 0 input tokens when unknown (the CLI's override of the domain).
FLEET_DOMAINS = {
    "isl": Domain("float", "tokens", 0, 1e8, reason="0 when unknown"),
    "osl": Domain("float", "tokens", 0, 1e8, lo_open=True),
}


@router.post("/api/plan/search", summary="Cheapest configuration under an SLO")
async def search_endpoint(body: SearchRequest, request: Request) -> dict[str, Any]:
    """``plan search --json``: winner, runners-up and why each GPU family lost."""
    return await respond(request, run_search, body)


@router.post("/api/plan/pareto", summary="Cost-latency frontier")
async def pareto_endpoint(body: SweepRequest, request: Request) -> dict[str, Any]:
    """``plan pareto --json``."""
    return await respond(request, run_pareto, body)


@router.post("/api/plan/fleet", summary="Fleet sizing from a traffic profile")
async def fleet_endpoint(body: FleetRequest, request: Request) -> dict[str, Any]:
    """``plan fleet --json``."""
    return await respond(request, run_fleet, body, FLEET_DOMAINS)


@router.post("/api/plan/breakeven", summary="Self-host vs API break-even")
async def breakeven_endpoint(body: BreakevenRequest, request: Request) -> dict[str, Any]:
    """``plan breakeven --json``."""
    return await respond(request, run_breakeven, body)


@router.post("/api/plan/hybrid", summary="Own baseline, API for the peaks")
async def hybrid_endpoint(body: HybridRequest, request: Request) -> dict[str, Any]:
    """``plan hybrid --json``."""
    return await respond(request, run_hybrid, body)


@router.post("/api/plan/cascade", summary="Routed or cascaded model tiers")
async def cascade_endpoint(body: CascadeRequest, request: Request) -> dict[str, Any]:
    """``plan cascade --json``."""
    return await respond(request, run_cascade, body)


@router.post("/api/plan/payback", summary="Distillation payback, feature ROI")
async def payback_endpoint(body: PaybackRequest, request: Request) -> dict[str, Any]:
    """``plan payback --json``."""
    return await respond(request, run_payback, body)


@router.post("/api/plan/scenarios", summary="Growth, price projection, hardware trend")
async def scenarios_endpoint(body: ScenariosRequest, request: Request) -> dict[str, Any]:
    """``plan scenarios --json``."""
    return await respond(request, run_scenarios, body)
