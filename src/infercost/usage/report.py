"""Price the ledger and attribute the cost: ``infercost usage report``.

One ibis query groups the period's rows by the requested dimensions and by what decides a
price (provider, model, day, service tier, context tier, long-context bucket, explicit
price); each group is then priced exactly in Decimal:

- API rows: the sheet in force on the row's day (:class:`~infercost.usage.prices.PriceBook`),
  costed by :func:`~infercost.usage.prices.group_cost` (cost is linear within a tier, so a
  group's token sums price exactly). The long-context bucket is the largest threshold of
  any sheet that the request's prompt exceeds (an aggregated row uses its reported context
  tier, else its mean prompt).
- Rows with an explicit ``price_usd``: that price.
- Self-hosted rows: the fleet's cost over the period (GPUs x hours x $/GPU-hour) shared by
  GPU-seconds. A request's GPU-seconds are its uncached prompt tokens x prefill GPU-s per
  token + its output tokens x decode GPU-s per token, from the physics
  (:func:`infercost.predict` for that model and deployment at the period's mean prompt and
  output lengths). The paid time nobody used is its own line, ``(idle: NAME)``, or, with
  ``allocate_idle="proportional"``, shared over the fleet's users by their GPU-seconds
  (FOCUS-style allocation of a shared cost). Never latency x rate.

A group that cannot be priced (a price the sheet lacks, an unregistered deployment, a
model that does not fit its GPUs) is listed under ``unpriced`` with the reason, not $0.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from infercost.errors import InfercostError, InputError
from infercost.usage.ledger import PROMPT_FLOOR, Deployment
from infercost.usage.prices import PriceBook, group_cost, tier_above_tokens
from infercost.usage.schema import DIMENSIONS, SELF_HOSTED, TOKEN_COLUMNS

TIME_DIMENSIONS = ("day", "hour")
SUMS = ("requests", *TOKEN_COLUMNS)
_US = Decimal("0.000001")


def check_dimensions(by: Sequence[str], flag: str = "--by") -> list[str]:
    """The dimensions of ``--by`` (``flag`` names the option in messages), validated.

    Raises:
        InputError: an empty or repeated dimension; an unknown one (lists the valid ones).
    """
    out: list[str] = []
    valid = ", ".join(DIMENSIONS + TIME_DIMENSIONS)
    for raw in by:
        dim = raw.strip()
        if not dim:
            raise InputError(
                f"{flag} {','.join(by)!r} has an empty dimension; give DIM[,DIM] from {valid}"
                " or tag:NAME (e.g. team,model)."
            )
        if dim in out:
            raise InputError(f"{flag} {','.join(by)!r} names {dim!r} twice; give each once.")
        if (
            dim in DIMENSIONS
            or dim in TIME_DIMENSIONS
            or (dim.startswith("tag:") and len(dim) > 4)
        ):
            out.append(dim)
        else:
            raise InputError(f"{flag} {dim!r} is not a dimension; use {valid} or tag:NAME.")
    return out


def _dim_expr(t: ir.Table, dim: str) -> ir.Value:
    if dim == "day":
        day = t.day if "day" in t.columns and "ts" not in t.columns else t.ts.truncate("D")
        return day.cast("string")
    if dim == "hour":
        return t.ts.truncate("h").cast("string")
    if dim.startswith("tag:"):
        name = dim[4:].replace('"', "")
        return t.tags.re_extract(f'"{name}"\\s*:\\s*"([^"]*)"', 1).nullif("")
    return t[dim]


@dataclass
class Line:
    """One row of a report: a key and its sums (tokens as ints, money as Decimal)."""

    key: dict[str, str | None]
    usd: Decimal = Decimal(0)
    list_usd: Decimal = Decimal(0)
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    parts: dict[str, list[Decimal]] = field(default_factory=dict)
    """(billed, list) US$ by charge kind: ``input`` (uncached prompt), ``cached_input``,
    ``cache_write``, ``output`` (API and self-hosted rows), ``request`` (explicit prices),
    ``idle`` (a fleet's unused time); used by the FOCUS export."""
    idle_gpu_hours: Decimal = Decimal(0)

    def add_part(self, kind: str, billed: Decimal, listed: Decimal) -> None:
        """Add a charge of one kind (and to the line's totals)."""
        acc = self.parts.setdefault(kind, [Decimal(0), Decimal(0)])
        acc[0] += billed
        acc[1] += listed
        self.usd += billed
        self.list_usd += listed

    def add_tokens(self, g: dict[str, Any]) -> None:
        """Add a priced group's token sums."""
        for name in SUMS:
            setattr(self, name, getattr(self, name) + int(g[name] or 0))

    def to_dict(self) -> dict[str, Any]:
        """The ``rows[]`` object of ``usage report --json`` (money as decimal strings)."""
        return {
            "key": self.key,
            "usd": str(self.usd.quantize(_US)),
            **{name: getattr(self, name) for name in SUMS},
        }


@dataclass
class Report:
    """A priced, attributed period (see the module docstring)."""

    start: datetime
    end: datetime
    by: list[str]
    rows: list[Line]
    unpriced: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total_usd(self) -> Decimal:
        """Every row, idle lines included."""
        return sum((r.usd for r in self.rows), Decimal(0))

    def to_dict(self) -> dict[str, Any]:
        """The ``usage report --json`` object (pinned by a test)."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "total_usd": str(self.total_usd.quantize(_US)),
            "by": self.by,
            "rows": [r.to_dict() for r in self.rows],
            "unpriced": self.unpriced,
        }


def period(t: ir.Table, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """``[start, end)``; open ends default to the first and last day of the data.

    Raises:
        InputError: an empty ledger without both ends; an open end whose default leaves the
            period empty (a ``--from`` after the data, a ``--to`` before it); ``end <= start``.
    """
    given_start, given_end = start, end
    if start is None or end is None:
        lo, hi = t.aggregate(lo=t.ts.min(), hi=t.ts.max()).execute().iloc[0]
        if lo is None or hi != hi:
            if start is None or end is None:
                raise InputError(
                    "the ledger has no rows; ingest a file first or pass --from and --to."
                )
        else:
            lo_dt, hi_dt = _pydt(lo), _pydt(hi)
            start = start or datetime(lo_dt.year, lo_dt.month, lo_dt.day)
            end = end or datetime(hi_dt.year, hi_dt.month, hi_dt.day) + timedelta(days=1)
            if given_end is None and given_start is not None and end <= start:
                raise InputError(
                    f"the period is empty: --from {given_start:%Y-%m-%d %H:%M} is after the "
                    f"ledger's last row ({hi_dt:%Y-%m-%d %H:%M}); give an earlier --from."
                )
            if given_start is None and given_end is not None and end <= start:
                raise InputError(
                    f"the period is empty: --to {given_end:%Y-%m-%d %H:%M} is before the "
                    f"ledger's first row ({lo_dt:%Y-%m-%d %H:%M}); give a later --to."
                )
    assert start is not None and end is not None
    if end <= start:
        raise InputError(f"--to ({end}) must be after --from ({start}).")
    return start, end


def _pydt(value: Any) -> datetime:
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    raise InputError(f"unexpected timestamp {value!r} from the ledger engine.")


@dataclass(frozen=True, slots=True)
class GpuSeconds:
    """GPU-seconds per token of a self-hosted deployment, from the physics."""

    per_input_token_s: float
    per_output_token_s: float
    source: str


def deployment_gpu_seconds(d: Deployment, isl: int, osl: int) -> GpuSeconds:
    """GPU-seconds per uncached prompt token and per output token of ``d`` at mean lengths
    ``isl``/``osl``: $/M from :func:`infercost.predict` ÷ 1e6 ÷ ($/GPU-hour ÷ 3600) (the
    prefill/decode split of the replica's time, all its GPUs counted).

    Raises:
        InputError: the model does not fit, or the prediction has no price.
        UnknownNameError: an unknown model or GPU.
    """
    from infercost.predict import predict

    kwargs: dict[str, Any] = (
        {"concurrency": d.concurrency} if d.concurrency else {"max_throughput": True}
    )
    p = predict(
        d.model,
        d.gpu,
        max(isl, 1),
        max(osl, 1),
        num_gpus=d.gpus_per_replica,
        tp=d.gpus_per_replica,
        weight_dtype=d.weight_dtype,
        engine=d.engine,
        gpu_hour_usd=float(d.gpu_hour_usd) or 1.0,
        **kwargs,
    )
    if not p.fits or p.usd_per_m_input is None or p.usd_per_m_output is None:
        raise InputError(f"deployment {d.name}: {p.reason or 'no throughput prediction'}")
    usd_per_gpu_s = (p.usd_per_gpu_hour or float(d.gpu_hour_usd) or 1.0) / 3600.0
    return GpuSeconds(
        p.usd_per_m_input / 1e6 / usd_per_gpu_s,
        p.usd_per_m_output / 1e6 / usd_per_gpu_s,
        f"infercost.predict({d.model}, {d.gpu} x{d.gpus_per_replica}, isl {isl}, osl {osl}, "
        f"concurrency {p.concurrency})",
    )


def priced_groups(
    requests: ir.Table,
    by: Sequence[str],
    prices: PriceBook,
    deployments: Sequence[Deployment],
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    allocate_idle: str = "line",
    daily: ir.Table | None = None,
) -> Report:
    """Price and attribute ``requests`` over ``[start, end)`` grouped by ``by``.

    Args:
        daily: the ledger's ``requests_daily`` rollup (:meth:`.Ledger.daily`), read instead
            of ``requests`` when the period is whole days, no dimension is ``hour`` and every
            long-context threshold of the period's price sheets is at least
            :data:`~infercost.usage.ledger.PROMPT_FLOOR` (the same groups, summed ahead).

    Raises:
        InputError: a bad dimension or period; ``allocate_idle`` not ``line`` or
            ``proportional``.
    """
    dims = check_dimensions(by)
    if allocate_idle not in ("line", "proportional"):
        raise InputError("--allocate-idle must be line or proportional.")
    start, end = period(requests, start, end)
    whole_days = start == _midnight(start) and end == _midnight(end)
    rolled = daily is not None and whole_days and "hour" not in dims
    if daily is not None and rolled:
        t = daily.filter((daily.day >= start) & (daily.day < end))
        day = t.day
    else:
        t = requests.filter((requests.ts >= start) & (requests.ts < end))
        day = t.ts.truncate("D")
    pairs = t.select("provider", "model", day=day).distinct().execute()
    days = sorted({_pydt(v).date() for v in pairs["day"]})
    api_pairs = sorted(
        {
            (p, m)
            for p, m in zip(pairs["provider"], pairs["model"], strict=True)
            if p != SELF_HOSTED
        }
    )
    thresholds = prices.tier_thresholds(api_pairs, days)
    if rolled and thresholds and thresholds[0] < PROMPT_FLOOR:  # the rollup cannot tell
        rolled = False
        t = requests.filter((requests.ts >= start) & (requests.ts < end))
        day = t.ts.truncate("D")
    if rolled:
        prompt = t.prompt
        sums = {name: t[name].sum() for name in SUMS}
        sums.update(price_usd=t.price_usd.sum(), rows=t["rows"].sum())
    else:
        prompt = t.input_tokens / ibis.greatest(t.requests, 1)
        sums = {name: t[name].sum() for name in SUMS}
        sums.update(price_usd=t.price_usd.fill_null(0).sum(), rows=t.count())
    bucket: ir.Value = ibis.literal(0)
    for threshold in thresholds:  # ascending: the last true one wins (a NULL prompt: none)
        bucket = (prompt > threshold).ifelse(threshold, bucket)
    keys = {f"k_{i}": _dim_expr(t, d) for i, d in enumerate(dims)}
    explicit = t.explicit if rolled else t.price_usd.notnull()
    grouped = t.group_by(
        provider=t.provider,
        model=t.model,
        deployment=t.deployment,
        day=day,
        service_tier=t.service_tier,
        context_tier=t.context_tier,
        bucket=bucket,
        explicit=explicit,
        **keys,
    ).aggregate(**sums)
    groups = grouped.execute().to_dict("records")
    # in one order whatever the engine returns (Decimal and float sums depend on the order)
    order = ["provider", "model", "deployment", "day", "service_tier", "context_tier", "bucket",
             "explicit", *keys]  # fmt: skip
    groups.sort(key=lambda g: tuple(str(_clean(g[c])) for c in order))
    lines: dict[tuple[Any, ...], Line] = {}
    unpriced: dict[str, dict[str, Any]] = {}
    notes: list[str] = []

    def line_for(g: dict[str, Any]) -> Line:
        key = tuple(_clean(g[f"k_{i}"]) for i in range(len(dims)))
        if key not in lines:
            lines[key] = Line(dict(zip(dims, key, strict=True)))
        return lines[key]

    def miss(g: dict[str, Any], reason: str) -> None:
        entry = unpriced.setdefault(
            reason,
            {"reason": reason, "rows": 0, "requests": 0, "input_tokens": 0, "output_tokens": 0},
        )
        entry["rows"] += int(g["rows"])
        for name in ("requests", "input_tokens", "output_tokens"):
            entry[name] += int(g[name] or 0)

    hosted: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for g in groups:
        if g["explicit"]:
            line = line_for(g)
            amount = Decimal(str(g["price_usd"]))
            line.add_part("request", amount, amount)
            line.add_tokens(g)
            continue
        if g["provider"] == SELF_HOSTED:
            hosted[g["deployment"] or g["model"]].append(g)
            continue
        day = _pydt(g["day"]).date()
        sheet = prices.sheet_at(g["provider"], g["model"], day)
        if sheet is None:
            miss(g, f"no price sheet for {g['provider']} {g['model']} on {day}")
            continue
        tier_text = _clean(g["context_tier"])
        if tier_text is not None:  # a reported tier (aggregated exports) decides
            reported = tier_above_tokens(tier_text)
            tier_prompt = reported + 1 if reported else 0
        else:
            tier_prompt = int(g["bucket"]) + 1 if g["bucket"] else 0
        try:
            cost = group_cost(
                sheet,
                tier_prompt_tokens=tier_prompt,
                uncached_input_tokens=int(
                    g["input_tokens"] - g["cached_input_tokens"] - g["cache_write_tokens"]
                ),
                cached_input_tokens=int(g["cached_input_tokens"]),
                cache_write_tokens=int(g["cache_write_tokens"]),
                output_tokens=int(g["output_tokens"]),
                service_tier=str(g["service_tier"]),
            )
        except InputError as err:
            miss(g, str(err))
            continue
        line = line_for(g)
        for kind, (billed, listed) in cost.parts().items():
            line.add_part(kind, billed, listed)
        line.add_tokens(g)
    known = {d.name: d for d in deployments}
    hours = Decimal((end - start).total_seconds()) / Decimal(3600)
    for name, items in sorted(hosted.items()):
        d = known.get(name) or next((x for x in deployments if x.model == name), None)
        if d is None:
            for g in items:
                miss(g, f"self-hosted deployment {name!r} is not registered; register it with "
                     "`infercost usage ingest --fleet FILE`")  # fmt: skip
            continue
        req = sum(int(g["requests"] or 0) for g in items) or 1
        isl = round(sum(int(g["input_tokens"] or 0) for g in items) / req)
        osl = round(sum(int(g["output_tokens"] or 0) for g in items) / req)
        try:
            per = deployment_gpu_seconds(d, isl, osl)
        except InfercostError as err:
            for g in items:
                miss(g, str(err))
            continue
        fleet_usd = Decimal(d.gpus) * hours * d.gpu_hour_usd
        capacity_s = d.gpus * float(hours) * 3600.0
        used = [
            (g, (int(g["input_tokens"]) - int(g["cached_input_tokens"])) * per.per_input_token_s,
             int(g["output_tokens"]) * per.per_output_token_s)
            for g in items
        ]  # fmt: skip
        busy_s = sum(s_in + s_out for _, s_in, s_out in used)
        if busy_s > capacity_s:
            notes.append(
                f"{d.name}: the physics puts {busy_s:,.0f} GPU-s of work on {capacity_s:,.0f} "
                "GPU-s paid; the fleet's cost is shared by work and there is no idle line"
            )
        share_base = max(capacity_s, busy_s) if allocate_idle == "line" else busy_s
        notes.append(f"{d.name}: GPU-seconds per token from {per.source}; "
                     f"utilisation {min(busy_s / capacity_s, 1.0):.1%}")  # fmt: skip
        allocated = Decimal(0)
        last: Line | None = None
        for g, s_in, s_out in used:
            line = line_for(g)
            s = s_in + s_out
            # shares in whole picodollars: fixed-point sums are exact (28 digits hold them),
            # so the groups and the idle line add up to the fleet's cost to the last digit
            amount = (
                (fleet_usd * Decimal(s) / Decimal(share_base)).quantize(_PICO)
                if share_base > 0
                else Decimal(0)
            )
            prefill = (
                (amount * Decimal(s_in) / Decimal(s)).quantize(_PICO) if s > 0 else Decimal(0)
            )
            line.add_part("input", prefill, prefill)
            line.add_part("output", amount - prefill, amount - prefill)
            allocated += amount
            line.add_tokens(g)
            last = line
        if last is not None and share_base == busy_s > 0:
            # the whole fleet is shared by work (proportional, or work beyond capacity): the
            # shares' rounding (float GPU-seconds, 28-digit division) left over goes to the
            # last group, so the groups add up to the fleet's cost exactly
            rest = fleet_usd - allocated
            last.add_part("output", rest, rest)
            allocated += rest
        idle = fleet_usd - allocated
        if share_base == 0:
            idle = fleet_usd
        if (idle > 0 and allocate_idle == "line") or share_base == 0:
            key: dict[str, str | None] = dict.fromkeys(dims)
            if dims:
                key[dims[0]] = f"(idle: {d.name})"
            idle_line = Line(key)
            idle_line.add_part("idle", idle, idle)
            idle_line.idle_gpu_hours = Decimal(max(capacity_s - busy_s, 0.0)) / 3600
            lines[("(idle)", d.name)] = idle_line
    rows = sorted(lines.values(), key=lambda r: (-r.usd, json.dumps(r.key, sort_keys=True)))
    return Report(
        start, end, dims, rows, sorted(unpriced.values(), key=lambda u: u["reason"]), notes
    )


#: The quantum of a fleet's cost share: $1e-12 (a share of a $1e9 fleet still fits the 28
#: digits of Decimal's default context, so adding shares never rounds).
_PICO = Decimal("1e-12")


def _midnight(value: datetime) -> datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = str(value)
    return None if text in ("nan", "NaT", "None") else text
