"""Hybrid overflow: the best own baseline under a two-level day, derived by hand."""

from __future__ import annotations

import pytest

import infercost.plan.hybrid as hybrid_module
from infercost.errors import InputError
from infercost.plan.hybrid import hybrid
from infercost.plan.traffic import diurnal_profile

TWO_LEVEL = [1.0] * 12 + [3.0] * 12  # normalised: 0.5 for hours 0-11, 1.5 for 12-23


class TestHybrid:
    def test_interior_optimum(self) -> None:
        # 17.28M tokens/day = 200 tok/s on average: 100 tok/s for 12 h, 300 tok/s for 12 h.
        # Replica: 100 tok/s at $1/h paid all day; API $4/M; 30 days.
        # B=0: 17.28M x 30 ÷ 1e6 x 4 = $2,073.60.
        # B=1: 720 + (200 tok/s x 3,600 x 12 = 8.64M/day -> $1,036.80) = $1,756.80.
        # B=2: 1,440 + (100 x 3,600 x 12 = 4.32M/day -> $518.40) = $1,958.40.
        # B=3: 2,160 (everything in-house). Best: one replica.
        h = hybrid(17.28e6, 100.0, 1.0, 4.0, profile=TWO_LEVEL, days_per_month=30.0)
        assert h.baselines.tolist() == [0, 1, 2, 3]
        assert h.usd_per_month.tolist() == pytest.approx([2073.6, 1756.8, 1958.4, 2160.0])
        assert h.best_replicas == 1
        d = h.to_dict()
        assert d["saving_vs_pure_api_usd_per_month"] == pytest.approx(316.8)
        assert d["saving_vs_pure_self_host_usd_per_month"] == pytest.approx(403.2)
        # one replica leaves 8.64M of 17.28M tokens to the API: 50 %
        assert d["best_api_share"] == pytest.approx(0.5)

    def test_ops_cost_only_when_self_hosting(self) -> None:
        # $500/month of operations lifts every B >= 1: B=1 -> 2,256.80 > pure API 2,073.60.
        h = hybrid(
            17.28e6,
            100.0,
            1.0,
            4.0,
            profile=TWO_LEVEL,
            ops_usd_per_month=500.0,
            days_per_month=30.0,
        )
        assert h.best_replicas == 0
        assert h.usd_per_month[1] == pytest.approx(2256.8)

    def test_expensive_api_means_all_in_house(self) -> None:
        # at $10/M: B=0 5,184; B=1 720 + 2,592 = 3,312; B=2 1,440 + 1,296 = 2,736; B=3 2,160
        h = hybrid(17.28e6, 100.0, 1.0, 10.0, profile=TWO_LEVEL, days_per_month=30.0)
        assert h.best_replicas == 3
        assert h.pure_self_host_usd_per_month == pytest.approx(2160.0)

    def test_bad_input(self) -> None:
        with pytest.raises(InputError, match="positive"):
            hybrid(0.0, 100.0, 1.0, 4.0)
        with pytest.raises(InputError, match="24"):
            hybrid(1e6, 100.0, 1.0, 4.0, profile=[1.0, 2.0])


class TestHugeFleets:
    def test_peak_beyond_the_grid_is_answered_exactly_without_a_huge_array(self) -> None:
        # 1e15 tokens/day, peak 3x average, 1 tok/s per replica: the peak needs
        # ceil(1e15 ÷ 86,400 x 3) = 34,722,222,223 replicas. Evaluating every baseline asked
        # numpy for 259 GiB; the bounded set holds a few hundred. At $2.49/h a replica-month
        # (730 h) costs $1,817.70 for 2.628 M tokens ($691.67/M) against the API's $6.25/M:
        # pure API is best, $/month = 1e15 x 30.4167 ÷ 1e6 x 6.25.
        h = hybrid(1e15, 1.0, 2.49, 6.25, profile=diurnal_profile(3.0, 14))
        assert int(h.baselines[-1]) == 34_722_222_223
        assert h.baselines.size < 500
        assert h.best_replicas == 0
        assert h.best_usd_per_month == pytest.approx(1e15 * (730 / 24) / 1e6 * 6.25)

    @pytest.mark.parametrize("api_usd_per_m", [0.2, 0.3, 0.5, 1.0])
    def test_bounded_set_finds_the_same_optimum_as_every_baseline(
        self, api_usd_per_m: float, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A lumpy day needing up to 4,582 replicas of 10 tok/s at $0.01/h ($0.278/M at full
        # use): the full 0..4,582 scan and the bounded set (forced by lowering the threshold)
        # agree on the best baseline and its cost, at API prices that put it inside.
        profile = [1.0 + (h % 5) + (3.0 if 9 <= h <= 17 else 0.0) for h in range(24)]
        args = (2.0e9, 10.0, 0.01, api_usd_per_m)
        monkeypatch.setattr(hybrid_module, "MAX_BASELINES", 10**6)
        full = hybrid(*args, profile=profile)
        assert full.baselines.tolist() == list(range(4583))
        monkeypatch.setattr(hybrid_module, "MAX_BASELINES", 10)
        bounded = hybrid(*args, profile=profile)
        assert bounded.baselines.size < full.baselines.size
        assert bounded.best_replicas == full.best_replicas
        assert bounded.best_usd_per_month == pytest.approx(full.best_usd_per_month)
        assert bounded.baselines[-1] == full.baselines[-1]


class TestMonth:
    def test_default_month_is_the_730_hour_billing_month(self) -> None:
        # B=3 (all in-house) at $1/h: 3 x 730 = $2,190 (30 days would give $2,160).
        h = hybrid(17.28e6, 100.0, 1.0, 10.0, profile=TWO_LEVEL)
        assert h.days_per_month == pytest.approx(730 / 24)
        assert h.pure_self_host_usd_per_month == pytest.approx(2190.0)
