"""Serving metrics from per-request timing arrays, defined as ``vllm bench serve`` defines them.

- TTFT: arrival to first output token (queueing and request overhead included).
- TPOT: (E2E - TTFT) / (osl - 1) per request with osl > 1, then averaged / percentiled over
  requests.
- ITL mean: all inter-token gaps pooled, sum(E2E - TTFT) / sum(osl - 1) (equals mean TPOT
  when every request has the same osl). Per-token ITL percentiles are not kept: the simulator
  advances tokens in runs, not one by one.
- E2E: arrival to last token. Queueing delay: ready (arrival + request overhead) to first
  scheduled.
- Duration: first arrival to last completion. Request, output and total token throughput are
  completed requests and tokens over the duration.
- Goodput: completed requests per second that meet every per-request SLO threshold
  (``vllm bench serve --goodput``); SLO attainment: their fraction of all requests (rejected
  ones count as misses).
Percentiles use numpy's linear interpolation, as vLLM does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.errors import InputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
PERCENTILES = (50.0, 90.0, 95.0, 99.0)


@dataclass(frozen=True, slots=True)
class Stats:
    """Mean and percentiles of one latency, seconds (NaN when there are no samples)."""

    mean: float
    p50: float
    p90: float
    p95: float
    p99: float

    @classmethod
    def of(cls, x: npt.NDArray[np.floating]) -> Stats:
        """From samples, shape (n,)."""
        if x.size == 0:
            return cls(math.nan, math.nan, math.nan, math.nan, math.nan)
        p = np.percentile(x, PERCENTILES)
        mean = np.mean(x, dtype=np.float64)
        return cls(float(mean), float(p[0]), float(p[1]), float(p[2]), float(p[3]))

    def to_dict(self) -> dict[str, float | None]:
        """JSON-ready, NaN as None."""
        return {
            k: (None if math.isnan(v) else v)
            for k, v in (
                ("mean", self.mean),
                ("p50", self.p50),
                ("p90", self.p90),
                ("p95", self.p95),
                ("p99", self.p99),
            )
        }


@dataclass(frozen=True, slots=True)
class Slo:
    """Latency targets: p99 TTFT and p99 TPOT, seconds (None = no target).

    A run meets the SLO when both p99s are within target; a request meets it when its own
    TTFT and TPOT are within the same thresholds (goodput).

    Raises:
        InputError: a target that is not a positive number.
    """

    ttft_p99_s: float | None = None
    tpot_p99_s: float | None = None

    def __post_init__(self) -> None:
        for name, v in (("--slo-ttft-p99", self.ttft_p99_s), ("--slo-tpot-p99", self.tpot_p99_s)):
            if v is not None and (not math.isfinite(v) or v <= 0):
                raise InputError(f"{name} must be a positive number of seconds, got {v}.")

    @property
    def is_set(self) -> bool:
        """Whether any target is given."""
        return self.ttft_p99_s is not None or self.tpot_p99_s is not None


@dataclass(frozen=True, slots=True)
class Summary:
    """Aggregate metrics of one run (seconds, tokens/s, requests/s).

    Attributes:
        num_requests, completed, rejected: counts (rejected: longer than the model's context
            or the KV cache).
        duration_s: first arrival to last completion.
        request_throughput_req_s, output_tok_s, total_tok_s: completed work per second.
        ttft, tpot, e2e, queue: latency statistics over completed requests.
        itl_mean_s: pooled mean inter-token latency.
        goodput_req_s, slo_attainment_frac: per-request SLO figures (None without an SLO).
        slo_met: both p99 targets met (None without an SLO).
        isl_mean_tokens, osl_mean_tokens: realised mean input and output tokens of the
            run's requests (all ``num_requests``, rejected ones included: the lengths the
            run drew or replayed, whatever distribution they came from).
    """

    num_requests: int
    completed: int
    rejected: int
    duration_s: float
    request_throughput_req_s: float
    output_tok_s: float
    total_tok_s: float
    ttft: Stats
    tpot: Stats
    e2e: Stats
    queue: Stats
    itl_mean_s: float
    goodput_req_s: float | None
    slo_attainment_frac: float | None
    slo_met: bool | None
    isl_mean_tokens: float = math.nan
    osl_mean_tokens: float = math.nan


def meets_per_request(
    ttft_s: npt.NDArray[np.floating], tpot_s: npt.NDArray[np.floating], slo: Slo
) -> BoolArray:
    """Per request: TTFT and TPOT within the thresholds (TPOT NaN, osl = 1, passes)."""
    ok = np.isfinite(ttft_s)
    if slo.ttft_p99_s is not None:
        ok &= ttft_s <= slo.ttft_p99_s
    if slo.tpot_p99_s is not None:
        ok &= np.isnan(tpot_s) | (tpot_s <= slo.tpot_p99_s)
    return np.asarray(ok, dtype=np.bool_)


def summarize(
    arrival_s: FloatArray,
    ready_s: FloatArray,
    sched_s: FloatArray,
    first_token_s: FloatArray,
    finish_s: FloatArray,
    input_tokens: npt.NDArray[np.int64],
    output_tokens: npt.NDArray[np.int64],
    rejected: BoolArray,
    slo: Slo | None = None,
) -> Summary:
    """Metrics of one run from per-request arrays of shape (n,), seconds; NaN where a request
    never reached that point (rejected)."""
    done = np.isfinite(finish_s)
    completed = int(done.sum())
    t0 = float(arrival_s.min())
    duration = float(finish_s[done].max() - t0) if completed else 0.0
    ttft = (first_token_s - arrival_s)[done]
    e2e = (finish_s - arrival_s)[done]
    osl = output_tokens[done].astype(np.float64)
    multi = osl > 1
    tpot_all = np.full(completed, np.nan)
    tpot_all[multi] = (e2e[multi] - ttft[multi]) / (osl[multi] - 1.0)
    return summary_of(
        int(arrival_s.size),
        int(rejected.sum()),
        duration,
        float(osl.sum()),
        float(osl.sum() + input_tokens[done].sum()),
        ttft,
        e2e,
        (sched_s - ready_s)[done],
        tpot_all,
        float(np.sum(e2e[multi] - ttft[multi])),
        float(np.sum(osl[multi] - 1.0)),
        slo,
        isl_mean_tokens=float(np.mean(input_tokens)),
        osl_mean_tokens=float(np.mean(output_tokens)),
    )


def summary_of(
    n: int,
    rejected: int,
    duration_s: float,
    output_tokens: float,
    total_tokens: float,
    ttft_s: npt.NDArray[np.floating],
    e2e_s: npt.NDArray[np.floating],
    queue_s: npt.NDArray[np.floating],
    tpot_s: npt.NDArray[np.floating],
    decode_s: float,
    decode_gaps: float,
    slo: Slo | None = None,
    *,
    isl_mean_tokens: float = math.nan,
    osl_mean_tokens: float = math.nan,
) -> Summary:
    """The metrics from the completed requests' latencies, shape (completed,), in request
    order (float64, or float32 for runs too long to hold in float64).

    Args:
        n, rejected: requests in the run and rejected ones.
        duration_s: first arrival to last completion.
        output_tokens, total_tokens: tokens of the completed requests.
        ttft_s, e2e_s, queue_s: per completed request, seconds.
        tpot_s: per completed request, NaN for single-token outputs.
        decode_s, decode_gaps: sum of E2E - TTFT and of osl - 1 over multi-token requests
            (the pooled ITL mean is their ratio).
        slo: targets for goodput and attainment.
        isl_mean_tokens, osl_mean_tokens: mean input and output tokens of all n requests.
    """
    completed = int(ttft_s.size)
    multi = ~np.isnan(tpot_s)
    tpot_multi = tpot_s if multi.all() else tpot_s[multi]  # no copy when none is NaN
    itl_mean = decode_s / decode_gaps if decode_gaps else math.nan
    per_s = 1.0 / duration_s if duration_s > 0 else math.nan
    goodput = attain = None
    met = None
    if slo is not None and slo.is_set:
        ok = meets_per_request(ttft_s, tpot_s, slo)
        goodput = float(ok.sum() * per_s) if duration_s > 0 else None
        attain = float(ok.sum() / n)
        t_stats = Stats.of(ttft_s)
        p_stats = Stats.of(tpot_multi)
        met = completed > 0 and not rejected
        if slo.ttft_p99_s is not None:
            met = met and t_stats.p99 <= slo.ttft_p99_s
        if slo.tpot_p99_s is not None and multi.any():
            met = met and p_stats.p99 <= slo.tpot_p99_s
    return Summary(
        num_requests=n,
        completed=completed,
        rejected=rejected,
        duration_s=duration_s,
        request_throughput_req_s=completed * per_s if duration_s > 0 else math.nan,
        output_tok_s=output_tokens * per_s if duration_s > 0 else math.nan,
        total_tok_s=total_tokens * per_s if duration_s > 0 else math.nan,
        ttft=Stats.of(ttft_s),
        tpot=Stats.of(tpot_multi),
        e2e=Stats.of(e2e_s),
        queue=Stats.of(queue_s),
        itl_mean_s=itl_mean,
        goodput_req_s=goodput,
        slo_attainment_frac=attain,
        slo_met=met,
        isl_mean_tokens=isl_mean_tokens,
        osl_mean_tokens=osl_mean_tokens,
    )
