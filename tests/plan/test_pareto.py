"""Frontiers of $/M output against TPOT and tokens/s per user, and the SLO operating point."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from infercost.plan.pareto import frontier_indices, pareto
from infercost.plan.search import search


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


class TestFrontierIndices:
    def test_hand_example(self) -> None:
        # (latency, cost): (1,10) (2,8) (3,9) (4,5) (4,6) (5,5) (nan,1).
        # Sorted by latency: 10 kept; 8 < 10 kept; 9 > 8 dropped; 5 < 8 kept; 6 (same
        # latency, dearer) dropped; 5 at latency 5 is not strictly cheaper than 5: dropped;
        # the NaN point is ignored. Frontier: indices 0, 1, 3.
        lat = np.array([1.0, 2.0, 3.0, 4.0, 4.0, 5.0, np.nan])
        cost = np.array([10.0, 8.0, 9.0, 5.0, 6.0, 5.0, 1.0])
        assert frontier_indices(lat, cost).tolist() == [0, 1, 3]

    def test_empty(self) -> None:
        assert frontier_indices(np.array([np.nan]), np.array([1.0])).size == 0


class TestPareto:
    def test_frontiers_are_monotone_and_the_operating_point_is_the_search_winner(self) -> None:
        kw: dict[str, Any] = {
            "gpus": ["h100-sxm", "mi300x"],
            "gpu_hour_usd": 2.0,
            "weight_dtypes": ["bf16", "fp8"],
        }
        r = pareto("llama-3.1-8b", 1000, 200, max_tpot_s=0.02, **kw)
        tp = [c.tpot_s for c in r.tpot_frontier]
        cost = [c.usd_per_m_output_incl_input or 0.0 for c in r.tpot_frontier]
        assert len(tp) >= 3
        assert tp == sorted(tp)
        assert all(a > b for a, b in pairwise(cost))  # strictly cheaper
        speed = [200 / c.e2e_s for c in r.per_user_frontier]
        ucost = [c.usd_per_m_output_incl_input or 0.0 for c in r.per_user_frontier]
        assert speed == sorted(speed, reverse=True)
        assert all(a > b for a, b in pairwise(ucost))
        s = search("llama-3.1-8b", 1000, 200, max_tpot_s=0.02, **kw)
        assert r.operating_point is not None and s.winner is not None
        assert r.operating_point.usd_per_m_output_incl_input == pytest.approx(
            s.winner.usd_per_m_output_incl_input
        )
        # without a TTFT target the operating point lies on the TPOT frontier: it is the
        # cheapest frontier point with TPOT <= 20 ms
        on = [c for c in r.tpot_frontier if c.tpot_s <= 0.02]
        assert on[-1].usd_per_m_output_incl_input == pytest.approx(
            r.operating_point.usd_per_m_output_incl_input
        )
        # no point of the cloud beats a frontier point on both axes
        i = len(r.tpot_frontier) // 2
        f = r.tpot_frontier[i]
        dominated = (r.cloud_tpot_s < f.tpot_s) & (
            r.cloud_usd_per_m < (f.usd_per_m_output_incl_input or 0)
        )
        assert not dominated.any()
