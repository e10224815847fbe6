"""The rows of the catalog listings (``infercost models / gpus / offers / api-prices /
api-price --json``), built once for the CLI, the REST service and the web app, with the same
checks and messages."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from infercost.catalog import get_accelerator, load_accelerators, load_models
from infercost.catalog.pricing import (
    PRICING_KINDS,
    STALE_AFTER_DAYS,
    ApiPrice,
    current_offers,
    filter_offers,
    load_offers,
)
from infercost.cost.api import (
    choose_api_price,
    genai_prices_as_of,
    genai_prices_label,
    list_api_prices,
)
from infercost.errors import InputError, UnknownNameError
from infercost.perf.params import param_counts


def models_rows() -> list[dict[str, Any]]:
    """One row per catalogued model: ids, parameter counts, architecture kind, source."""
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
                "architecture": m.architecture_kind,
                "layers": m.num_layers,
                "checkpoint_dtype": m.checkpoint_dtype,
                "source": m.source,
                "as_of": m.as_of.isoformat(),
            }
        )
    return rows


def gpus_rows() -> list[dict[str, Any]]:
    """One row per catalogued accelerator, in the units vendors print (GiB, TB/s, TFLOP/s)."""
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


def check_max_age(max_age_days: int) -> None:
    """Raises InputError for a negative staleness threshold."""
    if max_age_days < 0:
        raise InputError(
            f"--max-age-days must be >= 0 (prices older than this many days are flagged "
            f"STALE), got {max_age_days}."
        )


def offers_data(
    gpu: str | None,
    provider: str | None,
    kind: str | None,
    max_age_days: int,
    *,
    show_all: bool = False,
) -> dict[str, Any]:
    """``infercost offers --json``: the matching offers, cheapest GPU-hour first, with stale
    prices flagged.

    By default only the current offers are listed (:func:`~infercost.catalog.pricing
    .current_offers`: dated within 180 days of the newest offer for the same GPU and pricing
    kind, the rule the planners and the default offer use); ``show_all`` lists the older,
    superseded rows too. ``hidden_count`` says how many matching rows were left out and every
    row says whether it is ``current``.

    Raises:
        InputError: an unknown pricing kind, a negative ``max_age_days``, or an unknown
            provider without a close spelling.
        UnknownNameError: an unknown GPU, or a provider with close spellings.
    """
    if kind is not None and kind not in PRICING_KINDS:
        raise InputError(f"--kind must be one of {', '.join(PRICING_KINDS)}; got {kind!r}.")
    check_max_age(max_age_days)
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
    # "Current" is judged against the whole catalog (the newest offer for the same GPU and
    # kind from any provider), not against the filtered rows.
    current = {o.id for o in current_offers(pool)}
    matching = filter_offers(pool, gpu=gpu_id, provider=provider, pricing_kind=kind)
    shown = matching if show_all else [o for o in matching if o.id in current]
    rows = [{**o.to_dict(today, max_age_days), "current": o.id in current} for o in shown]
    return {
        "offers": rows,
        "stale_after_days": max_age_days,
        "stale_count": sum(1 for r in rows if r["stale"]),
        "all": show_all,
        "hidden_count": len(matching) - len(shown),
        "current_window_days": STALE_AFTER_DAYS,
        "today": today.isoformat(),
    }


def sheet_dict(sheet: ApiPrice, today: date, max_age_days: int) -> dict[str, Any]:
    """A price sheet's JSON, with ``stale`` judged by how old the *data* is.

    A genai-prices sheet's ``as_of`` is the day its price took effect (a price in force since
    March is still today's price); the package's data is as current as its newest recorded
    price change (:func:`~infercost.cost.api.genai_prices_as_of`), which the sheet carries
    as ``data_as_of`` and which decides ``stale``. Our dated rows are stale by their own
    ``as_of``; ``data_as_of`` is then null."""
    row: dict[str, Any] = sheet.to_dict(today, max_age_days)
    row["data_as_of"] = None
    if sheet.source.startswith("genai-prices"):
        checked = max(genai_prices_as_of(), sheet.as_of)
        row["data_as_of"] = checked.isoformat()
        row["stale"] = (today - checked).days > max_age_days
    return row


def api_prices_data(
    provider: str | None, max_age_days: int, *, history: bool = False
) -> dict[str, Any]:
    """``infercost api-prices --json``: one price sheet per model, current where we can be.

    Default: each model of our dated history (and your price files) is shown with the sheet
    ``infercost api-price`` would use (:func:`~infercost.cost.api.choose_api_price`): your
    file, else the newer of genai-prices and our history. A history row that genai-prices
    prices more recently is replaced by genai-prices' sheet (under genai-prices' model id;
    ``replaces`` names our row and its date); a row genai-prices lacks stays, with its date
    and a ``stale`` flag. With ``provider``, every model genai-prices prices there is listed
    too. ``history``: our dated rows as recorded, nothing replaced.

    Raises:
        InputError: a negative ``max_age_days``.
        UnknownNameError: a ``provider`` no source knows; the message lists the providers.
    """
    check_max_age(max_age_days)
    today = date.today()
    sheets = list_api_prices(provider)
    replaced: dict[str, dict[str, Any]] = {}
    if not history:
        chosen: dict[str, ApiPrice] = {}
        for sheet in sheets:
            if sheet.source.startswith("genai-prices"):
                chosen.setdefault(sheet.key, sheet)
                continue
            pick = choose_api_price(sheet.model, sheet.provider).price
            if pick is not sheet and pick.source.startswith("genai-prices"):
                replaced[pick.key] = {
                    "model": sheet.model,
                    "as_of": sheet.as_of.isoformat(),
                    "source": sheet.source,
                }
            chosen[pick.key] = pick
        sheets = sorted(chosen.values(), key=lambda p: (p.provider.lower(), p.model.lower()))
    rows = []
    for sheet in sheets:
        row = sheet_dict(sheet, today, max_age_days)
        row["replaces"] = replaced.get(sheet.key)
        rows.append(row)
    return {
        "api_prices": rows,
        "stale_after_days": max_age_days,
        "stale_count": sum(1 for r in rows if r["stale"]),
        "history": history,
        "replaced_count": len(replaced),
        "genai_prices": {
            "version": genai_prices_label().removeprefix("genai-prices "),
            "data_as_of": genai_prices_as_of().isoformat(),
        },
        "today": today.isoformat(),
    }
