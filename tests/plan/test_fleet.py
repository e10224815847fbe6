"""Fleet sizing: worked example W5, autoscaling lag, the purchase mix, traffic inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import infercost.plan.fleet as fleet_module
from infercost.errors import InputError
from infercost.plan.fleet import FleetPlan, Replica, autoscaled, replica_from_search, size_fleet
from infercost.plan.traffic import diurnal_profile, normalise_profile, traffic

# Two-level day used by several tests: hours 0-11 at weight 1, hours 12-23 at weight 3;
# normalised to mean 1 that is 0.5 and 1.5.
TWO_LEVEL = [1.0] * 12 + [3.0] * 12


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


class TestW5CapacityPlanningRubric:
    """W5: 1M users x 10 sessions/day x 500 output tokens; peak = 3x average; 1,000 tok/s per
    H100; +30 % headroom; $2/GPU-hour; 30-day month."""

    def plan(self) -> FleetPlan:
        t = traffic(isl=0, osl=500, requests_per_day=1_000_000 * 10, peak_to_average=3.0)
        return size_fleet(t, Replica(1000.0, 1, 2.0), headroom=0.3, days_per_month=30.0)

    def test_average_and_peak(self) -> None:
        # 1e6 x 10 x 500 = 5e9 output tokens/day ÷ 86,400 s = 57,870.4 tok/s (article
        # "~58k"); x 3 = 173,611.1 tok/s (article "~175k", rounded up before dividing).
        p = self.plan()
        assert p.average_output_tok_s == pytest.approx(57_870.370, rel=1e-6)
        assert p.peak_output_tok_s == pytest.approx(173_611.111, rel=1e-6)

    def test_gpus_cost_and_price_per_million(self) -> None:
        # ceil(173,611.1 x 1.3 ÷ 1,000) = ceil(225.69) = 226 GPUs (article "~225": it took
        # 175 GPUs, then 175 x 1.3 = 227.5, and printed ~225).
        # $/month = 226 x $2 x 24 h x 30 d = $325,440 (article ~$324k = 225 x 2 x 720).
        # $/M = 325,440 ÷ (5e9 x 30 ÷ 1e6 = 150,000 M) = $2.1696 (article ~$2.16, from 225).
        p = self.plan()
        assert p.static_replicas == 226
        assert p.static_gpus == 226
        assert p.static_usd_per_month == pytest.approx(325_440.0)
        assert p.static_usd_per_m_output == pytest.approx(2.1696)
        # over the default 730-hour billing month: 226 x $2 x 730 = $329,960; $/M unchanged
        # (both the bill and the tokens scale with the month)
        t = traffic(isl=0, osl=500, requests_per_day=1e7, peak_to_average=3.0)
        default = size_fleet(t, Replica(1000.0, 1, 2.0), headroom=0.3)
        assert default.days_per_month == pytest.approx(730.0 / 24.0)
        assert default.static_usd_per_month == pytest.approx(329_960.0)
        assert default.static_usd_per_m_output == pytest.approx(2.1696)
        # utilisation = 57,870.4 ÷ 226,000 = 25.6 %: idle hours are paid (the static fleet
        # is sized for the peak)
        assert p.static_utilization == pytest.approx(57_870.370 / 226_000, rel=1e-6)
        # without headroom: ceil(173.61) = 174 GPUs
        t = traffic(isl=0, osl=500, requests_per_day=1e7, peak_to_average=3.0)
        assert size_fleet(t, Replica(1000.0, 1, 2.0), headroom=0.0).static_replicas == 174

    def test_one_replica_of_70b_bf16_needs_more_than_one_h100(self) -> None:
        # The same chapter says a 70B model in bf16 does not fit one 80 GB H100; asked for a
        # one-GPU replica the product refuses and names the smallest replica that holds it
        # (two GPUs at TP2: 70.55 GB of weights each; see test_search.py).
        with pytest.raises(InputError, match=r"smallest replica that holds it is 2x h100-sxm"):
            replica_from_search(
                "llama-3.1-70b",
                "h100",
                1000,
                500,
                weight_dtype="bf16",
                num_gpus=1,
                gpu_hour_usd=2.0,
            )


class TestProfiles:
    def test_two_level_profile_normalises_to_mean_one(self) -> None:
        assert normalise_profile(TWO_LEVEL).tolist() == [0.5] * 12 + [1.5] * 12

    def test_diurnal_profile_has_the_asked_ratio(self) -> None:
        for ratio in (1.0, 1.5, 3.0, 6.0):
            w = diurnal_profile(ratio, peak_hour=14)
            assert w.mean() == pytest.approx(1.0)
            assert w.max() / w.mean() == pytest.approx(ratio, rel=1e-9)
            assert int(np.argmax(w)) == 14 or ratio == 1.0

    @pytest.mark.parametrize("bad", [[1.0] * 23, [-1.0] + [1.0] * 23, [0.0] * 24])
    def test_bad_profiles(self, bad: list[float]) -> None:
        with pytest.raises(InputError):
            normalise_profile(bad)

    def test_ratio_out_of_range(self) -> None:
        with pytest.raises(InputError, match=r"\[1, 24\)"):
            diurnal_profile(0.5)


class TestTraffic:
    def test_volumes_convert_to_output_tokens(self) -> None:
        # requests x osl; all tokens x osl ÷ (isl + osl): 1e6 tokens at 300:100 -> 250,000.
        assert traffic(isl=300, osl=100, requests_per_day=10).output_tokens_per_day == 1000
        assert traffic(isl=300, osl=100, tokens_per_day=1e6).output_tokens_per_day == 250_000

    def test_growth_sizes_the_end_of_the_horizon(self) -> None:
        # 10 %/month for 3 months: x 1.331.
        t = traffic(isl=0, osl=100, output_tokens_per_day=1e6, growth_per_month=0.1, months=3)
        assert t.sized_output_tokens_per_day == pytest.approx(1.331e6)

    def test_exactly_one_volume(self) -> None:
        with pytest.raises(InputError, match="exactly one"):
            traffic(isl=0, osl=100, requests_per_day=1, tokens_per_day=1)
        with pytest.raises(InputError, match="exactly one"):
            traffic(isl=0, osl=100)


class TestAutoscaling:
    def test_lag_starts_replicas_early(self) -> None:
        # Load 100 tok/s in hours 0-11 and 300 in hours 12-23 (average 200 = 17.28M/day);
        # 100 tok/s per replica, no headroom: 1 then 3 replicas. With a 30-minute start-up
        # lag the 3 replicas run from minute 690 (11:30) to the end of the day:
        # 750 minutes at 3 and 690 at 1 -> (2,250 + 690) ÷ 60 = 49 replica-hours per day,
        # against 3 x 24 = 72 for the static fleet.
        t = traffic(isl=0, osl=100, output_tokens_per_day=200 * 86_400, profile=TWO_LEVEL)
        p = size_fleet(
            t, Replica(100.0, 1, 1.0), headroom=0.0, autoscaling_lag_min=30, days_per_month=30.0
        )
        assert p.static_replicas == 3
        assert p.autoscaled_replicas[689] == 1 and p.autoscaled_replicas[690] == 3
        assert p.autoscaled_replica_hours_per_day == pytest.approx(49.0)
        # $/month at $1/replica-hour over 30 days: 49 x 30 = 1,470; utilisation:
        # 200 x 86,400 tokens ÷ (49 h x 3,600 x 100) = 97.96 %
        assert p.autoscaled_usd_per_month == pytest.approx(1470.0)
        assert p.autoscaled_utilization == pytest.approx(17.28e6 / (49 * 3600 * 100))

    def test_window_wraps_around_midnight(self) -> None:
        # needed: 5 at minute 0 only, else 1; lag 10 min, no delay: minutes 1430-1439 see
        # minute 0 of the next day within their window -> 5.
        need = np.ones(1440, dtype=np.int64)
        need[0] = 5
        run = autoscaled(need, 10, 0, 1)
        assert run[1429] == 1 and run[1430] == 5 and run[0] == 5 and run[1] == 1


class TestPurchaseMix:
    def test_reserved_baseline_bursts_on_demand(self) -> None:
        # The autoscaled day above: 1 replica for 690 min, 3 for 750 min (49 replica-h).
        # Reserved $0.6/h, on-demand $1.0/h, daily cost by reserved count R:
        # R=0: 49 x 1.0 = 49.0; R=1: 24 x 0.6 + (750 x 2 ÷ 60 = 25 h) x 1.0 = 39.4;
        # R=2: 28.8 + 12.5 = 41.3; R=3: 43.2. Best R = 1: 39.4 x 30 = $1,182/month.
        # (Replica #2 is needed 750/1440 = 52 % of the day, below 0.6/1.0 = 60 %.)
        t = traffic(isl=0, osl=100, output_tokens_per_day=200 * 86_400, profile=TWO_LEVEL)
        p = size_fleet(
            t,
            Replica(100.0, 1, 1.0, reserved_usd_per_gpu_hour=0.6),
            headroom=0.0,
            autoscaling_lag_min=30,
            days_per_month=30.0,
        )
        assert p.mix is not None
        assert p.mix.reserved_replicas == 1
        assert p.mix.cost_by_reserved_usd_per_month.tolist() == pytest.approx(
            [49.0 * 30, 39.4 * 30, 41.3 * 30, 43.2 * 30]
        )
        assert p.mix.usd_per_month == pytest.approx(1182.0)
        assert p.mix.all_on_demand_usd_per_month == pytest.approx(1470.0)

    def test_spot_takes_its_share_of_the_burst(self) -> None:
        # Spot $0.5/h for at most half the burst: burst rate 0.5 x 0.5 + 0.5 x 1.0 = 0.75.
        # R=0: 36.75; R=1: 14.4 + 25 x 0.75 = 33.15; R=2: 28.8 + 9.375 = 38.175 -> R = 1,
        # spot 12.5 replica-h/day, on-demand 12.5.
        t = traffic(isl=0, osl=100, output_tokens_per_day=200 * 86_400, profile=TWO_LEVEL)
        r = Replica(100.0, 1, 1.0, reserved_usd_per_gpu_hour=0.6, spot_usd_per_gpu_hour=0.5)
        p = size_fleet(
            t, r, headroom=0.0, autoscaling_lag_min=30, max_spot_share=0.5, days_per_month=30.0
        )
        assert p.mix is not None
        assert p.mix.reserved_replicas == 1
        assert p.mix.spot_replica_hours_per_day == pytest.approx(12.5)
        assert p.mix.usd_per_month == pytest.approx(33.15 * 30)

    def test_no_mix_without_reserved_or_spot_prices(self) -> None:
        t = traffic(isl=0, osl=100, output_tokens_per_day=1e6)
        assert size_fleet(t, Replica(100.0, 1, 1.0)).mix is None


class TestInputErrors:
    def test_bad_options(self) -> None:
        t = traffic(isl=0, osl=100, output_tokens_per_day=1e6)
        with pytest.raises(InputError, match="headroom"):
            size_fleet(t, Replica(100.0, 1, 1.0), headroom=-0.1)
        with pytest.raises(InputError, match="positive"):
            Replica(0.0, 1, 1.0)
        assert math.isfinite(size_fleet(t, Replica(100.0, 1, 1.0)).static_usd_per_month)


class TestLargeFleets:
    def test_purchase_mix_of_a_huge_fleet_is_exact_and_bounded(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The same day forced through the bounded path (threshold 1): only R = 0 and the fleet
        # sizes of the day (1 and 3) are evaluated, and the optimum R = 1 at $1,182 is kept.
        monkeypatch.setattr(fleet_module, "MAX_RESERVED_OPTIONS", 1)
        t = traffic(isl=0, osl=100, output_tokens_per_day=200 * 86_400, profile=TWO_LEVEL)
        r = Replica(100.0, 1, 1.0, reserved_usd_per_gpu_hour=0.6)
        p = size_fleet(t, r, headroom=0.0, autoscaling_lag_min=30, days_per_month=30.0)
        assert p.mix is not None
        assert p.mix.reserved_options.tolist() == [0, 1, 3]
        assert p.mix.cost_by_reserved_usd_per_month.tolist() == pytest.approx(
            [49.0 * 30, 39.4 * 30, 43.2 * 30]
        )
        assert p.mix.reserved_replicas == 1
        assert p.mix.usd_per_month == pytest.approx(1182.0)

    def test_nine_hundred_thousand_replicas_do_not_allocate_per_replica(self) -> None:
        # 6e10 output tokens/day at 1 tok/s per replica: ceil(6e10 ÷ 86,400 x 1.3) = 902,778
        # replicas all day; the mix evaluates R = 0 and the sizes that occur, not one option
        # per replica (it once asked numpy for 112 GiB).
        t = traffic(isl=0, osl=500, output_tokens_per_day=6e10)
        p = size_fleet(t, Replica(1.0, 1, 2.0, reserved_usd_per_gpu_hour=1.0))
        assert p.static_replicas == 902_778
        assert p.mix is not None and p.mix.reserved_replicas == 902_778
        assert p.mix.reserved_options.size == 2

    def test_a_fleet_beyond_any_built_is_an_input_error(self) -> None:
        # 1e15 tokens/day ÷ 86,400 s = 1.16e10 tok/s at 1 tok/s per replica x 1.3: 1.5e10
        # replicas (the QA case: 2.26 billion GPUs answered with exit 0); the bound is 10^6.
        t = traffic(isl=0, osl=500, output_tokens_per_day=1e15)
        with pytest.raises(InputError, match=r"needs more than 1,000,000 replicas"):
            size_fleet(t, Replica(1.0, 1, 2.0))

    def test_growth_past_the_largest_volume_is_refused_before_it_overflows(self) -> None:
        # 1e9 x 1.5^600: log10(1.5) x 600 = 105.65, + 9 = 114.65 (the float ** would be
        # 1e114, and 11^400 of the QA report overflowed to OverflowError).
        with pytest.raises(InputError) as exc:
            traffic(isl=0, osl=500, output_tokens_per_day=1e9, growth_per_month=0.5, months=600)
        assert str(exc.value) == (
            "--growth-per-month 0.5 over --months 600 multiplies the volume by 1.5^600 = "
            "10^105.7, to 10^114.7 output tokens/day at the end of the horizon, beyond 10^18 "
            "(far beyond all traffic in the world); use a smaller --growth-per-month or "
            "--months."
        )
        with pytest.raises(InputError, match=r"11\^400 = 10\^416\.6"):
            traffic(isl=0, osl=1, output_tokens_per_day=1, growth_per_month=10, months=400)

    def test_growth_up_to_the_largest_volume_is_kept(self) -> None:
        # 1e6 x 2^39 = 5.50e17 <= 1e18 is sized; 1e6 x 2^40 = 1.0995e18 is not.
        t = traffic(isl=0, osl=1, output_tokens_per_day=1e6, growth_per_month=1, months=39)
        assert t.sized_output_tokens_per_day == pytest.approx(1e6 * 2**39)
        with pytest.raises(InputError, match="beyond 10\\^18"):
            traffic(isl=0, osl=1, output_tokens_per_day=1e6, growth_per_month=1, months=40)

    def test_horizon_is_at_most_fifty_years(self) -> None:
        # --months 1e9 allocated a 7.45 GiB month axis.
        with pytest.raises(InputError) as exc:
            traffic(isl=0, osl=500, output_tokens_per_day=1e9, months=1e9)
        assert str(exc.value) == (
            "--months must lie in [0, 600] (a horizon of at most 50 years), got 1000000000.0."
        )


class TestAssumptionsAreNamed:
    """Issue 15: every figure resting on something the user did not give says so."""

    def test_catalog_prices_dtypes_and_flat_day_are_named(self) -> None:
        from infercost.plan.fleet import replica_from_search
        from infercost.plan.traffic import FLAT_ASSUMED

        replica, w = replica_from_search("llama-3.1-8b", "H100", 1000, 300, gpu_hour_usd=2.0)
        text = " | ".join(replica.assumptions)
        assert f"weights {w.weight_dtype} chosen by the search" in text
        assert "--weight-dtype" in text and "--kv-dtype" in text
        plan = size_fleet(traffic(isl=1000, osl=300, requests_per_day=1e6), replica)
        assert FLAT_ASSUMED in plan.assumptions
        assert plan.to_dict()["assumptions"] == list(plan.assumptions)

    def test_a_spot_price_above_the_users_on_demand_is_left_out(self) -> None:
        """The catalog's cheapest H100 spot offer is above $1/GPU-h, so at a user on-demand
        rate of $1 it must not enter the mix; the note says so."""
        from infercost.plan.fleet import replica_from_search

        replica, _ = replica_from_search(
            "llama-3.1-8b", "H100", 1000, 300, gpu_hour_usd=1.0, weight_dtype="bf16",
            kv_dtype="bf16",
        )  # fmt: skip
        assert replica.spot_usd_per_gpu_hour is None
        assert any("spot left out of the mix" in a for a in replica.assumptions)
        assert not any("chosen by the search" in a for a in replica.assumptions)

    def test_a_kind_with_only_old_offers_is_left_out_of_the_mix(self) -> None:
        """A reserved price from another year does not set today's mix (QA, issue 15)."""
        from datetime import date
        from decimal import Decimal

        from infercost.catalog.pricing import Offer

        def offer(oid: str, kind: str, usd: str, day: date) -> Offer:
            return Offer.model_validate(
                {"id": oid, "provider": "Cloud", "instance": "i", "gpu": "h100-sxm",
                 "gpus_per_instance": 1, "pricing_kind": kind, "usd_per_hour": Decimal(usd),
                 "as_of": day, "source": "test fixture"}
            )  # fmt: skip

        # The GPU's newest offer is 2026-11-01. Reserved's only offer, 2026-01-01, is 304 days
        # older (> 180): not current, so reserved is not in the mix even though its $1.50 is
        # below on-demand. Spot of 2026-10-01 is 31 days older: current, $2.00 per GPU-hour
        # on a 1-GPU instance, below the $10 on-demand rate, so it enters.
        offers = [
            offer("od", "on-demand", "3", date(2026, 11, 1)),
            offer("res", "reserved-1y", "1.5", date(2026, 1, 1)),
            offer("spot", "spot", "2", date(2026, 10, 1)),
        ]
        replica, _ = replica_from_search(
            "llama-3.1-8b", "H100", 1000, 300, gpu_hour_usd=10.0, weight_dtype="bf16",
            kv_dtype="bf16", num_gpus=1, offers=offers,
        )  # fmt: skip
        assert replica.reserved_usd_per_gpu_hour is None
        assert replica.spot_usd_per_gpu_hour == pytest.approx(2.0)
        assert (
            "no current reserved offer for h100-sxm: the newest, res (as of 2026-01-01), is "
            "more than 180 days older than the GPU's newest offer (2026-11-01); reserved not in "
            "the mix (give --reserved-usd-per-gpu-hour to price it)"
        ) in replica.assumptions
        # Moved to 2026-05-05 (180 days before 2026-11-01: inside the window) it is current.
        offers[1] = offer("res", "reserved-1y", "1.5", date(2026, 5, 5))
        replica, _ = replica_from_search(
            "llama-3.1-8b", "H100", 1000, 300, gpu_hour_usd=10.0, weight_dtype="bf16",
            kv_dtype="bf16", num_gpus=1, offers=offers,
        )  # fmt: skip
        assert replica.reserved_usd_per_gpu_hour == pytest.approx(1.5)

    def test_a_given_shape_is_not_an_assumption(self) -> None:
        from infercost.plan.traffic import FLAT_ASSUMED

        t = traffic(isl=1000, osl=300, requests_per_day=1e6, peak_to_average=2.0)
        assert t.shape != FLAT_ASSUMED
        plan = size_fleet(t, Replica(1000.0, 1, 2.0))
        assert plan.assumptions == ()


def test_growth_without_a_horizon_is_refused() -> None:
    # --growth-per-month alone changed nothing (QA): the growth acts over --months
    with pytest.raises(InputError, match="only applies with --months"):
        traffic(isl=0, osl=500, output_tokens_per_day=1e9, growth_per_month=0.5)
    # with a horizon it sizes the grown volume: 1e9 x 1.5^2 = 2.25e9 tokens/day
    t = traffic(isl=0, osl=500, output_tokens_per_day=1e9, growth_per_month=0.5, months=2)
    assert t.growth_factor == pytest.approx(2.25)


def test_spot_instances_are_shared_by_the_fleets_replicas() -> None:
    # QA: "spot left out ... $9.86/GPU-h from coreweave-hgx-h100-spot-2026-09-20 ... not below
    # the on-demand $3.99": 19.71 (one 8-GPU instance) ÷ 2 charged a whole instance to each
    # 2-GPU replica. Llama-3.1-70B on H100: 1e6 requests/day x 300 ÷ 86,400 = 3,472 tok/s;
    # peak 2 x 3,472 = 6,944 tok/s; x 1.3 ÷ 3,069 tok/s per replica -> ceil(2.94) = 3
    # replicas x 2 GPUs = 6 GPUs, packed into ceil(6 / 8) = 1 instance: $19.71 ÷ 6 =
    # $3.285 per used GPU-hour, below on-demand $3.99, so spot enters the mix.
    import json

    from typer.testing import CliRunner

    from infercost.cli import app

    args = ["plan", "fleet", "--model", "llama-3.1-70b", "--gpu", "H100", "--isl", "1000",
            "--osl", "300", "--requests-per-day", "1e6", "--peak-to-average", "2"]  # fmt: skip
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["static_replicas"] == 3 and d["replica"]["gpus"] == 2
    assert d["replica"]["spot_usd_per_gpu_hour"] == pytest.approx(19.71 / 6)
    text = CliRunner().invoke(app, args, env={"COLUMNS": "300"}).output
    assert "spot $3.29/GPU-h from catalog offer coreweave-hgx-h100-spot-2026-09-20" in text
    assert "includes bundling: the fleet's 3 replica(s) x 2 GPU(s) = 6 GPUs at peak" in text
    assert "$9.86" not in text
