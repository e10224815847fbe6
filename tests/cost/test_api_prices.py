"""API price sheets: the genai-prices adapter, lookup order, costing, unpriced tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import types as gp

from infercost.catalog.pricing import ApiPrice, ContextTier
from infercost.cost.api import (
    api_price,
    api_price_history,
    blended_usd_per_m,
    choose_api_price,
    from_genai_model,
    genai_prices_label,
    list_api_prices,
    monthly_usd,
    request_usd,
)
from infercost.errors import InputError, UnknownNameError

AT = datetime(2026, 6, 1, tzinfo=UTC)


def fake_provider(model: gp.ModelInfo) -> gp.Provider:
    return gp.Provider(
        id="acme",
        name="Acme",
        api_pattern="https://acme",
        pricing_urls=["https://acme/pricing"],
        models=[model],
    )


def tiered(base: str, above_200k: str) -> gp.TieredPrices:
    return gp.TieredPrices(base=Decimal(base), tiers=[gp.Tier(200_000, Decimal(above_200k))])


def tiered_sheet() -> ApiPrice:
    """$1.25 in / $10 out / $0.125 cached; above 200k prompt tokens $2.50 / $15 / $0.25."""
    model = gp.ModelInfo(
        id="acme-pro",
        match=gp.ClauseEquals(equals="acme-pro"),
        prices=gp.ModelPrice(
            input_mtok=tiered("1.25", "2.5"),
            output_mtok=tiered("10", "15"),
            cache_read_mtok=tiered("0.125", "0.25"),
        ),
        price_variants=[
            gp.PriceVariant(
                when={"processing": "batch"},
                prices=gp.ModelPrice(input_mtok=Decimal("0.625"), output_mtok=Decimal(5)),
            )
        ],
    )
    return from_genai_model(fake_provider(model), model, AT)


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


class TestGenaiAdapter:
    def test_tiers_batch_and_cache_are_carried(self) -> None:
        sheet = tiered_sheet()
        assert (sheet.usd_per_m_input, sheet.usd_per_m_output) == (Decimal("1.25"), Decimal(10))
        assert sheet.usd_per_m_cached_input == Decimal("0.125")
        assert sheet.context_tiers == (
            ContextTier(
                above_input_tokens=200_000,
                usd_per_m_input=Decimal("2.5"),
                usd_per_m_output=Decimal(15),
                usd_per_m_cached_input=Decimal("0.25"),
                # the batch variant lists no cache price: the standard one stays (0 off)
                batch_cached_input_discount=Decimal(0),
            ),
        )
        # batch output $5 vs $10 standard: 1 - 5/10 = 50 % off.
        assert sheet.batch_discount == Decimal("0.5")
        assert sheet.batch_cached_input_discount == Decimal(0)
        assert sheet.batch_cache_source.startswith("genai-prices ")
        assert sheet.source.startswith("genai-prices ")
        assert sheet.source.endswith("(https://acme/pricing)")

    def test_time_of_day_prices_quote_the_peak_whatever_the_clock(self) -> None:
        # DeepSeek-style: $0.27/$1.10 from 00:30 to 16:30 UTC, $0.135/$0.55 otherwise. The
        # sheet must not depend on when the command runs.
        model = gp.ModelInfo(
            id="acme-chat",
            match=gp.ClauseEquals(equals="acme-chat"),
            prices=[
                gp.ConditionalPrice(
                    prices=gp.ModelPrice(input_mtok=Decimal("0.135"), output_mtok=Decimal("0.55"))
                ),
                gp.ConditionalPrice(
                    constraint=gp.TimeOfDateConstraint(
                        start_time=time(0, 30, tzinfo=UTC), end_time=time(16, 30, tzinfo=UTC)
                    ),
                    prices=gp.ModelPrice(input_mtok=Decimal("0.27"), output_mtok=Decimal("1.1")),
                ),
            ],
        )
        for hour in (3, 20):
            at = datetime(2026, 6, 1, hour, tzinfo=UTC)
            sheet = from_genai_model(fake_provider(model), model, at)
            assert (sheet.usd_per_m_input, sheet.usd_per_m_output) == (
                Decimal("0.27"),
                Decimal("1.1"),
            )
            assert sheet.notes == (
                "time-of-day prices: the day's highest, in force 00:30-16:30 UTC, are quoted; "
                "$0.135/M input, $0.55/M output at other hours"
            )

    def test_conditional_price_in_force_sets_as_of(self) -> None:
        model = gp.ModelInfo(
            id="acme-mini",
            match=gp.ClauseEquals(equals="acme-mini"),
            prices=[
                gp.ConditionalPrice(
                    prices=gp.ModelPrice(input_mtok=Decimal(1), output_mtok=Decimal(4))
                ),
                gp.ConditionalPrice(
                    constraint=gp.StartDateConstraint(start_date=date(2026, 3, 1)),
                    prices=gp.ModelPrice(input_mtok=Decimal("0.5"), output_mtok=Decimal(2)),
                ),
            ],
        )
        sheet = from_genai_model(fake_provider(model), model, AT)
        assert (sheet.usd_per_m_input, sheet.as_of) == (Decimal("0.5"), date(2026, 3, 1))
        before = from_genai_model(fake_provider(model), model, datetime(2026, 1, 1, tzinfo=UTC))
        assert before.usd_per_m_input == Decimal(1)


class TestRequestUsd:
    def test_below_the_tier_pays_base_prices(self) -> None:
        # 100k x $1.25/M = $0.125; 1k x $10/M = $0.01; total $0.135.
        cost = request_usd(tiered_sheet(), 100_000, 1_000)
        assert cost.total_usd == Decimal("0.135")
        assert cost.tier_above_input_tokens is None

    def test_exactly_at_the_threshold_is_not_above_it(self) -> None:
        # 200,000 x 1.25 / 1e6 = $0.25 (the tier starts *above* 200k, as genai-prices bills).
        assert request_usd(tiered_sheet(), 200_000, 0).total_usd == Decimal("0.25")

    def test_above_the_tier_every_token_pays_the_tier(self) -> None:
        # 250k x $2.50/M = $0.625; 1k x $15/M = $0.015; total $0.64.
        cost = request_usd(tiered_sheet(), 250_000, 1_000)
        assert cost.total_usd == Decimal("0.64")
        assert cost.tier_above_input_tokens == 200_000

    def test_cached_tokens_count_toward_the_tier(self) -> None:
        # Prompt 150k uncached + 60k cached = 210k > 200k: tier prices.
        # 150,000 x 2.5 / 1e6 = 0.375; 60,000 x 0.25 / 1e6 = 0.015.
        cost = request_usd(tiered_sheet(), 150_000, 0, cached_input_tokens=60_000)
        assert (cost.input_usd, cost.cached_input_usd) == (Decimal("0.375"), Decimal("0.015"))

    def test_batch_discount_applies_to_every_kind(self) -> None:
        # (0.125 + 0.01) x (1 - 0.5) = 0.0675.
        assert request_usd(tiered_sheet(), 100_000, 1_000, batch=True).total_usd == Decimal(
            "0.0675"
        )

    def test_batch_without_a_published_discount_is_an_error(self) -> None:
        sheet = api_price("gpt-4o", use_genai_prices=False)  # article row: no batch column
        with pytest.raises(InputError, match="the batch price is not in the price data"):
            request_usd(sheet, 1, 1, batch=True)

    def test_without_a_cache_price_cached_tokens_pay_the_input_price(self) -> None:
        # Article row gpt-4o: $2.50/M input, no cache price: 1M cached tokens -> $2.50.
        sheet = api_price("gpt-4o", use_genai_prices=False)
        assert request_usd(sheet, 0, 0, cached_input_tokens=1_000_000).total_usd == Decimal("2.50")

    def test_unpublished_input_price_is_an_error_not_zero(self) -> None:
        sheet = api_price("claude-haiku", use_genai_prices=False)
        with pytest.raises(
            InputError,
            match=r"the input price is not in the price data \(textbook chapter 'Cost modeling "
            r"for inference.*not assumed to be \$0",
        ):
            request_usd(sheet, 1_000, 10)

    def test_output_only_traffic_can_use_an_output_only_sheet(self) -> None:
        sheet = api_price("claude-haiku", use_genai_prices=False)
        assert request_usd(sheet, 0, 1_000_000).total_usd == Decimal("1.25")

    def test_negative_tokens_are_refused(self) -> None:
        with pytest.raises(InputError, match="output_tokens"):
            request_usd(tiered_sheet(), 1, -1)


class TestLookup:
    def test_user_file_beats_genai_prices(self, tmp_path: Path) -> None:
        (tmp_path / "api_prices").mkdir()
        (tmp_path / "api_prices" / "contract.csv").write_text(
            "provider,model,usd_per_m_input,usd_per_m_output,as_of,source\n"
            "OpenAI,gpt-4o,2.00,8.00,2026-11-01,our contract\n"
        )
        sheet = api_price("gpt-4o", extra_dirs=[str(tmp_path)])
        assert (sheet.usd_per_m_input, sheet.source) == (Decimal("2.00"), "our contract")

    def test_genai_prices_beats_article_history(self) -> None:
        sheet = api_price("gpt-4o")
        assert sheet.source.startswith("genai-prices")
        assert sheet.usd_per_m_input is not None
        assert sheet.usd_per_m_output is not None
        assert 0 < sheet.usd_per_m_input < sheet.usd_per_m_output
        assert sheet.as_of <= date.today()

    def test_article_history_when_genai_prices_lacks_the_model(self) -> None:
        sheet = api_price("llama-70b", "Groq")
        assert (sheet.usd_per_m_input, sheet.usd_per_m_output) == (
            Decimal("0.59"),
            Decimal("0.79"),
        )
        assert sheet.as_of == date(2025, 1, 1)

    def test_newest_dated_sheet_wins_deepseek_v3(self) -> None:
        # Our 2025-01 article row says $0.07/$0.28 (its 0.07 is the cache-hit input price);
        # genai-prices prices DeepSeek's API name for V3, deepseek-chat, at $0.27/$1.10 and is
        # dated later, so it wins, with the reason and the name mapping said.
        for provider in (None, "deepseek", "DeepSeek"):
            choice = choose_api_price("deepseek-v3", provider)
            sheet = choice.price
            assert (sheet.model, sheet.usd_per_m_input, sheet.usd_per_m_output) == (
                "deepseek-chat",
                Decimal("0.27"),
                Decimal("1.1"),
            )
            assert sheet.as_of > date(2025, 1, 1)
            assert choice.reason == (
                f"newest dated sheet: {genai_prices_label()} as of {sheet.as_of} is newer than "
                "our history (article 'LLM inference economics: tokens per dollar' (early-2025 "
                "API table)) as of 2025-01-01"
            )
            assert [p.as_of for p in choice.considered] == [sheet.as_of, date(2025, 1, 1)]
            assert "genai-prices lists 'deepseek-v3' as 'deepseek-chat'" in sheet.notes

    @pytest.mark.parametrize("newer", [True, False])
    def test_history_and_genai_prices_compare_by_date(
        self, newer: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A shipped history row dated after genai-prices' sheet wins; on the same date
        # genai-prices does.
        genai = choose_api_price("gpt-4o").price
        as_of = date(genai.as_of.year + 1, 1, 1) if newer else genai.as_of
        row = ApiPrice(
            provider="OpenAI", model="gpt-4o", usd_per_m_input=Decimal("9"),
            usd_per_m_output=Decimal("99"), as_of=as_of, source="article X",
        )  # fmt: skip

        def history(dirs: object = None, *, shipped: bool = True) -> tuple[ApiPrice, ...]:
            return (row,) if shipped else ()

        monkeypatch.setattr("infercost.cost.api.load_api_prices", history)
        choice = choose_api_price("gpt-4o")
        label = genai_prices_label()
        if newer:
            assert choice.price.source == "article X"
            assert choice.reason == (
                f"newest dated sheet: our history (article X) as of {as_of} is newer than "
                f"{label} as of {genai.as_of}"
            )
        else:
            assert choice.price.source.startswith(label)
            assert choice.reason == (
                f"{label} and our history (article X) are both dated {as_of}; genai-prices is "
                "preferred (maintained, with cache and batch prices)"
            )

    def test_user_file_reason_names_the_override(self, tmp_path: Path) -> None:
        (tmp_path / "api_prices").mkdir()
        (tmp_path / "api_prices" / "contract.csv").write_text(
            "provider,model,usd_per_m_input,usd_per_m_output,as_of,source\n"
            "DeepSeek,deepseek-v3,0.20,0.90,2024-06-01,our contract\n"
        )
        choice = choose_api_price("deepseek-v3", extra_dirs=[str(tmp_path)])
        assert (choice.price.source, choice.price.usd_per_m_input) == (
            "our contract",
            Decimal("0.20"),
        )  # older than both other sheets, still chosen: it is what we pay
        assert choice.reason == (
            "your price file (INFERCOST_CATALOG_DIR/api_prices) overrides every other source"
        )

    def test_unknown_provider_lists_the_providers_that_price_the_model(self) -> None:
        with pytest.raises(UnknownNameError) as err:
            api_price("gpt-4o", "nope")
        message = str(err.value)
        assert message.startswith("Unknown API provider 'nope'. Providers that price 'gpt-4o': ")
        assert "OpenAI" in message and "Did you mean: gpt-4o" not in message
        assert "OpenAI" in err.value.candidates

    def test_known_provider_without_the_model_names_who_prices_it(self) -> None:
        with pytest.raises(
            UnknownNameError, match=r"^anthropic has no API price for 'gpt-4o' in any source\. "
        ):
            api_price("gpt-4o", "anthropic")

    def test_listing_an_unknown_provider_is_an_error_listing_providers(self) -> None:
        with pytest.raises(
            UnknownNameError, match=r"^Unknown API provider 'nope'\. Providers with API prices: "
        ) as err:
            list_api_prices("nope")
        assert "OpenAI" in str(err.value) and "DeepSeek" in str(err.value)

    def test_unpriced_model_is_an_error(self) -> None:
        with pytest.raises(UnknownNameError, match="api-price 'no-such-model-xyz'"):
            api_price("no-such-model-xyz")

    def test_history_is_oldest_first(self) -> None:
        dates = [p.as_of for p in api_price_history("gpt-4o")]
        assert dates == sorted(dates)
        assert dates[0] == date(2025, 1, 1)  # the article row


class TestBlendAndMonth:
    def test_blend_is_the_token_weighted_mean(self) -> None:
        # 25 % input at $1.25 + 75 % output at $10: 0.3125 + 7.5 = $7.8125/M.
        assert blended_usd_per_m(tiered_sheet(), 0.25) == Decimal("7.8125")

    def test_blend_share_outside_zero_one_is_refused(self) -> None:
        with pytest.raises(InputError, match="input_share"):
            blended_usd_per_m(tiered_sheet(), 1.5)

    def test_month_of_tokens(self) -> None:
        # 2M tok/day x 30 days = 60M tokens x $0.50/M = $30.
        assert monthly_usd(Decimal("0.50"), 2_000_000) == Decimal(30)

    def test_blend_at_a_long_prompt_uses_the_tier(self) -> None:
        # 25 % x $2.50 + 75 % x $15 = 0.625 + 11.25 = $11.875/M for 250k-token prompts.
        assert blended_usd_per_m(tiered_sheet(), 0.25, prompt_tokens=250_000) == Decimal("11.875")

    def test_blend_of_output_only_traffic_needs_no_input_price(self) -> None:
        sheet = api_price("claude-haiku", use_genai_prices=False)
        assert blended_usd_per_m(sheet, 0) == Decimal("1.25")
        with pytest.raises(InputError, match="input"):
            blended_usd_per_m(sheet, 0.5)


class TestBatchCachedInput:
    """What a batch does to cache reads, by provider (the bug: every kind was halved)."""

    def test_openai_gpt_4_1_batch_keeps_the_standard_cached_rate(self) -> None:
        # genai-prices 0.2.5, OpenAI gpt-4.1: $2/M input, $0.50/M cached, $8/M output; its
        # Batch table (verified 2026-10-14) lists $1/$4 and no cached-input rate, so cached
        # input stays at $0.50 in a batch.
        # 100k uncached x $1/M = $0.10; 400k cached x $0.50/M = $0.20; 10k output x $4/M
        # = $0.04; total $0.34 (halving the cached rate too gave $0.24).
        sheet = api_price("gpt-4.1", "openai")
        assert sheet.source.startswith("genai-prices ")
        assert (sheet.usd_per_m_input, sheet.usd_per_m_cached_input, sheet.usd_per_m_output) == (
            Decimal(2), Decimal("0.5"), Decimal(8),
        )  # fmt: skip
        cost = request_usd(sheet, 100_000, 10_000, cached_input_tokens=400_000, batch=True)
        assert (cost.input_usd, cost.cached_input_usd, cost.output_usd) == (
            Decimal("0.1"), Decimal("0.2"), Decimal("0.04"),
        )  # fmt: skip
        assert cost.total_usd == Decimal("0.34")

    def test_anthropic_batch_halves_cache_reads_and_writes(self) -> None:
        # genai-prices 0.2.5, Anthropic claude-sonnet-4-5: $3/M input, $0.30/M cache read,
        # $3.75/M cache write, $15/M output; Message Batches bill 50 % of every one.
        # Prompt 20k + 100k + 10k = 130k (< 200k, base tier):
        # 20k x $1.50/M = $0.03; 100k x $0.15/M = $0.015; 10k x $1.875/M = $0.01875;
        # 2k x $7.50/M = $0.015; total $0.07875.
        sheet = api_price("claude-sonnet-4-5", "anthropic")
        assert sheet.source.startswith("genai-prices ")
        assert (
            sheet.usd_per_m_input, sheet.usd_per_m_cached_input, sheet.usd_per_m_cache_write,
            sheet.usd_per_m_output,
        ) == (Decimal(3), Decimal("0.3"), Decimal("3.75"), Decimal(15))  # fmt: skip
        cost = request_usd(
            sheet, 20_000, 2_000, cached_input_tokens=100_000, cache_write_tokens=10_000,
            batch=True,
        )  # fmt: skip
        assert (cost.input_usd, cost.cached_input_usd, cost.cache_write_usd, cost.output_usd) == (
            Decimal("0.03"), Decimal("0.015"), Decimal("0.01875"), Decimal("0.015"),
        )  # fmt: skip
        assert cost.total_usd == Decimal("0.07875")

    def test_openai_gpt_5_batch_lists_a_halved_cached_rate(self) -> None:
        # genai-prices 0.2.5, gpt-5: cached $0.125/M standard, $0.0625/M in the Batch table.
        sheet = api_price("gpt-5", "openai")
        assert sheet.batch_multipliers() == (Decimal("0.5"), Decimal("0.5"), Decimal("0.5"))
        # 1M cached x $0.0625/M
        cost = request_usd(sheet, 0, 0, cached_input_tokens=1_000_000, batch=True)
        assert cost.cached_input_usd == Decimal("0.0625")

    def test_a_tier_keeps_its_own_published_batch_cached_rate(self) -> None:
        # genai-prices 0.2.5, gpt-5.4: batch cached $0.13 of $0.25 (rounded: 48 % off) below
        # 272k prompt tokens, $0.25 of $0.50 (50 % off) above. 300k uncached + 1M cached is
        # above: 1M x $0.25/M = $0.25 (not 1M x $0.50 x 0.52 = $0.26).
        sheet = api_price("gpt-5.4", "openai")
        cost = request_usd(sheet, 300_000, 0, cached_input_tokens=1_000_000, batch=True)
        assert cost.tier_above_input_tokens == 272_000
        assert cost.cached_input_usd == Decimal("0.25")
        below = request_usd(sheet, 0, 0, cached_input_tokens=100_000, batch=True)
        assert below.cached_input_usd == Decimal("0.013")  # 0.1M x $0.13/M

    def test_cached_tokens_without_a_cached_price_take_the_input_discount(self) -> None:
        # No cached price: cached tokens bill as input, $1/M x (1 - 0.5) = $0.50/M, even for a
        # model whose batch keeps the standard cached rate.
        sheet = ApiPrice(
            provider="OpenAI", model="gpt-4.1", usd_per_m_input=Decimal(1),
            usd_per_m_output=Decimal(4), batch_discount=Decimal("0.5"), as_of=date(2026, 1, 1),
            source="test sheet",
        )  # fmt: skip
        assert sheet.batch_cached_input_discount == Decimal(0)
        cost = request_usd(sheet, 0, 0, cached_input_tokens=1_000_000, batch=True)
        assert cost.cached_input_usd == Decimal("0.5")


class TestBatchCacheRules:
    """A price file with a batch discount and no batch cache columns: the sourced rule."""

    @staticmethod
    def sheet(provider: str, model: str, **kw: object) -> ApiPrice:
        values: dict[str, object] = {
            "provider": provider, "model": model, "usd_per_m_input": Decimal(2),
            "usd_per_m_cached_input": Decimal("0.5"), "usd_per_m_output": Decimal(8),
            "batch_discount": Decimal("0.5"), "as_of": date(2026, 11, 1), "source": "contract",
        }  # fmt: skip
        values.update(kw)
        return ApiPrice.model_validate(values)

    @pytest.mark.parametrize(
        ("provider", "model", "cached", "basis"),
        [
            ("OpenAI", "gpt-4.1", Decimal(1), "no batch cached-input rate for GPT-4.1"),
            ("openai", "gpt-4o-mini-2024-07-18", Decimal(1), "keeps its standard rate"),
            ("OpenAI", "o3", Decimal(1), "o-series"),
            ("OpenAI", "gpt-5.2", Decimal("0.5"), "GPT-5 and later"),
            ("Anthropic", "claude-opus-4-5", Decimal("0.5"), "cache reads and writes included"),
            ("Acme", "acme-1", Decimal("0.5"), "no rule for this provider"),
        ],
    )
    def test_rule_by_provider_and_model(
        self, provider: str, model: str, cached: Decimal, basis: str
    ) -> None:
        sheet = self.sheet(provider, model)
        multipliers = sheet.batch_multipliers()
        assert multipliers is not None and multipliers[1] == cached
        assert basis in sheet.batch_cache_source
        assert "as of" in sheet.batch_cache_source or provider == "Acme"

    def test_the_sheets_own_figures_win(self) -> None:
        sheet = self.sheet("OpenAI", "gpt-4.1", batch_cached_input_discount=Decimal("0.25"),
                           batch_cache_write_discount=Decimal(0))  # fmt: skip
        assert sheet.batch_multipliers() == (Decimal("0.5"), Decimal("0.75"), Decimal(1))
        assert sheet.batch_cache_source == "given by the sheet"

    def test_price_file_columns(self, tmp_path: Path) -> None:
        (tmp_path / "api_prices").mkdir()
        (tmp_path / "api_prices" / "contract.csv").write_text(
            "provider,model,usd_per_m_input,usd_per_m_output,usd_per_m_cached_input,"
            "batch_discount,batch_cached_input_discount,as_of,source\n"
            "OpenAI,gpt-4.1,2.00,8.00,0.50,0.5,0.2,2026-11-01,our contract\n"
        )
        sheet = api_price("gpt-4.1", extra_dirs=[str(tmp_path)])
        # 1M cached x $0.50/M x (1 - 0.2) = $0.40
        cost = request_usd(sheet, 0, 0, cached_input_tokens=1_000_000, batch=True)
        assert cost.cached_input_usd == Decimal("0.4")
        assert sheet.batch_cache_source.startswith("batch_cached_input_discount given by")


def test_long_context_tier_prices_cache_writes_too() -> None:
    # genai-prices 0.2.5, Anthropic claude-sonnet-4-5: cache write $3.75/M, $7.50/M above
    # 200,000 prompt tokens (input $3 -> $6). A prompt of 100 + 300,000 written tokens is in
    # the tier: 0.0001M x $6 + 0.3M x $7.50 = $0.0006 + $2.25 = $2.2506 (the tier's input
    # price applied and the base cache-write price kept gave $1.125 for the writes).
    sheet = api_price("claude-sonnet-4-5", "anthropic")
    (tier,) = [t for t in sheet.context_tiers if t.above_input_tokens == 200_000]
    assert tier.usd_per_m_cache_write == Decimal("7.5")
    cost = request_usd(sheet, 100, 0, cache_write_tokens=300_000)
    assert cost.cache_write_usd == Decimal("2.25")
    assert cost.total_usd == Decimal("2.2506")


def test_provider_slash_model_names_a_sheet() -> None:
    # QA: `api-price openai/gpt-4o-mini` was unknown while its suggestion list printed that
    # very spelling (the one usage reprice takes); it now names the same sheet as
    # --provider openai
    from infercost.cost.api import choose_api_price

    slash = choose_api_price("openai/gpt-4o-mini").price
    given = choose_api_price("gpt-4o-mini", "openai").price
    assert (slash.provider, slash.model, slash.usd_per_m_input) == (
        given.provider,
        given.model,
        given.usd_per_m_input,
    )
