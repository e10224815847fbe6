"""Utilisation, redundancy and people: the effective $/GPU-hour."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infercost.cost.overheads import (
    effective_usd_per_gpu_hour,
    overheads,
    replicas_paid,
    usd_per_m_at_utilization,
    useful_fraction,
)
from infercost.errors import InputError


class TestUtilization:
    def test_half_busy_doubles_the_price(self) -> None:
        assert usd_per_m_at_utilization(Decimal("0.56"), 0.5) == Decimal("1.12")

    @pytest.mark.parametrize("u", [0, -0.1, 1.01, float("inf")])
    def test_outside_zero_one_is_refused(self, u: float) -> None:
        with pytest.raises(InputError, match="tilization"):
            usd_per_m_at_utilization(Decimal(1), u)

    @given(
        st.decimals(min_value="0.01", max_value="100", places=2),
        st.decimals(min_value="0.01", max_value="1", places=2),
    )
    def test_effective_rate_is_list_over_u_without_spares_or_people(
        self, rate: Decimal, u: Decimal
    ) -> None:
        eff = effective_usd_per_gpu_hour(rate, 2, overheads(utilization=u))
        assert eff.usd_per_gpu_hour == rate * 2 / (2 * u)


class TestRedundancy:
    @pytest.mark.parametrize(
        ("needed", "spare", "zones", "expected"),
        [
            (4, 1, 1, 5),  # N+1
            (4, 0, 1, 4),
            (4, 0, 3, 6),  # survive a zone: 3 zones x ceil(4/2) = 6
            (1, 1, 2, 2),  # max(1+1, 2 x ceil(1/1) = 2)
            (5, 1, 3, 9),  # max(6, 3 x ceil(5/2) = 9)
        ],
    )
    def test_replicas_paid(self, needed: int, spare: int, zones: int, expected: int) -> None:
        assert replicas_paid(needed, spare, zones) == expected

    def test_bad_counts_are_refused(self) -> None:
        with pytest.raises(InputError, match=r"Need --replicas >= 1, --spare-replicas >= 0"):
            replicas_paid(0)


class TestEffectiveRate:
    def test_spares_idle_and_people_add_up(self) -> None:
        # 2 GPUs/replica at $2/GPU-h, 3 replicas needed + 1 spare = 4 paid:
        # 2 x 2 x 4 = $16/h; people $730/month / 730 h = $1/h; fleet $17/h.
        # Useful GPU-hours per hour: 2 x 3 x 0.5 = 3 -> 17 / 3 = $5.667 per useful GPU-hour.
        eff = effective_usd_per_gpu_hour(
            Decimal(2),
            2,
            overheads(utilization=0.5, replicas_needed=3, spare_replicas=1, ops_usd_per_month=730),
        )
        assert eff.fleet_usd_per_hour == Decimal(17)
        assert eff.usd_per_gpu_hour == Decimal(17) / Decimal(3)
        assert eff.gpus_paid == 8
        assert eff.fleet_usd_per_month == Decimal(17 * 730)

    def test_bad_overhead_names_the_flag(self) -> None:
        # `infercost cost` flags, not field names (replicas_needed is --replicas)
        with pytest.raises(InputError, match=r"--spare-replicas: .* \(got -1\)"):
            overheads(spare_replicas=-1)
        with pytest.raises(
            InputError, match=r"--replicas: Input should be greater than or equal to 1 \(got 0\)"
        ):
            overheads(replicas_needed=0)


class TestUsefulFraction:
    def test_shares_compound(self) -> None:
        # (1 - 0.1) x (1 - 0.2) = 0.72 of generated tokens are kept.
        assert useful_fraction(retry_share=0.1, reasoning_share=0.2) == Decimal("0.72")

    def test_share_of_one_is_refused(self) -> None:
        with pytest.raises(InputError, match=r"--retry-share must be a fraction in \[0, 1\)"):
            useful_fraction(retry_share=1.0)
