"""Offers and API price sheets: parsing, validation errors, shipped snapshot, defaults."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from infercost.catalog import load_accelerators
from infercost.catalog.pricing import (
    API_PRICE_FIELDS,
    OFFER_FIELDS,
    Offer,
    default_gpu_hour_usd,
    default_offer,
    filter_offers,
    get_offer,
    load_api_prices,
    load_offers,
    parse_api_prices_csv,
    parse_as_of,
    parse_offers_csv,
)
from infercost.errors import CatalogError, UnknownNameError

HEADER = ",".join(OFFER_FIELDS)


def offers_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def make_offer(**kw: object) -> Offer:
    values: dict[str, object] = {
        "id": "x",
        "provider": "Cloud",
        "instance": "i",
        "gpu": "h100-sxm",
        "gpus_per_instance": 1,
        "pricing_kind": "on-demand",
        "usd_per_hour": Decimal("2"),
        "as_of": date(2025, 1, 1),
        "source": "test fixture",
    }
    values.update(kw)
    return Offer.model_validate(values)


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


class TestPublishedColumns:
    def test_offer_columns_are_pinned(self) -> None:
        assert OFFER_FIELDS == (
            "id", "provider", "instance", "gpu", "gpus_per_instance", "pricing_kind",
            "usd_per_hour", "usd_per_hour_low", "usd_per_hour_high", "region", "as_of",
            "source", "notes",
        )  # fmt: skip

    def test_api_price_columns_are_pinned(self) -> None:
        assert API_PRICE_FIELDS == (
            "provider", "model", "usd_per_m_input", "usd_per_m_output",
            "usd_per_m_cached_input", "usd_per_m_cache_write", "batch_discount",
            "batch_cached_input_discount", "batch_cache_write_discount",
            "context_tiers", "as_of", "source", "notes",
        )  # fmt: skip


class TestParseAsOf:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2025-12-08", date(2025, 12, 8)),
            ("2025-01", date(2025, 1, 1)),  # month only: the 1st (conservative for staleness)
            ("2026", date(2026, 1, 1)),
        ],
    )
    def test_partial_dates_read_as_first_day(self, text: str, expected: date) -> None:
        assert parse_as_of(text) == expected

    @pytest.mark.parametrize("text", ["Jan 2025", "2025-13", "2025/01/01", ""])
    def test_other_forms_are_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"as_of|month"):
            parse_as_of(text)


class TestParseOffers:
    def test_per_gpu_price_divides_instance_price(self) -> None:
        # p5.48xlarge: $98.32 per instance-hour for 8 H100 -> 98.32 / 8 = $12.29 per GPU-hour,
        # the per-GPU figure the early-2025 article prints.
        (offer,) = parse_offers_csv(
            offers_text("p5,AWS,p5.48xlarge,h100-sxm,8,on-demand,98.32,,,,2025-01,article,"),
            "f.csv",
        )
        assert offer.usd_per_gpu_hour == Decimal("12.29")
        assert offer.as_of == date(2025, 1, 1)

    def test_range_midpoint_keeps_low_and_high(self) -> None:
        (offer,) = parse_offers_csv(
            offers_text("s,AWS,p5,h100-sxm,8,spot,42.50,35,50,,2025-01,article,"), "f.csv"
        )
        assert (offer.usd_per_hour_low, offer.usd_per_hour, offer.usd_per_hour_high) == (
            Decimal(35),
            Decimal("42.50"),
            Decimal(50),
        )
        assert offer.is_range

    @pytest.mark.parametrize(
        ("row", "field_text"),
        [
            ("a,P,i,h100-sxm,1,hourly,2,,,,2025-01,src,", "pricing_kind"),
            ("a,P,i,h100-sxm,1,on-demand,-2,,,,2025-01,src,", "usd_per_hour"),
            ("a,P,i,h100-sxm,1,on-demand,two,,,,2025-01,src,", "usd_per_hour"),
            ("a,P,i,h100-sxm,0,on-demand,2,,,,2025-01,src,", "gpus_per_instance"),
            ("a,P,i,h100-sxm,1,on-demand,2,,,,Jan 2025,src,", "as_of"),
            ("a,P,i,h100-sxm,1,on-demand,2,,,,2025-01,,", "source"),
            ("a,P,i,h100-sxm,1,on-demand,5,1,3,,2025-01,src,", "outside its range"),
            ("a,P,i,h100-sxm,1,on-demand,2,1,,,2025-01,src,", "both"),
        ],
    )
    def test_bad_field_names_file_row_and_field(self, row: str, field_text: str) -> None:
        good = "ok,P,i,h100-sxm,1,on-demand,2,,,,2025-01,src,"
        with pytest.raises(CatalogError) as err:
            parse_offers_csv(offers_text(good, row), "user/offers.csv")
        message = str(err.value)
        assert "user/offers.csv, row 2" in message
        assert field_text in message

    def test_unknown_column_is_refused(self) -> None:
        with pytest.raises(CatalogError, match=r"unknown column.*price_per_gpu"):
            parse_offers_csv(HEADER + ",price_per_gpu\n", "f.csv")

    def test_missing_required_column_is_refused(self) -> None:
        with pytest.raises(CatalogError, match=r"missing required column.*usd_per_hour'"):
            parse_offers_csv("id,provider,instance,gpu,gpus_per_instance,pricing_kind,"
                             "as_of,source\n", "f.csv")  # fmt: skip


class TestParseApiPrices:
    HEADER = ",".join(API_PRICE_FIELDS)

    def test_context_tiers_parse(self) -> None:
        text = f"{self.HEADER}\nGoogle,g,1.25,10,0.125,,0.5,,,200000:2.5:15:0.25,2026-01-01,src,\n"
        (sheet,) = parse_api_prices_csv(text, "a.csv")
        (tier,) = sheet.context_tiers
        assert (tier.above_input_tokens, tier.usd_per_m_input, tier.usd_per_m_output) == (
            200_000,
            Decimal("2.5"),
            Decimal(15),
        )
        assert tier.usd_per_m_cached_input == Decimal("0.25")
        assert sheet.batch_discount == Decimal("0.5")

    @pytest.mark.parametrize(
        ("cells", "field_text"),
        [
            ("1,2,,,1.0,,,,", "batch_discount"),  # a 100 % discount is not a price
            ("1,2,,,0.5,-0.1,,,", "batch_cached_input_discount"),
            ("1,2,,,0.5,,1,,", "batch_cache_write_discount"),
            ("1,2,,,,,,200000:2.5,", "context_tiers"),
            ("1,2,,,,,,200000:x:3,", "context_tiers"),
            ("1,2,,,,,,300000:2:3;200000:2:3,", "ascending"),
            ("-1,2,,,,,,,", "usd_per_m_input"),
        ],
    )
    def test_bad_field_is_named(self, cells: str, field_text: str) -> None:
        text = f"{self.HEADER}\nP,m,{cells}2025-01,src,\n"
        with pytest.raises(CatalogError, match=f"a.csv, row 1.*{field_text}"):
            parse_api_prices_csv(text, "a.csv")


class TestShippedSnapshot:
    def test_every_offer_names_a_catalogued_accelerator(self) -> None:
        ids = {a.id for a in load_accelerators()}
        unknown = {o.id: o.gpu for o in load_offers() if o.gpu not in ids}
        assert unknown == {}

    def test_every_offer_is_sourced_and_dated_in_the_past(self) -> None:
        for o in load_offers():
            assert len(o.source) >= 3, o.id
            assert o.as_of <= date.today(), o.id

    def test_article_per_gpu_figures_follow_from_instance_prices(self) -> None:
        # The article prints per-GPU prices for the 8-GPU instances; instance / 8 must match
        # them to the cent: p4d 32.77/8 = 4.096 (4.10), p4d 1y 22.40/8 = 2.80,
        # p5 98.32/8 = 12.29, p5 1y 67.50/8 = 8.4375 (8.44).
        printed = {
            "aws-p4d.24xlarge-on-demand-2025-01": Decimal("4.10"),
            "aws-p4d.24xlarge-reserved-1y-2025-01": Decimal("2.80"),
            "aws-p5.48xlarge-on-demand-2025-01": Decimal("12.29"),
            "aws-p5.48xlarge-reserved-1y-2025-01": Decimal("8.44"),
        }
        for offer_id, per_gpu in printed.items():
            got = get_offer(offer_id).usd_per_gpu_hour
            assert abs(got - per_gpu) <= Decimal("0.005"), offer_id

    def test_bundled_per_gpu_quotes_are_whole_instances(self) -> None:
        # The source quotes MI300X at $6/GPU-h on Azure; the VM carries 8 GPUs: 8 x 6 = $48/h.
        azure = get_offer("azure-nd-mi300x-v5-on-demand-2026-05-18")
        assert (azure.gpus_per_instance, azure.usd_per_hour) == (8, Decimal(48))
        assert azure.usd_per_gpu_hour == Decimal(6)

    def test_api_history_has_every_article_row(self) -> None:
        # 17 rows in shared/reference/prices/api_prices_from_articles.csv.
        assert len(load_api_prices()) == 17

    def test_output_only_row_keeps_input_unpublished(self) -> None:
        (haiku,) = [p for p in load_api_prices() if p.model == "claude-haiku"]
        assert haiku.usd_per_m_input is None
        assert haiku.usd_per_m_output == Decimal("1.25")


class TestDefaultGpuHourUsd:
    def test_h100_is_the_lower_median_on_demand_offer(self) -> None:
        # On-demand H100 SXM offers dated within 180 days of the newest (2026-11-09), i.e.
        # from 2026-05-13, per-GPU prices sorted: 2.69 (RunPod Community 2026-11), 2.99
        # (Lambda 2026-05-18), 3.20 (Hyperstack 2026-08), 3.49 (RunPod 2026-05-18), 3.85
        # (Nebius 2026-09), 3.99 (RunPod Secure 2026-11-09), 3.99 (Lambda 8x 31.92/8,
        # 2026-09-25), 4.29 (Lambda 1x 2026-09), 6.155 (CoreWeave 49.24/8, 2026-09), 6.88
        # (AWS p5 55.04/8, 2026-11), 12.29 (Azure ND96isr 98.32/8, 2026-11): 11 offers, lower
        # median = (11 - 1) // 2 + 1 = 6th = 3.99, the tie going to the newer RunPod Secure.
        # (Over every date, 23 offers, it was the 2025-12-08 AWS $3.90 row: older offers
        # decided today's default.)
        result = default_gpu_hour_usd("h100-sxm")
        assert result is not None
        price, text = result
        assert price == pytest.approx(3.99)
        assert "runpod-h100-sxm-secure-on-demand-2026-11-09" in text
        assert "as of 2026-11-09" in text

    def test_accelerator_without_offers_has_no_default(self) -> None:
        assert default_gpu_hour_usd("tpu-v5e") is None

    @pytest.mark.parametrize(
        ("prices", "expected"),
        [(["1", "2", "3", "10"], "2"), (["9", "1", "5"], "5"), (["4"], "4")],
    )
    def test_lower_median_rule(self, prices: list[str], expected: str) -> None:
        pool = [make_offer(id=f"o{i}", usd_per_hour=Decimal(p)) for i, p in enumerate(prices)]
        chosen = default_offer("h100-sxm", pool)
        assert chosen is not None
        assert chosen.usd_per_hour == Decimal(expected)

    def test_spot_and_reserved_are_not_defaults(self) -> None:
        pool = [make_offer(pricing_kind="spot"), make_offer(pricing_kind="reserved-1y")]
        assert default_offer("h100-sxm", pool) is None


class TestUserFiles:
    def test_user_row_overrides_shipped_row_and_adds_new(self, tmp_path: Path) -> None:
        (tmp_path / "offers").mkdir()
        (tmp_path / "offers" / "negotiated.csv").write_text(
            offers_text(
                "lambda-1x-h100-on-demand-2025-01,Lambda,1x H100,h100-sxm,1,on-demand,1.00,,,,"
                "2026-11-01,our contract,",
                "mine,Colo,rack,h200-sxm,8,owned,20.00,,,,2026-11-01,our TCO,",
            )
        )
        offers = {o.id: o for o in load_offers([str(tmp_path)])}
        assert offers["lambda-1x-h100-on-demand-2025-01"].usd_per_hour == Decimal("1.00")
        assert offers["mine"].usd_per_gpu_hour == Decimal("2.5")  # 20.00 / 8
        assert len(offers) == len(load_offers([])) + 1

    def test_env_variable_is_read(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        (tmp_path / "offers").mkdir()
        (tmp_path / "offers" / "a.csv").write_text(
            offers_text("env-row,P,i,l4,1,on-demand,0.10,,,,2026-11-01,src,")
        )
        monkeypatch.setenv("INFERCOST_CATALOG_DIR", str(tmp_path))
        assert get_offer("ENV-ROW").usd_per_hour == Decimal("0.10")

    def test_missing_directory_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(CatalogError, match="does not exist"):
            load_offers([str(tmp_path / "nope")])

    def test_bad_user_row_names_the_user_file(self, tmp_path: Path) -> None:
        (tmp_path / "offers").mkdir()
        bad = tmp_path / "offers" / "bad.csv"
        bad.write_text(offers_text("b,P,i,l4,1,on-demand,0,,,,2026-11-01,src,"))
        with pytest.raises(CatalogError, match=r"bad.csv, row 1.*usd_per_hour"):
            load_offers([str(tmp_path)])


class TestLookup:
    def test_unknown_offer_suggests_close_ids(self) -> None:
        with pytest.raises(UnknownNameError) as err:
            get_offer("aws-p5.48xlarge-on-demand")
        assert "aws-p5.48xlarge-on-demand-2025-01" in err.value.candidates

    def test_filter_sorts_by_gpu_hour_price(self) -> None:
        chosen = filter_offers(load_offers(), gpu="a100-80gb-sxm", pricing_kind="on-demand")
        # Lambda 1.10, RunPod Community 1.39, Lambda 1.48, Hyperstack 1.60, RunPod Secure 1.79,
        # generic 2.50, CoreWeave 21.60/8 = 2.70, Lambda 8x 22.32/8 = 2.79,
        # AWS p4de 27.44705/8 = 3.43088125.
        assert [o.usd_per_gpu_hour for o in chosen] == [
            Decimal("1.10"),
            Decimal("1.39"),
            Decimal("1.48"),
            Decimal("1.60"),
            Decimal("1.79"),
            Decimal("2.50"),
            Decimal("2.70"),
            Decimal("2.79"),
            Decimal("3.43088125"),
        ]


class TestStaleness:
    def test_flag_turns_on_after_the_limit(self) -> None:
        offer = make_offer(as_of=date(2025, 1, 1))
        # 2025-01-01 + 180 days = 2025-06-30 (31+28+31+30+31 = 151 days to June 1, +29).
        assert not offer.is_stale(date(2025, 6, 30))
        assert offer.is_stale(date(2025, 7, 1))
        assert offer.to_dict(date(2025, 7, 1))["age_days"] == 181
