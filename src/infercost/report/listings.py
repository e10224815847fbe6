"""The rows of the catalog listings (``infercost models / gpus / offers --json``), built once
for the CLI, the REST service and the web app, with the same checks and messages."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from infercost.catalog import get_accelerator, load_accelerators, load_models
from infercost.catalog.pricing import PRICING_KINDS, filter_offers, load_offers
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
    gpu: str | None, provider: str | None, kind: str | None, max_age_days: int
) -> dict[str, Any]:
    """``infercost offers --json``: the matching offers, cheapest GPU-hour first, with stale
    prices flagged.

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
    offers = filter_offers(pool, gpu=gpu_id, provider=provider, pricing_kind=kind)
    rows = [o.to_dict(today, max_age_days) for o in offers]
    return {
        "offers": rows,
        "stale_after_days": max_age_days,
        "stale_count": sum(1 for r in rows if r["stale"]),
        "today": today.isoformat(),
    }
