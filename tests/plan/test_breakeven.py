"""Self-host vs API: worked example W2, the staircase crossing, no break-even, names."""

from __future__ import annotations

import pytest

from infercost.errors import InputError
from infercost.plan.breakeven import (
    BreakevenInputs,
    api_usd_per_month,
    breakeven,
    breakeven_tokens_per_day,
    inputs_from_names,
    replicas_for,
    self_host_cheaper_ranges,
    self_host_usd_per_month,
)
from infercost.units import HOURS_PER_MONTH


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


def w2(**changes: float) -> BreakevenInputs:
    """W2 inputs: API $2.50/M in, $10.00/M out, 50 % input; one H100 at $2.49/h serving
    1,500 tok/s; operations $5,000/month; the article's 730-hour GPU month and 30-day
    traffic month, passed explicitly (the default is one 730-hour month on both sides)."""
    values: dict[str, float] = {
        "api_input_usd_per_m": 2.5,
        "api_output_usd_per_m": 10.0,
        "input_share": 0.5,
        "gpu_hour_usd": 2.49,
        "tok_s": 1500.0,
        "ops_usd_per_month": 5000.0,
        "hours_per_month": 730.0,
        "days_per_month": 30.0,
    }
    values.update(changes)
    return BreakevenInputs(**values)  # type: ignore[arg-type]


class TestW2:
    def test_blend_and_self_host_per_million(self) -> None:
        # 0.5 x 2.50 + 0.5 x 10.00 = $6.25/M (article: $6.25). $2.49 ÷ (1,500 x 3,600 ÷ 1e6
        # = 5.4 M/h) = $0.4611/M (article: $0.46).
        inp = w2()
        assert inp.api_blended_usd_per_m == pytest.approx(6.25)
        assert inp.self_host_usd_per_m_full_load == pytest.approx(0.461111, rel=1e-5)

    @pytest.mark.parametrize(
        ("tokens_per_day", "api_usd"),
        [
            # V x 30 ÷ 1e6 x 6.25. The article printed 563, 5,625, 28,125, 56,250 and
            # 281,250: 30x these, the 30-day month counted twice.
            (100_000, 18.75),
            (1_000_000, 187.5),
            (5_000_000, 937.5),
            (10_000_000, 1875.0),
            (50_000_000, 9375.0),
        ],
    )
    def test_api_column(self, tokens_per_day: float, api_usd: float) -> None:
        assert float(api_usd_per_month(w2(), tokens_per_day)) == pytest.approx(api_usd)

    def test_self_host_column_and_capacity(self) -> None:
        # One GPU makes 1,500 x 86,400 = 129.6M tokens/day, so every volume in the table,
        # 50M included, needs one GPU: 2.49 x 730 = $1,817.70 + $5,000 = $6,817.70/month.
        # (The article's "2,700 + 5,000" at 50M/day implies 1.5 GPUs.)
        inp = w2()
        assert inp.capacity_tokens_per_day == pytest.approx(129.6e6)
        assert int(replicas_for(inp, 50e6)) == 1
        assert float(self_host_usd_per_month(inp, 100_000)) == pytest.approx(6817.70)
        assert float(self_host_usd_per_month(inp, 50e6)) == pytest.approx(6817.70)

    def test_break_even_volume(self) -> None:
        # 6,817.70 ÷ (30 x 6.25 ÷ 1e6 = 1.875e-4 $/month per token/day) = 36,361,066.7
        # tokens/day, inside the one-GPU step (<= 129.6M). The article concluded "roughly
        # 3-5 million tokens per day" from its 30x-too-high API column.
        be = breakeven_tokens_per_day(w2())
        assert be == pytest.approx(36_361_066.67, rel=1e-9)
        result = breakeven(w2())
        assert result.to_dict()["breakeven_tokens_per_day"] == be
        # the curves cross there: API below self-host just under it, above just over
        assert (
            float(api_usd_per_month(w2(), be * 0.99))
            < 6817.70
            < float(api_usd_per_month(w2(), be * 1.01))
        )


class TestOneMonth:
    def test_default_month_is_730_hours_on_both_sides(self) -> None:
        # Without the article's 30-day traffic month, the API line counts 730 ÷ 24 =
        # 30.4167 days: slope 30.4167 x 6.25 ÷ 1e6 = 1.90104e-4 $/month per token/day, and
        # the break-even 6,817.70 ÷ 1.90104e-4 = 35,862,969.86 tokens/day.
        inp = BreakevenInputs(2.5, 10.0, 0.5, 2.49, 1500.0, ops_usd_per_month=5000.0)
        assert inp.hours_per_month == 730.0
        assert inp.days_per_month == pytest.approx(730.0 / 24.0)
        assert breakeven_tokens_per_day(inp) == pytest.approx(35_862_969.86, rel=1e-9)


class TestStaircase:
    def test_crossing_on_the_second_step(self) -> None:
        # 300 tok/s per GPU: 25.92M tokens/day per replica. Step 1 (<= 25.92M): crossing at
        # 6,817.70 ÷ 1.875e-4 = 36.36M, beyond the step. Step 2 (25.92M, 51.84M]: two GPUs
        # 3,635.40 + 5,000 = 8,635.40 ÷ 1.875e-4 = 46,055,466.7 tokens/day, on the step.
        assert breakeven_tokens_per_day(w2(tok_s=300.0)) == pytest.approx(46_055_466.67)

    def test_never_when_a_replica_costs_more_than_the_api_for_its_tokens(self) -> None:
        # 100 tok/s: 8.64M tokens/day per GPU cost $1,817.70/month; the API charges
        # 8.64M x 1.875e-4 = $1,620 for them: every extra GPU loses, no break-even.
        assert breakeven_tokens_per_day(w2(tok_s=100.0)) is None
        assert breakeven(w2(tok_s=100.0)).to_dict()["breakeven_tokens_per_day"] is None

    def test_spares_peak_and_utilisation_raise_the_break_even(self) -> None:
        # N+1: two GPUs from the start: (2 x 1,817.70 + 5,000) ÷ 1.875e-4 = 46,055,466.7.
        assert breakeven_tokens_per_day(w2(spare_replicas=1)) == pytest.approx(46_055_466.67)
        # peak 3x average and at most 60 % use: capacity/day = 129.6M x 0.6 ÷ 3 = 25.92M,
        # the same staircase as 300 tok/s above.
        inp = w2(peak_to_average=3.0, max_utilization=0.6)
        assert inp.capacity_tokens_per_day == pytest.approx(25.92e6)
        assert breakeven_tokens_per_day(inp) == pytest.approx(46_055_466.67)

    def test_cached_input_lowers_the_api_blend(self) -> None:
        # half the input cached at $1.25: 0.5 x (0.5 x 2.5 + 0.5 x 1.25) + 0.5 x 10 = 5.9375
        inp = w2(api_cached_input_usd_per_m=1.25, cached_share=0.5)
        assert inp.api_blended_usd_per_m == pytest.approx(5.9375)


class TestInputs:
    @pytest.mark.parametrize(
        ("field", "value"),
        [("input_share", 1.5), ("tok_s", 0.0), ("gpu_hour_usd", -1.0), ("max_utilization", 0.0)],
    )
    def test_bad_values(self, field: str, value: float) -> None:
        with pytest.raises(InputError):
            w2(**{field: value})

    def test_cached_share_needs_a_price(self) -> None:
        with pytest.raises(InputError, match="cached-input"):
            w2(cached_share=0.5)

    def test_from_names(self) -> None:
        # gpt-4o at $2.50/$10.00 (genai-prices or our sheet); input share 1000/1300.
        inp = inputs_from_names(
            "llama-3.1-8b", "h100", 1000, 300, "gpt-4o", gpu_hour_usd=2.0, ops_usd_per_month=1000.0
        )
        assert inp.input_share == pytest.approx(1000 / 1300)
        assert inp.gpu_hour_usd == 2.0
        assert inp.api_output_usd_per_m > inp.api_input_usd_per_m > 0
        assert inp.ops_usd_per_month == 1000.0
        be = breakeven_tokens_per_day(inp)
        assert be is not None and be > 0


class TestManyCrossings:
    """Whole replicas make the costs cross more than once (issue 15's example): API $0.88/M
    flat against one $2/h GPU serving 1,000 tok/s, one day against 24 GPU-hours.
    API $/day = V x 0.88e-6; one replica $48/day carries 86.4M tok/day.
      1 replica : self-host cheaper from 48 / 0.88e-6 = 54,545,454.5 tok/day to 86.4M;
      2 replicas: $96 > API until 96 / 0.88e-6 = 109,090,909.1 tok/day (API cheaper again);
      from there on self-host wins: at 172.8M the 3rd replica ($144) is below the API's $152.06.
    """

    def inputs(self, **changes: float) -> BreakevenInputs:
        values: dict[str, float] = {
            "api_input_usd_per_m": 0.88,
            "api_output_usd_per_m": 0.88,
            "input_share": 0.5,
            "gpu_hour_usd": 2.0,
            "tok_s": 1000.0,
            "hours_per_month": 24.0,
            "days_per_month": 1.0,
        }
        values.update(changes)
        return BreakevenInputs(**values)  # type: ignore[arg-type]

    def test_every_crossing_and_range(self) -> None:
        from infercost.plan.breakeven import (
            crossings_tokens_per_day,
            self_host_cheaper_from_tokens_per_day,
            self_host_cheaper_ranges,
        )

        inp = self.inputs()
        assert crossings_tokens_per_day(inp) == pytest.approx([48 / 0.88e-6, 86.4e6, 96 / 0.88e-6])
        assert self_host_cheaper_from_tokens_per_day(inp) == pytest.approx(96 / 0.88e-6)
        ranges = self_host_cheaper_ranges(inp)
        assert ranges[0] == pytest.approx((48 / 0.88e-6, 86.4e6))
        assert ranges[1][1] is None
        # The first break-even stays the first crossing.
        assert breakeven_tokens_per_day(inp) == pytest.approx(48 / 0.88e-6)

    def test_the_curves_agree_with_the_ranges(self) -> None:
        inp = self.inputs()
        v = [60e6, 100e6, 120e6, 200e6, 1e9]
        api = api_usd_per_month(inp, v)
        own = self_host_usd_per_month(inp, v)
        # 60M and 120M+ self-host; 100M the API (inside (86.4M, 109.1M)).
        assert list(api < own) == [False, True, False, False, False]

    def test_json_carries_them(self) -> None:
        d = breakeven(self.inputs()).to_dict()
        assert d["crossings_tokens_per_day"] == pytest.approx([48 / 0.88e-6, 86.4e6, 96 / 0.88e-6])
        assert d["self_host_cheaper_from_tokens_per_day"] == pytest.approx(96 / 0.88e-6)
        assert d["ranges"][-1]["to_tokens_per_day"] is None

    def test_ops_cost_moves_the_last_crossing(self) -> None:
        """$60/day of ops: S_k = 48k + 60. Step 1 needs 108/0.88e-6 = 122.7M > 86.4M: no win.
        Step 2: 156/0.88e-6 = 177.3M > 172.8M: no win. Step 3: 204/0.88e-6 = 231.8M <= 259.2M:
        wins; step 4 from 252/0.88e-6 = 286.4M > 259.2M, so the API is cheaper again in
        between; k (a cap - g) = k x 28.032 >= 48 + 60 from k = 4, so step 5 wins from its
        start: ranges (231.8M, 259.2M], (286.4M, inf)."""
        from infercost.plan.breakeven import self_host_cheaper_ranges

        r = self_host_cheaper_ranges(self.inputs(ops_usd_per_month=60.0))
        assert r[0] == pytest.approx((204 / 0.88e-6, 3 * 86.4e6))
        assert r[1][0] == pytest.approx(252 / 0.88e-6)
        assert r[1][1] is None and len(r) == 2

    def test_no_crossing(self) -> None:
        from infercost.plan.breakeven import crossings_tokens_per_day

        assert crossings_tokens_per_day(self.inputs(gpu_hour_usd=10.0)) == []


def test_cache_writes_raise_the_api_side() -> None:
    """W2 with 20 % of input cached at $1.25/M and 10 % written at $3.125/M (1.25x input):
    input $/M = 0.7 x 2.50 + 0.2 x 1.25 + 0.1 x 3.125 = 1.75 + 0.25 + 0.3125 = 2.3125;
    blended = 0.5 x 2.3125 + 0.5 x 10 = 6.15625 (vs 6.25 with no caching)."""
    inp = w2(
        api_cached_input_usd_per_m=1.25, cached_share=0.2, api_cache_write_usd_per_m=3.125,
        cache_write_share=0.1,
    )  # fmt: skip
    assert inp.api_blended_usd_per_m == pytest.approx(6.15625)
    with pytest.raises(InputError, match="--cache-write-share needs"):
        w2(cache_write_share=0.1)
    with pytest.raises(InputError, match="at most 1"):
        w2(
            api_cached_input_usd_per_m=1.0, cached_share=0.7, api_cache_write_usd_per_m=3.0,
            cache_write_share=0.4,
        )  # fmt: skip


def test_names_the_choices_it_made() -> None:
    """With no --weight-dtype and no price option, the dtypes the search picked and the
    catalog offer (with its age) are named as assumptions (QA)."""
    inp = inputs_from_names("llama-3.1-8b", "H100", 1000, 300, "gpt-4o-mini")
    text = " | ".join(inp.assumptions)
    assert "chosen by the search" in text and "--weight-dtype" in text
    assert "GPU price from offer" in text and "days old" in text
    pinned = inputs_from_names(
        "llama-3.1-8b", "H100", 1000, 300, "gpt-4o-mini", weight_dtype="bf16", gpu_hour_usd=2.0
    )
    assert pinned.assumptions == ()


class TestVolumeRange:
    """Volumes lie in (0, 10^15] tokens/day: 1e30 made the replica count overflow int64
    (numpy's "invalid value encountered in cast" and -9223372036854775808 replicas)."""

    @pytest.mark.filterwarnings("error")
    def test_the_largest_volume_is_drawn(self) -> None:
        # 1e15 ÷ 129.6e6 tokens/day per replica = 7,716,049.4 -> 7,716,050 replicas.
        curve = breakeven(w2(), [1e15])
        assert curve.replicas.tolist() == [7_716_050]

    @pytest.mark.filterwarnings("error")
    @pytest.mark.parametrize("volume", [1e30, 1e18, 1.0000001e15])
    def test_beyond_it_is_refused_without_a_warning(self, volume: float) -> None:
        with pytest.raises(InputError) as exc:
            breakeven(w2(), [1e6, volume])
        assert str(exc.value) == (
            f"--volumes must be numbers of tokens per day in (0, 10^15], got {volume:g} "
            "(10^15 tokens/day is about 25x the traffic of the largest LLM provider)."
        )

    @pytest.mark.parametrize("volume", [0.0, -5.0, float("nan")])
    def test_zero_negative_and_nan_are_refused(self, volume: float) -> None:
        with pytest.raises(InputError, match=r"^--volumes must be .* in \(0, 10\^15\], got "):
            breakeven(w2(), [volume])


class TestCrossingSearchIsBounded:
    """The replica steps examined start where self-hosting can first win and are capped."""

    def test_steps_before_the_first_win_are_skipped(self) -> None:
        # $2/GPU-h at 1,000 tok/s: self-hosting at full load costs 2 / 3.6 = $0.5556/M; an
        # API at twice that makes one replica's tokens cost a cap = 2 g per month. Ops of
        # 10^4 replica-months (fixed = 10^4 g) are recovered on step k when
        # (k g + fixed) / a < k cap, i.e. k > 10^4: step 10,001 wins from
        # (10,001 + 10^4) / 2 = 10,000.5 replica capacities, and every later step wholly.
        sh = 2.0 / 3.6
        g = 2.0 * HOURS_PER_MONTH
        inp = BreakevenInputs(0.0, 2 * sh, 0.0, 2.0, 1000.0, ops_usd_per_month=1e4 * g)
        cap = inp.capacity_tokens_per_day
        ranges = self_host_cheaper_ranges(inp)
        assert len(ranges) == 1 and ranges[0][1] is None
        assert ranges[0][0] == pytest.approx(10_000.5 * cap, rel=1e-9)

    def test_prices_a_millionth_apart_are_refused_not_searched_for_ever(self) -> None:
        # a cap / g - 1 = 1e-6: the costs cross at about 10^6 replica steps
        sh = 2.0 / 3.6
        inp = BreakevenInputs(0.0, sh * (1 + 1e-6), 0.0, 2.0, 1000.0)
        with pytest.raises(InputError, match="too many to list"):
            self_host_cheaper_ranges(inp)
