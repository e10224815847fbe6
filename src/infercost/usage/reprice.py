"""A period re-priced under alternatives: ``infercost usage reprice --as SPEC``.

The same rows (optionally only those matching ``--where DIM=VALUE``) are priced again by
:func:`~infercost.usage.report.priced_groups` after one change, so every billing rule
(price at the request's date, long-context tiers, cache reads once, batch discount,
GPU-second allocation of a fleet) applies to the alternative exactly as to the actual bill.
Each alternative is a range ``[low, high]`` with the assumptions that bound it named.

``model:PROVIDER/MODEL``
    every row in scope sent to that model (self-hosted and explicitly priced rows too), at
    its sheet on each request's date. Assumes the same token counts (another tokenizer or a
    more verbose model changes them) and the same service tier.
``tier:standard|batch|flex|priority``
    the API rows on another service tier (self-hosted rows unchanged).
``prices:YYYY-MM-DD``
    the API rows at the sheets in force on that date instead of each request's date.
``caching:LO[-HI]``
    prompt caching on: a share LO (to HI) of each API row's uncached prompt tokens read from
    the cache at the cached rate. Cache writes are not added (automatic caching bills none;
    a provider that bills writes bills each prefix once), and prompts below a provider's
    minimum cacheable length would not be cached, so HI is the optimistic end.
``selfhost:MODEL@GPU[,key=value...]``
    the traffic served on our own fleet, sized by the plan layer from the period's hourly
    output-token curve: a replica of MODEL on GPU (the cheapest configuration that
    :func:`infercost.plan.fleet.replica_from_search` finds at the period's mean prompt and
    output lengths, or ``tok_s=`` output tokens/s given), then

    - low: the autoscaled fleet (:func:`infercost.plan.fleet.size_fleet` over the mean
      day's hourly profile, ``headroom``, ``min_replicas``, 10-minute start lag);
    - high: a static fleet for the period's busiest hour:
      ``ceil(peak output tok/s x (1 + headroom) ÷ replica tok/s)`` replicas all period;

    both plus ``spares`` replicas (redundancy, N + spares) for the whole period and people
    (``ops_usd_per_month`` x hours ÷ 730). Keys: ``gpu_hour_usd`` (default: the catalog's
    on-demand offer), ``tok_s``, ``gpus`` (GPUs per replica with ``tok_s``), ``headroom``
    (0.3), ``spares`` (1), ``min_replicas`` (1), ``ops_usd_per_month`` (0),
    ``max_ttft_s``, ``max_tpot_s`` (latency targets of the replica search), ``engine``,
    ``weight_dtype``.

Money is Decimal; a row the alternative cannot price is reported, never $0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from infercost.errors import InfercostError, InputError
from infercost.units import HOURS_PER_MONTH
from infercost.usage.ledger import Deployment
from infercost.usage.prices import PriceBook
from infercost.usage.report import _dim_expr, check_dimensions, period, priced_groups
from infercost.usage.schema import SELF_HOSTED, SERVICE_TIERS

_US = Decimal("0.000001")
KINDS = ("model", "tier", "prices", "caching", "selfhost")


@dataclass
class Alternative:
    """One alternative's cost over the period.

    Attributes:
        spec: the ``--as`` text.
        low_usd, high_usd: the range (equal when no assumption has a range).
        assumptions: what the range rests on, in words.
        unpriced: rows the alternative could not price (reason and counts).
        detail: figures behind it (fleet sizes, utilisation, ...).
    """

    spec: str
    low_usd: Decimal
    high_usd: Decimal
    assumptions: list[str]
    unpriced: list[dict[str, Any]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Label for tables and charts."""
        return self.spec

    def to_dict(self, actual: Decimal) -> dict[str, Any]:
        """JSON-ready dict (money as decimal strings) with the change against ``actual``."""
        return {
            "as": self.spec,
            "complete": not self.unpriced,
            "low_usd": str(self.low_usd.quantize(_US)),
            "high_usd": str(self.high_usd.quantize(_US)),
            "change_low_usd": str((self.low_usd - actual).quantize(_US)),
            "change_high_usd": str((self.high_usd - actual).quantize(_US)),
            "assumptions": self.assumptions,
            "unpriced": self.unpriced,
            "detail": self.detail,
        }


@dataclass
class Repricing:
    """The period's actual cost and each alternative's range."""

    start: datetime
    end: datetime
    where: dict[str, str]
    actual_usd: Decimal
    alternatives: list[Alternative]
    unpriced: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``usage reprice --json`` object."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "where": self.where,
            "actual_usd": str(self.actual_usd.quantize(_US)),
            "unpriced": self.unpriced,
            "alternatives": [a.to_dict(self.actual_usd) for a in self.alternatives],
        }


#: The first day an LLM API was sold (OpenAI's API, announced 2020-06-11): no price sheet is in
#: force before it, so ``prices:`` dates before it are refused rather than priced at nothing.
FIRST_API_PRICE_DATE = date(2020, 6, 11)


def parse_where(items: Sequence[str]) -> dict[str, str]:
    """``DIM=VALUE`` filters.

    Raises:
        InputError: not ``DIM=VALUE`` or an unknown dimension.
    """
    out: dict[str, str] = {}
    for item in items:
        dim, sep, value = item.partition("=")
        if not sep or not dim.strip():
            raise InputError(f"--where {item!r}: write DIM=VALUE, e.g. team=search.")
        check_dimensions([dim.strip()], flag="--where")
        out[dim.strip()] = value.strip()
    return out


def _scope(t: ir.Table, where: dict[str, str]) -> ir.Table:
    for dim, value in where.items():
        t = t.filter(_dim_expr(t, dim) == value)
    return t


def _fraction_range(text: str, spec: str) -> tuple[float, float]:
    lo_text, _, hi_text = text.partition("-")
    try:
        lo = float(lo_text)
        hi = float(hi_text) if hi_text else lo
    except ValueError:
        raise InputError(
            f"--as {spec!r}: give a share of 0 to 1, or LO-HI (caching:0.3-0.7)."
        ) from None
    if not (0 <= lo <= hi <= 1):
        raise InputError(f"--as {spec!r}: shares must satisfy 0 <= LO <= HI <= 1.")
    return lo, hi


_SELFHOST_KEYS = {
    "gpu_hour_usd": float,
    "tok_s": float,
    "gpus": int,
    "headroom": float,
    "spares": int,
    "min_replicas": int,
    "ops_usd_per_month": float,
    "max_ttft_s": float,
    "max_tpot_s": float,
    "engine": str,
    "weight_dtype": str,
}


def _selfhost_options(spec: str, body: str) -> tuple[str, str, dict[str, Any]]:
    head, *pairs = body.split(",")
    model, sep, gpu = head.partition("@")
    if not sep or not model.strip() or not gpu.strip():
        raise InputError(f"--as {spec!r}: write selfhost:MODEL@GPU[,key=value...].")
    opts: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or key not in _SELFHOST_KEYS:
            raise InputError(
                f"--as {spec!r}: {pair!r} is not key=value with a key of "
                f"{', '.join(_SELFHOST_KEYS)}."
            )
        try:
            opts[key] = _SELFHOST_KEYS[key](value.strip())
        except ValueError:
            raise InputError(f"--as {spec!r}: {key}={value!r} is not a number.") from None
    return model.strip(), gpu.strip(), opts


def reprice(
    requests: ir.Table,
    prices: PriceBook,
    deployments: Sequence[Deployment],
    specs: Sequence[str],
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    where: dict[str, str] | None = None,
) -> Repricing:
    """Price ``[start, end)`` as it was and under each of ``specs`` (module docstring).

    Raises:
        InputError: an unknown or malformed spec; an empty scope; a self-hosted model that
            no configuration of the GPU serves.
        UnknownNameError: an unknown provider or model in ``model:`` (with the closest
            names); an unknown model or GPU in ``selfhost:``.
    """
    if not specs:
        raise InputError("give at least one --as (model:, tier:, prices:, caching:, selfhost:).")
    where = where or {}
    start, end = period(requests, start, end)
    t = _scope(requests.filter((requests.ts >= start) & (requests.ts < end)), where)
    n = int(t.count().execute())
    if n == 0:
        scope = ", ".join(f"{k}={v}" for k, v in where.items())
        raise InputError(
            f"no rows from {start} to {end}"
            + (
                f" where {scope}; check the --where values (`infercost usage report --by "
                f"{','.join(where)}` lists them)."
                if where
                else "."
            )
        )
    actual = priced_groups(t, [], prices, deployments, start, end)
    alts = [_alternative(spec, t, prices, deployments, start, end) for spec in specs]
    return Repricing(start, end, where, actual.total_usd, alts, actual.unpriced)


def _alternative(
    spec: str,
    t: ir.Table,
    prices: PriceBook,
    deployments: Sequence[Deployment],
    start: datetime,
    end: datetime,
) -> Alternative:
    kind, sep, body = spec.partition(":")
    kind = kind.strip().lower()
    body = body.strip()
    if not sep or kind not in KINDS or not body:
        raise InputError(
            f"--as {spec!r} is not an alternative; use model:PROVIDER/MODEL, "
            "tier:standard|batch|flex|priority, prices:YYYY-MM-DD, caching:LO[-HI] or "
            "selfhost:MODEL@GPU[,key=value...]."
        )
    api = (t.provider != SELF_HOSTED) & t.price_usd.isnull()

    def price(table: ir.Table, book: PriceBook = prices) -> tuple[Decimal, list[dict[str, Any]]]:
        rep = priced_groups(table, [], book, deployments, start, end)
        return rep.total_usd, rep.unpriced

    if kind == "model":
        provider, slash, model = body.partition("/")
        if not slash or not provider or not model:
            raise InputError(f"--as {spec!r}: write model:PROVIDER/MODEL (model:openai/gpt-4.1).")
        prices.check_known(provider, model, f"--as {spec!r}")
        moved = t.mutate(
            provider=ibis.literal(provider.lower()),
            model=ibis.literal(model),
            deployment=ibis.null().cast("string"),
            price_usd=ibis.null().cast(t.price_usd.type()),
            context_tier=ibis.null().cast("string"),
        )
        usd, miss = price(moved)
        return Alternative(
            spec,
            usd,
            usd,
            [
                f"every row in scope on {provider}/{model} at its sheet on each request's date",
                "the same token counts and service tiers (another tokenizer or a more verbose "
                "model changes them)",
            ],
            miss,
        )
    if kind == "tier":
        tier = body.lower()
        if tier not in SERVICE_TIERS:
            raise InputError(f"--as {spec!r}: the tier must be one of {', '.join(SERVICE_TIERS)}.")
        moved = t.mutate(service_tier=api.ifelse(ibis.literal(tier), t.service_tier))
        usd, miss = price(moved)
        notes = [f"API rows on the {tier} tier; self-hosted and explicitly priced rows as billed"]
        if tier in ("batch", "flex"):
            notes.append("the work tolerates batch latency (up to 24 h) or flex queueing")
            notes.append(
                "the batch discount of each sheet; where the sheet in force on a request's "
                "day records none, the current sheet's (`infercost api-price MODEL`)"
            )
        return Alternative(spec, usd, usd, notes, miss)
    if kind == "prices":
        try:
            on = date.fromisoformat(body)
        except ValueError:
            raise InputError(f"--as {spec!r}: write prices:YYYY-MM-DD.") from None
        if on < FIRST_API_PRICE_DATE or on > date.today():
            raise InputError(
                f"--as {spec!r}: no LLM API price sheet is in force on {on}: give a date "
                f"between {FIRST_API_PRICE_DATE} (the first public LLM API, OpenAI's) and today."
            )
        usd, miss = price(t, prices.at_date(on))
        return Alternative(
            spec,
            usd,
            usd,
            [
                f"API rows at the sheets in force on {on} instead of each request's date",
            ],
            miss,
        )
    if kind == "caching":
        lo, hi = _fraction_range(body, spec)
        totals = []
        gaps: list[dict[str, Any]] = []
        for share in (hi, lo):  # more caching costs less: the high share gives the low end
            uncached = t.input_tokens - t.cached_input_tokens - t.cache_write_tokens
            extra = (uncached.cast("float64") * share).floor().cast("int64")
            moved = t.mutate(
                cached_input_tokens=api.ifelse(
                    t.cached_input_tokens + extra, t.cached_input_tokens
                )
            )
            usd, gaps = price(moved)
            totals.append(usd)
        share_text = f"{lo:.0%}" if lo == hi else f"{lo:.0%} to {hi:.0%}"
        return Alternative(
            spec,
            totals[0],
            totals[1],
            [
                f"{share_text} of each API row's uncached prompt tokens read from the prompt "
                "cache at the cached rate (self-hosted rows as billed)",
                "no cache-write charges added; prompts under a provider's minimum cacheable "
                "length would not be cached, so the low end is optimistic",
            ],
            gaps,
        )
    return _selfhost(spec, body, t, start, end)


def _selfhost(spec: str, body: str, t: ir.Table, start: datetime, end: datetime) -> Alternative:
    from infercost.plan.fleet import Replica, replica_from_search, replicas_needed, size_fleet
    from infercost.plan.traffic import traffic

    model, gpu, o = _selfhost_options(spec, body)
    hours = int((end - start).total_seconds() // 3600)
    if hours < 1:
        raise InputError(f"--as {spec!r}: the period is shorter than an hour.")
    hourly = (
        t.group_by(hour=t.ts.truncate("h"))
        .aggregate(out=t.output_tokens.sum(), inp=t.input_tokens.sum(), req=t.requests.sum())
        .execute()
    )
    out_by_hour = np.zeros(hours)
    offsets = [int((_naive(h) - start).total_seconds() // 3600) for h in hourly["hour"]]
    for i, v in zip(offsets, hourly["out"], strict=True):
        if 0 <= i < hours:
            out_by_hour[i] += float(v)
    requests_n = max(int(hourly["req"].sum()), 1)
    isl = max(round(float(hourly["inp"].sum()) / requests_n), 1)
    osl = max(round(float(hourly["out"].sum()) / requests_n), 1)
    total_out = float(out_by_hour.sum())
    if total_out <= 0:
        raise InputError(f"--as {spec!r}: the period has no output tokens to serve.")
    headroom = float(o.get("headroom", 0.3))
    spares = int(o.get("spares", 1))
    min_replicas = int(o.get("min_replicas", 1))
    ops = Decimal(str(o.get("ops_usd_per_month", 0)))
    if spares < 0 or min_replicas < 0 or ops < 0:
        raise InputError(f"--as {spec!r}: spares, min_replicas and ops_usd_per_month >= 0.")
    if "tok_s" in o:
        rate = o.get("gpu_hour_usd")
        if rate is None:
            raise InputError(f"--as {spec!r}: with tok_s give gpu_hour_usd too.")
        replica = Replica(
            o["tok_s"],
            int(o.get("gpus", 1)),
            float(rate),
            description=f"{model} on {gpu}: {o['tok_s']:,.0f} output tok/s (given)",
        )
    else:

        def searched(gpus: int | None) -> Replica:
            found, _ = replica_from_search(
                model, gpu, isl, osl, max_ttft_s=o.get("max_ttft_s"),
                max_tpot_s=o.get("max_tpot_s"), weight_dtype=o.get("weight_dtype"),
                num_gpus=gpus, engine=str(o.get("engine", "vllm")),
                gpu_hour_usd=o.get("gpu_hour_usd"),
            )  # fmt: skip
            return found

        replica = searched(int(o["gpus"]) if "gpus" in o else None)
        if "gpus" not in o:
            # the search ranks replicas by $/M at a full batch; a period's fleet costs
            # replicas x GPUs x $/h, so where a smaller replica serves the busiest hour with
            # fewer GPUs in all, it is the cheaper fleet (light traffic: QA, a 6-GPU replica
            # for 7 tok/s)
            peak = float(out_by_hour.max()) / 3600.0
            floor = max(min_replicas, 1)

            def fleet_usd_per_hour(r: Replica) -> float:
                need = max(int(replicas_needed(peak, r.output_tok_s, headroom)), floor)
                return need * r.gpus * r.usd_per_gpu_hour

            for size in (1, 2, 4, 8):
                if size >= replica.gpus:
                    break
                try:
                    smaller = searched(size)
                except InfercostError:
                    continue  # does not hold the model or meet the targets at this size
                if fleet_usd_per_hour(smaller) < fleet_usd_per_hour(replica):
                    replica = smaller
    # the mean day's hourly profile (hour of day of each period hour)
    hod = np.array([(start.hour + i) % 24 for i in range(hours)])
    per_hod = np.array(
        [out_by_hour[hod == h].mean() if (hod == h).any() else 0.0 for h in range(24)]
    )
    days = hours / 24
    profile = per_hod if per_hod.sum() > 0 else np.ones(24)
    tr = traffic(isl=isl, osl=osl, output_tokens_per_day=total_out / days, profile=list(profile))
    plan = size_fleet(tr, replica, headroom=headroom, min_replicas=min_replicas)
    gpu_hour = Decimal(str(replica.usd_per_gpu_hour))
    gpus = Decimal(replica.gpus)
    period_h = Decimal(hours)
    people = ops * period_h / Decimal(str(HOURS_PER_MONTH))
    spare_usd = Decimal(spares) * gpus * period_h * gpu_hour
    auto_h = Decimal(str(plan.autoscaled_replica_hours_per_day)) * Decimal(hours) / 24
    low = auto_h * gpus * gpu_hour + spare_usd + people
    peak_tok_s = float(out_by_hour.max()) / 3600.0
    static = max(int(replicas_needed(peak_tok_s, replica.output_tok_s, headroom)), min_replicas, 1)
    high = Decimal(static) * gpus * period_h * gpu_hour + spare_usd + people
    served_s = total_out / replica.output_tok_s
    assumptions = [
        f"replica: {replica.description}",
        f"mean prompt {isl:,} and output {osl:,} tokens per request (the period's)",
        f"low: autoscaled fleet on the mean day's hourly curve, {headroom:.0%} headroom, at "
        f"least {min_replicas} replica(s), 10-minute start lag",
        f"high: {static} replica(s) all period for the busiest hour "
        f"({peak_tok_s:,.0f} output tok/s) with {headroom:.0%} headroom",
        f"redundancy: {spares} spare replica(s) all period; people: "
        f"${ops:,.0f}/month" + ("" if ops else " (none given: ops_usd_per_month=)"),
        "the model's quality is taken as good enough for the traffic",
    ]
    detail = {
        "replica_output_tok_s": round(replica.output_tok_s, 3),
        "gpus_per_replica": replica.gpus,
        "usd_per_gpu_hour": float(replica.usd_per_gpu_hour),
        "isl": isl,
        "osl": osl,
        "peak_output_tok_s": round(peak_tok_s, 3),
        "static_replicas": static,
        "spare_replicas": spares,
        "autoscaled_replica_hours": float(auto_h),
        "utilization_low": round(served_s / 3600 / float(auto_h + spares * period_h), 4)
        if auto_h + spares * period_h
        else None,
        "utilization_high": round(served_s / 3600 / float((static + spares) * period_h), 4),
        "people_usd": str(people.quantize(_US)),
    }
    if math.isfinite(served_s) and served_s / 3600 > float(auto_h) + 1e-9:
        assumptions.append("the replicas cannot serve the volume: check tok_s")
    return Alternative(spec, min(low, high), max(low, high), assumptions, [], detail)


def _naive(value: Any) -> datetime:
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    raise InputError(f"unexpected timestamp {value!r} from the ledger engine.")
