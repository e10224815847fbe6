"""Month-end spend with an interval, and the day a budget is crossed: ``usage forecast``.

The ledger is priced day by day (:func:`~infercost.usage.report.priced_groups` by day and
provider) over every day before ``as_of``. Spend splits in two:

- **variable**: API rows and rows with an explicit price, day by day. This series is
  forecast with statsforecast's ``AutoETS`` (exponential smoothing, the model chosen by
  AICc), weekly season (``season_length=7``) when the history holds at least 15 days,
  none otherwise (every candidate model must leave a degree of freedom for its variance:
  :data:`SEASONAL_DAYS`, :data:`ETS_DAYS`); under 8 days, the historic mean with its normal
  interval; its ``level`` % prediction interval per day;
- **fixed**: the self-hosted fleets that served rows in the history, paid whether busy or
  idle: GPUs x 24 h x $/GPU-hour per day, known exactly for the days ahead.

    month-end = actual spend of the month before as_of + Σ forecast days (mean + fixed)

The interval of the sum adds the daily bounds (the days' errors taken as fully correlated,
the conservative choice: it is wider than independent errors would give). The budget is
crossed on the first day the cumulative spend of the month reaches it: ``expected`` on the
mean path, ``earliest`` on the upper bound, ``latest`` on the lower bound (None: not this
month), or ``actual`` when the spend to date has already crossed it.

``as_of`` defaults to the day after the ledger's last row (that last day is taken as
complete); the month forecast is the one holding ``as_of`` (as of the 1st: the whole month).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir
import numpy as np

from infercost.errors import InputError
from infercost.usage.ledger import Deployment
from infercost.usage.prices import PriceBook
from infercost.usage.report import _pydt, period, priced_groups
from infercost.usage.schema import SELF_HOSTED

MIN_DAYS = 3
"""Days of history the forecast needs at the least."""
ETS_DAYS = 8
"""Days of history from which exponential smoothing is fitted (fewer: the historic mean).
Every non-seasonal ETS candidate (at most alpha, beta, phi, l0, b0 and the variance: 6
parameters) must leave a degree of freedom for the residual variance, ``n - 6 - 1 > 0``;
statsforecast refuses fewer than 7 days outright."""
SEASONAL_DAYS = 15
"""Days of history from which the weekly season is fitted: the largest seasonal candidate
has 13 parameters (alpha, beta, gamma, phi, l0, b0, 6 free seasonal states and the
variance), so ``n - 13 - 1 > 0``."""
MAX_BUDGET_USD = Decimal("1e12")
"""The largest budget ``--budget-usd`` accepts (US$ 10^12 a month): larger amounts are
refused rather than carried through as hundreds of digits."""
_CENT = Decimal("0.01")


#: Days an ``as_of`` may lie past the ledger's last record: a longer gap would be forecast as
#: days without spend (traffic that was not ingested), so it is refused.
MAX_GAP_DAYS = 7


def _usd(x: float) -> Decimal:
    return Decimal(str(round(max(float(x), 0.0), 6)))


@dataclass(frozen=True, slots=True)
class Crossing:
    """Days the month's cumulative spend reaches the budget (None: not this month)."""

    actual: date | None
    earliest: date | None
    expected: date | None
    latest: date | None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready dict (ISO dates)."""
        return {
            k: (v.isoformat() if v else None)
            for k, v in (
                ("actual", self.actual),
                ("earliest", self.earliest),
                ("expected", self.expected),
                ("latest", self.latest),
            )
        }


def first_crossing(
    days: Sequence[date], cumulative: Sequence[Decimal], budget: Decimal
) -> date | None:
    """The first day whose cumulative spend is at least ``budget`` (None if none)."""
    for day, total in zip(days, cumulative, strict=True):
        if total >= budget:
            return day
    return None


@dataclass
class Forecast:
    """A month's spend: actual to ``as_of``, forecast after (Decimal US$).

    Attributes:
        month: ``YYYY-MM``.
        as_of: the first day not known.
        level: interval level (%).
        model: the forecasting model and its input.
        days_actual, daily_actual, cumulative_actual: the month's days before ``as_of``.
        days_forecast, daily_mean, daily_low, daily_high: forecast days (fixed included).
        cumulative_mean, cumulative_low, cumulative_high: the month's running totals.
        fixed_usd_per_day: self-hosted fleets per day.
        history_days: days of history the model saw.
        budget_usd, crossing: the budget and when it is crossed (None without a budget).
    """

    month: str
    as_of: date
    level: int
    model: str
    days_actual: list[date]
    daily_actual: list[Decimal]
    days_forecast: list[date]
    daily_mean: list[Decimal]
    daily_low: list[Decimal]
    daily_high: list[Decimal]
    fixed_usd_per_day: Decimal
    history_days: int
    budget_usd: Decimal | None = None
    crossing: Crossing | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def actual_to_date_usd(self) -> Decimal:
        """The month's spend before ``as_of``."""
        return sum(self.daily_actual, Decimal(0))

    def _cum(self, daily: list[Decimal]) -> list[Decimal]:
        out, run = [], self.actual_to_date_usd
        for x in daily:
            run += x
            out.append(run)
        return out

    @property
    def cumulative_actual(self) -> list[Decimal]:
        """Running total of the actual days."""
        out, run = [], Decimal(0)
        for x in self.daily_actual:
            run += x
            out.append(run)
        return out

    @property
    def cumulative_mean(self) -> list[Decimal]:
        """Running total on the mean path."""
        return self._cum(self.daily_mean)

    @property
    def cumulative_low(self) -> list[Decimal]:
        """Running total on the lower bound."""
        return self._cum(self.daily_low)

    @property
    def cumulative_high(self) -> list[Decimal]:
        """Running total on the upper bound."""
        return self._cum(self.daily_high)

    @property
    def month_end_usd(self) -> Decimal:
        """Actual to date + forecast mean."""
        return self.actual_to_date_usd + sum(self.daily_mean, Decimal(0))

    @property
    def month_end_low_usd(self) -> Decimal:
        """Actual to date + Σ daily lower bounds."""
        return self.actual_to_date_usd + sum(self.daily_low, Decimal(0))

    @property
    def month_end_high_usd(self) -> Decimal:
        """Actual to date + Σ daily upper bounds."""
        return self.actual_to_date_usd + sum(self.daily_high, Decimal(0))

    def to_dict(self) -> dict[str, Any]:
        """The ``usage forecast --json`` object (money as decimal strings, cents)."""

        def c(x: Decimal) -> str:
            return str(x.quantize(_CENT))

        return {
            "month": self.month,
            "as_of": self.as_of.isoformat(),
            "model": self.model,
            "level": self.level,
            "history_days": self.history_days,
            "actual_to_date_usd": c(self.actual_to_date_usd),
            "fixed_usd_per_day": c(self.fixed_usd_per_day),
            "month_end_usd": c(self.month_end_usd),
            "month_end_low_usd": c(self.month_end_low_usd),
            "month_end_high_usd": c(self.month_end_high_usd),
            "budget_usd": c(self.budget_usd) if self.budget_usd is not None else None,
            "budget_crossed": self.crossing.to_dict() if self.crossing else None,
            "days": [
                {"day": d.isoformat(), "usd": c(x), "kind": "actual"}
                for d, x in zip(self.days_actual, self.daily_actual, strict=True)
            ]
            + [
                {
                    "day": d.isoformat(),
                    "usd": c(m),
                    "low_usd": c(lo),
                    "high_usd": c(hi),
                    "kind": "forecast",
                }
                for d, m, lo, hi in zip(
                    self.days_forecast,
                    self.daily_mean,
                    self.daily_low,
                    self.daily_high,
                    strict=True,
                )
            ],
            "notes": self.notes,
        }


def daily_spend(
    requests: ir.Table,
    prices: PriceBook,
    deployments: Sequence[Deployment],
    start: datetime,
    end: datetime,
) -> tuple[list[date], list[Decimal], Decimal, list[str]]:
    """Variable spend per day of ``[start, end)`` (days without rows: 0), the fixed fleet
    cost per day, and notes (unpriced rows)."""
    rep = priced_groups(requests, ["day", "provider"], prices, deployments, start, end)
    days = [start.date() + timedelta(days=i) for i in range((end - start).days)]
    by_day = dict.fromkeys(days, Decimal(0))
    for line in rep.rows:
        day, provider = line.key["day"], line.key["provider"]
        if day is None or day.startswith("(idle"):
            continue
        if provider == SELF_HOSTED:
            continue
        d = _pydt(datetime.fromisoformat(day)).date()
        if d in by_day:
            by_day[d] += line.usd
    served = requests.filter(
        (requests.ts >= start) & (requests.ts < end) & (requests.provider == SELF_HOSTED)
    )
    names = served.select(name=served.deployment.fill_null(served.model)).distinct().execute()
    fleets = {str(n) for n in names["name"]}
    fixed = Decimal(0)
    for dep in deployments:
        if dep.name in fleets or dep.model in fleets:
            fixed += Decimal(dep.gpus) * 24 * dep.gpu_hour_usd
    notes = [f"unpriced: {u['rows']:,} rows ({u['reason']}) are left out" for u in rep.unpriced]
    return days, [by_day[d] for d in days], fixed, notes


def _fit(y: np.ndarray, h: int, level: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Mean, lower and upper bound for ``h`` days after ``y``: AutoETS (weekly season from
    :data:`SEASONAL_DAYS` days, none from :data:`ETS_DAYS`), the historic mean with its
    normal interval below that, and exactly 0 for a history without variable spend."""
    import pandas as pd  # type: ignore[import-untyped]
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, HistoricAverage

    if not np.any(y):
        zero = np.zeros(h)
        return zero, zero, zero, f"none: no variable spend in {y.size} days of history"
    season = 7 if y.size >= SEASONAL_DAYS else 1
    frame = pd.DataFrame(
        {"unique_id": "spend", "ds": pd.date_range("2000-01-03", periods=y.size, freq="D"), "y": y}
    )
    if y.size >= ETS_DAYS:
        model: Any = AutoETS(season_length=season)
        name = f"statsforecast AutoETS(season_length={season})"
    else:
        model = HistoricAverage()
        name = "statsforecast HistoricAverage (too few days for exponential smoothing)"
    sf = StatsForecast(models=[model], freq="D", n_jobs=1)
    out = sf.forecast(df=frame, h=h, level=[level])
    col = str(model)
    mean = out[col].to_numpy(dtype=np.float64)
    lo = out[f"{col}-lo-{level}"].to_numpy(dtype=np.float64)
    hi = out[f"{col}-hi-{level}"].to_numpy(dtype=np.float64)
    return mean, lo, hi, f"{name} over {y.size} days of variable spend"


def forecast(
    requests: ir.Table,
    prices: PriceBook,
    deployments: Sequence[Deployment],
    *,
    as_of: date | None = None,
    budget_usd: Decimal | None = None,
    level: int = 90,
) -> Forecast:
    """Forecast the spend of the month holding ``as_of`` (module docstring).

    Raises:
        InputError: fewer than :data:`MIN_DAYS` days of history before ``as_of``; ``as_of``
            more than :data:`MAX_GAP_DAYS` days after the ledger's last record; a level
            outside 50–99; a budget below 0 or above :data:`MAX_BUDGET_USD`; an empty ledger.
    """
    if not 50 <= level <= 99:
        raise InputError(f"--level must lie in [50, 99] (%), got {level}.")
    if budget_usd is not None and not 0 <= budget_usd <= MAX_BUDGET_USD:
        raise InputError(
            f"--budget-usd must lie in [0, {MAX_BUDGET_USD:.0f}] (US$), got {budget_usd}."
        )
    first, last_end = period(requests, None, None)
    if as_of is None:
        as_of = last_end.date()
    gap = (as_of - last_end.date()).days
    if gap > MAX_GAP_DAYS:
        raise InputError(
            f"the ledger's records end on {last_end.date() - timedelta(days=1)}; --as-of "
            f"{as_of} would count the {gap} days after as days without spend. Ingest the "
            f"records up to it, or pass an --as-of no later than {last_end.date()}."
        )
    cut = datetime(as_of.year, as_of.month, as_of.day)
    if cut - first < timedelta(days=MIN_DAYS):
        raise InputError(
            f"the ledger holds {max((cut - first).days, 0)} days before {as_of}; the forecast "
            f"needs at least {MIN_DAYS} (ingest more or pass a later --as-of)."
        )
    days, variable, fixed, notes = daily_spend(requests, prices, deployments, first, cut)
    month_start = date(as_of.year, as_of.month, 1)
    month_days = calendar.monthrange(as_of.year, as_of.month)[1]
    month_end = month_start + timedelta(days=month_days)
    ahead = [as_of + timedelta(days=i) for i in range((month_end - as_of).days)]
    y = np.array([float(v) for v in variable], dtype=np.float64)
    if ahead:
        mean, lo, hi, model = _fit(y, len(ahead), level)
    else:
        mean = lo = hi = np.zeros(0)
        model = "none (the month is complete)"
    if month_start < first.date():
        notes.append(f"the ledger starts on {first.date()}; earlier days of the month count $0")
    actual_days = [d for d in days if d >= month_start]
    actual = [v + fixed for d, v in zip(days, variable, strict=True) if d >= month_start]
    fc = Forecast(
        month=f"{as_of:%Y-%m}",
        as_of=as_of,
        level=level,
        model=model,
        days_actual=actual_days,
        daily_actual=actual,
        days_forecast=ahead,
        daily_mean=[_usd(x) + fixed for x in mean],
        daily_low=[_usd(x) + fixed for x in lo],
        daily_high=[_usd(x) + fixed for x in hi],
        fixed_usd_per_day=fixed,
        history_days=len(days),
        budget_usd=budget_usd,
        notes=notes,
    )
    if fixed:
        notes.append(f"self-hosted fleets: ${fixed:,.2f} a day, paid busy or idle")
    if budget_usd is not None:
        done = first_crossing(actual_days, fc.cumulative_actual, budget_usd)
        fc.crossing = (
            Crossing(done, done, done, done)
            if done is not None
            else Crossing(
                actual=None,
                earliest=first_crossing(ahead, fc.cumulative_high, budget_usd),
                expected=first_crossing(ahead, fc.cumulative_mean, budget_usd),
                latest=first_crossing(ahead, fc.cumulative_low, budget_usd),
            )
        )
    return fc
