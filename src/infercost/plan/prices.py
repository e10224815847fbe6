"""Prices of a deployment grid: the cheapest $/used GPU-hour per GPU and replica size.

Clouds bill whole instances: ``k`` GPUs used on offers of ``n`` per instance pay
``ceil(k / n) x instance $/h ÷ k`` per used GPU-hour (:func:`infercost.cost.gpu_hour
.usd_per_used_gpu_hour`). For every (GPU, layout) of a grid the cheapest allowed *current*
offer wins (:func:`current_offers`: a price the market has since moved past does not win a
plan); or one typed rate prices everything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.catalog.pricing import Offer, current_offers, load_offers
from infercost.catalog.schema import Accelerator
from infercost.cost.gpu_hour import usd_per_used_gpu_hour
from infercost.errors import InputError
from infercost.plan.layouts import Layouts

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_KINDS: tuple[str, ...] = ("on-demand", "reserved-1y", "reserved-3y", "committed", "owned")
"""Offer pricing kinds a search may use by default (spot only when asked)."""


@dataclass(frozen=True, slots=True)
class GpuPrices:
    """The cheapest $/used GPU-hour per GPU and replica size among the allowed offers.

    Attributes:
        usd_per_gpu_hour: ``(G, P)`` dollars per used GPU-hour (NaN: no offer), instance
            bundling applied (``ceil(k / n) x instance $/h ÷ k``).
        offer_ids: ``(G, P)`` the offer that gives it ("" when none, "user" for a typed rate).
        stale: ``(G, P)`` the offer's price is older than the staleness limit.
    """

    usd_per_gpu_hour: FloatArray
    offer_ids: npt.NDArray[np.str_]
    stale: BoolArray


def gpu_prices(
    gpus: Sequence[Accelerator],
    layout: Layouts,
    *,
    gpu_hour_usd: float | None = None,
    offers: Iterable[Offer] | None = None,
    kinds: Sequence[str] = DEFAULT_KINDS,
    allow_spot: bool = False,
) -> GpuPrices:
    """$/used GPU-hour for every (GPU, layout): a typed rate for all, else the cheapest offer.

    Raises:
        InputError: a typed rate that is not a positive finite number, or given with
            ``allow_spot`` (which only chooses among offers).
    """
    g_n, p_n = len(gpus), len(layout)
    price = np.full((g_n, p_n), np.nan)
    ids = np.full((g_n, p_n), "", dtype=object)
    stale = np.zeros((g_n, p_n), dtype=bool)
    if gpu_hour_usd is not None:
        if not (math.isfinite(gpu_hour_usd) and gpu_hour_usd > 0):
            raise InputError(f"--gpu-hour-usd must be a positive number, got {gpu_hour_usd}.")
        if allow_spot:
            raise InputError(
                "--allow-spot chooses among catalog offers, but --gpu-hour-usd prices every GPU "
                "at one rate; drop one of them."
            )
        price[:] = gpu_hour_usd
        ids[:] = "user"
        return GpuPrices(price, ids.astype(str), stale)
    wanted = set(kinds) | ({"spot"} if allow_spot else set())
    index = {a.id: i for i, a in enumerate(gpus)}
    sizes = sorted({int(n) for n in layout.num_gpus})
    col = {n: np.flatnonzero(layout.num_gpus == n) for n in sizes}
    for offer in current_offers(offers if offers is not None else load_offers()):
        gi = index.get(offer.gpu)
        if gi is None or offer.pricing_kind not in wanted:
            continue
        for n in sizes:
            rate = float(usd_per_used_gpu_hour(offer.usd_per_hour, offer.gpus_per_instance, n))
            cols = col[n]
            better = ~(price[gi, cols] <= rate)  # NaN (no price yet) counts as worse
            price[gi, cols[better]] = rate
            ids[gi, cols[better]] = offer.id
            stale[gi, cols[better]] = offer.is_stale()
    return GpuPrices(price, ids.astype(str), stale)
