"""gpuhunt items -> offers (pure; no network): mapping, cheapest region, quarantine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from infercost.catalog.offers_refresh import (
    accelerator_id_for,
    offers_from_gpuhunt_items,
    write_offers_csv,
)
from infercost.catalog.pricing import load_offers


@dataclass
class Item:
    provider: str = "aws"
    instance_name: str = "p5.48xlarge"
    location: str = "us-east-1"
    price: float | None = 55.04
    gpu_count: int = 8
    gpu_name: str | None = "H100"
    gpu_memory: float | None = 80
    spot: bool = False


class TestAcceleratorId:
    @pytest.mark.parametrize(
        ("name", "memory", "expected"),
        [
            ("H100", 80, "h100-sxm"),
            ("H100NVL", 94, "h100-nvl"),
            ("A100", 40, "a100-40gb-sxm"),
            ("A100", 80, "a100-80gb-sxm"),
            ("RTX4090", 24, "rtx-4090"),
            ("A100", 20, None),  # no 20 GB A100 in the catalog
            ("T4", 16, None),
            (None, None, None),
        ],
    )
    def test_mapping(self, name: str | None, memory: float | None, expected: str | None) -> None:
        assert accelerator_id_for(name, memory) == expected


class TestOffersFromItems:
    def test_cheapest_region_wins_and_counts_regions(self) -> None:
        items = [Item(), Item(location="eu-west-1", price=60.0), Item(spot=True, price=20.0)]
        offers, quarantined = offers_from_gpuhunt_items(items, date(2026, 11, 30))
        assert quarantined == []
        by_kind = {o.pricing_kind: o for o in offers}
        assert by_kind["on-demand"].usd_per_hour == Decimal("55.04")
        assert by_kind["on-demand"].region == "us-east-1"
        assert by_kind["on-demand"].notes == "cheapest of 2 region(s) at refresh"
        assert by_kind["spot"].usd_per_hour == Decimal("20.0")
        assert by_kind["on-demand"].usd_per_gpu_hour == Decimal("6.88")  # 55.04 / 8

    def test_unmapped_and_unpriced_items_are_quarantined_with_reasons(self) -> None:
        items = [Item(gpu_name="T4"), Item(price=None), Item(gpu_count=0)]
        offers, quarantined = offers_from_gpuhunt_items(items, date(2026, 11, 30))
        assert offers == []
        assert [q.reason for q in quarantined] == [
            "GPU 'T4' has no catalog id",
            "price None is not positive",
            "no GPU",
        ]

    def test_written_file_loads_back_as_user_offers(self, tmp_path: Path) -> None:
        offers, _ = offers_from_gpuhunt_items([Item()], date(2026, 11, 30))
        write_offers_csv(offers, tmp_path / "offers" / "gpuhunt_2026-11-30.csv")
        loaded = {o.id: o for o in load_offers([str(tmp_path)])}
        assert loaded["aws-p5.48xlarge-on-demand-2026-11-30"] == offers[0]
