"""Metric definitions (vllm bench serve) and the saturation verdict on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from infercost.errors import InputError
from infercost.sim import Slo, detect, max_rate_meeting
from infercost.sim.metrics import summarize


def _summary(slo: Slo | None = None):  # type: ignore[no-untyped-def]
    # Three requests arriving at 0, 1, 2 s:
    #   A: isl 100, osl 11, first token 0.1 s after arrival, last 1.1 s -> TPOT 1.0/10 = 0.1 s
    #   B: isl 100, osl 1,  first = last token 0.2 s after arrival       -> no TPOT
    #   C: isl 100, osl 3,  first 0.3 s, last 0.5 s                      -> TPOT 0.2/2 = 0.1 s
    arrival = np.array([0.0, 1.0, 2.0])
    first = arrival + np.array([0.1, 0.2, 0.3])
    finish = arrival + np.array([1.1, 0.2, 0.5])
    return summarize(
        arrival,
        arrival + 0.01,
        arrival + np.array([0.01, 0.05, 0.11]),
        first,
        finish,
        np.array([100, 100, 100]),
        np.array([11, 1, 3]),
        np.zeros(3, dtype=bool),
        slo,
    )


def test_vllm_definitions() -> None:
    s = _summary()
    # Duration: first arrival (0) to last completion (2.5 s).
    assert s.duration_s == pytest.approx(2.5)
    assert s.request_throughput_req_s == pytest.approx(3 / 2.5)
    assert s.output_tok_s == pytest.approx(15 / 2.5)
    assert s.total_tok_s == pytest.approx(315 / 2.5)
    assert s.ttft.mean == pytest.approx(0.2)
    # TPOT over requests with osl > 1 only: A and C, both 0.1 s.
    assert s.tpot.mean == pytest.approx(0.1)
    # ITL pools the gaps: (1.0 + 0.2) / (10 + 2) = 0.1 s.
    assert s.itl_mean_s == pytest.approx(0.1)
    # Queueing: scheduled minus ready (arrival + 10 ms): 0, 0.04, 0.10 s.
    assert s.queue.mean == pytest.approx(0.14 / 3)
    # p50 of E2E {1.1, 0.2, 0.5} is 0.5; p99 with linear interpolation 0.5 + 0.98 x 0.6.
    assert s.e2e.p50 == pytest.approx(0.5)
    assert s.e2e.p99 == pytest.approx(0.5 + 0.98 * 0.6)
    assert s.goodput_req_s is None


def test_goodput_and_attainment() -> None:
    # TTFT <= 0.25 s passes A and B; C (0.3 s) misses: 2 of 3 attain, 2 / 2.5 s goodput.
    # The p99 TTFT (0.298 s) is over target, so the run does not meet the SLO.
    s = _summary(Slo(ttft_p99_s=0.25, tpot_p99_s=0.15))
    assert s.slo_attainment_frac == pytest.approx(2 / 3)
    assert s.goodput_req_s == pytest.approx(2 / 2.5)
    assert s.slo_met is False
    assert _summary(Slo(ttft_p99_s=0.5)).slo_met is True


def test_slo_must_be_positive() -> None:
    with pytest.raises(InputError, match="--slo-ttft-p99"):
        Slo(ttft_p99_s=0.0)


class TestDetect:
    def test_stable_queue(self) -> None:
        # 1,000 arrivals 0.1 s apart, each done 0.5 s later: completions keep pace.
        arr = np.arange(1000) * 0.1
        sat = detect(arr, arr + 0.5, np.zeros(1000, dtype=bool))
        assert not sat.overloaded
        assert sat.reliable
        assert sat.sustainable_rate_req_s is None

    def test_growing_queue(self) -> None:
        # Arrivals at 10 req/s, service one at a time at 5 req/s: request i finishes at
        # 0.2 (i + 1) s. Second half of arrivals (50 s to 99.9 s): 499 arrive, completions
        # in that window are those with 0.2 (i + 1) in (50, 99.9], 249 of them: growth 250
        # >> max(0.05 x 499, 3 sqrt(499) = 67). Sustainable: 249 completions / 49.9 s.
        arr = np.arange(1000) * 0.1
        fin = 0.2 * (np.arange(1000) + 1)
        sat = detect(arr, fin, np.zeros(1000, dtype=bool))
        assert sat.overloaded
        assert sat.backlog_growth == pytest.approx(250.0)
        assert sat.sustainable_rate_req_s == pytest.approx(249 / 49.9)

    def test_short_overloaded_run_falls_back_to_later_completions(self) -> None:
        # 100 arrivals in 1 s; the server finishes them one per 0.1 s from 5 s on, so none
        # completes inside the arrival window. Fallback: requests finishing after t_mid, one
        # per 0.1 s between their 25th and 75th percentile times (10 req/s), bounded by what
        # the run completed: 100 requests from 0 s to 14.9 s.
        arr = np.arange(100) * 0.01
        fin = 5.0 + 0.1 * np.arange(100)
        sat = detect(arr, fin, np.zeros(100, dtype=bool))
        assert sat.overloaded
        assert sat.sustainable_rate_req_s == pytest.approx(100 / 14.9)

    def test_one_request_is_not_called_overloaded(self) -> None:
        # a one-row trace has no arrival rate: no verdict (it was "every request arrived at
        # once (infinite rate)", overloaded; QA)
        sat = detect(np.zeros(1), np.array([0.5]), np.zeros(1, dtype=bool))
        assert not sat.overloaded and not sat.reliable
        assert "one request has no arrival rate" in sat.reason

    def test_fallback_keeps_a_quartile_rate_below_the_run_rate(self) -> None:
        # 100 at t = 0; 50 finish one per 0.1 s (0.1 .. 5.0 s), 50 one per 0.2 s (5.2 .. 15 s).
        # Quartiles: completions 25 .. 75 at 2.6 s and 10.2 s -> 50 / 7.6 s = 6.58 req/s, under
        # the run's 100 / 15 s = 6.67 req/s, so the quartile rate stands.
        fin = np.concatenate((0.1 * (np.arange(50) + 1), 5.0 + 0.2 * (np.arange(50) + 1)))
        sat = detect(np.zeros(100), fin, np.zeros(100, dtype=bool))
        assert sat.sustainable_rate_req_s == pytest.approx(50 / 7.6)

    @pytest.mark.parametrize("spacing_s", [0.0, 1e-6])
    def test_bunched_completions_give_the_run_rate(self, spacing_s: float) -> None:
        # 100 requests at once (or 1e6 req/s) that all finish within 0.1 s of 6 s: the quartile
        # span (50 completions in 0.05 s) would say 1,000 req/s; the run completed
        # 100 / 6.099 s = 16.4 req/s, and that is the sustainable rate it shows.
        arr = np.arange(100) * spacing_s
        fin = 6.0 + 0.001 * np.arange(100)
        sat = detect(arr, fin, np.zeros(100, dtype=bool))
        assert sat.overloaded
        assert sat.sustainable_rate_req_s == pytest.approx(100 / 6.099)

    def test_short_run_is_flagged_unreliable(self) -> None:
        # Latency (100 s) far longer than the run's first half (5 s).
        arr = np.arange(100) * 0.1
        sat = detect(arr, arr + 100.0, np.zeros(100, dtype=bool))
        assert not sat.reliable
        assert "lengthen" in sat.reason

    def test_closed_batch(self) -> None:
        # 100 at t = 0 finishing 1 per 0.1 s: completions 25..75 span 5 s -> 10 req/s.
        fin = 0.1 * (np.arange(100) + 1)
        sat = detect(np.zeros(100), fin, np.zeros(100, dtype=bool))
        assert sat.overloaded
        assert sat.offered_rate_req_s is None  # every request at once: no finite rate
        assert sat.sustainable_rate_req_s == pytest.approx(10.0)


def test_rate_search_bisects_a_threshold() -> None:
    # Passes below 7.3 req/s; bisection between 100/64 and 100 ends within 2% of 7.3.
    res = max_rate_meeting(lambda r: r <= 7.3, 100.0)
    assert res.rate_req_s == pytest.approx(7.3, rel=0.02)
    assert res.rate_req_s <= 7.3


def test_rate_search_reports_an_unreachable_slo() -> None:
    res = max_rate_meeting(lambda r: False, 100.0)
    assert res.rate_req_s == 0.0
    assert "relax the SLO" in res.reason
