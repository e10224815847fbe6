"""Saturation: is the queue growing without bound, what rate is sustainable, and what is the
highest request rate that meets an SLO.

**Verdict.** Past capacity an open-loop system never reaches a steady state: the requests in
the system (arrived, not finished) grow linearly, so latency percentiles depend on how long
the run was and mean nothing. Over the second half of the arrival window W = (t_mid, t_last]
(t_mid = arrival time of the middle request) compare arrivals A with completions D::

    growth = A - D                      (= backlog at t_last - backlog at t_mid)
    OVERLOADED  iff  growth > max(0.05 A, 3 sqrt(A))

A stable queue's backlog fluctuates around its mean, so growth is noise of order sqrt(A)
(Poisson counting noise) and tends to 0 relative to A; an overloaded one grows by
(lambda - mu) |W|.

The sustainable rate is the completion rate while saturated, D / |W|. Completions after the
last arrival are not used: the drain runs without new prompts to prefill and completes faster
than the server can sustain. If fewer than 20 requests complete inside W (a short run at a
rate far past capacity), the fallback is the completion rate between the 25th and 75th
percentile completion times of the requests finishing after t_mid, bounded by the run's own
completion rate, completed / (last completion - first arrival): a run cannot show a server
sustaining more than it completed. The bound matters when requests that started together
finish together (all at once, equal lengths): their completions bunch into a few steps and
the quartile span alone reads the bunching, not a rate (745 req/s for a run of 100 requests
that completed 14.7 req/s). It is not applied to the window estimate D / |W|, which a long
run measures directly (and a run that was idle before it saturated would bias it low).

A run whose first half is shorter than twice the unloaded latency (``latency_floor_s``, else
the median E2E of the first ten requests) is flagged ``reliable=False``: requests in flight
from the start-up transient bias D low by up to rate x latency. When every request arrives at
once (infinite rate), the run is a closed batch: OVERLOADED by definition, with the fallback
estimate over all completions (bounded as above) as the sustainable rate.

**SLO search.** :func:`max_rate_meeting` bisects the request rate between a low probe and the
sustainable rate; a rate passes when its run is not overloaded and meets the SLO.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.errors import InputError

FloatArray = npt.NDArray[np.float64]

GROWTH_FRAC = 0.05
GROWTH_SIGMAS = 3.0
MIN_WINDOW_COMPLETIONS = 20


@dataclass(frozen=True, slots=True)
class Saturation:
    """Saturation verdict of one run.

    Attributes:
        overloaded: backlog grew without bound over the second half of arrivals.
        offered_rate_req_s: arrivals per second in the window; None where it has no finite
            value (every request at once, too few arrivals to measure).
        completion_rate_req_s: completions per second in the window; None where not
            measured.
        backlog_growth: requests added to the backlog over the window.
        sustainable_rate_req_s: completion rate under saturation when overloaded, else None.
        reliable: False when the run is too short against request latency to judge.
        reason: the verdict in words.
    """

    overloaded: bool
    offered_rate_req_s: float | None
    completion_rate_req_s: float | None
    backlog_growth: float
    sustainable_rate_req_s: float | None
    reliable: bool
    reason: str


def detect(
    arrival_s: FloatArray,
    finish_s: FloatArray,
    rejected: npt.NDArray[np.bool_],
    latency_floor_s: float | None = None,
) -> Saturation:
    """Judge one run from per-request arrays of shape (n,), seconds (finish NaN when the
    request never finished; rejected requests leave the system at arrival).
    ``latency_floor_s``: a typical request's E2E on an idle server, for the reliability flag.

    Raises:
        InputError: an empty run.
    """
    n = int(arrival_s.size)
    if n == 0:
        raise InputError("No requests to judge saturation on.")
    leave = np.where(rejected, arrival_s, finish_s)
    leave = np.where(np.isfinite(leave), leave, np.inf)
    t_first = float(arrival_s[0])
    t_mid = float(arrival_s[n // 2])
    t_last = float(arrival_s[-1])
    if latency_floor_s is None:
        early = leave[:10] - arrival_s[:10]
        early = early[np.isfinite(early)]
        latency_floor_s = float(np.median(early)) if early.size else math.inf
    completions = int(np.count_nonzero((leave > t_mid) & (leave <= t_last)))
    return verdict(n, t_first, t_mid, t_last, completions, latency_floor_s, finish_s)


def verdict(
    n: int,
    t_first: float,
    t_mid: float,
    t_last: float,
    window_leaves: int,
    latency_floor_s: float,
    finish_s: npt.NDArray[np.floating],
) -> Saturation:
    """:func:`detect` from counts a streaming run keeps.

    Args:
        n: requests.
        t_first, t_mid, t_last: arrival times of requests 0, n // 2 and n - 1, seconds.
        window_leaves: requests that left (finished, or were rejected at arrival) in
            (t_mid, t_last].
        latency_floor_s: a typical request's E2E on an idle server, seconds.
        finish_s: finish times of all requests (NaN if never), any order, float64 or
            float32; read only for the fallback rate.
    """
    if n < 2:
        return Saturation(
            False, None, None, 0.0, None, False,
            "one request has no arrival rate; run more requests to judge saturation",
        )  # fmt: skip
    if t_last <= t_first:
        rate = _saturated_rate(finish_s, t_first - 1.0, t_first)
        return Saturation(
            overloaded=True,
            offered_rate_req_s=None,  # every request at once: no finite rate
            completion_rate_req_s=rate,
            backlog_growth=float(n),
            sustainable_rate_req_s=rate,
            reliable=rate is not None,
            reason="every request arrived at once (infinite rate): a closed batch, saturated "
            "by construction",
        )
    mid = n // 2
    window = t_last - t_mid
    arrivals = float(n - 1 - mid)
    completions = float(window_leaves)
    if window <= 0 or arrivals < 1:
        return Saturation(
            False,
            None,
            None,
            0.0,
            None,
            False,
            "too few distinct arrival times to judge saturation; run more requests",
        )
    growth = arrivals - completions
    threshold = max(GROWTH_FRAC * arrivals, GROWTH_SIGMAS * math.sqrt(arrivals))
    overloaded = growth > threshold
    typical = latency_floor_s
    reliable = (t_mid - t_first) >= 2.0 * typical
    offered = arrivals / window
    done_rate = completions / window
    if overloaded:
        reason = (
            f"backlog grew by {growth:.0f} requests over the second half of arrivals "
            f"({offered:.3g} req/s arrived, {done_rate:.3g} req/s completed)"
        )
    else:
        reason = (
            f"backlog stable: {growth:+.0f} requests over the second half of arrivals "
            f"(threshold {threshold:.0f})"
        )
    if not reliable:
        reason += (
            "; the run is short against request latency (first half "
            f"{t_mid - t_first:.3g} s < 2 x unloaded E2E {typical:.3g} s); lengthen it "
            "to be sure"
        )
    return Saturation(
        overloaded=bool(overloaded),
        offered_rate_req_s=offered,
        completion_rate_req_s=done_rate,
        backlog_growth=growth,
        sustainable_rate_req_s=(
            (
                done_rate
                if completions >= MIN_WINDOW_COMPLETIONS
                else _saturated_rate(finish_s, t_mid, t_first)
            )
            if overloaded
            else None
        ),
        reliable=bool(reliable),
        reason=reason,
    )


def _saturated_rate(
    finish_s: npt.NDArray[np.floating], after_s: float, start_s: float
) -> float | None:
    """Completions per second between the 25th and 75th percentile completion times of the
    requests finishing after ``after_s`` (when the backlog is established, the server runs
    saturated through the middle of its completions), at most the run's completion rate,
    completed / (last completion - ``start_s``, the first arrival); None with fewer than 4
    completions after ``after_s``."""
    finished = np.asarray(finish_s[np.isfinite(finish_s)], dtype=np.float64)
    done = np.sort(finished[finished > after_s])
    if done.size < 4:
        return None
    run_s = float(done[-1]) - start_s
    if run_s <= 0:
        return None
    run_rate = finished.size / run_s
    lo, hi = done.size // 4, (3 * done.size) // 4
    span = float(done[hi] - done[lo])
    return min((hi - lo) / span, run_rate) if span > 0 else run_rate


@dataclass(frozen=True, slots=True)
class RateSearch:
    """Result of :func:`max_rate_meeting`.

    Attributes:
        rate_req_s: highest rate found that passes (0.0 when even the lowest probe fails).
        probes: (rate, passed) in evaluation order.
        reason: how the search ended.
    """

    rate_req_s: float
    probes: tuple[tuple[float, bool], ...]
    reason: str


def max_rate_meeting(
    passes: Callable[[float], bool],
    upper_req_s: float,
    rel_tol: float = 0.02,
    max_probes: int = 16,
    lower_frac: float = 1.0 / 64.0,
) -> RateSearch:
    """Bisect for the highest request rate in (0, ``upper_req_s``] for which ``passes(rate)``.

    Assumes ``passes`` is monotone (true at low rates, false past some rate), as latency grows
    with load.

    Args:
        passes: runs one simulation at a rate (req/s) and says whether it meets the SLO.
        upper_req_s: an upper bound, e.g. the sustainable rate of an overloaded probe.
        rel_tol: stop when the bracket is narrower than this fraction of its upper end.
        max_probes: at most this many calls of ``passes``.
        lower_frac: first probe at ``upper_req_s x lower_frac``.

    Raises:
        InputError: a non-positive upper bound.
    """
    if not math.isfinite(upper_req_s) or upper_req_s <= 0:
        raise InputError(f"The rate search needs a positive upper bound, got {upper_req_s}.")
    probes: list[tuple[float, bool]] = []
    hi = upper_req_s
    if passes(hi):
        probes.append((hi, True))
        return RateSearch(hi, tuple(probes), "the upper bound itself meets the SLO")
    probes.append((hi, False))
    lo = upper_req_s * lower_frac
    ok = passes(lo)
    probes.append((lo, ok))
    if not ok:
        return RateSearch(
            0.0,
            tuple(probes),
            f"even {lo:.3g} req/s misses the SLO: the unloaded latency exceeds it; relax the "
            "SLO or use a faster configuration",
        )
    while len(probes) < max_probes and (hi - lo) > rel_tol * hi:
        mid = 0.5 * (lo + hi)
        ok = passes(mid)
        probes.append((mid, ok))
        if ok:
            lo = mid
        else:
            hi = mid
    return RateSearch(lo, tuple(probes), f"bisected to within {100 * (hi - lo) / hi:.1f}%")
