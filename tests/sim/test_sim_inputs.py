"""Arrival processes, length distributions and workloads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infercost.errors import InputError
from infercost.sim import (
    Empirical,
    Fixed,
    LogNormal,
    Normal,
    Workload,
    gamma_arrivals,
    length_dist,
    poisson_arrivals,
    profile_arrivals,
    synthetic_workload,
)


class TestArrivals:
    def test_poisson_mean_rate(self) -> None:
        # 20,000 exponential gaps of mean 1/50 s: the last arrival is at 400 s with standard
        # deviation sqrt(20,000) / 50 = 2.8 s, so within 2% (7 sigma) of 400 s.
        t = poisson_arrivals(50.0, np.random.default_rng(0), num_requests=20_000)
        assert t.size == 20_000
        assert np.all(np.diff(t) >= 0)
        assert t[-1] == pytest.approx(400.0, rel=0.02)

    def test_gamma_burstiness_sets_the_gap_spread(self) -> None:
        # Gamma gaps with shape k have coefficient of variation 1 / sqrt(k): 2 at k = 0.25
        # (bursty), 1 at k = 1 (Poisson); the mean gap stays 1 / rate = 0.1 s.
        rng = np.random.default_rng(1)
        for k, cv in ((0.25, 2.0), (1.0, 1.0)):
            gaps = np.diff(gamma_arrivals(10.0, k, rng, num_requests=50_000))
            assert gaps.mean() == pytest.approx(0.1, rel=0.05)
            assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.05)

    def test_duration_keeps_arrivals_inside_it(self) -> None:
        # 10 req/s for 100 s: about 1,000 arrivals (Poisson sd 32), all before 100 s.
        t = poisson_arrivals(10.0, np.random.default_rng(2), duration_s=100.0)
        assert t.max() < 100.0
        assert 850 < t.size < 1150

    def test_infinite_rate_is_a_closed_batch(self) -> None:
        t = gamma_arrivals(math.inf, 1.0, np.random.default_rng(0), num_requests=5)
        assert t.tolist() == [0.0] * 5

    def test_profile_follows_hourly_rates(self) -> None:
        # Rates 1 and 3 req/s over two halves of a 100 s period: over 100 periods the second
        # half gets 3/4 of 20,000 expected arrivals (15,000, sd 87) and the first 1/4.
        rng = np.random.default_rng(3)
        t = profile_arrivals([1.0, 3.0], rng, period_s=100.0, duration_s=10_000.0)
        second = np.count_nonzero((t % 100.0) >= 50.0)
        assert t.size == pytest.approx(20_000, rel=0.03)
        assert second / t.size == pytest.approx(0.75, abs=0.01)

    def test_profile_with_a_silent_hour_has_no_arrivals_in_it(self) -> None:
        rng = np.random.default_rng(4)
        t = profile_arrivals([2.0, 0.0, 2.0], rng, period_s=30.0, num_requests=3000)
        assert not np.any(((t % 30.0) >= 10.0) & ((t % 30.0) < 20.0))

    def test_same_seed_same_arrivals(self) -> None:
        a = poisson_arrivals(5.0, np.random.default_rng(9), num_requests=100)
        b = poisson_arrivals(5.0, np.random.default_rng(9), num_requests=100)
        np.testing.assert_array_equal(a, b)

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda rng: poisson_arrivals(0.0, rng, num_requests=5), "--rate"),
            (lambda rng: poisson_arrivals(1.0, rng), "exactly one"),
            (
                lambda rng: poisson_arrivals(1.0, rng, num_requests=5, duration_s=3.0),
                "exactly one",
            ),
            (lambda rng: gamma_arrivals(1.0, 0.0, rng, num_requests=5), "--burstiness"),
            (lambda rng: gamma_arrivals(math.inf, 1.0, rng, duration_s=5.0), "--num-requests"),
            (lambda rng: profile_arrivals([0.0, 0.0], rng, num_requests=5), "zero everywhere"),
            (lambda rng: profile_arrivals([-1.0], rng, num_requests=5), ">= 0"),
        ],
    )
    def test_bad_input_says_what_to_fix(self, call: object, message: str) -> None:
        with pytest.raises(InputError, match=message):
            call(np.random.default_rng(0))  # type: ignore[operator]


class TestLengths:
    def test_lognormal_matches_requested_mean_and_std(self) -> None:
        # sigma^2 = ln(1 + (300/500)^2) = 0.3075, mu = ln 500 - sigma^2/2: the draws' mean and
        # std are 500 and 300 (sample error ~1% at 200,000 draws; rounding to tokens is 0.1%).
        x = LogNormal(500.0, 300.0).sample(200_000, np.random.default_rng(0))
        assert x.mean() == pytest.approx(500.0, rel=0.01)
        assert x.std() == pytest.approx(300.0, rel=0.03)
        assert x.dtype == np.int64

    def test_normal_is_clipped_to_at_least_one_token(self) -> None:
        x = Normal(5.0, 50.0, max_tokens=40).sample(10_000, np.random.default_rng(0))
        assert x.min() == 1
        assert x.max() == 40

    def test_fixed_and_empirical(self) -> None:
        rng = np.random.default_rng(0)
        assert Fixed(7).sample(3, rng).tolist() == [7, 7, 7]
        e = Empirical.from_array([10, 20])
        assert set(e.sample(1000, rng).tolist()) == {10, 20}
        assert e.mean_tokens == 15.0

    def test_by_name(self) -> None:
        assert length_dist("fixed", 128) == Fixed(128)
        assert length_dist("lognormal", 100.0, 0.5) == LogNormal(100.0, 50.0)
        with pytest.raises(InputError, match="fixed, normal or lognormal"):
            length_dist("pareto", 100.0)
        with pytest.raises(InputError, match="whole number"):
            Fixed(0)


class TestWorkload:
    def test_shared_prefix_assignment(self) -> None:
        # Half the requests get one of 3 prefixes of 64 tokens; prompts shorter than 64 grow.
        rng = np.random.default_rng(0)
        wl = synthetic_workload(
            np.arange(10_000, dtype=np.float64), Fixed(32), Fixed(8), rng, 0.5, 3, 64
        )
        has = wl.prefix_id >= 0
        assert has.mean() == pytest.approx(0.5, abs=0.02)
        assert set(wl.prefix_id[has].tolist()) == {0, 1, 2}
        assert np.all(wl.input_tokens[has] == 64)
        assert np.all(wl.input_tokens[~has] == 32)

    @pytest.mark.parametrize(
        ("kw", "message"),
        [
            ({"arrival_s": [1.0, 0.0]}, "sorted"),
            ({"input_tokens": 0}, "at least 1"),
            ({"prefix_tokens": 500}, "prefix longer"),
        ],
    )
    def test_bad_workloads_are_refused(self, kw: dict[str, object], message: str) -> None:
        args: dict[str, object] = {
            "arrival_s": [0.0, 1.0],
            "input_tokens": 100,
            "output_tokens": 10,
            "prefix_id": 0,
            "prefix_tokens": 0,
        }
        args.update(kw)
        with pytest.raises(InputError, match=message):
            Workload.from_arrays(**args)  # type: ignore[arg-type]
