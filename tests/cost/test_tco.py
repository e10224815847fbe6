"""Owned-hardware TCO: components, power billing, PUE, residual value, validation."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from infercost.cost.tco import owned_hardware, tco
from infercost.errors import InputError

W3 = {
    "gpu_price_usd": 30000,
    "power_w": 700,
    "usd_per_kwh": 0.10,
    "years": 3,
    "hosting_usd": 5000,
    "utilization": 0.9,
}


class TestComponents:
    def test_pue_scales_electricity_only(self) -> None:
        # 700 W x 26,280 h = 18,396 kWh; x PUE 1.5 = 27,594 kWh; x $0.10 = $2,759.40.
        # Total 30,000 + 2,759.40 + 5,000 = $37,759.40.
        b = tco(owned_hardware(**W3, pue=1.5))
        assert b.electricity_usd == Decimal("2759.4")
        assert b.total_usd == Decimal("37759.4")

    def test_utilized_hours_billing_uses_idle_draw_when_idle(self) -> None:
        # 26,280 h x 0.9 = 23,652 busy h, 2,628 idle h.
        # (700 W x 23,652 h + 100 W x 2,628 h) / 1000 = 16,556.4 + 262.8 = 16,819.2 kWh
        # x $0.10 = $1,681.92.
        b = tco(owned_hardware(**W3, power_billing="utilized-hours", idle_power_w=100))
        assert b.energy_kwh == Decimal("16819.2")
        assert b.electricity_usd == Decimal("1681.92")

    def test_server_share_residual_maintenance_and_people(self) -> None:
        # purchase = 30,000 + 40,000 / 8 = 35,000; residual 20 % = 7,000; depreciation 28,000.
        # maintenance 1,000/y x 3 = 3,000; people 100/month x 36 = 3,600; networking 500.
        # total = 28,000 + 1,839.60 + 5,000 + 500 + 3,000 + 3,600 = 41,939.60.
        b = tco(
            owned_hardware(
                **W3,
                server_price_usd=40000,
                gpus_per_server=8,
                residual_value_fraction=0.2,
                maintenance_usd_per_year=1000,
                people_usd_per_month=100,
                networking_usd=500,
            )
        )
        assert b.purchase_usd == Decimal(35000)
        assert b.residual_value_usd == Decimal(7000)
        assert b.depreciation_usd == Decimal(28000)
        assert b.maintenance_usd == Decimal(3000)
        assert b.people_usd == Decimal(3600)
        assert b.total_usd == Decimal("41939.6")

    def test_full_use_rate_divides_by_every_hour(self) -> None:
        # 36,839.60 / 26,280 h = $1.40181...
        b = tco(owned_hardware(**W3))
        assert b.usd_per_gpu_hour_full_use == Decimal("36839.6") / Decimal(26280)
        # and at u the rate is the full-use rate / u: 1.40181 / 0.9 = 1.55757.
        assert b.usd_per_gpu_hour == pytest.approx(
            b.usd_per_gpu_hour_full_use / Decimal("0.9"), rel=Decimal("1e-20")
        )

    def test_json_has_breakdown_and_explain(self) -> None:
        d = tco(owned_hardware(**W3)).to_dict()
        assert d["electricity_usd"] == 1839.6
        assert d["total_usd"] == 36839.6
        names = [t["name"] for t in d["explain"]]  # type: ignore[attr-defined]
        assert "electricity_usd" in names


class TestValidation:
    @pytest.mark.parametrize(
        ("override", "field"),
        [
            ({"utilization": 0}, "--utilization: Input should be greater than 0 (got 0)"),
            ({"utilization": 1.2}, "--utilization"),
            ({"years": 0}, "--years"),
            ({"pue": 0.9}, "--pue"),
            ({"usd_per_kwh": -0.1}, "--usd-per-kwh"),
            ({"residual_value_fraction": 1.5}, "--residual-value-fraction"),
            ({"power_billing": "sometimes"}, "--power-billing"),
        ],
    )
    def test_out_of_range_input_names_the_flag(
        self, override: dict[str, object], field: str
    ) -> None:
        # the CLI flag (infercost tco --usd-per-kwh), not the model field (usd_per_kwh)
        with pytest.raises(InputError, match=re.escape(field)):
            owned_hardware(**{**W3, **override})

    def test_idle_above_busy_draw_is_refused(self) -> None:
        with pytest.raises(
            InputError, match=r"--idle-power-w 800 exceeds --power-w 700; idle draw cannot"
        ):
            owned_hardware(**W3, idle_power_w=800)

    def test_unknown_field_is_refused(self) -> None:
        with pytest.raises(InputError, match="colour"):
            owned_hardware(**W3, colour="green")
