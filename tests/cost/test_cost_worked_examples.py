"""Worked examples W1, W2 (cost parts), W3 and W9 of shared/reference/worked_examples.md.

Each test asserts what the example's inputs imply, derived by hand in the comment; where the
article printed something else, the comment says what and why.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest

from infercost.catalog.pricing import ApiPrice
from infercost.cost.api import blended_usd_per_m, monthly_usd
from infercost.cost.money import round_usd, usd_per_m_tokens
from infercost.cost.overheads import (
    effective_usd_per_gpu_hour,
    overheads,
    usd_per_m_at_utilization,
)
from infercost.cost.tco import owned_hardware, tco
from infercost.cost.trend import (
    annual_decline_factor,
    price_elasticity,
    project_usd,
    spend_ratio,
)
from infercost.units import HOURS_PER_MONTH


class TestW1FundamentalEquation:
    @pytest.mark.parametrize(
        ("usd_per_hour", "tok_s", "printed"),
        [
            # 1,000 tok/s x 3600 / 1e6 = 3.6 M tok/h; $10 / 3.6 = $2.777... -> 2.78.
            ("10", 1000, "2.78"),
            # 200 x 3600 / 1e6 = 0.72 M/h; $1 / 0.72 = $1.3888... -> 1.39.
            ("1", 200, "1.39"),
            # 70B on one H100: $3 / 3.6 = $0.8333... -> 0.83; $2 / 3.6 = $0.5555... -> 0.56.
            ("3", 1000, "0.83"),
            ("2", 1000, "0.56"),
        ],
    )
    def test_article_figures_follow(self, usd_per_hour: str, tok_s: float, printed: str) -> None:
        assert round_usd(usd_per_m_tokens(Decimal(usd_per_hour), tok_s)) == Decimal(printed)

    def test_half_utilisation(self) -> None:
        # $2/h at 1,000 tok/s = $0.5555.../M at full load; / 0.5 = $1.111... -> article 1.11.
        full = usd_per_m_tokens(Decimal(2), 1000)
        assert round_usd(usd_per_m_at_utilization(full, 0.5)) == Decimal("1.11")

    def test_practice_questions(self) -> None:
        # 8B on one H100: 5,000 tok/s = 18 M/h; $2 / 18 = $0.1111/M.
        assert usd_per_m_tokens(Decimal(2), 5000) == Decimal(2) / Decimal(18)
        # 405B FP8 on 8 x H100: 800 tok/s = 2.88 M/h; $16 / 2.88 = $5.5556/M.
        assert round_usd(usd_per_m_tokens(Decimal(16), 800), 4) == Decimal("5.5556")

    def test_no_tokens_is_an_error_not_infinity(self) -> None:
        from infercost.errors import InputError

        with pytest.raises(InputError, match="positive"):
            usd_per_m_tokens(Decimal(2), 0.0)


GPT4O_2025 = ApiPrice.model_validate(
    {
        "provider": "OpenAI",
        "model": "gpt-4o",
        "usd_per_m_input": Decimal("2.50"),
        "usd_per_m_output": Decimal("10.00"),
        "as_of": "2025-01-01",
        "source": "W2 inputs",
    }
)


class TestW2SelfHostVsApi:
    def test_api_blend(self) -> None:
        # 0.5 x 2.50 + 0.5 x 10.00 = $6.25/M, as the article prints.
        assert blended_usd_per_m(GPT4O_2025, 0.5) == Decimal("6.25")

    def test_self_host_per_million(self) -> None:
        # $2.49/h / (1,500 x 3600 / 1e6 = 5.4 M/h) = $0.4611/M -> article $0.46.
        assert round_usd(usd_per_m_tokens(Decimal("2.49"), 1500)) == Decimal("0.46")

    def test_gpu_month(self) -> None:
        # 2.49 x 730 h = $1,817.70 (article: "about $1,800").
        eff = effective_usd_per_gpu_hour(Decimal("2.49"), 1, overheads())
        assert eff.fleet_usd_per_month == Decimal("1817.70")

    @pytest.mark.parametrize(
        ("tokens_per_day", "implied", "printed"),
        [
            # tokens/day x 30 days / 1e6 x $6.25. The article's column is 30x these values
            # (563, 5,625, 28,125, 56,250, 281,250): it multiplied by the 30-day month twice.
            (100_000, "18.75", 563),
            (1_000_000, "187.50", 5_625),
            (5_000_000, "937.50", 28_125),
            (10_000_000, "1875.00", 56_250),
            (50_000_000, "9375.00", 281_250),
        ],
    )
    def test_api_month(self, tokens_per_day: int, implied: str, printed: int) -> None:
        month = monthly_usd(Decimal("6.25"), tokens_per_day)
        assert month == Decimal(implied)
        # The article's figure is the double-counted one, rounded half up (562.5 -> 563).
        assert (month * 30).quantize(Decimal(1), rounding=ROUND_HALF_UP) == printed

    def test_break_even_volume(self) -> None:
        # Self-host month: GPU 2.49 x 730 = 1,817.70 + operations 5,000 = $6,817.70.
        # API month at V tok/day: V x 30 / 1e6 x 6.25 = V x 1.875e-4.
        # Break-even V = 6,817.70 / (30 x 6.25) x 1e6 = 36,361,066.7 tok/day; the article's
        # "roughly 3-5 million tokens per day" rests on its 30x-too-high API column.
        eff = effective_usd_per_gpu_hour(Decimal("2.49"), 1, overheads(ops_usd_per_month=5000))
        assert eff.fleet_usd_per_month == Decimal("6817.70")
        api_per_token_day = monthly_usd(Decimal("6.25"), 1)
        break_even = eff.fleet_usd_per_month / api_per_token_day
        assert round(break_even) == 36_361_067

    def test_capacity_for_fifty_million_a_day(self) -> None:
        # One GPU at 1,500 tok/s makes 1,500 x 86,400 = 129.6M tok/day; 50M/day needs
        # ceil(50 / 129.6) = 1 GPU (38.6 % busy). The article's $2,700 GPU line implies 1.5.
        per_gpu_day = 1500 * 86_400
        assert per_gpu_day == 129_600_000
        assert math.ceil(50_000_000 / per_gpu_day) == 1
        # At that load the GPU is busy 50 / 129.6 = 38.58 % of the time, so its self-host
        # $/M is 0.4611 / 0.3858 = $1.195/M (idle paid hours counted).
        u = Decimal(50_000_000) / Decimal(per_gpu_day)
        full = usd_per_m_tokens(Decimal("2.49"), 1500)
        assert round_usd(usd_per_m_at_utilization(full, u)) == Decimal("1.20")

    def test_month_is_730_hours(self) -> None:
        assert HOURS_PER_MONTH == 730.0


class TestW3OwnedH100:
    def test_three_year_tco(self) -> None:
        # Electricity: 700 W x 3 y x 8,760 h = 18,396 kWh x $0.10 = $1,839.60. The article
        # prints $18,400: the kWh figure (18,396) taken as dollars, without x $0.10.
        # Total: 30,000 + 1,839.60 + 5,000 = $36,839.60 (article ~$53,400 = 30,000 + 18,400
        # + 5,000, carrying the electricity error).
        # Utilised hours: 26,280 x 0.9 = 23,652 (as the article prints).
        # $/GPU-hour: 36,839.60 / 23,652 = $1.5576.
        b = tco(
            owned_hardware(
                gpu_price_usd=30000,
                power_w=700,
                usd_per_kwh=0.10,
                years=3,
                hosting_usd=5000,
                utilization=0.9,
            )
        )
        assert b.energy_kwh == Decimal(18396)
        assert b.electricity_usd == Decimal("1839.6")
        assert b.total_usd == Decimal("36839.6")
        assert b.hours_utilized == Decimal(23652)
        assert round_usd(b.usd_per_gpu_hour, 4) == Decimal("1.5576")

    def test_with_pue(self) -> None:
        # PUE 1.3: 18,396 kWh x 1.3 x $0.10 = $2,391.48; total $37,391.48; / 23,652 = $1.5809.
        b = tco(
            owned_hardware(
                gpu_price_usd=30000,
                power_w=700,
                usd_per_kwh=0.10,
                years=3,
                hosting_usd=5000,
                utilization=0.9,
                pue=1.3,
            )
        )
        assert b.electricity_usd == Decimal("2391.48")
        assert round_usd(b.usd_per_gpu_hour, 4) == Decimal("1.5809")


class TestW9PriceTrend:
    def test_llama_70b_series(self) -> None:
        # $1.20 (2023) -> $0.02 (2027, estimate): 60x in 4 years, 60 ** (1/4) = 2.783x/year.
        # Year-on-year: 1.20/0.45 = 2.67, 0.45/0.15 = 3.0, 0.15/0.06 = 2.5, 0.06/0.02 = 3.0.
        assert annual_decline_factor(1.20, 0.02, 4) == pytest.approx(60**0.25)
        assert annual_decline_factor(1.20, 0.02, 4) == pytest.approx(2.7832, abs=1e-4)
        steps = [(1.20, 0.45), (0.45, 0.15), (0.15, 0.06), (0.06, 0.02)]
        assert [round(annual_decline_factor(a, b, 1), 2) for a, b in steps] == [
            2.67,
            3.0,
            2.5,
            3.0,
        ]

    def test_projection_from_2025_at_the_series_rate(self) -> None:
        # $0.15 (2025) / 2.7832 ** 2 = $0.0194 in 2027, close to the article's $0.02 estimate.
        factor = annual_decline_factor(1.20, 0.02, 4)
        assert project_usd(0.15, factor, 2) == pytest.approx(0.15 / 60**0.5)
        assert project_usd(0.15, factor, 2) == pytest.approx(0.01936, abs=1e-5)

    def test_gpt4_equivalent_is_not_ten_times_per_year(self) -> None:
        # $20 (late 2022) -> $0.40 (2025): 50x. Over 3 years 50 ** (1/3) = 3.68x/year; even
        # over 2 years it is 50 ** 0.5 = 7.07x. "10x per year" for 3 years would be 1000x,
        # i.e. $0.02, not $0.40.
        assert annual_decline_factor(20, 0.40, 3) == pytest.approx(3.684, abs=1e-3)
        assert annual_decline_factor(20, 0.40, 2) == pytest.approx(7.071, abs=1e-3)
        assert project_usd(20, 10, 3) == pytest.approx(0.02)

    def test_elasticity_of_a_half_price_cut(self) -> None:
        # 50 % cut -> 3-4x volume: elasticity ln 3 / ln 0.5 = -1.585 to ln 4 / ln 0.5 = -2.
        # Spend: 0.5 x 3 = 1.5x to 0.5 x 4 = 2x (spending rises: demand is elastic).
        assert price_elasticity(0.5, 3) == pytest.approx(-1.585, abs=1e-3)
        assert price_elasticity(0.5, 4) == pytest.approx(-2.0)
        assert spend_ratio(0.5, 3) == 1.5
        assert spend_ratio(0.5, 4) == 2.0
