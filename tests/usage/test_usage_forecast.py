"""Forecast: a held-back week of the synthetic month inside the interval; budget crossing."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infercost.cli.usage import usage_app
from infercost.errors import InputError
from infercost.usage.forecast import daily_spend, first_crossing, forecast
from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook

HELD_BACK = date(2025, 8, 25)  # the last week of August (25–31) is held back


def test_forecast_interval_covers_held_back_week(demo_ledger: Path) -> None:
    book = PriceBook()
    with Ledger(demo_ledger, read_only=True) as led:
        fc = forecast(led.requests(), book, led.deployments(), as_of=HELD_BACK)
        days, variable, fixed, _ = daily_spend(
            led.requests(), book, led.deployments(), datetime(2025, 8, 1), datetime(2025, 9, 1)
        )
    actual = {d: v + fixed for d, v in zip(days, variable, strict=True)}
    # the model saw 1–24 August only, and forecasts the seven days after
    assert fc.history_days == 24
    assert fc.days_forecast == [HELD_BACK + timedelta(days=i) for i in range(7)]
    # the demo fleet: 2 H100 x 24 h x $2.50 = $120 a day, known, not forecast
    assert fc.fixed_usd_per_day == Decimal("120.00")
    for d, lo, hi in zip(fc.days_forecast, fc.daily_low, fc.daily_high, strict=True):
        assert lo <= actual[d] <= hi, d
    week = sum(actual[d] for d in fc.days_forecast)
    assert sum(fc.daily_low) <= week <= sum(fc.daily_high)
    # month end = the 24 known days + the forecast: the month's actual total lies inside
    assert fc.month_end_low_usd <= sum(actual.values()) <= fc.month_end_high_usd
    assert fc.actual_to_date_usd == sum(actual[d] for d in days if d < HELD_BACK)


def test_first_crossing_by_hand() -> None:
    days = [date(2025, 8, 1) + timedelta(days=i) for i in range(3)]
    cum = [Decimal(10), Decimal(20), Decimal(30)]
    assert first_crossing(days, cum, Decimal(20)) == date(2025, 8, 2)  # 20 >= 20 on day 2
    assert first_crossing(days, cum, Decimal("20.01")) == date(2025, 8, 3)
    assert first_crossing(days, cum, Decimal(31)) is None


def test_budget_crossed_in_actuals_and_ahead(demo_ledger: Path) -> None:
    with Ledger(demo_ledger, read_only=True) as led:
        small = forecast(led.requests(), PriceBook(), led.deployments(), as_of=HELD_BACK,
                         budget_usd=Decimal(100))  # fmt: skip
        big = forecast(led.requests(), PriceBook(), led.deployments(), as_of=HELD_BACK,
                       budget_usd=Decimal(10**6))  # fmt: skip
    # $100 is passed on 1 August already: the fleet alone costs $120 a day
    assert small.crossing is not None and small.crossing.actual == date(2025, 8, 1)
    assert big.crossing is not None
    assert (big.crossing.actual, big.crossing.expected, big.crossing.earliest) == (None,) * 3
    mid = (small.actual_to_date_usd + small.month_end_usd) / 2
    with Ledger(demo_ledger, read_only=True) as led:
        fc = forecast(led.requests(), PriceBook(), led.deployments(), as_of=HELD_BACK,
                      budget_usd=mid)  # fmt: skip
    c = fc.crossing
    assert c is not None and c.actual is None and c.expected is not None
    assert c.earliest is not None and c.latest is not None
    assert c.earliest <= c.expected <= c.latest


def test_forecast_cli_json_and_errors(demo_ledger: Path, tmp_path: Path) -> None:
    html = tmp_path / "f.html"
    res = CliRunner().invoke(usage_app, ["forecast", "--ledger", str(demo_ledger),
                                         "--budget-usd", "$3,900", "--as-of", "2025-08-25",
                                         "--json", "--html", str(html)])  # fmt: skip
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert list(got) == ["month", "as_of", "model", "level", "history_days",
                         "actual_to_date_usd", "fixed_usd_per_day", "month_end_usd",
                         "month_end_low_usd", "month_end_high_usd", "budget_usd",
                         "budget_crossed", "days", "notes"]  # fmt: skip
    assert (got["month"], got["budget_usd"]) == ("2025-08", "3900.00")
    assert len(got["days"]) == 31 and html.exists()
    res = CliRunner().invoke(usage_app, ["forecast", "--ledger", str(demo_ledger),
                                         "--budget-usd", "lots"])  # fmt: skip
    assert "is not an amount of US$" in str(res.exception)
    with Ledger(demo_ledger, read_only=True) as led, pytest.raises(InputError, match="at least 3"):
        forecast(led.requests(), PriceBook(), led.deployments(), as_of=date(2025, 8, 2))


def test_as_of_far_past_the_records_is_refused(demo_ledger: Path) -> None:
    # the demo month's records end on 2025-08-31; an --as-of in 2030 would forecast 1,600
    # days without records as $0 spend (QA). Up to 7 days past the last record is allowed:
    # 2025-09-01 is the default (the day after), 2025-09-08 is 7 days later.
    with Ledger(demo_ledger, read_only=True) as led:
        with pytest.raises(InputError, match="records end on 2025-08-31"):
            forecast(led.requests(), PriceBook(), led.deployments(), as_of=date(2030, 1, 1))
        fc = forecast(led.requests(), PriceBook(), led.deployments(), as_of=date(2025, 9, 8))
        assert fc.as_of == date(2025, 9, 8)
