"""Fleet sizing from a traffic description: ``infercost plan fleet``.

Traffic is output tokens per day (or requests per day x osl, or all tokens per day x
osl ÷ (isl + osl)), shaped over the day by a 24-hour profile (relative load per hour, mean 1)
or by a peak-to-average ratio, and grown by ``(1 + growth per month) ** months``.

    average output tok/s   = output tokens/day ÷ 86,400
    peak output tok/s      = average x max(profile)
    static replicas        = max(min replicas, ceil(peak x (1 + headroom) ÷ replica tok/s))
    utilisation            = average ÷ (replicas x replica tok/s)
    $/month                = replica-hours/day x GPUs per replica x $/GPU-hour x days/month
    $/M output             = $/month ÷ (output tokens/day x days/month ÷ 1e6)

Autoscaling (per minute of the day, the day repeating): the replicas needed at minute t are
``ceil(load(t) x (1 + headroom) ÷ replica tok/s)``; a replica takes ``lag`` minutes to start,
so the fleet running at t is the most needed over [t - scale-down delay, t + lag], and never
below the minimum. Its replica-hours give the autoscaled cost and utilisation.

Purchase mix: ``R`` reserved replicas run all day at the reserved rate; the autoscaled
replicas above ``R`` (the burst) run on spot for up to ``max_spot_share`` of the burst when
spot is cheaper, the rest on-demand. Daily cost(R) = 24 R x reserved $/h + burst replica-hours
(R) x burst $/h, evaluated for every R from 0 to the peak at once; the cheapest R wins (a
reserved replica pays off when the fleet needs it for more than reserved ÷ burst of the day).
Cost(R) is convex and piecewise linear with kinks at the fleet sizes that occur during the
day, so for very large fleets (over ``MAX_RESERVED_OPTIONS`` replicas) only R = 0 and those
sizes are evaluated; the optimum is the same.

The month is the 730-hour billing month of :mod:`infercost.units` (730 ÷ 24 days) unless
``days_per_month`` says otherwise (the W5 article counts 30 days).

Capacity per replica comes from the user (``replica_output_tok_s``) or from the cheapest
configuration under the latency targets (:func:`infercost.plan.search.search`), which also
says what one replica needs (a 70B model in bf16 does not fit one 80 GB GPU).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from infercost.catalog import get_accelerator
from infercost.catalog.pricing import (
    STALE_AFTER_DAYS,
    Offer,
    current_offers,
    default_offer,
    load_offers,
)
from infercost.cost.gpu_hour import usd_per_used_gpu_hour
from infercost.errors import InputError
from infercost.plan.candidate import Candidate
from infercost.plan.search import run_sweep, search, smallest_fit
from infercost.plan.traffic import DAYS_PER_BILLING_MONTH, FLAT_ASSUMED, S_PER_DAY, Traffic
from infercost.units import HOURS_PER_DAY, S_PER_HOUR, TOKENS_PER_M

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MINUTES_PER_DAY = 1440
#: Above this peak fleet, the purchase mix evaluates only R = 0 and the sizes that occur.
MAX_RESERVED_OPTIONS = 2048
#: Largest fleet sized: 10^6 replicas, beyond any fleet built (the largest GPU clusters hold
#: some 10^5 GPUs); a larger answer says the inputs are wrong, not how many GPUs to buy.
MAX_REPLICAS = 1e6


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number, got {value!r}.")


@dataclass(frozen=True, slots=True)
class Replica:
    """One replica: its capacity and price.

    Attributes:
        output_tok_s: output tokens/s one replica sustains at its operating point.
        gpus: GPUs per replica.
        usd_per_gpu_hour: on-demand $/used GPU-hour.
        reserved_usd_per_gpu_hour, spot_usd_per_gpu_hour: other purchase options (None: not
            offered).
        description: what the replica is and where its figures come from.
        assumptions: choices made for the caller (catalog prices, dtypes picked by the
            search), each naming the option that pins it.
    """

    output_tok_s: float
    gpus: int
    usd_per_gpu_hour: float
    reserved_usd_per_gpu_hour: float | None = None
    spot_usd_per_gpu_hour: float | None = None
    description: str = "given"
    assumptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _positive("replica output tok/s", self.output_tok_s)
        _positive("$/GPU-hour", self.usd_per_gpu_hour)
        if self.gpus < 1:
            raise InputError(f"GPUs per replica must be >= 1, got {self.gpus}.")
        for name, v in (
            ("reserved $/GPU-hour", self.reserved_usd_per_gpu_hour),
            ("spot $/GPU-hour", self.spot_usd_per_gpu_hour),
        ):
            if v is not None:
                _positive(name, v)

    @property
    def usd_per_hour(self) -> float:
        """On-demand $ per replica-hour."""
        return self.usd_per_gpu_hour * self.gpus


@dataclass(frozen=True, slots=True)
class Mix:
    """Cheapest reserved / on-demand / spot purchase mix for the autoscaled fleet.

    Attributes:
        reserved_replicas: replicas bought reserved (run all day).
        on_demand_replica_hours_per_day, spot_replica_hours_per_day: burst above them.
        usd_per_month: the mix's monthly cost.
        all_on_demand_usd_per_month: the same autoscaled fleet all on-demand.
        cost_by_reserved_usd_per_month: monthly cost for each R of ``reserved_options``.
        reserved_options: the reserved counts evaluated, 0..peak (or, for very large fleets,
            0 and every fleet size of the day).
    """

    reserved_replicas: int
    on_demand_replica_hours_per_day: float
    spot_replica_hours_per_day: float
    usd_per_month: float
    all_on_demand_usd_per_month: float
    cost_by_reserved_usd_per_month: FloatArray
    reserved_options: IntArray

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "reserved_replicas": self.reserved_replicas,
            "on_demand_replica_hours_per_day": self.on_demand_replica_hours_per_day,
            "spot_replica_hours_per_day": self.spot_replica_hours_per_day,
            "usd_per_month": self.usd_per_month,
            "all_on_demand_usd_per_month": self.all_on_demand_usd_per_month,
            "saving_vs_all_on_demand_usd_per_month": (
                self.all_on_demand_usd_per_month - self.usd_per_month
            ),
        }


@dataclass(frozen=True, slots=True)
class FleetPlan:
    """A sized fleet (figures at the end of the growth horizon).

    Attributes:
        traffic, replica: the inputs.
        headroom, min_replicas, autoscaling_lag_min, scale_down_delay_min, days_per_month:
            the sizing options.
        average_output_tok_s, peak_output_tok_s: demand.
        static_replicas, static_gpus: fleet sized for the peak with headroom.
        static_utilization: average ÷ static capacity.
        static_usd_per_month, static_usd_per_m_output: its cost.
        autoscaled_replicas: shape (1440,), replicas running each minute of the day.
        autoscaled_replica_hours_per_day, autoscaled_utilization, autoscaled_usd_per_month,
        autoscaled_usd_per_m_output: the autoscaled fleet.
        mix: cheapest purchase mix (None when neither reserved nor spot is priced).
        growth_months, growth_static_replicas, growth_usd_per_month: shape (M + 1,), the
            static fleet month by month over the horizon.
    """

    traffic: Traffic
    replica: Replica
    headroom: float
    min_replicas: int
    autoscaling_lag_min: float
    scale_down_delay_min: float
    days_per_month: float
    average_output_tok_s: float
    peak_output_tok_s: float
    static_replicas: int
    static_gpus: int
    static_utilization: float
    static_usd_per_month: float
    static_usd_per_m_output: float
    autoscaled_replicas: IntArray
    autoscaled_replica_hours_per_day: float
    autoscaled_utilization: float
    autoscaled_usd_per_month: float
    autoscaled_usd_per_m_output: float
    mix: Mix | None
    growth_months: IntArray
    growth_static_replicas: IntArray
    growth_usd_per_month: FloatArray

    @property
    def assumptions(self) -> tuple[str, ...]:
        """Every figure's assumption the caller did not state (replica and traffic shape)."""
        flat = (FLAT_ASSUMED,) if self.traffic.shape == FLAT_ASSUMED else ()
        return (*self.replica.assumptions, *flat)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``plan fleet --json``)."""
        t, r = self.traffic, self.replica
        return {
            "assumptions": list(self.assumptions),
            "traffic_shape": t.shape,
            "replica": {
                "description": r.description,
                "gpus": r.gpus,
                "output_tok_s": r.output_tok_s,
                "usd_per_gpu_hour": r.usd_per_gpu_hour,
                "reserved_usd_per_gpu_hour": r.reserved_usd_per_gpu_hour,
                "spot_usd_per_gpu_hour": r.spot_usd_per_gpu_hour,
            },
            "output_tokens_per_day": t.output_tokens_per_day,
            "sized_output_tokens_per_day": t.sized_output_tokens_per_day,
            "growth_factor": t.growth_factor,
            "isl": t.isl,
            "osl": t.osl,
            "profile": [float(x) for x in t.profile],
            "headroom": self.headroom,
            "min_replicas": self.min_replicas,
            "autoscaling_lag_min": self.autoscaling_lag_min,
            "scale_down_delay_min": self.scale_down_delay_min,
            "days_per_month": self.days_per_month,
            "average_output_tok_s": self.average_output_tok_s,
            "peak_output_tok_s": self.peak_output_tok_s,
            "static_replicas": self.static_replicas,
            "static_gpus": self.static_gpus,
            "static_utilization": self.static_utilization,
            "static_usd_per_month": self.static_usd_per_month,
            "static_usd_per_m_output": self.static_usd_per_m_output,
            "autoscaled_peak_replicas": int(self.autoscaled_replicas.max()),
            "autoscaled_min_replicas": int(self.autoscaled_replicas.min()),
            "autoscaled_replica_hours_per_day": self.autoscaled_replica_hours_per_day,
            "autoscaled_utilization": self.autoscaled_utilization,
            "autoscaled_usd_per_month": self.autoscaled_usd_per_month,
            "autoscaled_usd_per_m_output": self.autoscaled_usd_per_m_output,
            "mix": self.mix.to_dict() if self.mix else None,
            "growth": [
                {"month": int(m), "static_replicas": int(n), "usd_per_month": float(c)}
                for m, n, c in zip(
                    self.growth_months,
                    self.growth_static_replicas,
                    self.growth_usd_per_month,
                    strict=True,
                )
            ],
        }


def replicas_needed(
    load_tok_s: FloatArray | float, capacity_tok_s: float, headroom: float
) -> IntArray:
    """ceil(load x (1 + headroom) ÷ capacity), elementwise (a tiny tolerance absorbs float
    round-off so that an exact multiple is not rounded up)."""
    x = np.asarray(load_tok_s, dtype=np.float64) * (1.0 + headroom) / capacity_tok_s
    return np.asarray(np.ceil(x - 1e-9), dtype=np.int64)


def autoscaled(
    needed_per_minute: IntArray, lag_min: float, delay_min: float, min_replicas: int
) -> IntArray:
    """Replicas running each minute of a repeating day: the most needed over
    [t - delay, t + lag] (a replica must start ``lag`` minutes before it is needed and is kept
    ``delay`` minutes after), at least ``min_replicas``. Shape (1440,)."""
    lag, delay = math.ceil(lag_min), math.ceil(delay_min)
    n = needed_per_minute.shape[0]
    idx = (np.arange(n)[:, None] + np.arange(-delay, lag + 1)[None, :]) % n
    return np.asarray(np.maximum(needed_per_minute[idx].max(axis=1), min_replicas), dtype=np.int64)


def purchase_mix(
    running: IntArray,
    replica: Replica,
    days_per_month: float,
    max_spot_share: float,
) -> Mix | None:
    """Cheapest number of reserved replicas under the autoscaled fleet ``running`` (per minute),
    bursting to spot (up to ``max_spot_share`` of burst hours, when cheaper) and on-demand.
    None when neither a reserved nor a spot price is known."""
    if replica.reserved_usd_per_gpu_hour is None and replica.spot_usd_per_gpu_hour is None:
        return None
    od = replica.usd_per_hour
    spot = (replica.spot_usd_per_gpu_hour or math.inf) * replica.gpus
    share = max_spot_share if spot < od else 0.0
    burst_rate = share * (spot if math.isfinite(spot) else 0.0) + (1.0 - share) * od
    reserved_rate = (replica.reserved_usd_per_gpu_hour or math.inf) * replica.gpus
    peak = int(running.max())
    r = (
        np.arange(peak + 1, dtype=np.int64)
        if peak < MAX_RESERVED_OPTIONS
        else np.unique(np.concatenate([[0], running])).astype(np.int64)
    )
    excess_h = np.maximum(running[None, :] - r[:, None], 0).sum(axis=1) / 60.0
    with np.errstate(invalid="ignore"):
        reserved_cost = np.where(r > 0, r * HOURS_PER_DAY * reserved_rate, 0.0)
    daily = reserved_cost + excess_h * burst_rate
    best_i = int(np.argmin(daily))
    best = int(r[best_i])
    all_od = float(running.sum() / 60.0 * od * days_per_month)
    return Mix(
        reserved_replicas=best,
        on_demand_replica_hours_per_day=float(excess_h[best_i] * (1.0 - share)),
        spot_replica_hours_per_day=float(excess_h[best_i] * share),
        usd_per_month=float(daily[best_i] * days_per_month),
        all_on_demand_usd_per_month=all_od,
        cost_by_reserved_usd_per_month=np.asarray(daily * days_per_month, dtype=np.float64),
        reserved_options=r,
    )


def size_fleet(
    t: Traffic,
    replica: Replica,
    *,
    headroom: float = 0.3,
    min_replicas: int = 1,
    autoscaling_lag_min: float = 10.0,
    scale_down_delay_min: float = 0.0,
    days_per_month: float = DAYS_PER_BILLING_MONTH,
    max_spot_share: float = 0.5,
) -> FleetPlan:
    """Size a fleet for ``t`` on ``replica`` (module docstring for every formula).

    Raises:
        InputError: negative headroom, lag or delay; min replicas below 0; a non-positive
            month; a spot share outside [0, 1].
    """
    if not (math.isfinite(headroom) and headroom >= 0):
        raise InputError(f"--headroom must be >= 0 (0.3 = 30 %), got {headroom!r}.")
    if min_replicas < 0:
        raise InputError(f"--min-replicas must be >= 0, got {min_replicas}.")
    for name, v in (("--autoscaling-lag-min", autoscaling_lag_min),
                    ("--scale-down-delay-min", scale_down_delay_min)):  # fmt: skip
        if not (math.isfinite(v) and 0 <= v <= MINUTES_PER_DAY):
            raise InputError(f"{name} must lie in [0, 1440] minutes, got {v!r}.")
    _positive("--days-per-month", days_per_month)
    if not 0.0 <= max_spot_share <= 1.0:
        raise InputError(f"--max-spot-share must lie in [0, 1], got {max_spot_share!r}.")
    cap = replica.output_tok_s
    avg, peak = t.average_output_tok_s, t.peak_output_tok_s
    horizon_peak = peak * max(1.0, (1.0 + t.growth_per_month) ** (math.ceil(t.months) - t.months))
    if horizon_peak * (1.0 + headroom) / cap > MAX_REPLICAS:
        raise InputError(
            f"The peak of {horizon_peak:,.4g} output tok/s needs more than {MAX_REPLICAS:,.0f} "
            f"replicas of {cap:,.4g} tok/s, beyond any fleet built; check the volume, the "
            "replica's tok/s, --growth-per-month and --months."
        )
    static = max(min_replicas, int(replicas_needed(peak, cap, headroom)))
    static = max(static, 1)
    static_month = static * replica.usd_per_hour * HOURS_PER_DAY * days_per_month
    m_tokens_month = t.sized_output_tokens_per_day * days_per_month / TOKENS_PER_M
    per_minute = avg * np.repeat(t.profile, 60)
    needed = replicas_needed(per_minute, cap, headroom)
    running = autoscaled(needed, autoscaling_lag_min, scale_down_delay_min, min_replicas)
    rep_hours = float(running.sum() / 60.0)
    auto_month = rep_hours * replica.usd_per_hour * days_per_month
    served_tokens = avg * S_PER_DAY
    months = np.arange(math.ceil(t.months) + 1)
    growth_avg = np.asarray(
        t.output_tokens_per_day * (1.0 + t.growth_per_month) ** months / S_PER_DAY,
        dtype=np.float64,
    )
    growth_static = np.maximum(
        replicas_needed(growth_avg * float(t.profile.max()), cap, headroom), max(min_replicas, 1)
    )
    return FleetPlan(
        traffic=t,
        replica=replica,
        headroom=headroom,
        min_replicas=min_replicas,
        autoscaling_lag_min=autoscaling_lag_min,
        scale_down_delay_min=scale_down_delay_min,
        days_per_month=days_per_month,
        average_output_tok_s=avg,
        peak_output_tok_s=peak,
        static_replicas=static,
        static_gpus=static * replica.gpus,
        static_utilization=avg / (static * cap),
        static_usd_per_month=static_month,
        static_usd_per_m_output=static_month / m_tokens_month,
        autoscaled_replicas=running,
        autoscaled_replica_hours_per_day=rep_hours,
        autoscaled_utilization=(
            served_tokens / (rep_hours * S_PER_HOUR * cap) if rep_hours > 0 else 0.0
        ),
        autoscaled_usd_per_month=auto_month,
        autoscaled_usd_per_m_output=auto_month / m_tokens_month,
        mix=purchase_mix(running, replica, days_per_month, max_spot_share),
        growth_months=np.asarray(months, dtype=np.int64),
        growth_static_replicas=np.asarray(growth_static, dtype=np.int64),
        growth_usd_per_month=np.asarray(
            growth_static * replica.usd_per_hour * HOURS_PER_DAY * days_per_month,
            dtype=np.float64,
        ),
    )


def bundling_text(offer: Offer, gpus: int, replicas: int | None) -> str:
    """Says how whole instances of ``offer`` were billed for ``gpus`` GPUs ("" when the offer
    holds one GPU): over the fleet's ``replicas`` packed together, or per replica."""
    m = offer.gpus_per_instance
    if m == 1:
        return ""
    inst = -(-gpus // m)
    if replicas is None:
        return f" (includes bundling: {inst} whole {m}-GPU instance(s) per {gpus}-GPU replica)"
    return (
        f" (includes bundling: the fleet's {replicas} replica(s) x {gpus // replicas} GPU(s) "
        f"= {gpus} GPUs at peak packed into {inst} {m}-GPU instance(s))"
    )


def _catalog_rate(
    offers: Sequence[Offer], gpu: str, kinds: set[str], gpus: int, what: str, flag: str,
    on_demand_usd_per_gpu_hour: float, replicas: int | None = None,
) -> tuple[float | None, list[str]]:  # fmt: skip
    """The cheapest current catalog rate of ``kinds`` per used GPU-hour and the assumption it
    makes; None (with a note) when no offer exists, when none is current, or when the
    cheapest is not below on-demand (a dearer reserved or spot price never enters the mix).

    Current: dated within :data:`STALE_AFTER_DAYS` of the newest offer for ``gpu`` of any
    kind, the window of :func:`~infercost.catalog.pricing.current_offers` applied across
    kinds: a kind whose only offers are older than that (H100 reserved-1y of 2025 beside
    on-demand prices of late 2026) is the market of another year, and it is left out of the
    mix with a note rather than priced against today's on-demand rate."""
    for_gpu = [o for o in offers if o.gpu == gpu]
    of_kind = [o for o in for_gpu if o.pricing_kind in kinds]
    if not of_kind:
        return None, [f"no {what} offer for {gpu} in the catalog: {what} not in the mix ({flag})"]
    newest = max(o.as_of for o in for_gpu)
    current = [o for o in of_kind if (newest - o.as_of).days <= STALE_AFTER_DAYS]
    if not current:
        last = max(of_kind, key=lambda o: (o.as_of, o.id))
        return None, [
            f"no current {what} offer for {gpu}: the newest, {last.id} (as of {last.as_of}), is "
            f"more than {STALE_AFTER_DAYS} days older than the GPU's newest offer ({newest}); "
            f"{what} not in the mix (give {flag} to price it)"
        ]
    rated = [
        (float(usd_per_used_gpu_hour(o.usd_per_hour, o.gpus_per_instance, gpus)), o)
        for o in current
    ]
    rate, offer = min(rated, key=lambda x: (x[0], x[1].id))
    stale = f", STALE: older than {STALE_AFTER_DAYS} days" if offer.is_stale() else ""
    where = (
        f"catalog offer {offer.id} ({offer.provider}, as of {offer.as_of}{stale})"
        + bundling_text(offer, gpus, replicas)
    )
    if rate >= on_demand_usd_per_gpu_hour:
        return None, [
            f"{what} left out of the mix: the cheapest, ${rate:.2f}/GPU-h from {where}, is not "
            f"below the on-demand ${on_demand_usd_per_gpu_hour:.2f}; give {flag} to price it"
        ]
    return rate, [f"{what} ${rate:.2f}/GPU-h from {where}; pin with {flag}"]


def replica_from_search(
    model: str,
    gpu: str,
    isl: int,
    osl: int,
    *,
    max_ttft_s: float | None = None,
    max_tpot_s: float | None = None,
    weight_dtype: str | None = None,
    kv_dtype: str | None = None,
    num_gpus: int | None = None,
    engine: str = "vllm",
    gpu_hour_usd: float | None = None,
    reserved_usd_per_gpu_hour: float | None = None,
    spot_usd_per_gpu_hour: float | None = None,
    offers: Sequence[Offer] | None = None,
    traffic: Traffic | None = None,
    headroom: float = 0.3,
    min_replicas: int = 1,
) -> tuple[Replica, Candidate]:
    """The cheapest replica of ``model`` on ``gpu`` meeting the targets, priced on-demand (the
    catalog's default offer unless ``gpu_hour_usd``), with the catalog's cheapest reserved and
    spot offers for the mix unless given.

    Clouds bill whole instances. Given the ``traffic`` (with the fleet's ``headroom`` and
    ``min_replicas``), the replicas share instances: a catalog offer of m GPUs per instance
    is billed over the fleet's GPUs at peak, G = static replicas x GPUs per replica, as
    ceil(G / m) x instance $/h ÷ G per used GPU-hour (three 2-GPU replicas fill one 8-GPU
    instance, not three); without it, per replica (ceil(k / m) x instance $/h ÷ k).

    Raises:
        UnknownNameError: unknown model, GPU, dtype or engine.
        InputError: no configuration fits or meets the targets; the message says why and what
            one replica needs.
    """
    acc = get_accelerator(gpu)
    pool = tuple(current_offers(offers if offers is not None else load_offers()))
    assumed: list[str] = []
    if gpu_hour_usd is None:
        offer = default_offer(acc.id, pool)
        if offer is None:
            raise InputError(
                f"No on-demand offer for {acc.id} in the catalog: give --gpu-hour-usd."
            )
        pool_od: tuple[Offer, ...] = (offer,)
        assumed.append(
            f"on-demand price from catalog offer {offer.id} (as of {offer.as_of}"
            f"{', STALE: older than 180 days' if offer.is_stale() else ''}); pin with "
            "--gpu-hour-usd"
        )
    else:
        pool_od = ()
    result = search(
        model, isl, osl, max_ttft_s=max_ttft_s, max_tpot_s=max_tpot_s, top=0, gpus=[acc.id],
        weight_dtypes=[weight_dtype] if weight_dtype else None,
        kv_dtypes=[kv_dtype] if kv_dtype else None,
        num_gpus=[num_gpus] if num_gpus else None, engine=engine, gpu_hour_usd=gpu_hour_usd,
        offers=pool_od, pricing_kind="on-demand",
    )  # fmt: skip
    if result.winner is None:
        fam = result.families[0]
        hint = ""
        if fam.constraint == "memory":
            wider = smallest_fit(
                run_sweep(
                    model, isl, osl, gpus=[acc.id], max_gpus=16, engine=engine, gpu_hour_usd=1.0,
                    weight_dtypes=[weight_dtype] if weight_dtype else None,
                )
            )  # fmt: skip
            if wider is not None:
                hint = (
                    f" The smallest replica that holds it is {wider.layout} "
                    f"({wider.weight_dtype} weights, KV {wider.kv_dtype})."
                )
        raise InputError(
            f"No replica of {model} on {acc.id} serves isl {isl} / osl {osl}: "
            f"{fam.constraint}: {fam.detail}.{hint}"
        )
    w = result.winner
    assert w.usd_per_gpu_hour is not None
    n = w.num_gpus
    replicas: int | None = None
    billed = n
    od_rate = w.usd_per_gpu_hour
    if traffic is not None and math.isfinite(headroom) and headroom >= 0:
        replicas = max(
            min_replicas,
            int(replicas_needed(traffic.peak_output_tok_s, w.output_tok_s, headroom)),
            1,
        )
        billed = replicas * n
        if gpu_hour_usd is None and pool_od and pool_od[0].gpus_per_instance > 1:
            od = pool_od[0]
            od_rate = float(usd_per_used_gpu_hour(od.usd_per_hour, od.gpus_per_instance, billed))
            assumed.append(f"on-demand ${od_rate:.2f}/GPU-h{bundling_text(od, billed, replicas)}")
    if weight_dtype is None:
        assumed.append(
            f"weights {w.weight_dtype} chosen by the search as the cheapest that meets the "
            f"targets (check its quality); pin with --weight-dtype"
        )
    if kv_dtype is None:
        assumed.append(f"KV cache {w.kv_dtype} chosen by the search; pin with --kv-dtype")
    reserved = reserved_usd_per_gpu_hour
    if reserved is None:
        reserved, note = _catalog_rate(
            pool, acc.id, {"reserved-1y", "reserved-3y", "committed"}, billed, "reserved",
            "--reserved-usd-per-gpu-hour", od_rate, replicas,
        )  # fmt: skip
        assumed += note
    spot = spot_usd_per_gpu_hour
    if spot is None:
        spot, note = _catalog_rate(
            pool, acc.id, {"spot"}, billed, "spot", "--spot-usd-per-gpu-hour", od_rate, replicas
        )
        assumed += note
    replica = Replica(
        output_tok_s=w.output_tok_s,
        gpus=n,
        usd_per_gpu_hour=od_rate,
        reserved_usd_per_gpu_hour=reserved,
        spot_usd_per_gpu_hour=spot,
        description=(
            f"{w.layout} {w.weight_dtype} (KV {w.kv_dtype}), batch {w.concurrency}: "
            f"{w.output_tok_s:,.0f} output tok/s, TTFT {w.ttft_s:.2f} s, TPOT "
            f"{w.tpot_s * 1e3:.0f} ms; {w.offer}"
        ),
        assumptions=tuple(assumed),
    )
    return replica, w
