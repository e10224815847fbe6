"""Growth scenarios, price projection with elasticity, and the hardware-generation trend."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infercost.errors import InputError
from infercost.plan.fleet import Replica
from infercost.plan.scenarios import (
    annual_factor_from_points,
    growth_scenarios,
    hardware_generations,
    project,
)
from infercost.plan.traffic import traffic


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


class TestGrowth:
    def test_w5_fleet_at_1x_10x_100x(self) -> None:
        # W5 traffic (5e9 output tokens/day, peak 3x average = 173,611.1 tok/s), 1,000 tok/s
        # per GPU, +30 %: ceil(225.69) = 226; x10: ceil(2,256.94) = 2,257; x100:
        # ceil(22,569.44) = 22,570 GPUs. $/month at $2 x 720 h: 325,440; 3,250,080;
        # 32,500,800. API at $10/M output (no input tokens): 5e9 x 30 ÷ 1e6 x 10 = $1.5M/month
        # at 1x.
        base = traffic(isl=0, osl=500, output_tokens_per_day=5e9, peak_to_average=3.0)
        g = growth_scenarios(
            base,
            Replica(1000.0, 1, 2.0),
            api_input_usd_per_m=2.5,
            api_output_usd_per_m=10.0,
            days_per_month=30.0,  # the article's month (default: 730 h)
        )
        assert g.replicas.tolist() == [226, 2257, 22570]
        assert g.self_host_usd_per_month.tolist() == pytest.approx(
            [325_440.0, 3_250_080.0, 32_500_800.0]
        )
        assert g.api_usd_per_month is not None
        assert g.api_usd_per_month.tolist() == pytest.approx([1.5e6, 1.5e7, 1.5e8])

    def test_output_expansion_multiplies_output_not_input(self) -> None:
        # 1,000 requests/day of 2,000 in / 100 out; reasoning expands output 5x:
        # output 1,000 x 100 x 5 = 500,000/day; input stays 2,000,000/day.
        base = traffic(isl=2000, osl=100, requests_per_day=1000)
        g = growth_scenarios(base, Replica(1000.0, 1, 2.0), multipliers=[1], output_expansion=5)
        assert g.output_tokens_per_day.tolist() == [500_000.0]
        assert g.input_tokens_per_day.tolist() == [2_000_000.0]

    def test_bad_multiplier(self) -> None:
        base = traffic(isl=0, osl=500, output_tokens_per_day=5e9)
        with pytest.raises(InputError, match="multipliers"):
            growth_scenarios(base, Replica(1000.0, 1, 2.0), multipliers=[0])


class TestProjection:
    def test_halving_price_with_elasticity(self) -> None:
        # r = 0.5/year, elasticity -1.58 (a 50 % cut bringing 3x volume: ln 3 ÷ ln 0.5 =
        # -1.585): after 1 year price x0.5, volume x 0.5^-1.58 = 2.990, spend x1.495.
        p = project(1.0, 1e9, decline_per_year=0.5, years=2, elasticity=-1.58, steps_per_year=1)
        assert p.years.tolist() == [0.0, 1.0, 2.0]
        assert p.usd_per_m.tolist() == pytest.approx([1.0, 0.5, 0.25])
        assert p.tokens_per_month[1] == pytest.approx(1e9 * 0.5**-1.58)
        assert p.usd_per_month[1] / p.usd_per_month[0] == pytest.approx(0.5 * 0.5**-1.58)

    def test_organic_growth_without_elasticity(self) -> None:
        # 20 %/year growth, no elasticity: volume x1.2 per year whatever the price.
        p = project(
            2.0, 1e6, decline_per_year=0.3, years=1, volume_growth_per_year=0.2, steps_per_year=1
        )
        assert p.tokens_per_month.tolist() == pytest.approx([1e6, 1.2e6])
        assert p.usd_per_m.tolist() == pytest.approx([2.0, 1.4])

    def test_bad_decline(self) -> None:
        with pytest.raises(InputError, match="decline"):
            project(1.0, 1.0, decline_per_year=1.0)


class TestProjectionLimits:
    def test_horizon_is_capped(self) -> None:
        # --years 1e6 made 4 million projection points and hung the table.
        with pytest.raises(InputError) as exc:
            project(1.0, 1e9, decline_per_year=0.3, years=1e6)
        assert str(exc.value) == (
            "--years must lie in (0, 50] (a projection horizon), got 1000000.0."
        )
        assert project(1.0, 1e9, decline_per_year=0.3, years=50).years[-1] == 50.0

    def test_positive_elasticity_is_refused(self) -> None:
        # the help says < 0: cheaper tokens bring more volume, not less
        with pytest.raises(InputError, match=r"--elasticity must be a number <= 0 .* got 0.5"):
            project(1.0, 1e9, decline_per_year=0.3, elasticity=0.5)


class TestHardwareTrend:
    def test_factor_from_two_points(self) -> None:
        # $1.20 in 2020 and $0.30 in 2022: 4x over 2 years -> 2.0x per year.
        assert annual_factor_from_points(np.array([2020, 2022]), np.array([1.2, 0.3])) == (
            pytest.approx(2.0)
        )
        assert annual_factor_from_points(np.array([2022, 2022]), np.array([1.0, 0.5])) is None

    def test_generations_from_the_catalog(self) -> None:
        # A100 (2020), H100 (2022), B200 (2024) at one $/GPU-hour: newer hardware serves the
        # 8B model for less, so the fitted factor is above 1.
        g = hardware_generations(
            "llama-3.1-8b",
            1000,
            200,
            gpus=["a100-80gb-sxm", "h100-sxm", "b200"],
            gpu_hour_usd=2.0,
            weight_dtypes=["bf16"],
        )
        assert g.years.tolist() == [2020, 2022, 2024]
        assert list(g.gpus) == ["a100-80gb-sxm", "h100-sxm", "b200"]
        assert np.all(np.diff(g.usd_per_m) < 0)
        assert g.annual_factor is not None and g.annual_factor > 1.0
        expected = annual_factor_from_points(g.years, g.usd_per_m)
        assert g.annual_factor == expected
        assert g.decline_per_year == pytest.approx(1 - 1 / g.annual_factor)
        assert math.isfinite(g.projected_decline_per_year)
