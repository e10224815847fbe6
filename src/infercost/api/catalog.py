"""Catalog listings (``infercost models / gpus / engines / dtypes / offers / api-prices /
api-price``) as ``GET /api/<command>``; each returns the command's ``--json`` object."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from infercost.catalog import (
    get_accelerator,
    load_accelerators,
    load_engines,
    load_models,
    load_quant_formats,
)
from infercost.catalog.pricing import PRICING_KINDS, STALE_AFTER_DAYS, filter_offers, load_offers
from infercost.cost.api import choose_api_price, list_api_prices
from infercost.errors import InputError, UnknownNameError
from infercost.perf.params import param_counts

router = APIRouter(tags=["catalog"])

QName = Annotated[str | None, Query(max_length=200)]
MaxAge = Annotated[int, Query(ge=-(10**6), le=10**6)]


def models_rows() -> list[dict[str, Any]]:
    """``infercost models --json``."""
    rows = []
    for m in load_models():
        c = param_counts(m)
        rows.append(
            {
                "id": m.id,
                "model_type": m.model_type,
                "total_params": c.total,
                "active_params": c.active,
                "attention": m.attention_kind,
                "layers": m.num_layers,
                "checkpoint_dtype": m.checkpoint_dtype,
                "source": m.source,
                "as_of": m.as_of.isoformat(),
            }
        )
    return rows


def gpus_rows() -> list[dict[str, Any]]:
    """``infercost gpus --json``."""
    return [
        {
            "id": a.id,
            "name": a.name,
            "memory_gib": a.memory_bytes / 2**30,
            "mem_bw_tb_s": a.mem_bw_bytes_s / 1e12,
            "dense_tflop_s": {k: v / 1e12 for k, v in a.dense_flop_s.items()},
            "interconnect_gb_s_per_direction": (a.interconnect_bytes_s or 0) / 1e9 or None,
            "aliases": list(a.aliases),
            "source": a.source,
            "as_of": a.as_of.isoformat(),
        }
        for a in load_accelerators()
    ]


def _check_max_age(max_age_days: int) -> None:
    if max_age_days < 0:
        raise InputError(
            f"--max-age-days must be >= 0 (prices older than this many days are flagged "
            f"STALE), got {max_age_days}."
        )


def offers_data(
    gpu: str | None, provider: str | None, kind: str | None, max_age_days: int
) -> dict[str, Any]:
    """``infercost offers --json`` (same checks and messages)."""
    if kind is not None and kind not in PRICING_KINDS:
        raise InputError(f"--kind must be one of {', '.join(PRICING_KINDS)}; got {kind!r}.")
    _check_max_age(max_age_days)
    gpu_id = get_accelerator(gpu).id if gpu else None
    today = date.today()
    pool = load_offers()
    if provider is not None:
        providers = sorted({o.provider for o in pool}, key=str.lower)
        if provider.lower() not in {p.lower() for p in providers}:
            by_lower = {p.lower(): p for p in providers}
            close = difflib.get_close_matches(provider.lower(), list(by_lower), n=3, cutoff=0.5)
            if close:
                raise UnknownNameError("provider", provider, [by_lower[c] for c in close])
            raise InputError(
                f"Unknown provider {provider!r}. Known providers: {', '.join(providers)}."
            )
    offers = filter_offers(pool, gpu=gpu_id, provider=provider, pricing_kind=kind)
    rows = [o.to_dict(today, max_age_days) for o in offers]
    return {
        "offers": rows,
        "stale_after_days": max_age_days,
        "stale_count": sum(1 for r in rows if r["stale"]),
        "today": today.isoformat(),
    }


@router.get("/api/models", summary="Catalogued models (infercost models --json)")
def models_endpoint() -> list[dict[str, Any]]:
    """Every catalogued model with parameter counts and sources."""
    return models_rows()


@router.get("/api/gpus", summary="Catalogued accelerators (infercost gpus --json)")
def gpus_endpoint() -> list[dict[str, Any]]:
    """Every catalogued accelerator with its figures and source."""
    return gpus_rows()


@router.get("/api/engines", summary="Engine efficiency profiles (infercost engines --json)")
def engines_endpoint() -> list[dict[str, Any]]:
    """Every engine profile."""
    return [e.model_dump(mode="json") for e in load_engines()]


@router.get("/api/dtypes", summary="Storage formats (infercost dtypes --json)")
def dtypes_endpoint() -> list[dict[str, Any]]:
    """Every weight/KV storage format."""
    return [f.model_dump(mode="json") for f in load_quant_formats()]


@router.get("/api/offers", summary="Cloud GPU offers (infercost offers --json)")
def offers_endpoint(
    gpu: QName = None,
    provider: QName = None,
    kind: QName = None,
    max_age_days: MaxAge = STALE_AFTER_DAYS,
) -> dict[str, Any]:
    """Offers, cheapest GPU-hour first, stale prices flagged."""
    return offers_data(gpu, provider, kind, max_age_days)


@router.get("/api/api-prices", summary="API price sheets (infercost api-prices --json)")
def api_prices_endpoint(provider: QName = None, max_age_days: MaxAge = STALE_AFTER_DAYS) -> Any:
    """Price sheets, with stale ones flagged."""
    _check_max_age(max_age_days)
    today = date.today()
    sheets = [p.to_dict(today, max_age_days) for p in list_api_prices(provider)]
    return {"api_prices": sheets, "stale_after_days": max_age_days}


@router.get("/api/api-price", summary="One API price sheet (infercost api-price MODEL --json)")
def api_price_endpoint(
    model: Annotated[str, Query(max_length=200)],
    provider: QName = None,
    max_age_days: MaxAge = STALE_AFTER_DAYS,
) -> dict[str, Any]:
    """The chosen sheet for ``model``, why it was chosen and what else was considered."""
    _check_max_age(max_age_days)
    choice = choose_api_price(model, provider)
    data: dict[str, Any] = choice.price.to_dict(date.today(), max_age_days)
    data["chosen_because"] = choice.reason
    data["considered"] = [
        {"source": p.source, "as_of": p.as_of.isoformat(), "model": p.model}
        for p in choice.considered
    ]
    return data
