"""Arrival processes: request arrival times as sorted numpy arrays (seconds from t = 0).

- Poisson at a constant rate (exponential gaps), as ``vllm bench serve --request-rate``.
- Gamma-distributed gaps with a burstiness factor, as ``vllm bench serve --burstiness``:
  shape = burstiness, scale = 1 / (rate x burstiness), so the mean rate is unchanged and the
  gaps' coefficient of variation is 1 / sqrt(burstiness) (1 = Poisson, < 1 burstier).
- A periodic rate profile (24 hourly rates by default): a non-homogeneous Poisson process
  drawn by time rescaling (unit-rate Poisson times mapped through the inverse of the
  cumulative intensity; Cinlar, "Introduction to Stochastic Processes", 1975, ch. 4).
- Infinite rate: every request at t = 0 (an offline/closed batch, ``--request-rate inf``).

Every generator takes a ``numpy.random.Generator``; the same seed gives the same arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.domains import DOMAINS, check_args, check_work
from infercost.errors import InputError

FloatArray = npt.NDArray[np.float64]


def _count(
    num_requests: int | None, duration_s: float | None, rate: float, max_work: float | None
) -> int:
    """Requests to draw for a fixed count, or enough to cover ``duration_s`` at ``rate``,
    refused past the simulator's work limit before anything is drawn."""
    if (num_requests is None) == (duration_s is None):
        raise InputError(
            "Give exactly one of num_requests (--num-requests) or duration_s (--duration)."
        )
    if num_requests is not None:
        if num_requests < 1:
            raise InputError(f"--num-requests must be at least 1, got {num_requests}.")
        check_work("simulate", num_requests, max_work, "--num-requests")
        return num_requests
    assert duration_s is not None
    if not math.isfinite(duration_s) or duration_s <= 0:
        raise InputError(f"--duration must be a positive number of seconds, got {duration_s}.")
    # Draw the mean count plus 10 standard deviations; the caller trims to the duration.
    mean = rate * duration_s
    check_work("simulate", mean, max_work, "--rate x --duration")
    return max(math.ceil(mean + 10.0 * math.sqrt(mean) + 10.0), 1)


def _check_rate(rate: float) -> None:
    if math.isnan(rate) or rate <= 0:
        raise InputError(
            f"--rate must be a positive number of requests per second (or inf), got {rate}."
        )


def _trim(times: FloatArray, duration_s: float | None) -> FloatArray:
    if duration_s is None:
        return times
    kept = times[times < duration_s]
    if kept.size == 0:
        raise InputError(
            f"No request arrives within --duration {duration_s} s at this rate; "
            "lengthen the duration or raise the rate."
        )
    return kept


def poisson_arrivals(
    rate_per_s: float,
    rng: np.random.Generator,
    num_requests: int | None = None,
    duration_s: float | None = None,
    max_work: float | None = None,
) -> FloatArray:
    """Poisson arrivals at ``rate_per_s``; the first request arrives after one gap.

    Returns:
        Sorted arrival times, seconds, shape (n,). With ``duration_s``, those before it.

    Raises:
        InputError: a non-positive rate, neither/both of count and duration, or more
            requests than the work limit (``max_work`` raises it).
    """
    return gamma_arrivals(rate_per_s, 1.0, rng, num_requests, duration_s, max_work)


def gamma_arrivals(
    rate_per_s: float,
    burstiness: float,
    rng: np.random.Generator,
    num_requests: int | None = None,
    duration_s: float | None = None,
    max_work: float | None = None,
) -> FloatArray:
    """Gamma-gap arrivals at mean ``rate_per_s`` (vLLM bench's ``--burstiness``).

    An infinite rate puts every request at t = 0 (needs ``num_requests``).

    Returns:
        Sorted arrival times, seconds, shape (n,).

    Raises:
        InputError: non-positive rate or burstiness, or neither/both of count and duration.
    """
    plan = gamma_arrival_plan(rate_per_s, burstiness, num_requests, duration_s, max_work)
    return plan.materialize(rng)


def gamma_arrival_plan(
    rate_per_s: float,
    burstiness: float,
    num_requests: int | None = None,
    duration_s: float | None = None,
    max_work: float | None = None,
) -> ArrivalPlan:
    """The draws of :func:`gamma_arrivals`, checked but not yet drawn (stream them with
    :meth:`ArrivalPlan.chunks`).

    Raises:
        InputError: as :func:`gamma_arrivals`.
    """
    _check_rate(rate_per_s)
    check_args(rate=rate_per_s, duration=duration_s)
    if math.isnan(burstiness) or burstiness <= 0 or math.isinf(burstiness):
        raise InputError(f"--burstiness must be a positive finite number, got {burstiness}.")
    if math.isinf(rate_per_s):
        if num_requests is None:
            raise InputError("An infinite --rate needs --num-requests (all arrive at t = 0).")
        return ArrivalPlan(_count(num_requests, None, 1.0, max_work), None, _zeros)
    n = _count(num_requests, duration_s, rate_per_s, max_work)
    scale = 1.0 / (rate_per_s * burstiness)

    def times(rng: np.random.Generator, size: int, carry: float) -> tuple[FloatArray, float]:
        t = _cumsum_from(carry, rng.gamma(shape=burstiness, scale=scale, size=size))
        return t, float(t[-1])

    return ArrivalPlan(n, duration_s, times)


def profile_arrivals(
    rates_per_s: npt.ArrayLike,
    rng: np.random.Generator,
    period_s: float = 86_400.0,
    num_requests: int | None = None,
    duration_s: float | None = None,
    max_work: float | None = None,
) -> FloatArray:
    """Non-homogeneous Poisson arrivals with a piecewise-constant rate that repeats every
    ``period_s`` (24 hourly rates over a day by default).

    Args:
        rates_per_s: rates of the equal segments of one period, requests/s, shape (k,).
        rng: random generator.
        period_s: length of one period, seconds.
        num_requests, duration_s: stop after this many requests, or at this time.
        max_work: raise the work limit on requests (:data:`infercost.domains.WORK_LIMITS`).

    Returns:
        Sorted arrival times, seconds, shape (n,).

    Raises:
        InputError: negative or all-zero rates, non-positive period.
    """
    plan = profile_arrival_plan(rates_per_s, period_s, num_requests, duration_s, max_work)
    return plan.materialize(rng)


def profile_arrival_plan(
    rates_per_s: npt.ArrayLike,
    period_s: float = 86_400.0,
    num_requests: int | None = None,
    duration_s: float | None = None,
    max_work: float | None = None,
) -> ArrivalPlan:
    """The draws of :func:`profile_arrivals`, checked but not yet drawn.

    Raises:
        InputError: as :func:`profile_arrivals`.
    """
    rates = np.asarray(rates_per_s, dtype=np.float64).ravel()
    if rates.size == 0 or not np.all(np.isfinite(rates)) or np.any(rates < 0):
        raise InputError("The rate profile needs one or more finite rates >= 0 (requests/s).")
    if float(rates.max()) > DOMAINS["rate"].hi:
        raise InputError(
            f"The rate profile's rates must be at most {DOMAINS['rate'].hi:,.0f} requests/s, "
            f"got {float(rates.max()):g}."
        )
    check_args(duration=duration_s)
    if not math.isfinite(period_s) or period_s <= 0:
        raise InputError(
            f"The profile period must be a positive number of seconds, got {period_s}."
        )
    seg_s = period_s / rates.size
    cum = np.concatenate(([0.0], np.cumsum(rates * seg_s)))  # intensity at segment edges
    per_period = float(cum[-1])
    if per_period <= 0:
        raise InputError("The rate profile is zero everywhere; no request would arrive.")
    mean_rate = per_period / period_s
    n = _count(num_requests, duration_s, mean_rate, max_work)

    def times(rng: np.random.Generator, size: int, carry: float) -> tuple[FloatArray, float]:
        unit = _cumsum_from(carry, rng.exponential(1.0, size=size))  # unit-rate Poisson
        periods = np.floor(unit / per_period)
        rem = unit - periods * per_period
        seg = np.clip(np.searchsorted(cum, rem, side="right") - 1, 0, rates.size - 1)
        # Zero-rate segments have no mass, so searchsorted never lands inside one.
        within = (rem - cum[seg]) / np.where(rates[seg] > 0, rates[seg], 1.0)
        out = np.asarray(periods * period_s + seg * seg_s + within, dtype=np.float64)
        return out, float(unit[-1])

    return ArrivalPlan(n, duration_s, times)


def _cumsum_from(carry: float, draws: FloatArray) -> FloatArray:
    """carry + running sums of ``draws``, added in the same order as ``np.cumsum`` over the
    whole sequence (so chunked and one-shot draws give the same bits)."""
    if carry == 0.0:
        return np.cumsum(draws)
    return np.cumsum(np.concatenate(([carry], draws)))[1:]


def _zeros(rng: np.random.Generator, size: int, carry: float) -> tuple[FloatArray, float]:
    return np.zeros(size, dtype=np.float64), 0.0


#: ``times(rng, size, carry) -> (sorted times, next carry)``: draw ``size`` numbers and map
#: them to arrival times continuing from ``carry`` (0.0 for the first chunk).
TimesFn = Callable[[np.random.Generator, int, float], tuple[FloatArray, float]]


@dataclass(frozen=True, slots=True)
class ArrivalPlan:
    """An arrival process sized and checked, drawn on demand in chunks.

    Attributes:
        draws: random numbers the process draws (requests before trimming to the duration).
        duration_s: keep arrivals before this time (None: keep all ``draws``).
    """

    draws: int
    duration_s: float | None
    times: TimesFn

    def chunks(self, rng: np.random.Generator, size: int) -> Iterator[FloatArray]:
        """Sorted arrival times in chunks of at most ``size``, untrimmed, drawing all
        ``draws`` numbers from ``rng`` (the same numbers and times as one draw of all)."""
        carry = 0.0
        for start in range(0, self.draws, size):
            t, carry = self.times(rng, min(size, self.draws - start), carry)
            yield t

    def materialize(self, rng: np.random.Generator) -> FloatArray:
        """All arrival times at once, trimmed to the duration.

        Raises:
            InputError: no arrival within the duration.
        """
        return _trim(self.times(rng, self.draws, 0.0)[0], self.duration_s)
