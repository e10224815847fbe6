"""$/used GPU-hour from offers: instance bundling, spot refusal, staleness."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from infercost.catalog.pricing import Offer
from infercost.cost.gpu_hour import (
    instances_needed,
    price_from_offer,
    price_from_usd_per_gpu_hour,
    resolve_price,
    usd_per_used_gpu_hour,
)
from infercost.cost.tco import owned_hardware, tco
from infercost.errors import InputError


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


def make_offer(**kw: object) -> Offer:
    values: dict[str, object] = {
        "id": "aws-p5",
        "provider": "AWS",
        "instance": "p5.48xlarge",
        "gpu": "h100-sxm",
        "gpus_per_instance": 8,
        "pricing_kind": "on-demand",
        "usd_per_hour": Decimal("98.32"),
        "as_of": date(2026, 10, 1),
        "source": "test fixture",
    }
    values.update(kw)
    return Offer.model_validate(values)


class TestInstancesNeeded:
    @pytest.mark.parametrize(
        ("used", "per_instance", "expected"),
        [(1, 8, 1), (2, 8, 1), (8, 8, 1), (9, 8, 2), (16, 8, 2), (3, 1, 3)],
    )
    def test_whole_instances(self, used: int, per_instance: int, expected: int) -> None:
        assert instances_needed(used, per_instance) == expected

    @pytest.mark.parametrize("used", [0, -1])
    def test_no_gpus_is_refused(self, used: int) -> None:
        with pytest.raises(InputError, match="GPUs used"):
            instances_needed(used, 8)


class TestBundling:
    def test_two_of_eight_costs_four_times_the_list_per_gpu(self) -> None:
        # One whole p5 instance ($98.32/h) carries 2 used GPUs: 98.32 / 2 = $49.16 per used
        # GPU-hour, 4x the $12.29 list per-GPU price (98.32 / 8).
        price = usd_per_used_gpu_hour(Decimal("98.32"), 8, 2)
        assert price == Decimal("49.16")
        assert price == 4 * Decimal("98.32") / 8

    def test_nine_gpus_pay_for_two_instances(self) -> None:
        # ceil(9/8) = 2 instances: 2 x 98.32 = 196.64 $/h; / 9 = 21.8489 $/used GPU-hour.
        p = price_from_offer(make_offer(), 9)
        assert p.usd_per_replica_hour == Decimal("196.64")
        assert p.gpus_paid == 16
        assert p.usd_per_gpu_hour == Decimal("196.64") / 9

    def test_full_instance_is_the_list_per_gpu_price(self) -> None:
        assert price_from_offer(make_offer(), 8).usd_per_gpu_hour == Decimal("12.29")


class TestSpot:
    def test_spot_refused_for_slo_serving(self) -> None:
        with pytest.raises(InputError, match=r"spot.*--allow-spot"):
            price_from_offer(make_offer(pricing_kind="spot"), 8)

    def test_spot_allowed_when_opted_in(self) -> None:
        p = price_from_offer(make_offer(pricing_kind="spot"), 8, allow_spot=True)
        assert p.pricing_kind == "spot"

    def test_spot_allowed_for_batch_work(self) -> None:
        p = price_from_offer(make_offer(pricing_kind="spot"), 8, slo_serving=False)
        assert p.usd_per_gpu_hour == Decimal("12.29")


class TestStale:
    def test_old_price_is_flagged_in_source(self) -> None:
        p = price_from_offer(make_offer(as_of=date(2025, 1, 1)), 8, today=date(2026, 11, 30))
        assert p.stale
        # 2025-01-01 -> 2026-11-30: 365 + 333 = 698 days; the snapshot date and the ways out
        # are named.
        assert "(STALE: 698 days old; newest offers snapshot" in p.source
        assert "infercost offers refresh" in p.source and "--gpu-hour-usd" in p.source

    def test_recent_price_is_not_flagged(self) -> None:
        p = price_from_offer(make_offer(as_of=date(2026, 10, 1)), 8, today=date(2026, 11, 30))
        assert not p.stale


class TestUserRate:
    def test_flat_rate_has_no_bundling(self) -> None:
        # 4 GPUs at $2.49 -> 4 x 2.49 = $9.96 per replica-hour.
        p = price_from_usd_per_gpu_hour(2.49, 4)
        assert p.usd_per_replica_hour == Decimal("9.96")
        assert p.usd_per_gpu_hour == Decimal("2.49")

    def test_negative_rate_is_refused(self) -> None:
        with pytest.raises(InputError, match="GPU-hour price"):
            price_from_usd_per_gpu_hour(-1.0, 1)

    def test_nan_rate_is_refused(self) -> None:
        with pytest.raises(InputError, match="finite"):
            price_from_usd_per_gpu_hour(float("nan"), 1)


class TestResolvePrice:
    def test_one_source_only(self) -> None:
        with pytest.raises(InputError, match="Give one price"):
            resolve_price("h100-sxm", 1, gpu_hour_usd=2.0, offer=make_offer())

    def test_offer_for_another_gpu_is_refused(self) -> None:
        with pytest.raises(InputError, match="is for h100-sxm, not l4"):
            resolve_price("l4", 1, offer=make_offer())

    def test_default_offer_is_bundled_and_named(self) -> None:
        # The H100 default is a 1-GPU $3.99 offer (see tests/catalog/test_pricing.py): two
        # GPUs pay two instances, 2 x 3.99 = $7.98 per replica-hour.
        p = resolve_price("h100-sxm", 2)
        assert p.usd_per_replica_hour == Decimal("7.98")
        assert "runpod-h100-sxm-secure-on-demand-2026-11-09" in p.source

    def test_no_offer_and_no_price_is_an_error(self) -> None:
        with pytest.raises(InputError, match="No catalog offer for tpu-v5e"):
            resolve_price("tpu-v5e", 1)

    def test_owned_uses_the_full_use_rate(self) -> None:
        # W3: 36,839.60 / 26,280 h per GPU; 4 GPUs -> 4 x that per replica-hour.
        b = tco(
            owned_hardware(
                gpu_price_usd=30000, power_w=700, usd_per_kwh=0.10, years=3, hosting_usd=5000
            )
        )
        p = resolve_price("h100-sxm", 4, owned=b)
        assert p.usd_per_gpu_hour == Decimal("36839.6") / Decimal(26280)
        assert p.usd_per_replica_hour == 4 * p.usd_per_gpu_hour
        assert p.pricing_kind == "owned"
