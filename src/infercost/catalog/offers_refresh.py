"""Refresh the offers snapshot from ``gpuhunt`` (optional extra; needs the network).

``infercost offers refresh`` calls :func:`fetch_gpuhunt_items` (the only network access, and
only here), hands the items to the pure :func:`offers_from_gpuhunt_items`, and writes a new
dated CSV with :func:`write_offers_csv` into a user catalog directory, where
:func:`~infercost.catalog.pricing.load_offers` picks it up. Items whose GPU has no catalog id
are returned with their reason (quarantined, never dropped silently).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from infercost.catalog.pricing import OFFER_FIELDS, Offer
from infercost.errors import InputError
from infercost.fileio import atomic_writer

GPUHUNT_SOURCE = "gpuhunt catalog (dstackai/gpuhunt), queried by `infercost offers refresh`"

# (gpuhunt gpu_name normalised, GPU memory in GB or None for any) -> accelerator id.
# A cloud "H100" without PCIe/NVL in its name is the SXM part (p5, a3, ND H100 v5).
_GPU_IDS: tuple[tuple[str, float | None, str], ...] = (
    ("a10g", None, "a10g"),
    ("l4", None, "l4"),
    ("l40s", None, "l40s"),
    ("a100", 40, "a100-40gb-sxm"),
    ("a100", 80, "a100-80gb-sxm"),
    ("h100", None, "h100-sxm"),
    ("h100nvl", None, "h100-nvl"),
    ("h100pcie", None, "h100-pcie"),
    ("h200", None, "h200-sxm"),
    ("b200", None, "b200"),
    ("gb200", None, "gb200"),
    ("b300", None, "b300"),
    ("rtx4090", None, "rtx-4090"),
    ("rtx5090", None, "rtx-5090"),
    ("mi300x", None, "mi300x"),
    ("mi325x", None, "mi325x"),
    ("mi355x", None, "mi355x"),
    ("gh200", 96, "gh200-96gb"),
    ("gh200", 144, "gh200-144gb"),
    ("rtxpro6000", None, "rtx-pro-6000-bse"),
)


def accelerator_id_for(gpu_name: str | None, gpu_memory_gb: float | None) -> str | None:
    """Catalog id for a gpuhunt GPU name and memory, or None when there is no mapping."""
    if not gpu_name:
        return None
    key = re.sub(r"[^a-z0-9]", "", gpu_name.lower())
    for name, memory, acc_id in _GPU_IDS:
        if key != name:
            continue
        if memory is None or (gpu_memory_gb is not None and abs(gpu_memory_gb - memory) < 8):
            return acc_id
    return None


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An item that was not turned into an offer, and why."""

    item: str
    reason: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def offers_from_gpuhunt_items(
    items: Iterable[Any], as_of: date
) -> tuple[list[Offer], list[Quarantined]]:
    """Offers from gpuhunt ``CatalogItem``-like objects: the cheapest region per instance/kind.

    Pure: reads the attributes ``provider``, ``instance_name``, ``location``, ``price``
    ($/instance-hour), ``gpu_count``, ``gpu_name``, ``gpu_memory`` and ``spot``.
    """
    best: dict[str, tuple[Offer, int]] = {}
    quarantined: list[Quarantined] = []
    for item in items:
        desc = f"{getattr(item, 'provider', '?')} {getattr(item, 'instance_name', '?')}"
        gpu_count = getattr(item, "gpu_count", 0) or 0
        price = getattr(item, "price", None)
        acc_id = accelerator_id_for(
            getattr(item, "gpu_name", None), getattr(item, "gpu_memory", None)
        )
        if gpu_count < 1:
            quarantined.append(Quarantined(desc, "no GPU"))
            continue
        if acc_id is None:
            quarantined.append(
                Quarantined(desc, f"GPU {getattr(item, 'gpu_name', None)!r} has no catalog id")
            )
            continue
        if price is None or price <= 0:
            quarantined.append(Quarantined(desc, f"price {price!r} is not positive"))
            continue
        kind = "spot" if getattr(item, "spot", False) else "on-demand"
        provider = str(getattr(item, "provider", ""))
        instance = str(getattr(item, "instance_name", ""))
        offer_id = f"{_slug(provider)}-{_slug(instance)}-{kind}-{as_of.isoformat()}"
        offer = Offer(
            id=offer_id,
            provider=provider,
            instance=instance,
            gpu=acc_id,
            gpus_per_instance=int(gpu_count),
            pricing_kind=kind,
            usd_per_hour=Decimal(repr(float(price))),
            region=str(getattr(item, "location", "") or ""),
            as_of=as_of,
            source=GPUHUNT_SOURCE,
            notes="cheapest region at refresh",
        )
        seen = best.get(offer_id)
        count = seen[1] + 1 if seen else 1
        if seen is None or offer.usd_per_hour < seen[0].usd_per_hour:
            best[offer_id] = (offer, count)
        else:
            best[offer_id] = (seen[0], count)
    offers = [
        o.model_copy(update={"notes": f"cheapest of {n} region(s) at refresh"})
        for o, n in best.values()
    ]
    return sorted(offers, key=lambda o: o.id), quarantined


def write_offers_csv(offers: Iterable[Offer], path: Path) -> Path:
    """Write offers in the shipped CSV layout (:data:`OFFER_FIELDS`), atomically (a reader
    sees the old snapshot or the whole new one); returns ``path``.

    Raises:
        InputError: the folder cannot be created or written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create {path.parent}: {err.strerror or err}.") from err
    with atomic_writer(path, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(OFFER_FIELDS)
        for o in offers:
            row = o.model_dump()
            row["as_of"] = o.as_of.isoformat()
            writer.writerow(["" if row[f] is None else str(row[f]) for f in OFFER_FIELDS])
    return path


def fetch_gpuhunt_items() -> list[Any]:
    """Every GPU offer gpuhunt knows (network access).

    Raises:
        InputError: gpuhunt is not installed (install the ``refresh`` extra).
    """
    try:
        import gpuhunt
    except ImportError:
        raise InputError(
            "`infercost offers refresh` needs the optional gpuhunt package: "
            "pip install 'infercost[refresh]'"
        ) from None
    return list(gpuhunt.query(min_gpu_count=1))


def refresh_offers(
    out_dir: Path, today: date | None = None
) -> tuple[Path, int, list[Quarantined]]:
    """Fetch offers through gpuhunt and write ``<out_dir>/offers/gpuhunt_<date>.csv``.

    Returns the file written, the number of offers and the quarantined items.

    Raises:
        InputError: gpuhunt is not installed.
    """
    as_of = today or date.today()
    offers, quarantined = offers_from_gpuhunt_items(fetch_gpuhunt_items(), as_of)
    path = write_offers_csv(offers, out_dir / "offers" / f"gpuhunt_{as_of.isoformat()}.csv")
    return path, len(offers), quarantined
