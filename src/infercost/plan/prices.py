"""Prices of a deployment grid: $/used GPU-hour per GPU and replica size.

Every GPU is priced by the one rule of :func:`infercost.catalog.pricing.family_offer` (the
offer ``predict`` uses by default): its median current offer of one pricing kind, on-demand
unless spot is asked for, so a ranking never mixes one GPU's reserved price with another's
on-demand price, and a price the market has since moved past does not win a plan. Clouds bill
whole instances: ``k`` GPUs used on offers of ``n`` per instance pay
``ceil(k / n) x instance $/h ÷ k`` per used GPU-hour (:func:`infercost.cost.gpu_hour
.usd_per_used_gpu_hour`). Or one typed rate prices everything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.catalog.pricing import Offer, family_offer, load_offers
from infercost.catalog.schema import Accelerator
from infercost.cost.gpu_hour import refuse_spot, usd_per_used_gpu_hour
from infercost.errors import InputError
from infercost.plan.layouts import Layouts

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class GpuPrices:
    """$/used GPU-hour per GPU and replica size, from each GPU's family offer.

    Attributes:
        usd_per_gpu_hour: ``(G, P)`` dollars per used GPU-hour (NaN: no offer), instance
            bundling applied (``ceil(k / n) x instance $/h ÷ k``).
        offer_ids: ``(G, P)`` the offer that gives it ("" when none, "user" for a typed rate).
        stale: ``(G, P)`` the offer's price is older than the staleness limit.
        pricing_kind: the one kind every GPU is priced at ("user" for a typed rate).
        offers: the family offer of each GPU that has one, by accelerator id.
    """

    usd_per_gpu_hour: FloatArray
    offer_ids: npt.NDArray[np.str_]
    stale: BoolArray
    pricing_kind: str = "on-demand"
    offers: dict[str, Offer] | None = None


def gpu_prices(
    gpus: Sequence[Accelerator],
    layout: Layouts,
    *,
    gpu_hour_usd: float | None = None,
    offers: Iterable[Offer] | None = None,
    pricing_kind: str | None = None,
    allow_spot: bool = False,
) -> GpuPrices:
    """$/used GPU-hour for every (GPU, layout): a typed rate for all, else each GPU's family
    offer (:func:`~infercost.catalog.pricing.family_offer`) of ``pricing_kind`` (default
    on-demand; ``allow_spot`` alone prices every GPU at its spot offer).

    Raises:
        InputError: a typed rate that is not a positive finite number, or given with
            ``allow_spot`` (which only chooses among offers); a spot kind without
            ``allow_spot``.
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
        return GpuPrices(price, ids.astype(str), stale, pricing_kind="user", offers={})
    kind = pricing_kind or ("spot" if allow_spot else "on-demand")
    pool = tuple(offers if offers is not None else load_offers())
    chosen: dict[str, Offer] = {}
    for gi, acc in enumerate(gpus):
        offer = family_offer(acc.id, pool, pricing_kind=kind)
        if offer is None:
            continue
        refuse_spot(offer, slo_serving=True, allow_spot=allow_spot)
        chosen[acc.id] = offer
        for pi, n in enumerate(layout.num_gpus):
            price[gi, pi] = float(
                usd_per_used_gpu_hour(offer.usd_per_hour, offer.gpus_per_instance, int(n))
            )
            ids[gi, pi] = offer.id
            stale[gi, pi] = offer.is_stale()
    return GpuPrices(price, ids.astype(str), stale, pricing_kind=kind, offers=chosen)
