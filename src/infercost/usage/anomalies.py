"""Hours out of their usual range, and what drives them: ``infercost usage anomalies``.

Four hourly metrics of the priced ledger:

- ``spend_usd``: priced spend in the hour (API rows at their sheet, self-hosted rows at their
  GPU-second share; the fleet's idle time is not traffic and is left out);
- ``tokens_per_request``: (input + output tokens) ÷ requests;
- ``cache_hit_rate``: cached input tokens ÷ input tokens;
- ``output_share``: output tokens ÷ (input + output tokens).

Each is a ratio ``num ÷ den`` of hourly sums (spend: den = 1). The usual range of hour
``t`` is a **seasonal baseline**, not k x a trailing mean: the values of the same weekday
and hour (and the hours either side, for a steadier estimate) in the ``weeks`` weeks before
and after ``t`` that the ledger holds (``trailing=True``: before only, as a live alert
would see them). With ``med`` their median and ``MAD`` their median absolute deviation,

    scale = max(sqrt((1.4826 x MAD)² + se²), floor)        z = (value - med) ÷ scale

``se`` is the hour's own sampling error, so that an hour whose value rests on a few large
requests is not called unusual on their account: for the ratio metrics the ratio
estimator's ``sqrt(Σ (num_i - R den_i)²) ÷ Σ den_i`` over the hour's rows; for spend
``sqrt(Σ c_i²)`` with each row's cost taken as the hour's $/token x its tokens. The floor
(10 % of ``med`` and 10 % of the period's median hourly spend for spend, 5 % of ``med`` for
tokens per request, 2 points for the cache-hit rate, 1 point for the output share) keeps a
flat history from flagging noise.
An hour is anomalous when ``|z| >= threshold``; ratio metrics need ``min_requests``
requests in the hour. Consecutive anomalous hours of one metric and direction make one
anomaly.

**Driver.** For each dimension (team, app, model, API key; users are too many to price hour
by hour and are left out) and each of its values
``v``, the counterfactual metric replaces ``v``'s sums over the anomaly's hours by its own
seasonal baseline (the median of its sums in the reference hours), keeping everyone else
as observed::

    explained(v) = (M_observed - M_counterfactual(v)) ÷ (M_observed - M_expected)

The driver is the value that explains most of the deviation (1 = all of it); a dimension
listed earlier wins a near tie (within 2 points). The anomaly says how ``v``'s own metric
moved ("team search: cache hits 58 % → 7 %").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]  # (ibis depends on pandas)

from infercost.errors import InputError
from infercost.usage.ledger import Deployment
from infercost.usage.prices import PriceBook
from infercost.usage.report import period, priced_groups

FloatArray = npt.NDArray[np.float64]

METRICS = ("spend_usd", "tokens_per_request", "cache_hit_rate", "output_share")
DRIVER_DIMENSIONS = ("team", "app", "model", "api_key")
HOURS_PER_WEEK = 168
MAD_TO_SIGMA = 1.4826
#: The largest --threshold (as the REST schema): a robust z-score past 100 flags no real hour.
MAX_THRESHOLD = 100.0
#: The largest --min-requests (as the REST schema): 10^6 requests in one hour of one group.
MAX_MIN_REQUESTS = 1_000_000
"""1 ÷ Φ⁻¹(3/4): the MAD of a normal sample times this estimates its standard deviation."""

_LABEL = {
    "spend_usd": "spend per hour",
    "tokens_per_request": "tokens per request",
    "cache_hit_rate": "cache hits",
    "output_share": "output share",
}
# (relative floor of the scale, absolute floor of the scale)
_FLOOR = {
    "spend_usd": (0.10, 0.0),
    "tokens_per_request": (0.05, 0.0),
    "cache_hit_rate": (0.0, 0.02),
    "output_share": (0.0, 0.01),
}
_NEAR_TIE = 0.02


def _in_domain(metric: str, values: FloatArray) -> FloatArray:
    """A usual-range bound clipped to what the metric can be: no negative spend or tokens,
    shares within [0, 1]."""
    top = 1.0 if metric in ("cache_hit_rate", "output_share") else np.inf
    return np.clip(values, 0.0, top)


def fmt_metric(metric: str, value: float) -> str:
    """A metric's value as the anomaly text shows it (``62 %``, ``$1.20``, ``2,310``)."""
    if value != value:
        return "n/a"
    if metric in ("cache_hit_rate", "output_share"):
        return f"{value * 100:.0f} %"
    if metric == "spend_usd":
        return f"${value:,.2f}"
    return f"{value:,.0f}"


@dataclass(frozen=True, slots=True)
class Driver:
    """The value of one dimension that explains most of an anomaly.

    Attributes:
        dimension, value: which team, model, key, ...
        observed, expected: its own metric over the anomaly's hours and at its baseline
            (spend: per hour).
        explained: share of the deviation its return to baseline would undo (1 = all).
    """

    dimension: str
    value: str
    observed: float
    expected: float
    explained: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "dimension": self.dimension,
            "value": self.value,
            "observed": _num(self.observed),
            "expected": _num(self.expected),
            "explained": round(self.explained, 4),
        }


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Consecutive hours of one metric out of their usual range in one direction.

    Attributes:
        metric: one of :data:`METRICS`.
        start, end: the hours ``[start, end)``.
        observed, expected: the metric over those hours and its seasonal baseline (spend:
            mean per hour).
        low, high: the usual range (baseline ± threshold x scale, mean over the hours).
        score: the largest |z| of its hours.
        drivers: the top value of each dimension, best first.
    """

    metric: str
    start: datetime
    end: datetime
    observed: float
    expected: float
    low: float
    high: float
    score: float
    drivers: list[Driver]

    @property
    def direction(self) -> str:
        """``up`` or ``down``."""
        return "up" if self.observed > self.expected else "down"

    @property
    def message(self) -> str:
        """One line: what moved, when, and what drives it."""
        verb = "rose" if self.direction == "up" else "fell"
        text = (
            f"{_LABEL[self.metric]} {verb} from {fmt_metric(self.metric, self.expected)} to "
            f"{fmt_metric(self.metric, self.observed)} ({self.start:%a %Y-%m-%d %H:%M}–"
            f"{self.end:%H:%M} UTC)"
        )
        if self.drivers:
            d = self.drivers[0]
            own = (
                f"sent no requests, usually {fmt_metric(self.metric, d.expected)}"
                if d.observed != d.observed and self.metric != "spend_usd"
                else f"{_LABEL[self.metric]} {fmt_metric(self.metric, d.expected)} → "
                f"{fmt_metric(self.metric, d.observed)}"
            )
            share = (
                f"explains {d.explained:.0%}: more than the whole change, others moved the "
                "other way"
                if d.explained > 1
                else f"explains {d.explained:.0%}"
            )
            text += f"; driver: {d.dimension} {d.value} ({own}, {share})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "metric": self.metric,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "direction": self.direction,
            "observed": _num(self.observed),
            "expected": _num(self.expected),
            "usual_low": _num(self.low),
            "usual_high": _num(self.high),
            "score": round(self.score, 2),
            "drivers": [d.to_dict() for d in self.drivers],
            "message": self.message,
        }


@dataclass
class HourlySeries:
    """One metric hour by hour over the checked period, for charts.

    Attributes:
        metric: one of :data:`METRICS`.
        hours: the hour starts.
        value, expected, low, high: observed, baseline median and usual range (NaN where
            the hour has no value or too few references).
    """

    metric: str
    hours: list[datetime]
    value: FloatArray
    expected: FloatArray
    low: FloatArray
    high: FloatArray


@dataclass
class AnomalyReport:
    """``usage anomalies``: the anomalies of a period, largest score first."""

    start: datetime
    end: datetime
    weeks: int
    trailing: bool
    threshold: float
    anomalies: list[Anomaly]
    series: list[HourlySeries] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``usage anomalies --json`` object."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "baseline": {
                "kind": "median and MAD of the same weekday and hour (±1 h) in other weeks",
                "weeks": self.weeks,
                "trailing": self.trailing,
                "threshold": self.threshold,
            },
            "anomalies": [a.to_dict() for a in self.anomalies],
            "notes": self.notes,
        }


def _num(x: float) -> float | None:
    return None if x != x else round(float(x), 6)


# --------------------------------------------------------------------------------------------
# the seasonal baseline


def _offsets(weeks: int, trailing: bool) -> npt.NDArray[np.int64]:
    ks = [k for k in range(-weeks, weeks + 1) if k != 0 and (k < 0 or not trailing)]
    return np.array([k * HOURS_PER_WEEK + j for k in ks for j in (-1, 0, 1)], dtype=np.int64)


def _references(x: FloatArray, offsets: npt.NDArray[np.int64]) -> FloatArray:
    """Matrix (hours, offsets) of ``x`` at each hour + offset; NaN outside the series."""
    idx = np.arange(x.size)[:, None] + offsets[None, :]
    ok = (idx >= 0) & (idx < x.size)
    out = np.full(idx.shape, np.nan)
    out[ok] = x[idx[ok]]
    return out


def _median_rows(m: FloatArray, min_refs: int) -> FloatArray:
    n = np.sum(~np.isnan(m), axis=1)
    out = np.full(m.shape[0], np.nan)
    rows = n >= min_refs
    if rows.any():
        out[rows] = np.nanmedian(m[rows], axis=1)
    return out


def baseline(
    value: FloatArray, offsets: npt.NDArray[np.int64], min_refs: int = 4
) -> tuple[FloatArray, FloatArray]:
    """Median and MAD of each hour's reference values (NaN with fewer than ``min_refs``)."""
    refs = _references(value, offsets)
    med = _median_rows(refs, min_refs)
    mad = _median_rows(np.abs(refs - med[:, None]), min_refs)
    return med, mad


# --------------------------------------------------------------------------------------------
# the hourly panel


_COLS = ("usd", "requests", "input_tokens", "cached_input_tokens", "output_tokens")


def _num_den(metric: str, s: dict[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
    if metric == "spend_usd":
        return s["usd"], np.ones_like(s["usd"])
    if metric == "tokens_per_request":
        return s["input_tokens"] + s["output_tokens"], s["requests"]
    if metric == "cache_hit_rate":
        return s["cached_input_tokens"], s["input_tokens"]
    return s["output_tokens"], s["input_tokens"] + s["output_tokens"]


def _ratio(num: FloatArray | float, den: FloatArray | float) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(den) > 0, np.asarray(num) / np.asarray(den), np.nan)


def _panel(
    requests: ir.Table,
    prices: PriceBook,
    deployments: Sequence[Deployment],
    lo: datetime,
    hi: datetime,
) -> tuple[pd.DataFrame, list[str]]:
    rep = priced_groups(
        requests, ["hour", *DRIVER_DIMENSIONS], prices, deployments, lo, hi, allocate_idle="line"
    )
    records = []
    for line in rep.rows:
        hour = line.key["hour"]
        if hour is None or hour.startswith("(idle"):
            continue
        records.append(
            {
                "hour": pd.Timestamp(hour),
                **{
                    d: line.key[d] if line.key[d] is not None else "(none)"
                    for d in DRIVER_DIMENSIONS
                },
                "usd": float(line.usd),
                "requests": float(line.requests),
                "input_tokens": float(line.input_tokens),
                "cached_input_tokens": float(line.cached_input_tokens),
                "output_tokens": float(line.output_tokens),
            }
        )
    notes = [f"unpriced: {u['rows']:,} rows ({u['reason']}) are left out" for u in rep.unpriced]
    frame = pd.DataFrame.from_records(records, columns=["hour", *DRIVER_DIMENSIONS, *_COLS])
    return frame, notes


_MOMENT_PARTS = {
    "tokens_per_request": ("tpr", "tpr_num", "tpr_den"),
    "cache_hit_rate": ("chr", "chr_num", "chr_den"),
    "output_share": ("os", "os_num", "os_den"),
}


def _moments(
    requests: ir.Table, index: pd.DatetimeIndex, lo: datetime, hi: datetime
) -> dict[str, FloatArray]:
    """Per hour Σnum², Σnum·den and Σden² over rows of each ratio metric (float)."""
    t = requests.filter((requests.ts >= lo) & (requests.ts < hi))
    tokens = (t.input_tokens + t.output_tokens).cast("float64")
    pairs = {
        "tpr": (tokens, t.requests.cast("float64")),
        "chr": (t.cached_input_tokens.cast("float64"), t.input_tokens.cast("float64")),
        "os": (t.output_tokens.cast("float64"), tokens),
    }
    aggs = {}
    for key, (num, den) in pairs.items():
        aggs[f"{key}_nn"] = (num * num).sum()
        aggs[f"{key}_nd"] = (num * den).sum()
        aggs[f"{key}_dd"] = (den * den).sum()
    frame = t.group_by(hour=t.ts.truncate("h")).aggregate(**aggs).execute()
    frame["hour"] = pd.to_datetime(frame["hour"]).dt.tz_localize(None)
    frame = frame.set_index("hour").reindex(index).fillna(0.0)
    return {c: frame[c].to_numpy(dtype=np.float64) for c in frame.columns}


def _ratio_se(
    metric: str, r: FloatArray, moments: dict[str, FloatArray], den: FloatArray
) -> FloatArray:
    """sqrt(Σ (num_i - R den_i)²) ÷ Σ den_i, from the hour's moments."""
    key = _MOMENT_PARTS[metric][0]
    rr = np.nan_to_num(r)
    ss = moments[f"{key}_nn"] - 2 * rr * moments[f"{key}_nd"] + rr * rr * moments[f"{key}_dd"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, np.sqrt(np.maximum(ss, 0.0)) / den, np.nan)


def _spend_se(total: dict[str, FloatArray], moments: dict[str, FloatArray]) -> FloatArray:
    """sqrt(Σ c_i²) with each row's cost c_i taken as the hour's $/token x its tokens."""
    tokens = total["input_tokens"] + total["output_tokens"]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_token = np.where(tokens > 0, total["usd"] / tokens, 0.0)
    return np.asarray(per_token * np.sqrt(moments["tpr_nn"]), dtype=np.float64)


def _pivot(frame: pd.DataFrame, index: pd.DatetimeIndex, by: str | None) -> dict[str, Any]:
    """Sums per hour (by=None) or per hour and value: {column: array (hours,) or
    (hours, values)} and the values."""
    if by is None:
        g = frame.groupby("hour")[list(_COLS)].sum().reindex(index, fill_value=0.0)
        return {c: g[c].to_numpy(dtype=np.float64) for c in _COLS}
    g = frame.groupby(["hour", by])[list(_COLS)].sum()
    out: dict[str, Any] = {}
    values: list[str] = []
    for c in _COLS:
        wide = g[c].unstack(by).reindex(index).fillna(0.0)
        values = [str(v) for v in wide.columns]
        out[c] = wide.to_numpy(dtype=np.float64)
    out["_values"] = values
    return out


# --------------------------------------------------------------------------------------------
# detection


def detect(
    requests: ir.Table,
    prices: PriceBook,
    deployments: Sequence[Deployment],
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    weeks: int = 4,
    trailing: bool = False,
    threshold: float = 5.0,
    min_requests: int = 10,
    metrics: Sequence[str] = METRICS,
) -> AnomalyReport:
    """Anomalous hours of ``[start, end)`` against the seasonal baseline (module docstring).

    Raises:
        InputError: a bad period or option; an unknown metric.
    """
    for m in metrics:
        if m not in METRICS:
            raise InputError(f"metric {m!r} is unknown; use {', '.join(METRICS)}.")
    if not 1 <= weeks <= 52:
        raise InputError(f"--weeks must lie in [1, 52], got {weeks}.")
    if not 0 < threshold <= MAX_THRESHOLD:
        raise InputError(
            f"--threshold must lie in (0, {MAX_THRESHOLD:g}] robust z-scores (beyond it no hour "
            f"is ever unusual), got {threshold}."
        )
    if not 1 <= min_requests <= MAX_MIN_REQUESTS:
        raise InputError(
            f"--min-requests must be a whole number in [1, {MAX_MIN_REQUESTS:,}], "
            f"got {min_requests}."
        )
    start, end = period(requests, start, end)
    lo_data, hi_data = period(requests, None, None)
    span = timedelta(weeks=weeks, hours=1)
    lo = max(lo_data, _floor_hour(start) - span)
    hi = min(hi_data, _ceil_hour(end) + (timedelta(0) if trailing else span))
    hi = max(hi, _ceil_hour(end))
    frame, notes = _panel(requests, prices, deployments, lo, hi)
    index = pd.date_range(lo, hi, freq="h", inclusive="left")
    total = _pivot(frame, index, None)
    moments = _moments(requests, index, lo, hi)
    per_dim = {d: _pivot(frame, index, d) for d in DRIVER_DIMENSIONS} if len(frame) else {}
    offsets = _offsets(weeks, trailing)
    hours = index.to_pydatetime()
    in_period = np.array([start <= h < end for h in hours])
    found: list[Anomaly] = []
    series: list[HourlySeries] = []
    for metric in metrics:
        num, den = _num_den(metric, total)
        value = num if metric == "spend_usd" else _ratio(num, den)
        if metric != "spend_usd":
            value = np.where(total["requests"] >= min_requests, value, np.nan)
        med, mad = baseline(value, offsets)
        if metric == metrics[0] and in_period.any() and not np.isfinite(med[in_period]).any():
            notes.append(
                f"no baseline: the ledger holds none of the same weekday-hours in the {weeks} "
                "week(s) around the period, so no hour can be flagged (not a finding that all "
                "were normal); ingest more history or widen --weeks"
            )
        rel, absolute = _FLOOR[metric]
        if metric == "spend_usd":
            absolute = 0.1 * float(np.median(value[in_period])) if in_period.any() else 0.0
            se = _spend_se(total, moments)
        else:
            se = _ratio_se(metric, value, moments, den)
        spread = np.hypot(MAD_TO_SIGMA * np.nan_to_num(mad), np.nan_to_num(se))
        scale = np.maximum(spread, np.maximum(rel * np.abs(med), absolute))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(scale > 0, (value - med) / scale, np.nan)
        flagged = in_period & (np.abs(np.nan_to_num(z)) >= threshold)
        series.append(
            HourlySeries(
                metric,
                list(hours[in_period]),
                value[in_period],
                med[in_period],
                _in_domain(metric, (med - threshold * scale)[in_period]),
                _in_domain(metric, (med + threshold * scale)[in_period]),
            )
        )
        for run in _runs(flagged, np.sign(np.nan_to_num(z))):
            found.append(
                _anomaly(metric, run, hours, total, per_dim, offsets, med, threshold * scale, z)
            )
    found.sort(key=lambda a: -a.score)
    return AnomalyReport(start, end, weeks, trailing, threshold, found, series, notes)


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(t: datetime) -> datetime:
    f = _floor_hour(t)
    return f if f == t else f + timedelta(hours=1)


def _runs(flagged: npt.NDArray[np.bool_], sign: FloatArray) -> list[npt.NDArray[np.int64]]:
    out: list[npt.NDArray[np.int64]] = []
    current: list[int] = []
    for i in np.flatnonzero(flagged):
        if current and (i != current[-1] + 1 or sign[i] != sign[current[-1]]):
            out.append(np.array(current, dtype=np.int64))
            current = []
        current.append(int(i))
    if current:
        out.append(np.array(current, dtype=np.int64))
    return out


def _expected_sums(
    x: FloatArray, rows: npt.NDArray[np.int64], offsets: npt.NDArray[np.int64]
) -> Any:
    """Sum over ``rows`` of each row's reference median; ``x`` is (hours,) or (hours, k)."""
    idx = rows[:, None] + offsets[None, :]
    ok = (idx >= 0) & (idx < x.shape[0])
    safe = np.clip(idx, 0, x.shape[0] - 1)
    refs = x[safe]  # (rows, offsets[, k])
    mask = ok if x.ndim == 1 else ok[:, :, None]
    refs = np.where(mask, refs, np.nan)
    with np.errstate(all="ignore"):
        med = np.nanmedian(refs, axis=1)
    return np.nansum(med, axis=0)


def _anomaly(
    metric: str,
    rows: npt.NDArray[np.int64],
    hours: Any,
    total: dict[str, FloatArray],
    per_dim: dict[str, dict[str, Any]],
    offsets: npt.NDArray[np.int64],
    med: FloatArray,
    band: FloatArray,
    z: FloatArray,
) -> Anomaly:
    n = len(rows)
    num_all, den_all = _num_den(metric, total)
    num_obs, den_obs = float(num_all[rows].sum()), float(den_all[rows].sum())
    if metric == "spend_usd":
        observed = num_obs / n
        expected = float(np.nansum(med[rows])) / n
    else:
        observed = float(_ratio(num_obs, den_obs))
        num_exp = float(_expected_sums(num_all, rows, offsets))
        den_exp = float(_expected_sums(den_all, rows, offsets))
        expected = float(_ratio(num_exp, den_exp))
        if expected != expected:
            expected = float(np.nanmean(med[rows]))
    deviation = observed - expected
    drivers: list[Driver] = []
    for dim, piv in per_dim.items():
        num_v, den_v = _num_den(metric, piv)
        if metric == "spend_usd":
            den_v = np.ones_like(num_v)
        obs_num = num_v[rows].sum(axis=0)
        obs_den = den_v[rows].sum(axis=0)
        exp_num = _expected_sums(num_v, rows, offsets)
        exp_den = _expected_sums(den_v, rows, offsets)
        if metric == "spend_usd":
            counter = (num_obs - obs_num + exp_num) / n
            own_obs, own_exp = obs_num / n, exp_num / n
        else:
            counter = _ratio(num_obs - obs_num + exp_num, den_obs - obs_den + exp_den)
            own_obs, own_exp = _ratio(obs_num, obs_den), _ratio(exp_num, exp_den)
        explained = (observed - counter) / deviation if deviation else np.zeros_like(counter)
        explained = np.nan_to_num(explained, nan=-np.inf)
        best = int(np.argmax(explained))
        if explained[best] <= 0:
            continue
        drivers.append(
            Driver(
                dim,
                piv["_values"][best],
                float(own_obs[best]),
                float(own_exp[best]),
                float(explained[best]),
            )
        )
    top = max((d.explained for d in drivers), default=0.0)
    drivers.sort(
        key=lambda d: (
            d.explained < top - _NEAR_TIE,
            DRIVER_DIMENSIONS.index(d.dimension) if d.explained >= top - _NEAR_TIE else 0,
            -d.explained,
        )
    )
    low = float(np.nanmean(_in_domain(metric, (med - band)[rows])))
    high = float(np.nanmean(_in_domain(metric, (med + band)[rows])))
    return Anomaly(
        metric=metric,
        start=hours[rows[0]],
        end=hours[rows[-1]] + timedelta(hours=1),
        observed=observed,
        expected=expected,
        low=low,
        high=high,
        score=float(np.nanmax(np.abs(z[rows]))),
        drivers=drivers,
    )
