"""``POST /api/tco``, ``/api/cost`` and ``/api/compare-gpus``: the economics commands with
their options as JSON; each returns the command's ``--json`` object."""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import APIRouter, Request

from infercost.api.respond import respond
from infercost.api.schema import Count, Name, Names, Tokens
from infercost.api.schema import Request as Body
from infercost.catalog import get_accelerator
from infercost.catalog.pricing import get_offer
from infercost.cost.gpu_hour import resolve_price
from infercost.cost.overheads import overheads, useful_fraction
from infercost.cost.tco import owned_hardware, power_from_tdp, tco
from infercost.errors import InputError
from infercost.plan.compare import Comparison, compare_gpus
from infercost.plan.deployment_cost import DeploymentCost, deployment_cost

router = APIRouter(tags=["economics"])


class TcoRequest(Body):
    """``infercost tco`` options."""

    command: ClassVar[str | None] = "tco"

    gpu_price_usd: float
    usd_per_kwh: float
    power_w: float | None = None
    years: float = 3.0
    utilization: float = 1.0
    hosting_usd: float = 0.0
    pue: float = 1.0
    power_billing: Name = "all-hours"
    idle_power_w: float = 0.0
    server_price_usd: float = 0.0
    gpus_per_server: Count = 1
    residual_value_fraction: float = 0.0
    networking_usd: float = 0.0
    maintenance_usd_per_year: float = 0.0
    people_usd_per_month: float = 0.0
    gpu: Name | None = None


def run_tco(req: TcoRequest) -> dict[str, Any]:
    """Owned-hardware TCO, exactly as ``infercost tco --json`` (with its ``assumptions``)."""
    power_w, assumed = power_from_tdp(req.power_w, req.gpu)
    if req.power_billing not in ("all-hours", "utilized-hours"):
        raise InputError(
            f"--power-billing must be all-hours or utilized-hours, got {req.power_billing!r}."
        )
    fields = req.model_dump(exclude={"gpu", "power_w"})
    data: dict[str, Any] = tco(owned_hardware(power_w=power_w, **fields)).to_dict()
    data["assumptions"] = assumed
    return data


class CostRequest(Body):
    """``infercost cost`` options."""

    command: ClassVar[str | None] = "cost"

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
    concurrency: Count | None = None
    max_throughput: bool = False
    fixed_lengths: bool = False
    engine: Name = "vllm"
    gpu_hour_usd: float | None = None
    offer: Name | None = None
    allow_spot: bool = False
    gpu_price_usd: float | None = None
    usd_per_kwh: float | None = None
    years: float = 3.0
    hosting_usd: float = 0.0
    power_w: float | None = None
    pue: float = 1.0
    utilization: float = 1.0
    replicas: Count = 1
    spare_replicas: Count = 0
    zones: Count = 1
    ops_usd_per_month: float = 0.0
    retry_share: float = 0.0
    reasoning_share: float = 0.0


def run_cost(req: CostRequest) -> DeploymentCost:
    """All-in cost of a deployment, exactly as ``infercost cost``."""
    acc = get_accelerator(req.gpu)
    owned = None
    if req.gpu_price_usd is not None:
        if req.usd_per_kwh is None:
            raise InputError("Owned hardware needs --usd-per-kwh (electricity price).")
        draw = req.power_w if req.power_w is not None else acc.tdp_w
        if draw is None:
            raise InputError(f"{acc.id} has no catalogued TDP; give --power-w.")
        owned = tco(
            owned_hardware(
                gpu_price_usd=req.gpu_price_usd, power_w=draw, usd_per_kwh=req.usd_per_kwh,
                years=req.years, hosting_usd=req.hosting_usd, pue=req.pue,
            )
        )  # fmt: skip
    replica_gpus = req.num_gpus or (req.tp or 1) * req.pp
    price = resolve_price(
        acc.id, replica_gpus, gpu_hour_usd=req.gpu_hour_usd,
        offer=get_offer(req.offer) if req.offer else None, owned=owned,
        allow_spot=req.allow_spot,
    )  # fmt: skip
    return deployment_cost(
        price,
        overheads(
            utilization=req.utilization, replicas_needed=req.replicas,
            spare_replicas=req.spare_replicas, zones=req.zones,
            ops_usd_per_month=req.ops_usd_per_month,
        ),
        useful_fraction=useful_fraction(
            retry_share=req.retry_share, reasoning_share=req.reasoning_share
        ),
        model=req.model, gpu=acc.id, isl=req.isl, osl=req.osl, num_gpus=req.num_gpus,
        tp=req.tp, pp=req.pp, ep=req.ep, weight_dtype=req.weight_dtype,
        kv_dtype=req.kv_dtype, concurrency=req.concurrency,
        max_throughput=req.max_throughput, engine=req.engine,
        fixed_lengths=req.fixed_lengths,
    )  # fmt: skip


class CompareRequest(Body):
    """``infercost compare-gpus`` options."""

    model: Name
    isl: Tokens
    osl: Tokens
    max_tpot_ms: float | None = None
    max_ttft_s: float | None = None
    engine: Name = "vllm"
    allow_spot: bool = False
    weight_dtype: Names | None = None


def run_compare(req: CompareRequest) -> Comparison:
    """Every GPU offer ranked by $/M output, exactly as ``infercost compare-gpus``."""
    return compare_gpus(
        req.model, req.isl, req.osl, engine=req.engine, allow_spot=req.allow_spot,
        weight_dtypes=req.weight_dtype if req.weight_dtype else None,
        max_tpot_s=req.max_tpot_ms / 1000 if req.max_tpot_ms is not None else None,
        max_ttft_s=req.max_ttft_s,
    )  # fmt: skip


@router.post("/api/tco", summary="Owned-hardware TCO (infercost tco --json)")
async def tco_endpoint(body: TcoRequest, request: Request) -> dict[str, Any]:
    """Total cost of ownership and the $/GPU-hour it implies."""
    return await respond(request, run_tco, body)


@router.post("/api/cost", summary="All-in cost of a deployment (infercost cost --json)")
async def cost_endpoint(body: CostRequest, request: Request) -> dict[str, Any]:
    """$/M input, output, blended, per request and per useful token."""
    return await respond(request, run_cost, body)


@router.post("/api/compare-gpus", summary="Rank GPU offers (infercost compare-gpus --json)")
async def compare_endpoint(body: CompareRequest, request: Request) -> dict[str, Any]:
    """Every offer by $/M output at its best configuration, and why each lost."""
    return await respond(request, run_compare, body)
