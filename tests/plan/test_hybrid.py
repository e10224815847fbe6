"""Hybrid overflow: the best own baseline under a two-level day, derived by hand."""

from __future__ import annotations

import pytest

from infercost.errors import InputError
from infercost.plan.hybrid import hybrid

TWO_LEVEL = [1.0] * 12 + [3.0] * 12  # normalised: 0.5 for hours 0-11, 1.5 for 12-23


class TestHybrid:
    def test_interior_optimum(self) -> None:
        # 17.28M tokens/day = 200 tok/s on average: 100 tok/s for 12 h, 300 tok/s for 12 h.
        # Replica: 100 tok/s at $1/h paid all day; API $4/M; 30 days.
        # B=0: 17.28M x 30 ÷ 1e6 x 4 = $2,073.60.
        # B=1: 720 + (200 tok/s x 3,600 x 12 = 8.64M/day -> $1,036.80) = $1,756.80.
        # B=2: 1,440 + (100 x 3,600 x 12 = 4.32M/day -> $518.40) = $1,958.40.
        # B=3: 2,160 (everything in-house). Best: one replica.
        h = hybrid(17.28e6, 100.0, 1.0, 4.0, profile=TWO_LEVEL)
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
        h = hybrid(17.28e6, 100.0, 1.0, 4.0, profile=TWO_LEVEL, ops_usd_per_month=500.0)
        assert h.best_replicas == 0
        assert h.usd_per_month[1] == pytest.approx(2256.8)

    def test_expensive_api_means_all_in_house(self) -> None:
        # at $10/M: B=0 5,184; B=1 720 + 2,592 = 3,312; B=2 1,440 + 1,296 = 2,736; B=3 2,160
        h = hybrid(17.28e6, 100.0, 1.0, 10.0, profile=TWO_LEVEL)
        assert h.best_replicas == 3
        assert h.pure_self_host_usd_per_month == pytest.approx(2160.0)

    def test_bad_input(self) -> None:
        with pytest.raises(InputError, match="positive"):
            hybrid(0.0, 100.0, 1.0, 4.0)
        with pytest.raises(InputError, match="24"):
            hybrid(1e6, 100.0, 1.0, 4.0, profile=[1.0, 2.0])
