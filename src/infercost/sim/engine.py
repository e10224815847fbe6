"""The simulation driver: replicas behind a router, fed a workload, returning timing arrays.

Requests become ready at arrival + the engine's request overhead. For each in time order the
router picks a replica (round-robin, or least outstanding requests after advancing every
replica to that instant), the replica runs its iterations up to the instant and queues the
request; at the end every replica drains. Nothing here prints or reads files.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from infercost.domains import check_args, check_work
from infercost.errors import InputError
from infercost.sim.config import ReplicaConfig, decode_iteration
from infercost.sim.metrics import Slo, Summary, summarize
from infercost.sim.saturation import Saturation, detect
from infercost.sim.scheduler import REJECTED, ReferenceReplica, Replica, Requests
from infercost.sim.steptime import FastStep
from infercost.sim.workload import Workload

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ROUTERS = ("round-robin", "least-loaded")
ProgressFn = Callable[[int, int], None]

#: Keys of ``SimResult.to_dict()`` (the ``simulate --json`` object), in order. Written out,
#: never derived from fields; a test pins them.
SIM_JSON_KEYS: tuple[str, ...] = (
    "num_requests",
    "completed",
    "rejected",
    "replicas",
    "router",
    "duration_s",
    "request_throughput_req_s",
    "output_tok_s",
    "total_tok_s",
    "overloaded",
    "saturation_reliable",
    "saturation_reason",
    "offered_rate_req_s",
    "sustainable_rate_req_s",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "queue_s",
    "itl_mean_s",
    "unstable_latency",
    "slo",
    "goodput_req_s",
    "slo_attainment_frac",
    "slo_met",
    "preemptions",
    "kv_util_mean_frac",
    "kv_util_max_frac",
    "iterations",
)


@dataclass(frozen=True, slots=True, eq=False)
class RequestTimings:
    """Per-request outcome arrays, shape (n,), seconds on the simulation clock; NaN where a
    request never got there (rejected).

    Attributes:
        arrival_s, ready_s: arrival, and arrival + request overhead.
        sched_s: first scheduled (admitted to prefill).
        first_token_s, finish_s: first and last output token.
        input_tokens, output_tokens: lengths.
        preemptions: times each request was preempted.
        replica: replica index it was routed to.
        rejected: True for requests that could not be served (too long).
    """

    arrival_s: FloatArray
    ready_s: FloatArray
    sched_s: FloatArray
    first_token_s: FloatArray
    finish_s: FloatArray
    input_tokens: IntArray
    output_tokens: IntArray
    preemptions: IntArray
    replica: IntArray
    rejected: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class ReplicaStats:
    """Per-replica counters: iterations, decode runs summed in closed form, preemptions,
    busy seconds, time-mean and maximum KV-cache utilisation (0..1, over the run)."""

    iterations: int
    decode_runs: int
    preemptions: int
    busy_s: float
    kv_util_mean_frac: float
    kv_util_max_frac: float


@dataclass(frozen=True, slots=True, eq=False)
class SimResult:
    """A finished simulation.

    Attributes:
        requests: per-request arrays.
        summary: aggregate metrics.
        saturation: the overload verdict.
        replicas: per-replica counters.
        router: routing policy used.
        slo: the SLO the summary was scored against, if any.
    """

    requests: RequestTimings
    summary: Summary
    saturation: Saturation
    replicas: tuple[ReplicaStats, ...]
    router: str
    slo: Slo | None

    def to_dict(self) -> dict[str, Any]:
        """The ``simulate --json`` object, keys in :data:`SIM_JSON_KEYS` order.

        When the run is overloaded its latency statistics are not steady-state figures: the
        ``ttft_s``/``tpot_s``/``e2e_s``/``queue_s`` keys are null and the raw figures sit under
        ``unstable_latency`` (they grow with run length).
        """
        s = self.summary
        sat = self.saturation
        lat = {
            "ttft_s": s.ttft.to_dict(),
            "tpot_s": s.tpot.to_dict(),
            "e2e_s": s.e2e.to_dict(),
            "queue_s": s.queue.to_dict(),
        }
        stable = not sat.overloaded

        def num(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        out: dict[str, Any] = {
            "num_requests": s.num_requests,
            "completed": s.completed,
            "rejected": s.rejected,
            "replicas": len(self.replicas),
            "router": self.router,
            "duration_s": s.duration_s,
            "request_throughput_req_s": num(s.request_throughput_req_s),
            "output_tok_s": num(s.output_tok_s),
            "total_tok_s": num(s.total_tok_s),
            "overloaded": sat.overloaded,
            "saturation_reliable": sat.reliable,
            "saturation_reason": sat.reason,
            "offered_rate_req_s": None
            if math.isnan(sat.offered_rate_req_s)
            else sat.offered_rate_req_s
            if math.isfinite(sat.offered_rate_req_s)
            else "inf",
            "sustainable_rate_req_s": num(sat.sustainable_rate_req_s),
            "ttft_s": lat["ttft_s"] if stable else None,
            "tpot_s": lat["tpot_s"] if stable else None,
            "e2e_s": lat["e2e_s"] if stable else None,
            "queue_s": lat["queue_s"] if stable else None,
            "itl_mean_s": num(s.itl_mean_s) if stable else None,
            "unstable_latency": None if stable else {**lat, "itl_mean_s": num(s.itl_mean_s)},
            "slo": None
            if self.slo is None
            else {"ttft_p99_s": self.slo.ttft_p99_s, "tpot_p99_s": self.slo.tpot_p99_s},
            "goodput_req_s": num(s.goodput_req_s),
            "slo_attainment_frac": num(s.slo_attainment_frac),
            "slo_met": None if s.slo_met is None else bool(s.slo_met and stable),
            "preemptions": int(sum(r.preemptions for r in self.replicas)),
            "kv_util_mean_frac": float(np.mean([r.kv_util_mean_frac for r in self.replicas])),
            "kv_util_max_frac": float(max(r.kv_util_max_frac for r in self.replicas)),
            "iterations": int(sum(r.iterations for r in self.replicas)),
        }
        return {k: out[k] for k in SIM_JSON_KEYS}


def unloaded_e2e_s(workload: Workload, config: ReplicaConfig) -> float:
    """E2E of the median-length request on an idle replica: request overhead + its prompt
    in budget-sized chunks + (osl - 1) decode steps at batch 1 and mean context, seconds."""
    isl = float(np.median(workload.input_tokens))
    osl = float(np.median(workload.output_tokens))
    fast = FastStep(config.step)
    chunks = math.ceil(isl / config.max_num_batched_tokens)
    per = isl / chunks
    prefill = sum(
        fast.time_s(0, 0.0, per, 1, fast.eff_context(k * per), fast.chunk_pairs(per, k * per))
        for k in range(chunks)
    )
    step_s, _ = decode_iteration(config, 1, isl + osl / 2.0)
    tokens_per_step = config.spec.tokens_per_step if config.spec else 1.0
    return config.request_overhead_s + prefill + (osl - 1.0) / tokens_per_step * step_s


def simulate(
    workload: Workload,
    config: ReplicaConfig,
    *,
    replicas: int = 1,
    router: str = "round-robin",
    slo: Slo | None = None,
    progress: ProgressFn | None = None,
    reference: bool = False,
    max_work: float | None = None,
) -> SimResult:
    """Serve ``workload`` on ``replicas`` identical replicas and measure it.

    Args:
        workload: the requests (arrival-sorted arrays).
        config: one replica's step physics and engine limits.
        replicas: identical replicas behind the router.
        router: ``round-robin`` or ``least-loaded`` (fewest outstanding requests).
        slo: optional latency targets for goodput and attainment.
        progress: called as ``progress(requests_routed, total)`` about 200 times.
        reference: step every iteration through ``perf.step.mixed_step`` instead of the
            closed-form fast path (slow; for validation and the speed benchmark).
        max_work: raise the work limit (requests, + 1,000 per replica, x replicas with
            ``least-loaded``; :data:`infercost.domains.WORK_LIMITS`), checked before the run.

    Returns:
        A :class:`SimResult`. Deterministic: the same inputs give the same result.

    Raises:
        InputError: fewer than one replica, an unknown router, or work past the limit.
    """
    if replicas < 1:
        raise InputError(f"--replicas must be at least 1, got {replicas}.")
    check_args(replicas=replicas)
    if router not in ROUTERS:
        raise InputError(f"Unknown router {router!r}; use one of {', '.join(ROUTERS)}.")
    n = workload.num_requests
    per_request = replicas if router == "least-loaded" else 1
    check_work(
        "simulate", float(n) * per_request + 1000.0 * replicas, max_work,
        "the requests" + (" x --replicas (least-loaded)" if per_request > 1 else "")
        + " + 1,000 x --replicas",
    )  # fmt: skip
    bs = config.block_size
    ptok = (workload.prefix_tokens // bs) * bs  # only whole blocks are shared (vLLM APC)
    reqs = Requests(
        workload.input_tokens.tolist(),
        workload.output_tokens.tolist(),
        workload.prefix_id.tolist(),
        ptok.tolist(),
    )
    ready = workload.arrival_s + config.request_overhead_s
    ready_list = ready.tolist()
    kind = ReferenceReplica if reference else Replica
    reps = [kind(config, reqs) for _ in range(replicas)]
    where_list = [-1] * n
    max_len = config.max_model_len
    isl, osl = reqs.isl, reqs.osl
    step = max(n // 200, 1)
    least = router == "least-loaded"
    for i in range(n):
        t = ready_list[i]
        if (max_len is not None and isl[i] + osl[i] > max_len) or not reps[0].fits_alone(i):
            reqs.state[i] = REJECTED
            continue
        if least:
            for rep in reps:
                rep.advance_until(t)
            k = min(range(replicas), key=lambda j: (reps[j].outstanding, j))
        else:
            k = i % replicas
            reps[k].advance_until(t)
        reps[k].enqueue(i)
        where_list[i] = k
        if progress is not None and i % step == 0:
            progress(i, n)
    for rep in reps:
        rep.advance_until(math.inf)
    if progress is not None:
        progress(n, n)
    rejected = np.asarray([s == REJECTED for s in reqs.state], dtype=np.bool_)
    timings = RequestTimings(
        arrival_s=workload.arrival_s,
        ready_s=ready,
        sched_s=np.asarray(reqs.sched_s, dtype=np.float64),
        first_token_s=np.asarray(reqs.first_s, dtype=np.float64),
        finish_s=np.asarray(reqs.finish_s, dtype=np.float64),
        input_tokens=workload.input_tokens,
        output_tokens=workload.output_tokens,
        preemptions=np.asarray(reqs.preempts, dtype=np.int64),
        replica=np.asarray(where_list, dtype=np.int64),
        rejected=rejected,
    )
    summary = summarize(
        timings.arrival_s,
        timings.ready_s,
        timings.sched_s,
        timings.first_token_s,
        timings.finish_s,
        timings.input_tokens,
        timings.output_tokens,
        rejected,
        slo,
    )
    span = summary.duration_s if summary.duration_s > 0 else math.nan
    stats = tuple(
        ReplicaStats(
            iterations=rep.iterations,
            decode_runs=rep.decode_runs,
            preemptions=rep.preemptions,
            busy_s=rep.busy_s,
            kv_util_mean_frac=rep.kv_util_integral_s / span if span == span else 0.0,
            kv_util_max_frac=rep.kv_util_max_frac,
        )
        for rep in reps
    )
    sat = detect(timings.arrival_s, timings.finish_s, rejected, unloaded_e2e_s(workload, config))
    return SimResult(timings, summary, sat, stats, router, slo)
