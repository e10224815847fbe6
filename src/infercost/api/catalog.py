"""Catalog listings (``infercost models / gpus / engines / dtypes / offers / api-prices /
api-price``) as ``GET /api/<command>``; each returns the command's ``--json`` object."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from infercost.catalog import (
    load_engines,
    load_quant_formats,
)
from infercost.catalog.pricing import STALE_AFTER_DAYS
from infercost.cost.api import choose_api_price
from infercost.report.listings import (
    api_prices_data,
    check_max_age,
    gpus_rows,
    models_rows,
    offers_data,
    sheet_dict,
)

router = APIRouter(tags=["catalog"])

QName = Annotated[str | None, Query(max_length=200)]
MaxAge = Annotated[int, Query(ge=-(10**6), le=10**6)]


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
    show_all: Annotated[bool, Query(alias="all")] = False,
) -> dict[str, Any]:
    """Current offers, cheapest GPU-hour first, stale prices flagged; ``all=true`` adds the
    superseded ones (``hidden_count`` says how many were left out)."""
    return offers_data(gpu, provider, kind, max_age_days, show_all=show_all)


@router.get("/api/api-prices", summary="API price sheets (infercost api-prices --json)")
def api_prices_endpoint(
    provider: QName = None, max_age_days: MaxAge = STALE_AFTER_DAYS, history: bool = False
) -> Any:
    """Price sheets, current from genai-prices where it has the model, stale ones flagged;
    ``history=true``: our dated rows as recorded."""
    return api_prices_data(provider, max_age_days, history=history)


@router.get("/api/api-price", summary="One API price sheet (infercost api-price MODEL --json)")
def api_price_endpoint(
    model: Annotated[str, Query(max_length=200)],
    provider: QName = None,
    max_age_days: MaxAge = STALE_AFTER_DAYS,
) -> dict[str, Any]:
    """The chosen sheet for ``model``, why it was chosen and what else was considered."""
    check_max_age(max_age_days)
    choice = choose_api_price(model, provider)
    data: dict[str, Any] = sheet_dict(choice.price, date.today(), max_age_days)
    data["chosen_because"] = choice.reason
    data["considered"] = [
        {"source": p.source, "as_of": p.as_of.isoformat(), "model": p.model}
        for p in choice.considered
    ]
    return data
