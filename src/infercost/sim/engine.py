"""The simulation driver: replicas behind a router, fed a workload, returning timing arrays.

Requests become ready at arrival + the engine's request overhead. For each in time order the
router picks a replica (round-robin, or least outstanding requests after advancing every
replica to that instant), the replica runs its iterations up to the instant and queues the
request; at the end every replica drains. Nothing here prints or reads files.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from infercost.domains import check_args, check_work
from infercost.errors import InputError
from infercost.sim.config import ClosedLoop, ReplicaConfig, decode_iteration
from infercost.sim.metrics import Slo, Summary, summary_of
from infercost.sim.saturation import Saturation, verdict
from infercost.sim.scheduler import Feed, ReferenceReplica, Replica, Requests
from infercost.sim.steptime import FastStep
from infercost.sim.workload import RequestSource

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
LatArray = npt.NDArray[np.floating[Any]]
ROUTERS = ("round-robin", "least-loaded")
ProgressFn = Callable[[int, int], None]

#: Keys of ``SimResult.to_dict()`` (the ``simulate --json`` object), in order. Written out,
#: never derived from fields; a test pins them.
SIM_JSON_KEYS: tuple[str, ...] = (
    "num_requests",
    "completed",
    "rejected",
    "isl_mean_tokens",
    "osl_mean_tokens",
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
    "closed_loop",
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
        requests: per-request arrays (None for runs past ``keep_requests``).
        summary: aggregate metrics.
        saturation: the overload verdict.
        replicas: per-replica counters.
        router: routing policy used.
        slo: the SLO the summary was scored against, if any.
        closed_loop: the closed-loop load the run was driven by, or None (open loop).
    """

    requests: RequestTimings | None
    summary: Summary
    saturation: Saturation
    replicas: tuple[ReplicaStats, ...]
    router: str
    slo: Slo | None
    closed_loop: ClosedLoop | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``simulate --json`` object, keys in :data:`SIM_JSON_KEYS` order.

        When the run is overloaded its latency statistics are not steady-state figures: the
        ``ttft_s``/``tpot_s``/``e2e_s``/``queue_s`` keys are null and the raw figures sit under
        ``unstable_latency`` (they grow with run length). A closed-loop run adds
        ``closed_loop``: its ``concurrency``, ``client_overhead_s`` and ``waves`` (requests /
        concurrency); it is null for open-loop runs. Benchmarks report the mean and median
        (``ttft_s.mean``, ``ttft_s.p50``).
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
            "isl_mean_tokens": num(s.isl_mean_tokens),
            "osl_mean_tokens": num(s.osl_mean_tokens),
            "replicas": len(self.replicas),
            "router": self.router,
            "duration_s": s.duration_s,
            "request_throughput_req_s": num(s.request_throughput_req_s),
            "output_tok_s": num(s.output_tok_s),
            "total_tok_s": num(s.total_tok_s),
            "overloaded": sat.overloaded,
            "saturation_reliable": sat.reliable,
            "saturation_reason": sat.reason,
            # null when every request arrives at once or the loop is closed (the
            # saturation_reason says what happened)
            "offered_rate_req_s": num(sat.offered_rate_req_s),
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
            "closed_loop": None
            if self.closed_loop is None
            else {
                "concurrency": self.closed_loop.concurrency,
                "client_overhead_s": self.closed_loop.client_overhead_s,
                "waves": s.num_requests / self.closed_loop.concurrency,
            },
        }
        return {k: out[k] for k in SIM_JSON_KEYS}


def unloaded_e2e_s(workload: RequestSource, config: ReplicaConfig) -> float:
    """E2E of the median-length request on an idle replica: request overhead + its prompt
    in budget-sized chunks + (osl - 1) decode steps at batch 1 and mean context, seconds."""
    isl, osl = workload.median_tokens()
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


#: Runs up to this many requests keep per-request arrays (``SimResult.requests``) by default.
KEEP_REQUESTS_MAX = 200_000
#: Runs up to this many requests keep their latencies in float64; longer runs in float32
#: (relative rounding 6e-8 on each latency; 20 bytes per request in all).
FLOAT64_MAX = 1 << 21
_FLUSH = 1 << 14
_RECORD_FIELDS = (
    "gid", "arrival", "ready", "scheduled", "first_token", "finish", "input_tokens",
    "output_tokens", "preemptions", "replica",
)  # fmt: skip
#: an open loop's records: the rest is the workload's, looked up by gid (_Recorder.add_chunk)
_SHORT_FIELDS = ("gid", "scheduled", "first_token", "finish", "preemptions", "replica")


class _Chunk:
    """The arrival times and lengths of workload requests ``base`` to ``end - 1``, kept
    while ``left`` of them have not yet been reduced or rejected."""

    __slots__ = ("arrival", "base", "end", "isl", "left", "osl")

    def __init__(self, base: int, arrival: FloatArray, isl: IntArray, osl: IntArray) -> None:
        self.base, self.end, self.left = base, base + len(arrival), len(arrival)
        self.arrival, self.isl, self.osl = arrival, isl, osl


class _Recorder:
    """The simulation's sink: turns each request that leaves into its latencies, written
    into per-request arrays (``float64`` or ``float32``, five of them) in batches, and the
    counts and sums the summary and the saturation verdict need. With ``keep``, also the
    full :class:`RequestTimings`.

    An open loop's records carry only what the replica decided (gid, scheduled, first-token
    and finish times; preemptions and replica where timings are kept); each request's
    arrival, ready time (arrival + ``overhead_s``) and lengths are the workload's, read by gid
    from the chunks the driver registers (:meth:`add_chunk`) and dropped once all their
    requests have left. The same values as the slot's copies, so the same latencies bit for
    bit, with half the fields to build and convert per request."""

    def __init__(
        self, reqs: Requests, n: int, keep: bool, t_mid: float, t_last: float,
        overhead_s: float = 0.0,
    ) -> None:  # fmt: skip
        self.reqs = reqs
        self.n = n
        self.overhead_s = overhead_s
        self._chunks: list[_Chunk] = []
        self.exact = n <= FLOAT64_MAX
        dt = np.float64 if self.exact else np.float32

        def col() -> LatArray:
            return np.full(n, np.nan, dtype=dt)

        self.ttft, self.e2e, self.tpot, self.queue, self.finish = (col() for _ in range(5))
        self.t_mid = t_mid
        self.t_last = t_last
        self.window_leaves = 0
        self.rejected_count = 0
        self.out_tokens = 0
        self.in_tokens = 0
        self.last_finish = -math.inf
        self.decode_s = 0.0  # float32 runs: E2E - TTFT summed here in float64
        self.decode_gaps = 0
        self.keep = keep
        self.timings: RequestTimings | None = None
        if keep:
            nan = np.full(n, np.nan)
            self.timings = RequestTimings(
                arrival_s=nan.copy(),
                ready_s=nan.copy(),
                sched_s=nan.copy(),
                first_token_s=nan.copy(),
                finish_s=nan,
                input_tokens=np.zeros(n, dtype=np.int64),
                output_tokens=np.zeros(n, dtype=np.int64),
                preemptions=np.zeros(n, dtype=np.int64),
                replica=np.full(n, -1, dtype=np.int64),
                rejected=np.zeros(n, dtype=np.bool_),
            )
        #: finished requests not yet reduced, in finish order, flat: the values of each one's
        #: :attr:`record_fields`, record after record (numpy converts a flat list of numbers
        #: faster than a list of tuples); replicas extend it themselves through
        #: ``direct_records`` (see :class:`~infercost.sim.scheduler.Sink`)
        self.records: list[float] = []
        self.direct_records: list[float] | None = self.records
        #: the fields of a record (an open loop's, :data:`_SHORT_FIELDS`); preemptions and
        #: replica only where timings are kept
        self.record_fields: tuple[str, ...] = _SHORT_FIELDS if keep else _SHORT_FIELDS[:4]
        self._rej: list[tuple[int, float, float, int, int]] = []

    def add_chunk(self, base: int, arrival: FloatArray, isl: IntArray, osl: IntArray) -> None:
        """Register the workload's requests ``base`` to ``base + len(arrival) - 1`` (arrival
        times and lengths), before any of them is routed."""
        self._chunks.append(_Chunk(base, arrival, isl, osl))

    def _chunk_of(self, gid: int) -> _Chunk:
        for c in self._chunks:
            if c.base <= gid < c.end:
                return c
        raise AssertionError(f"request {gid} is in no registered chunk")

    def _left(self, c: _Chunk, k: int) -> None:
        """``k`` more requests of chunk ``c`` have left; drop it when none remains."""
        c.left -= k
        if c.left == 0:
            self._chunks.remove(c)

    def finished(self, i: int) -> None:
        """Sink: slot ``i`` finished; buffer its raw times and free the slot (the latencies,
        counts and sums are computed per batch in :meth:`flush`)."""
        r = self.reqs
        buf = self.records
        buf.extend((
            r.gid[i], r.sched_s[i], r.first_s[i], r.finish_s[i], r.preempts[i], r.replica[i],
        ) if self.timings is not None else (
            r.gid[i], r.sched_s[i], r.first_s[i], r.finish_s[i],
        ))  # fmt: skip
        r.free_slots.append(i)
        if len(buf) >= _FLUSH * len(self.record_fields):
            self.drain()

    def rejected(self, i: int) -> None:
        """Sink: slot ``i`` can never be admitted; record it and free the slot."""
        r = self.reqs
        gid = r.gid[i]
        c = self._chunk_of(gid)
        arrival = float(c.arrival[gid - c.base])
        self.reject(gid, arrival, arrival + self.overhead_s, r.isl[i], r.osl[i], r.replica[i])
        r.free(i)

    def reject(self, gid: int, arrival: float, ready: float, isl: int, osl: int, k: int) -> None:
        """Record request ``gid`` as rejected (it leaves at arrival)."""
        if self._chunks:
            self._left(self._chunk_of(gid), 1)
        self.rejected_count += 1
        if self.t_mid < arrival <= self.t_last:
            self.window_leaves += 1
        if self.timings is not None:
            self._rej.append((gid, arrival, ready, isl, osl, k))  # type: ignore[arg-type]
            if len(self._rej) >= _FLUSH:
                self.flush()

    def drain(self) -> None:
        """Reduce the buffered records in whole batches of :data:`_FLUSH` (the rest stays
        buffered): the same batches as reducing each batch as its last record comes."""
        buf = self.records
        batch = _FLUSH * len(self.record_fields)  # values of _FLUSH records
        while len(buf) >= batch:
            self._reduce(buf[:batch])
            del buf[:batch]

    def flush(self) -> None:
        """Turn the buffered records into latencies (one numpy pass per batch: the same
        float64 operations as per request), add them to the counts and sums, and write them
        into the arrays."""
        self.drain()
        if self.records:
            self._reduce(self.records)
            self.records.clear()
        if self._rej and self.timings is not None:
            cols = list(zip(*self._rej, strict=True))
            self._rej = []
            g = np.asarray(cols[0], dtype=np.int64)
            t = self.timings
            t.arrival_s[g] = cols[1]
            t.ready_s[g] = cols[2]
            t.input_tokens[g] = cols[3]
            t.output_tokens[g] = cols[4]
            t.replica[g] = cols[5]
            t.rejected[g] = True

    def _workload_of(self, g: IntArray) -> tuple[FloatArray, IntArray, IntArray]:
        """Arrival times and lengths of requests ``g`` (an open loop's batch of records),
        from the registered chunks; chunks all of whose requests have left are dropped."""
        lo, hi = int(g.min()), int(g.max())
        chunks = [c for c in self._chunks if c.base <= hi and c.end > lo]
        if len(chunks) == 1:
            c = chunks[0]
            j = g - c.base
            self._left(c, len(g))
            return c.arrival[j], c.isl[j], c.osl[j]
        arrival = np.empty(len(g))
        isl = np.empty(len(g), dtype=np.int64)
        osl = np.empty(len(g), dtype=np.int64)
        which = np.searchsorted([c.end for c in chunks], g, side="right")
        for k, c in enumerate(chunks):
            mine = which == k
            j = g[mine] - c.base
            arrival[mine] = c.arrival[j]
            isl[mine] = c.isl[j]
            osl[mine] = c.osl[j]
            self._left(c, len(j))
        return arrival, isl, osl

    def _reduce(self, records: list[float]) -> None:
        """One batch of records (flat, :attr:`records`): latencies into the arrays, counts
        and sums."""
        # (records, fields); ids and tokens < 2^53 are exact in float64
        w = len(self.record_fields)
        a = np.array(records, dtype=np.float64).reshape(-1, w)
        g = a[:, 0].astype(np.int64)
        if w <= 6:  # an open loop's: the rest from the workload
            sched, first, finish = a[:, 1], a[:, 2], a[:, 3]
            arrival, isl, osl = self._workload_of(g)
            ready = arrival + self.overhead_s  # as the driver's ready times: the same bits
            extra = 4
        else:
            arrival, ready, sched, first, finish = a[:, 1], a[:, 2], a[:, 3], a[:, 4], a[:, 5]
            isl, osl = a[:, 6].astype(np.int64), a[:, 7].astype(np.int64)
            extra = 8
        ttft = first - arrival
        e2e = finish - arrival
        multi = osl > 1
        gaps = e2e[multi] - ttft[multi]
        tpot = np.full(len(g), np.nan)
        tpot[multi] = gaps / (osl[multi] - 1.0)
        self.decode_s += float(np.sum(gaps))
        self.decode_gaps += int(np.sum(osl[multi] - 1))
        self.out_tokens += int(osl.sum())
        self.in_tokens += int(isl.sum())
        self.last_finish = max(self.last_finish, float(finish.max()))
        in_window = (finish > self.t_mid) & (finish <= self.t_last)
        self.window_leaves += int(np.count_nonzero(in_window))
        lat = (self.ttft, self.e2e, self.tpot, self.queue, self.finish)
        for arr, col in zip(lat, (ttft, e2e, tpot, sched - ready, finish), strict=True):
            arr[g] = col
        t = self.timings
        if t is not None:
            t.arrival_s[g] = arrival
            t.ready_s[g] = ready
            t.sched_s[g] = sched
            t.first_token_s[g] = first
            t.finish_s[g] = finish
            t.input_tokens[g] = isl
            t.output_tokens[g] = osl
            t.preemptions[g] = a[:, extra].astype(np.int64)
            t.replica[g] = a[:, extra + 1].astype(np.int64)

    def summary(
        self, t_first: float, slo: Slo | None, mean_tokens: tuple[float, float]
    ) -> Summary:
        """The run's :class:`Summary` (equal to :func:`summarize` over the per-request
        arrays; float32 runs agree to the float32 rounding of each latency);
        ``mean_tokens``: the workload's mean input and output tokens."""
        self.flush()
        done = ~np.isnan(self.finish)
        completed = int(np.count_nonzero(done))

        def of_done(x: LatArray) -> LatArray:
            # the arrays themselves when every request completed (no copies: 10^7 requests
            # in float32 are 40 MB an array)
            return x if completed == self.n else x[done]

        ttft = of_done(self.ttft)
        e2e = of_done(self.e2e)
        tpot = of_done(self.tpot)
        if self.exact:
            multi = ~np.isnan(tpot)
            decode_s = float(np.sum(e2e[multi] - ttft[multi]))
        else:
            decode_s = self.decode_s
        return summary_of(
            self.n,
            self.rejected_count,
            float(self.last_finish - t_first) if completed else 0.0,
            float(self.out_tokens),
            float(self.out_tokens + self.in_tokens),
            ttft,
            e2e,
            of_done(self.queue),
            tpot,
            decode_s,
            float(self.decode_gaps),
            slo,
            isl_mean_tokens=mean_tokens[0],
            osl_mean_tokens=mean_tokens[1],
        )


class _ClosedRecorder(_Recorder):
    """The recorder of a closed loop: each request that leaves makes its client send the
    next one (``client_overhead_s`` later) while requests remain, and stops the replica it
    left so that the driver can route that request before the next iteration starts."""

    def __init__(
        self, reqs: Requests, n: int, keep: bool, loop: ClosedLoop, reps: list[Replica],
        request_overhead_s: float,
    ) -> None:  # fmt: skip
        super().__init__(reqs, n, keep, math.inf, math.inf)
        self.direct_records = None  # each finish sends its client's next request at once
        # arrivals are the clients' sends, not the workload's: records carry them, as they
        # carry the ready times and lengths
        self.record_fields = _RECORD_FIELDS if keep else _RECORD_FIELDS[:8]
        self.client_s = loop.client_overhead_s
        self.request_s = request_overhead_s
        self.reps = reps
        self.pending: list[tuple[float, int]] = []  # (send time, send order)
        self.sent = 0

    def send(self, t_s: float) -> None:
        """A client sends its next request at ``t_s`` if any remain."""
        if self.sent < self.n:
            heapq.heappush(self.pending, (t_s, self.sent))
            self.sent += 1

    def _next(self, end_s: float, k: int) -> None:
        if self.sent < self.n:
            t = end_s + self.client_s
            self.send(t)
            self.reps[k].stop_at(t + self.request_s)

    def finished(self, i: int) -> None:
        """Sink: slot ``i`` finished; record it and send its client's next request."""
        r = self.reqs
        end, k = r.finish_s[i], r.replica[i]
        self.records.extend((
            r.gid[i], r.arrival_s[i], r.ready_s[i], r.sched_s[i], r.first_s[i], end,
            r.isl[i], r.osl[i], r.preempts[i], k,
        ) if self.timings is not None else (
            r.gid[i], r.arrival_s[i], r.ready_s[i], r.sched_s[i], r.first_s[i], end,
            r.isl[i], r.osl[i],
        ))  # fmt: skip
        r.free_slots.append(i)
        if len(self.records) >= _FLUSH * len(self.record_fields):
            self.drain()
        self._next(end, k)

    def rejected(self, i: int) -> None:
        """Sink: slot ``i`` can never be admitted; its client sends the next at once."""
        r = self.reqs
        k = r.replica[i]
        self.reject(r.gid[i], r.arrival_s[i], r.ready_s[i], r.isl[i], r.osl[i], k)
        r.free(i)
        self._next(self.reps[k].t, k)


def _each_request(workload: RequestSource, block_size: int) -> Iterator[tuple[int, ...]]:
    """(input tokens, output tokens, prefix id, shared prefix tokens) of each request in
    order, read chunk by chunk."""
    for _, isl_a, osl_a, pid_a, ptok_a in workload.request_chunks():
        ptok_a = (ptok_a // block_size) * block_size
        yield from zip(
            isl_a.tolist(), osl_a.tolist(), pid_a.tolist(), ptok_a.tolist(), strict=True
        )


def _route(reps: list[Replica], least: bool, t: float, gid: int) -> int:
    """The replica request ``gid``, ready at ``t``, goes to, advanced to ``t``: the one with
    the fewest outstanding requests (every replica advanced first, ties to the lowest index),
    or round robin by request id."""
    if least:
        for rep in reps:
            rep.advance_until(t)
        return min(range(len(reps)), key=lambda q: (reps[q].outstanding, q))
    k = gid % len(reps)
    reps[k].advance_until(t)
    return k


def _run_closed_loop(
    workload: RequestSource,
    config: ReplicaConfig,
    loop: ClosedLoop,
    reps: list[Replica],
    reqs: Requests,
    rec: _ClosedRecorder,
    least: bool,
    progress: ProgressFn | None,
) -> None:
    """Serve ``workload`` to ``loop.concurrency`` clients.

    Requests are numbered in the order they are sent and take the workload's lengths in
    that order. Replicas are advanced conservatively: the one with the earliest clock runs
    iterations that start before the next send and before any other busy replica could end a
    request and send another (its clock + client and request overheads); a replica that
    ends a request stops (:meth:`Replica.stop_at`). So every request is queued on its
    replica before any iteration that starts at or after its ready time, as in open loop.
    """
    n = workload.num_requests
    requests = _each_request(workload, config.block_size)
    for _ in range(min(loop.concurrency, n)):
        rec.send(0.0)
    overhead = config.request_overhead_s
    lag = loop.client_overhead_s + overhead
    pending = rec.pending
    max_len = config.max_model_len
    fits = reps[0].fits_alone
    step = max(n // 200, 1)
    gid = 0
    while True:
        while True:
            target = pending[0][0] + overhead if pending else math.inf
            busy = [p for p in reps if (p.running or p.waiting) and p.t < target]
            if not busy:
                break
            rep = min(busy, key=lambda p: p.t)
            horizon = target
            for other in busy:
                if other is not rep and other.t + lag < horizon:
                    horizon = other.t + lag
            if horizon <= rep.t:  # others end requests only after an iteration: run one
                horizon = math.nextafter(rep.t, math.inf)
            rep.advance_until(horizon)
        if not pending:
            return
        arrival, _ = heapq.heappop(pending)
        isl, osl, pid, ptok = next(requests)
        t = arrival + overhead
        if (max_len is not None and isl + osl > max_len) or not fits(isl, osl):
            rec.reject(gid, arrival, t, isl, osl, -1)
            rec.send(arrival + loop.client_overhead_s)
        else:
            k = _route(reps, least, t, gid)
            reps[k].enqueue(reqs.add(gid, arrival, t, isl, osl, pid, ptok, k))
        if progress is not None and gid % step == 0:
            progress(gid, n)
        gid += 1


def simulate(
    workload: RequestSource,
    config: ReplicaConfig,
    *,
    replicas: int = 1,
    router: str = "round-robin",
    slo: Slo | None = None,
    progress: ProgressFn | None = None,
    reference: bool = False,
    max_work: float | None = None,
    keep_requests: bool | None = None,
    closed_loop: ClosedLoop | None = None,
) -> SimResult:
    """Serve ``workload`` on ``replicas`` identical replicas and measure it.

    The requests are read in chunks and only those in flight are held as Python state;
    each request that leaves is reduced to five latencies in per-request arrays (float64 up
    to :data:`FLOAT64_MAX` requests, float32 beyond: 20 bytes a request), so a
    :class:`~infercost.sim.workload.WorkloadStream` of 10^7 requests runs in a few hundred MB.

    Args:
        workload: the requests: a :class:`Workload` (arrays in memory) or a
            :class:`~infercost.sim.workload.WorkloadStream` (drawn in chunks).
        config: one replica's step physics and engine limits.
        replicas: identical replicas behind the router.
        router: ``round-robin`` or ``least-loaded`` (fewest outstanding requests).
        slo: optional latency targets for goodput and attainment.
        progress: called as ``progress(requests_routed, total)`` about 200 times.
        reference: step every iteration through ``perf.step.mixed_step`` instead of the
            closed-form fast path (slow; for validation and the speed benchmark).
        max_work: raise the work limit (requests, + 1,000 per replica, x replicas with
            ``least-loaded``; :data:`infercost.domains.WORK_LIMITS`), checked before the run.
        keep_requests: keep the per-request arrays (``SimResult.requests``); default: runs
            of at most :data:`KEEP_REQUESTS_MAX` requests.
        closed_loop: drive the run with C clients instead of the workload's arrival times
            (:class:`~infercost.sim.config.ClosedLoop`): all C send at t = 0, each sends
            its next request when its previous one ends, until the workload's
            ``num_requests`` (R) are sent; requests take the workload's lengths in the order
            they are sent. The workload's arrival times must all be 0 (rate ``inf``). The
            saturation verdict is never OVERLOADED (at most C requests in flight).

    Returns:
        A :class:`SimResult`. Deterministic: the same inputs give the same result. The
        garbage collector is paused while it runs (the run makes no reference cycles, and
        the tuples it allocates would otherwise start a collection every few hundred
        requests) and resumed after.

    Raises:
        InputError: fewer than one replica, an unknown router, work past the limit, or a
            closed loop over a workload with arrival times.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _simulate(
            workload, config, replicas=replicas, router=router, slo=slo, progress=progress,
            reference=reference, max_work=max_work, keep_requests=keep_requests,
            closed_loop=closed_loop,
        )  # fmt: skip
    finally:
        if collecting:
            gc.enable()


def _simulate(
    workload: RequestSource,
    config: ReplicaConfig,
    *,
    replicas: int = 1,
    router: str = "round-robin",
    slo: Slo | None = None,
    progress: ProgressFn | None = None,
    reference: bool = False,
    max_work: float | None = None,
    keep_requests: bool | None = None,
    closed_loop: ClosedLoop | None = None,
) -> SimResult:
    """:func:`simulate` (while the garbage collector is paused)."""
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
    keep = n <= KEEP_REQUESTS_MAX if keep_requests is None else keep_requests
    t_first, t_mid, t_last = workload.arrival_marks()
    reqs = Requests()
    kind = ReferenceReplica if reference else Replica
    least = router == "least-loaded"
    if closed_loop is not None:
        if t_last != 0.0:
            raise InputError(
                "A closed loop sends its requests itself: give a workload whose arrival times "
                "are all 0 (rate inf), and the clients' pacing with ClosedLoop."
            )
        reps: list[Replica] = []
        crec = _ClosedRecorder(reqs, n, keep, closed_loop, reps, config.request_overhead_s)
        reps.extend(kind(config, reqs, crec) for _ in range(replicas))
        _run_closed_loop(workload, config, closed_loop, reps, reqs, crec, least, progress)
        if progress is not None:
            progress(n, n)
        summary = crec.summary(0.0, slo, workload.mean_tokens())
        rate = summary.request_throughput_req_s
        sat = Saturation(
            overloaded=False,
            offered_rate_req_s=None,  # a closed loop's clients set the rate
            completion_rate_req_s=rate,
            backlog_growth=0.0,
            sustainable_rate_req_s=None,
            reliable=True,
            reason=f"closed loop of {closed_loop.concurrency} client(s): at most that many "
            "requests in flight, so the queue cannot grow",
        )
        return SimResult(
            crec.timings, summary, sat, _stats(reps, summary), router, slo, closed_loop
        )
    bs = config.block_size
    rec = _Recorder(reqs, n, keep, t_mid, t_last, config.request_overhead_s)
    reps = [kind(config, reqs, rec) for _ in range(replicas)]
    max_len = config.max_model_len
    step = max(n // 200, 1)
    overhead = config.request_overhead_s
    add = reqs.add
    base = 0
    cap = reps[0].cap
    half_block = reps[0].half_block
    for arr, isl_a, osl_a, pid_a, ptok_a in workload.request_chunks():
        ptok_a = (ptok_a // bs) * bs  # only whole blocks are shared (vLLM APC)
        rec.add_chunk(base, arr, isl_a, osl_a)
        arrival_l = arr.tolist()
        ready_l = (arr + overhead).tolist()
        isl_l, osl_l = isl_a.tolist(), osl_a.tolist()
        pid_l, ptok_l = pid_a.tolist(), ptok_a.tolist()
        # requests that can never be served, for the whole chunk (Replica.fits_alone and
        # the model's context)
        total = isl_a + osl_a
        never = total + half_block > cap
        if max_len is not None:
            never |= total > max_len
        never_l = never.tolist()
        if replicas == 1:
            # one replica (either router): it queues the chunk's requests itself
            reps[0].serve(
                Feed(arrival_l, ready_l, isl_l, osl_l, pid_l, ptok_l, never_l, base,
                     rec.reject, progress, step, n)
            )  # fmt: skip
            base += len(arrival_l)
            continue
        for j in range(len(arrival_l)):
            i = base + j
            t = ready_l[j]
            isl, osl = isl_l[j], osl_l[j]
            if never_l[j]:
                rec.reject(i, arrival_l[j], t, isl, osl, -1)
                continue
            k = _route(reps, least, t, i)
            reps[k].enqueue(add(i, arrival_l[j], t, isl, osl, pid_l[j], ptok_l[j], k))
            if progress is not None and i % step == 0:
                progress(i, n)
        base += len(arrival_l)
    for rep in reps:
        rep.advance_until(math.inf)
    if progress is not None:
        progress(n, n)
    summary = rec.summary(t_first, slo, workload.mean_tokens())
    sat = verdict(
        n, t_first, t_mid, t_last, rec.window_leaves, unloaded_e2e_s(workload, config),
        rec.finish,
    )  # fmt: skip
    return SimResult(rec.timings, summary, sat, _stats(reps, summary), router, slo)


def _stats(reps: list[Replica], summary: Summary) -> tuple[ReplicaStats, ...]:
    span = summary.duration_s if summary.duration_s > 0 else math.nan
    return tuple(
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
