"""What one used GPU-hour costs, from a cloud offer or a plain $/GPU-hour figure.

Instance bundling: clouds bill whole instances. A replica that uses ``k`` GPUs on offers of
``n`` GPUs per instance pays for ``ceil(k / n)`` instances, so

    $/used GPU-hour = ceil(k / n) x instance $/hour ÷ k

(an 8-GPU instance used for 2 GPUs costs 4x its per-GPU list price per used GPU-hour).
Spot capacity can be reclaimed at any moment; it is refused for latency-SLO serving unless the
caller opts in (``allow_spot=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from infercost.catalog.pricing import STALE_AFTER_DAYS, Offer, default_offer, newest_offer_date
from infercost.cost.money import usd
from infercost.cost.tco import TcoBreakdown
from infercost.errors import InputError


@dataclass(frozen=True, slots=True)
class GpuHourPrice:
    """The price of the GPUs one replica uses, per hour.

    Attributes:
        usd_per_gpu_hour: dollars per *used* GPU-hour (bundling included).
        usd_per_replica_hour: dollars per hour for everything the replica pays for.
        gpus_used: GPUs the replica runs on.
        gpus_paid: GPUs billed (whole instances).
        instances: instances billed (1 when the price was given per GPU).
        pricing_kind: on-demand, spot, reserved-1y, ..., owned or "user" (a typed figure).
        source: what the price is, where it was read and when, in words.
        as_of: date of the price (None for a figure the user typed).
        stale: True when ``as_of`` is older than the staleness limit.
    """

    usd_per_gpu_hour: Decimal
    usd_per_replica_hour: Decimal
    gpus_used: int
    gpus_paid: int
    instances: int
    pricing_kind: str
    source: str
    as_of: date | None = None
    stale: bool = False


def _check_gpus(gpus_used: int) -> None:
    if isinstance(gpus_used, bool) or not isinstance(gpus_used, int) or gpus_used < 1:
        raise InputError(f"GPUs used must be a whole number >= 1, got {gpus_used!r}.")


def instances_needed(gpus_used: int, gpus_per_instance: int) -> int:
    """Whole instances billed to run ``gpus_used`` GPUs: ceil(gpus_used / gpus_per_instance).

    Raises:
        InputError: either count is below 1.
    """
    _check_gpus(gpus_used)
    if gpus_per_instance < 1:
        raise InputError(f"GPUs per instance must be >= 1, got {gpus_per_instance!r}.")
    return -(-gpus_used // gpus_per_instance)


def usd_per_used_gpu_hour(
    instance_usd_per_hour: Decimal, gpus_per_instance: int, gpus_used: int
) -> Decimal:
    """$/used GPU-hour = ceil(k / n) x instance $/hour ÷ k, for k used of n per instance.

    Raises:
        InputError: a count below 1.
    """
    return instances_needed(gpus_used, gpus_per_instance) * instance_usd_per_hour / gpus_used


def refuse_spot(offer: Offer, *, slo_serving: bool, allow_spot: bool) -> None:
    """Raise when a spot offer would carry latency-SLO serving without the user's consent.

    Raises:
        InputError: ``offer`` is spot, ``slo_serving`` is True and ``allow_spot`` is False.
    """
    if offer.pricing_kind == "spot" and slo_serving and not allow_spot:
        raise InputError(
            f"Offer {offer.id!r} is spot capacity, which the provider may reclaim at any time; "
            "it is refused for latency-SLO serving. Choose an on-demand or reserved offer, or "
            "pass --allow-spot (allow_spot=True) to accept the interruption risk."
        )


def price_from_offer(
    offer: Offer,
    gpus_used: int,
    *,
    slo_serving: bool = True,
    allow_spot: bool = False,
    today: date | None = None,
    max_age_days: int = STALE_AFTER_DAYS,
) -> GpuHourPrice:
    """The hourly price of running ``gpus_used`` GPUs on ``offer`` (whole instances billed).

    Raises:
        InputError: ``gpus_used`` < 1, or a spot offer refused (see :func:`refuse_spot`).
    """
    refuse_spot(offer, slo_serving=slo_serving, allow_spot=allow_spot)
    instances = instances_needed(gpus_used, offer.gpus_per_instance)
    replica = instances * offer.usd_per_hour
    stale = offer.is_stale(today, max_age_days)
    return GpuHourPrice(
        usd_per_gpu_hour=replica / gpus_used,
        usd_per_replica_hour=replica,
        gpus_used=gpus_used,
        gpus_paid=instances * offer.gpus_per_instance,
        instances=instances,
        pricing_kind=offer.pricing_kind,
        source=offer.describe()
        + (
            f" (STALE: {offer.age_days(today)} days old; newest offers snapshot "
            f"{newest_offer_date().isoformat()}; refresh with `infercost offers refresh` or "
            "give --gpu-hour-usd)"
            if stale
            else ""
        ),
        as_of=offer.as_of,
        stale=stale,
    )


def price_from_usd_per_gpu_hour(
    usd_per_gpu_hour: float | Decimal,
    gpus_used: int,
    *,
    source: str = "price given by the user",
    pricing_kind: str = "user",
) -> GpuHourPrice:
    """The hourly price of ``gpus_used`` GPUs at a flat per-GPU rate (no bundling).

    Raises:
        InputError: the rate is negative or not finite, or ``gpus_used`` < 1.
    """
    _check_gpus(gpus_used)
    rate = usd(usd_per_gpu_hour, "GPU-hour price")
    if rate < 0:
        raise InputError(f"GPU-hour price must be >= 0 dollars, got {usd_per_gpu_hour!r}.")
    return GpuHourPrice(
        usd_per_gpu_hour=rate,
        usd_per_replica_hour=rate * gpus_used,
        gpus_used=gpus_used,
        gpus_paid=gpus_used,
        instances=1,
        pricing_kind=pricing_kind,
        source=source,
    )


def price_from_tco(breakdown: TcoBreakdown, gpus_used: int) -> GpuHourPrice:
    """The hourly price of ``gpus_used`` owned GPUs at their full-use TCO rate.

    The TCO rate at 100 % use (total ÷ all hours of the life) is used, so that a deployment's
    own utilisation is applied once, by :mod:`infercost.cost.overheads`.

    Raises:
        InputError: ``gpus_used`` < 1.
    """
    _check_gpus(gpus_used)
    rate = breakdown.usd_per_gpu_hour_full_use
    hw = breakdown.inputs
    return GpuHourPrice(
        usd_per_gpu_hour=rate,
        usd_per_replica_hour=rate * gpus_used,
        gpus_used=gpus_used,
        gpus_paid=gpus_used,
        instances=1,
        pricing_kind="owned",
        source=(
            f"owned: TCO ${breakdown.total_usd:,.0f} per GPU over {hw.years} y "
            f"(GPU ${hw.gpu_price_usd:,}, {hw.power_w} W at ${hw.usd_per_kwh}/kWh, PUE {hw.pue})"
            f" ÷ {breakdown.hours_total:,.0f} h"
        ),
    )


def resolve_price(
    gpu_id: str,
    gpus_used: int,
    *,
    gpu_hour_usd: float | None = None,
    offer: Offer | None = None,
    owned: TcoBreakdown | None = None,
    allow_spot: bool = False,
    slo_serving: bool = True,
    today: date | None = None,
) -> GpuHourPrice:
    """One GPU-hour price from exactly one of a typed rate, an offer or a TCO; else the
    catalog's default on-demand offer for ``gpu_id`` (bundling applied in every offer case).

    Raises:
        InputError: more than one source given; an offer for another accelerator; a refused
            spot offer; no source given and no catalog offer for ``gpu_id``.
    """
    given = [x for x in (gpu_hour_usd, offer, owned) if x is not None]
    if len(given) > 1:
        raise InputError(
            "Give one price: --gpu-hour-usd, --offer, or owned-hardware TCO inputs "
            "(--gpu-price-usd ...), not several."
        )
    if gpu_hour_usd is not None:
        return price_from_usd_per_gpu_hour(gpu_hour_usd, gpus_used, source="user (--gpu-hour-usd)")
    if owned is not None:
        return price_from_tco(owned, gpus_used)
    if offer is None:
        offer = default_offer(gpu_id)
        if offer is None:
            raise InputError(
                f"No catalog offer for {gpu_id}: give --gpu-hour-usd, --offer or owned-hardware "
                "inputs (--gpu-price-usd ...)."
            )
    elif offer.gpu != gpu_id:
        raise InputError(
            f"Offer {offer.id!r} is for {offer.gpu}, not {gpu_id}; pick an offer for {gpu_id} "
            f"(infercost offers --gpu {gpu_id})."
        )
    return price_from_offer(
        offer, gpus_used, slo_serving=slo_serving, allow_spot=allow_spot, today=today
    )
