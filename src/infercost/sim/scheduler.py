"""One replica's continuous-batching scheduler and iteration loop (vLLM-like).

Each engine iteration (vLLM V1 scheduler, "Optimization and Tuning" docs):

1. **KV room for decode.** Every decoding sequence appends one token (``E`` with speculative
   decoding) to its KV cache. If the cache cannot hold that growth, the most recently admitted
   request is **preempted by recompute**: its blocks are freed and it goes back to the front of
   the waiting queue; when readmitted it prefills its prompt plus the tokens it already
   generated (tokens already streamed keep their times, so TTFT is unchanged and E2E grows).
2. **Token budget.** Decode tokens come first (b x q, q = k + 1 with speculation); the rest of
   ``max_num_batched_tokens`` goes to prompt chunks: first the requests already prefilling, in
   admission order, then new requests from the waiting queue (FCFS, head-of-line blocking),
   while fewer than ``max_num_seqs`` run and the KV cache admits them.
3. **Admission** reserves KV for the whole prompt (vLLM allocates per chunk; prompts of one or
   two chunks make the difference small). ``admission="full"`` also reserves the outputs, as
   TensorRT-LLM's default ``GUARANTEED_NO_EVICT`` capacity scheduler does: it never preempts.
4. **Prefix caching.** A request whose ``prefix_id`` is resident skips the block-aligned prefix
   in prefill and shares its blocks (counted once in the cache). The first request of a prefix
   makes it resident; a prefix no running request uses stays cached until its blocks are
   needed (LRU eviction before any preemption). vLLM always recomputes the prompt's last token.
5. **Speculative decoding** (k drafts, acceptance a): a verify iteration runs k + 1 tokens per
   sequence and keeps E = (1 - a^(k+1)) / (1 - a) on average (Leviathan et al. 2023,
   arXiv:2211.17192, eq. 1); the sequence advances E tokens per iteration (the mean, so runs
   stay deterministic). A draft model adds k decode steps per iteration (the first fused with
   the draft's share of the prompt chunks).

KV accounting is in tokens: private tokens of running sequences, plus resident prefixes, plus
half a block per running sequence (its last block is on average half full).

Between events (an arrival to admit, a finish, a KV shortfall) decode-only iterations differ
only in context length, and step time is piecewise linear in it, so a run of n such
iterations is summed in closed form (:meth:`Replica._decode_run`), checked for linearity and
split where a roofline or sliding-window kink falls inside. This keeps 10^5 requests within
seconds at any load.

The loop (:meth:`Replica._loop`) holds the clock, decode count, context sum and KV counters
in locals and inlines the common paths (admission without a cacheable prefix, the prompt
iteration, the hand-over to decode, finishes, a run cut by an arrival); decode-only runs
follow one another in an inner loop while nothing waits or prefills; one replica is fed a
whole chunk of open-loop requests (:meth:`Replica.serve`) instead of one call per request,
takes their slots itself and appends each finish's record to the recorder's list itself
(``Sink.direct_records``). A lone fresh request (nothing prefilling) is admitted and run
without the chunk lists; a batch size's decode line and run constants are looked up once
per run; the arithmetic keeps to float-with-float operations (which the interpreter
specialises) with the same bits as before, and comparisons that guard long blocks are
written to jump over a ``break`` (a short jump, so they specialise too). An open loop's
finish records hold the gid and the replica's times only (the sink reads the rest from the
workload), and the outputs still to come are tracked under ``admission="full"`` only. The
per-request cost is about 1,000 bytecodes (about 4 us): each request is at least three
events (its arrival cuts a decode run, its prompt iteration, its finish), and each iteration
depends on the batch the previous one left, so requests cannot be advanced many per numpy operation
without approximating.
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol

from infercost.errors import InputError
from infercost.perf.step import mixed_step
from infercost.sim.config import ReplicaConfig
from infercost.sim.steptime import FastStep

WAITING, PREFILLING, DECODING, DONE, REJECTED = 0, 1, 2, 3, 4
__all__ = ["REJECTED", "Feed", "ReferenceReplica", "Replica", "ReplicaConfig", "Requests", "Sink"]
_LINEAR_RTOL = 1e-9
#: records a sink's ``direct_records`` holds at most before the replica calls its ``drain``
#: (the recorder reduces them in batches of this size)
_RECORDS = 1 << 14
#: the prompt chunks of an iteration that runs a lone request (never appended to)
_NO_CHUNKS: list[tuple[int, int]] = []


class Sink(Protocol):
    """Where a replica reports requests that leave it (the simulation's metric recorder).

    A sink may also have ``direct_records``, a list, and ``drain()``: the replica's loop then
    extends that list with what ``finished`` would record, the values (gid, scheduled, first
    token and finish times, preemptions, replica), itself (a flat list: record after record)
    and frees the slot, and calls ``drain()`` once the list holds :data:`_RECORDS` records or
    more; ``finished`` is still called for the rarer paths. The same records in the same
    order, without a call per request. A sink whose ``record_fields`` has 4 entries takes
    the record without the last two values. Such a sink reads each request's arrival and
    ready times and lengths from the workload by gid: requests a :class:`Feed` queues leave
    the slot's ``arrival_s`` and ``ready_s`` unset."""

    def finished(self, i: int) -> None:
        """Request in slot ``i`` produced its last token (``finish_s`` is set)."""

    def rejected(self, i: int) -> None:
        """Request in slot ``i`` can never be admitted (longer than the whole KV cache)."""


class Requests:
    """State of the requests in flight, shared by the replicas of one simulation: plain
    lists indexed by slot. A request takes a slot when it is routed (:meth:`add`) and the
    recorder gives the slot back when it leaves (:meth:`free`), so the lists grow with the
    requests in flight, not with the run. ``gid`` is the request's number in the workload
    (ties between requests finishing at the same iteration break on it)."""

    __slots__ = (
        "arrival_s",
        "ctx_entry",
        "epoch",
        "finish_s",
        "first_s",
        "free_slots",
        "g_entry",
        "gen",
        "gid",
        "isl",
        "osl",
        "pf_done",
        "pf_target",
        "pid",
        "preempts",
        "ptok",
        "ready_s",
        "replica",
        "reserve",
        "sched_s",
        "shared",
        "state",
    )

    def __init__(self) -> None:
        self.free_slots: list[int] = []
        self.gid: list[int] = []
        self.arrival_s: list[float] = []
        self.ready_s: list[float] = []
        self.replica: list[int] = []
        self.isl: list[int] = []
        self.osl: list[int] = []
        self.pid: list[int] = []
        self.ptok: list[int] = []  # block-aligned shareable prefix tokens
        self.state: list[int] = []
        self.first_s: list[float] = []
        self.finish_s: list[float] = []
        self.sched_s: list[float] = []
        self.preempts: list[int] = []
        self.gen: list[float] = []  # tokens generated (at decode entry for decoding requests)
        self.pf_target: list[int] = []
        self.pf_done: list[int] = []
        self.g_entry: list[int] = []
        self.ctx_entry: list[float] = []
        self.shared: list[float] = []  # shared prefix tokens (a float: kv arithmetic)
        self.reserve: list[float] = []
        self.epoch: list[int] = []

    def add(
        self, gid: int, arrival_s: float, ready_s: float, isl: int, osl: int, pid: int, ptok: int,
        replica: int,
    ) -> int:  # fmt: skip
        """Take a slot for request ``gid`` (waiting, nothing generated); return the slot.

        A reused slot resets only the fields read before the scheduler writes them (state,
        first and scheduled times, preemptions, tokens generated); the others (prefill
        target and progress, decode entry, shared tokens, reservation, finish time) are set
        at admission, decode entry and finish. The epoch carries on: finish entries are
        matched on (epoch, gid), and the gid is new.
        """
        nan = math.nan
        if self.free_slots:
            i = self.free_slots.pop()
            self.gid[i] = gid
            self.arrival_s[i] = arrival_s
            self.ready_s[i] = ready_s
            self.replica[i] = replica
            self.isl[i] = isl
            self.osl[i] = osl
            self.pid[i] = pid
            self.ptok[i] = ptok
            self.state[i] = WAITING
            self.first_s[i] = nan
            self.sched_s[i] = nan
            self.preempts[i] = 0
            self.gen[i] = 0.0
            return i
        self.gid.append(gid)
        self.arrival_s.append(arrival_s)
        self.ready_s.append(ready_s)
        self.replica.append(replica)
        self.isl.append(isl)
        self.osl.append(osl)
        self.pid.append(pid)
        self.ptok.append(ptok)
        self.state.append(WAITING)
        self.first_s.append(nan)
        self.finish_s.append(nan)
        self.sched_s.append(nan)
        self.preempts.append(0)
        self.gen.append(0.0)
        self.pf_target.append(0)
        self.pf_done.append(0)
        self.g_entry.append(0)
        self.ctx_entry.append(0.0)
        self.shared.append(0.0)
        self.reserve.append(0.0)
        self.epoch.append(0)
        return len(self.gid) - 1

    def free(self, i: int) -> None:
        """Give slot ``i`` back (its request finished or was rejected)."""
        self.free_slots.append(i)


class Feed:
    """One chunk of open-loop requests for :meth:`Replica.serve`, all routed to one replica:
    per-request lists (arrival and ready times, seconds; lengths, prefix id and shareable
    prefix tokens; ``never``: can never be served), the workload number of the first
    (``base``), the recorder's ``reject``, and the progress callback (called as
    ``progress(gid, total)`` for gids that are multiples of ``step``). The replica takes the
    requests' slots in its own :class:`Requests` (as :meth:`Requests.add`, inline)."""

    __slots__ = (
        "arrival",
        "base",
        "isl",
        "never",
        "osl",
        "pid",
        "progress",
        "ptok",
        "ready",
        "reject",
        "replica",
        "step",
        "total",
    )

    def __init__(
        self,
        arrival: list[float],
        ready: list[float],
        isl: list[int],
        osl: list[int],
        pid: list[int],
        ptok: list[int],
        never: list[bool],
        base: int,
        reject: Callable[[int, float, float, int, int, int], None],
        progress: Callable[[int, int], None] | None = None,
        step: int = 1,
        total: int = 0,
        replica: int = 0,
    ) -> None:
        self.arrival, self.ready, self.isl, self.osl = arrival, ready, isl, osl
        self.pid, self.ptok, self.never, self.base = pid, ptok, never, base
        self.reject, self.progress = reject, progress
        self.step, self.total, self.replica = step, total, replica


class Replica:
    """State and iteration loop of one replica.

    Call :meth:`advance_until` with each arrival time (ready time) before :meth:`enqueue`,
    then ``advance_until(inf)`` to drain. Times are seconds on the simulation clock.
    """

    def __init__(self, cfg: ReplicaConfig, reqs: Requests, sink: Sink) -> None:
        self.cfg = cfg
        self.reqs = reqs
        self.sink = sink
        # the sink's record list the loop appends to itself, or None: a call per finish
        self._records: list[float] | None = getattr(sink, "direct_records", None)
        self._whole_records = len(getattr(sink, "record_fields", "012345")) == 6
        # values of _RECORDS records in that (flat) list
        self._records_max = _RECORDS * (6 if self._whole_records else 4)
        self.fast = FastStep(cfg.step)
        self._time_fn = self.fast.time_fn()  # time_s, specialised where it can be
        spec = cfg.spec
        self.k = spec.num_draft_tokens if spec else 0
        self.q = float(self.k + 1)
        self.E = spec.tokens_per_step if spec else 1.0
        self.draft = FastStep(spec.draft) if spec is not None and spec.draft is not None else None
        self.cap = float(cfg.kv_capacity_tokens)
        self.half_block = cfg.block_size / 2.0
        self.full = cfg.admission == "full"
        self.t = 0.0
        self.G = 0  # decode iterations so far
        self.C = 0.0  # sum of decoding sequences' contexts, tokens
        self.b = 0  # decoding sequences
        self.kv_private = 0.0
        self.kv_shared = 0.0
        self.kv_future = 0.0  # outputs still to come, tokens (tracked under "full" only)
        self.running: dict[int, None] = {}
        self.prefilling: list[int] = []
        self.waiting: deque[int] = deque()
        self.heap: list[tuple[int, int, int, int]] = []  # (G, epoch, gid, slot)
        self.resident: dict[int, list[int]] = {}  # prefix id -> [tokens, refcount]
        self.lru: OrderedDict[int, int] = OrderedDict()  # unreferenced prefixes -> tokens
        self.iterations = 0
        self.decode_runs = 0
        self.preemptions = 0
        self.busy_s = 0.0
        self.kv_area2 = 0.0  # twice the KV tokens in use integrated over time, token-s
        self.kv_used_max = 0.0  # most KV tokens in use at an iteration's end
        self.completed = 0
        self.until_s = math.inf  # horizon of the running advance_until
        self._lines: dict[int, tuple[float, float, float, float] | None] = {}
        self._closed_form = True  # decode runs on a checked line are summed inline
        self._pairs0: dict[int, float] = {}  # chunk_pairs(n, 0) by chunk size n
        # per batch size b: decode line (intercept, slope, lowest and highest context sum;
        # nan, nan, inf, -inf without one), b E and slope b E, for the loop's runs
        self._run_consts: dict[int, tuple[float, float, float, float, float, float]] = {}

    # ----------------------------------------------------------------- queue and KV
    @property
    def kv_util_integral_s(self) -> float:
        """KV-cache utilisation (0..1) integrated over the run, seconds."""
        return 0.5 * self.kv_area2 / self.cap

    @property
    def kv_util_max_frac(self) -> float:
        """Highest KV-cache utilisation (0..1) at the end of an iteration."""
        return self.kv_used_max / self.cap

    @property
    def outstanding(self) -> int:
        """Requests routed here and not finished (running + waiting)."""
        return len(self.running) + len(self.waiting)

    def fits_alone(self, isl: int, osl: int) -> bool:
        """Whether a request of ``isl`` + ``osl`` tokens could ever fit in an empty cache."""
        return isl + osl + self.half_block <= self.cap

    def enqueue(self, i: int) -> None:
        """Add a ready request to the waiting queue."""
        self.waiting.append(i)

    def _kv_used(self) -> float:
        return self.kv_private + self.kv_shared + self.half_block * len(self.running)

    def _admit(self, i: int) -> bool:
        """Admit waiting request ``i`` to prefill if the KV cache holds it; evict unreferenced
        prefixes (LRU) first if needed."""
        r = self.reqs
        gen = int(r.gen[i])
        target = r.isl[i] + gen
        pid = r.pid[i] if self.cfg.prefix_caching else -1
        shared = r.ptok[i] if pid >= 0 else 0
        entry = self.resident.get(pid) if shared else None
        new_prefix = shared if (shared and entry is None) else 0
        hit = min(shared, target - 1) if entry is not None else 0
        reserve = float(r.osl[i] - gen) if self.full else 0.0
        # Room for the prompt (and outputs under "full"); under "prompt", also for one decode
        # step of the running sequences (a watermark that keeps a just-admitted request from
        # being preempted at the next iteration).
        need = (target - shared) + self.half_block + new_prefix + reserve
        if not self.full:
            need += self.b * self.E
        # kv_future (outputs still to come) is tracked and reserved under "full" only.
        used = self._kv_used() + (self.kv_future if self.full else 0.0)
        if used + need > self.cap:
            for victim in [p for p in self.lru if p != pid]:
                if used + need <= self.cap:
                    break
                tokens = self.lru.pop(victim)
                del self.resident[victim]
                self.kv_shared -= tokens
                used -= tokens
            if used + need > self.cap:
                return False
        if shared:
            if entry is None:
                self.resident[pid] = [shared, 1]
                self.kv_shared += shared
            else:
                if entry[1] == 0:
                    self.lru.pop(pid, None)
                entry[1] += 1
        r.shared[i] = float(shared)
        r.pf_target[i] = target
        r.pf_done[i] = hit
        r.reserve[i] = reserve
        r.state[i] = PREFILLING
        if math.isnan(r.sched_s[i]):
            r.sched_s[i] = self.t
        self.kv_private += target - shared
        if self.full:
            self.kv_future += reserve
        self.running[i] = None
        self.prefilling.append(i)
        return True

    def _release(self, i: int, private: float, grown: float) -> None:
        r = self.reqs
        self.kv_private -= private
        if self.full:
            self.kv_future -= r.reserve[i] - grown
        del self.running[i]
        shared = r.shared[i]
        if shared:
            pid = r.pid[i]
            entry = self.resident[pid]
            entry[1] -= 1
            if entry[1] == 0:
                self.lru[pid] = entry[0]

    def _preempt_last(self) -> None:
        """Preempt the most recently admitted running request (recompute)."""
        r = self.reqs
        i = next(reversed(self.running))
        if r.state[i] == DECODING:
            steps = self.G - r.g_entry[i]
            grown = self.E * steps
            ctx = r.ctx_entry[i] + grown
            self.C -= ctx
            self.b -= 1
            r.epoch[i] += 1
            r.gen[i] = min(r.gen[i] + grown, float(r.osl[i] - 1))
            self._release(i, ctx - r.shared[i], grown)
        else:
            self.prefilling.remove(i)
            self._release(i, float(r.pf_target[i] - r.shared[i]), 0.0)
        r.state[i] = WAITING
        r.preempts[i] += 1
        self.preemptions += 1
        self.waiting.appendleft(i)

    def _finish(self, i: int, t_s: float) -> None:
        r = self.reqs
        grown = self.E * (self.G - r.g_entry[i])
        ctx = r.ctx_entry[i] + grown
        self.C -= ctx
        self.b -= 1
        self._release(i, ctx - r.shared[i], grown)
        r.state[i] = DONE
        r.finish_s[i] = t_s
        self.completed += 1
        self.sink.finished(i)

    def stop_at(self, t_s: float) -> None:
        """Lower the horizon of the running :meth:`advance_until` to ``t_s`` seconds (no
        iteration starts at or after it)."""
        if t_s < self.until_s:
            self.until_s = t_s

    # ----------------------------------------------------------------- step times
    def _decode_step_s(self, ctx_sum: float) -> float:
        b = self.b
        t = self.fast.time_s(b, ctx_sum, query_per_seq=self.q)
        if self.draft is not None:
            t += self.k * self.draft.time_s(b, ctx_sum)
        return t

    def _decode_line(self, b: int) -> tuple[float, float, float, float] | None:
        """The decode step time at batch ``b`` as a line in the context sum X:
        (intercept s, slope s/token, lowest X, highest X) over the range where it was
        checked, or None where the step time has a kink (roofline crossover, sliding
        window) anywhere in that range. Checked once per batch size: the endpoints fix the
        line and nine interior points must lie on it (relative 1e-9); a single kink of a max
        or a min of lines lies strictly off the chord at every interior point."""
        lines = self._lines
        if b in lines:
            return lines[b]
        g = self._decode_step_s
        lo = float(b)
        hi = max(4.0 * self.cap, lo + 1.0)
        g_lo, g_hi = g(lo), g(hi)
        slope = (g_hi - g_lo) / (hi - lo)
        tol = _LINEAR_RTOL * max(g_lo, g_hi)
        line: tuple[float, float, float, float] | None = (g_lo - slope * lo, slope, lo, hi)
        for k in range(1, 10):
            x = lo + (hi - lo) * k / 10.0
            if abs(g(x) - (g_lo + slope * (x - lo))) > tol:
                line = None
                break
        lines[b] = line
        return line

    def _decode_run(self, ctx0: float, n_max: int, budget_s: float) -> tuple[int, float]:
        """Run up to ``n_max`` decode-only iterations starting at context sum ``ctx0``.

        Stops after the first iteration that ends at or after ``budget_s`` from now. Step
        times are linear in the context sum between kinks; where the batch size's checked
        line (:meth:`_decode_line`) covers the run it is used directly, otherwise the run is
        checked for linearity and split at kinks.

        Returns:
            (iterations run, seconds they took).
        """
        d_ctx = self.b * self.E
        line = self._decode_line(self.b)
        if line is not None and line[2] <= ctx0 and ctx0 + (n_max - 1) * d_ctx <= line[3]:
            a, slope = line[0], line[1]
            t0 = a + slope * ctx0
            beta = slope * d_ctx
            m = n_max
            total = m * t0 + beta * m * (m - 1) / 2.0
            if total < budget_s:
                return m, total
            return self._partial_run(t0, beta, m, budget_s, 0.0, 0)
        g = self._decode_step_s
        elapsed = 0.0
        j = 0
        while j < n_max:
            end = n_max
            while True:
                m = end - j
                if m <= 4:
                    for jj in range(j, end):
                        elapsed += g(ctx0 + jj * d_ctx)
                        if elapsed >= budget_s:
                            return jj + 1, elapsed
                    j = end
                    break
                t0 = g(ctx0 + j * d_ctx)
                t1 = g(ctx0 + (end - 1) * d_ctx)
                tol = _LINEAR_RTOL * (t0 if t0 > t1 else t1)
                linear = True
                for frac in (0.25, 0.5, 0.75):
                    x = j + frac * (m - 1)
                    if abs(g(ctx0 + x * d_ctx) - (t0 + frac * (t1 - t0))) > tol:
                        linear = False
                        break
                if not linear:
                    end = j + m // 2
                    continue
                beta = (t1 - t0) / (m - 1)
                total = m * t0 + beta * m * (m - 1) / 2.0
                if elapsed + total < budget_s:
                    elapsed += total
                    j = end
                    break
                return self._partial_run(t0, beta, m, budget_s, elapsed, j)
        return n_max, elapsed

    @staticmethod
    def _partial_run(
        t0: float, beta: float, m: int, budget_s: float, elapsed: float, j: int
    ) -> tuple[int, float]:
        """The first k <= m iterations of a linear run (step j + i takes t0 + i beta) whose
        end is at or after ``budget_s``, after ``elapsed`` seconds of earlier iterations:
        (j + k, seconds through iteration k)."""
        need = budget_s - elapsed
        a = t0 - beta / 2.0
        disc = a * a + 2.0 * beta * need
        n = 2.0 * need / (a + math.sqrt(disc if disc > 0 else 0.0)) if a > 0 else m
        k = min(max(math.ceil(n - 1e-9), 1), m)
        while k > 1 and (k - 1) * t0 + beta * (k - 1) * (k - 2) / 2.0 >= need:
            k -= 1
        while k < m and k * t0 + beta * k * (k - 1) / 2.0 < need:
            k += 1
        return j + k, elapsed + k * t0 + beta * k * (k - 1) / 2.0

    # ----------------------------------------------------------------- the loop
    def advance_until(self, until_s: float) -> None:
        """Run iterations until the replica is idle or at an iteration boundary >= ``until_s``.

        An idle replica's clock moves to ``until_s`` (when finite). The sink may lower the
        horizon while the replica runs (:meth:`stop_at`): a closed loop's client sends its
        next request when one ends, and the replica must stop for it.
        """
        self._loop(until_s, None)

    def serve(self, feed: Feed) -> None:
        """Queue the requests of ``feed`` (a chunk of an open-loop workload, all routed to
        this replica) at their ready times, running the iterations between them: for each
        request the same as ``advance_until(ready)`` then :meth:`enqueue` (or, for one that
        can never be served, the feed's ``reject``), without a call per request."""
        self._loop(-math.inf, feed)
        # the sink's records are drained once per chunk here (the loop drains them after
        # prompt iterations only when it is not fed): the same batches (Sink.direct_records)
        if self._records is not None and len(self._records) >= self._records_max:
            self.sink.drain()  # type: ignore[attr-defined]

    def _store(self, t: float, G: int, C: float, B: int, kvp: float, kvf: float) -> None:
        """Write the loop's state back before a method that reads or changes it."""
        self.t = t
        self.G = G
        self.C = C
        self.b = B
        self.kv_private = kvp
        self.kv_future = kvf

    def _loop(self, until_s: float, feed: Feed | None) -> None:
        """The iteration loop of :meth:`advance_until` and :meth:`serve`.

        The clock, decode count, context sum, KV counters and statistics are locals while
        it runs; they are written back (:meth:`_store`) before the methods of the rarer paths
        (preemption, admission beside cached prefixes, the reference stepper's step times,
        rejection, a request whose only token is its first) and on return, and read again
        after. Decode-only runs follow one another in an inner loop (finish, next run) for
        as long as nothing waits, nothing prefills and the horizon is ahead.
        """
        r = self.reqs
        pf_target, pf_done, state = r.pf_target, r.pf_done, r.state
        gen, first_s, osl, isl = r.gen, r.first_s, r.osl, r.isl
        ctx_entry, g_entry, epoch, gids = r.ctx_entry, r.g_entry, r.epoch, r.gid
        pids, ptoks, sched_s, shared_l, reserve_l = r.pid, r.ptok, r.sched_s, r.shared, r.reserve
        finish_s = r.finish_s
        free_slots = r.free_slots
        replica_l, preempts = r.replica, r.preempts
        nan = math.nan
        records = self._records
        record = records.extend if records is not None else None
        records_max = self._records_max
        # records drained after prompt iterations (else once per chunk, by serve)
        drain_each = records is not None and feed is None
        whole_records = self._whole_records
        free = free_slots.append
        E = self.E
        one_token = E == 1.0  # one token a decode step (no speculation)
        q = self.q
        full = self.full
        prompt_mode = not full
        prefix_caching = self.cfg.prefix_caching
        cap = self.cap
        hb = self.half_block
        max_tokens = float(self.cfg.max_num_batched_tokens)
        hb_seqs = hb * self.cfg.max_num_seqs  # hbn below it: fewer than max_num_seqs run
        running = self.running
        waiting = self.waiting
        prefilling = self.prefilling  # changed in place only
        heap = self.heap
        run_consts = self._run_consts
        resident = self.resident
        lru = self.lru
        fast = self._closed_form
        # one-model iterations get their step time inline (the reference stepper and the
        # draft model's extra steps go through _iteration_s)
        inline_step = fast and self.draft is None
        fstep = self.fast
        time_s, eff_context, chunk_pairs = self._time_fn, fstep.eff_context, fstep.chunk_pairs
        pairs0 = self._pairs0
        push, pop = heapq.heappush, heapq.heappop
        sqrt, ceil = math.sqrt, math.ceil
        finished = self.sink.finished
        inf = math.inf
        t, G, C, B = self.t, self.G, self.C, self.b
        Bf = float(B)  # B as a float, for float-only arithmetic (kept as B changes)
        kvp, kvs, kvf = self.kv_private, self.kv_shared, self.kv_future
        # iterations: those before, plus one per decode step (G's growth), plus the prompt
        # iterations with no decode step (counted here)
        iterations, runs, busy = self.iterations - self.G, self.decode_runs, self.busy_s
        kv_area2, kv_used_max = self.kv_area2, self.kv_used_max
        preempted = self.preemptions  # nonzero: the finish heap may hold stale entries
        completed = self.completed
        # half a block per running sequence, hb * len(running) (exact: multiples of 0.5 far
        # below 2^53), kept as running changes; read again after the methods that change it
        hbn = hb * len(running)
        # the feed's lists, and the request whose ready time is the horizon (-1: none yet)
        fj = -1
        if feed is not None:
            f_arrival, f_ready, f_isl, f_osl = feed.arrival, feed.ready, feed.isl, feed.osl
            f_pid, f_ptok, f_never, f_base = feed.pid, feed.ptok, feed.never, feed.base
            f_replica, f_progress = feed.replica, feed.progress
            f_m = len(f_never)
            f_some_never = True in f_never  # else no request of the chunk is rejected
            f_step = feed.step
        self.until_s = until_s
        while True:
            until_s = self.until_s  # a closed loop's sink lowers it when a request ends
            if t >= until_s or (not running and not waiting):
                if t < until_s and until_s < inf:  # idle: the clock moves to the horizon
                    t = until_s
                if feed is None:
                    break
                # open-loop feed: queue the request the horizon was for, then aim at the next
                if fj >= 0:
                    gid = f_base + fj
                    if free_slots:  # Requests.add, inline (the sink reads the arrival and
                        # ready times from the workload: see Sink)
                        i = free_slots.pop()
                        gids[i] = gid
                        replica_l[i] = f_replica
                        isl[i] = f_isl[fj]
                        osl[i] = f_osl[fj]
                        pids[i] = f_pid[fj]
                        ptoks[i] = f_ptok[fj]
                        state[i] = WAITING
                        first_s[i] = nan
                        sched_s[i] = nan
                        preempts[i] = 0
                        gen[i] = 0.0
                    else:
                        i = r.add(gid, f_arrival[fj], until_s, f_isl[fj], f_osl[fj], f_pid[fj],
                                  f_ptok[fj], f_replica)  # fmt: skip
                    waiting.append(i)
                    if f_progress is not None and gid % f_step == 0:
                        f_progress(gid, feed.total)
                fj += 1
                if f_some_never:
                    while fj < f_m and f_never[fj]:
                        feed.reject(
                            f_base + fj, f_arrival[fj], f_ready[fj], f_isl[fj], f_osl[fj], -1
                        )
                        fj += 1
                if fj >= f_m:
                    break
                self.until_s = until_s = f_ready[fj]
                if t >= until_s or not waiting:
                    continue
                # else on to the iteration (a request waits, the next one is not ready yet)
            # 1. KV room for this iteration's decode growth (preempt by recompute). ``used0``
            # (KV tokens in use) holds until the KV counters or the running set change.
            used0 = kvp + kvs + hbn
            if prompt_mode and B and used0 + Bf * E > cap:
                self._store(t, G, C, B, kvp, kvf)
                while self.b and (
                    self.kv_private + self.kv_shared + hb * len(running) + self.b * E > cap
                ):
                    self._preempt_last()
                preempted = self.preemptions
                C, B, kvp, kvs, kvf = (
                    self.C,
                    self.b,
                    self.kv_private,
                    self.kv_shared,
                    self.kv_future,
                )
                hbn = hb * len(running)
                used0 = kvp + kvs + hbn
                Bf = float(B)
            b = B
            bf = Bf
            # 2. prompt chunks within the token budget.
            if (waiting or prefilling) and (budget := max_tokens - bf * q) > 0.0:
                # A lone waiting request, nothing prefilling, admitted inline with its whole
                # prompt in this iteration (the common case at any load below saturation):
                # what the general path below does for it, without the chunk list and the
                # prefilling list. Otherwise (or if it does not fit) the general path.
                # (``lone`` is None or a slot, tested with ``is``: a comparison guarding a
                # long block does not specialise)
                lone = None
                chunks = _NO_CHUNKS
                if not prefilling and inline_step and len(waiting) == 1 and hbn < hb_seqs:
                    i = waiting[0]
                    g_i = int(gen[i]) if preempted else 0
                    target = isl[i] + g_i
                    # the prompt as a float (exact) for the float arithmetic below and the
                    # step time: float-with-float operations specialise (int-with-float
                    # ones do not), with the same bits
                    ftarget = float(target)
                    if ftarget <= budget and not (
                        (ptoks[i] and prefix_caching and pids[i] >= 0) or lru
                    ):
                        # the room it needs (as the general path; its reservation of 0.0
                        # under "prompt" left out: adding 0.0 changes no bits); the KV
                        # tokens in use are used0 (kvp + kvs + hbn, the same sum)
                        if full:
                            reserve = float(osl[i] - g_i)
                            need = ftarget + hb + reserve
                            used = used0 + kvf
                        else:
                            need = ftarget + hb + Bf * E
                            used = used0
                        if used + need <= cap:
                            shared_l[i] = 0.0
                            pf_target[i] = target
                            state[i] = PREFILLING
                            if not preempted or sched_s[i] != sched_s[i]:  # NaN: first
                                sched_s[i] = t
                            kvp += ftarget
                            if full:
                                reserve_l[i] = reserve
                                kvf += reserve
                            running[i] = None
                            hbn += hb
                            waiting.popleft()
                            lone = i
                            p = pairs0.get(target)
                            if p is None:
                                p = pairs0[target] = chunk_pairs(target, 0)
                            dt = time_s(bf, C, ftarget, 1.0, 0.0, p, q)
                if lone is None:  # the general path: prompt chunks in a list
                    chunks = []
                    for i in prefilling:
                        n = pf_target[i] - pf_done[i]
                        if n > budget:
                            n = int(budget)
                        chunks.append((i, n))
                        budget -= n
                        if budget <= 0:
                            break
                    while budget > 0.0 and waiting and hbn < hb_seqs:
                        i = waiting[0]
                        # admission (Replica._admit), inline for a request without a cacheable
                        # prefix while no unreferenced prefix could be evicted
                        g_i = int(gen[i]) if preempted else 0  # tokens generated before
                        target = isl[i] + g_i
                        if (ptoks[i] and prefix_caching and pids[i] >= 0) or lru:
                            self._store(t, G, C, B, kvp, kvf)
                            ok = self._admit(i)
                            kvp, kvs, kvf = self.kv_private, self.kv_shared, self.kv_future
                            hbn = hb * len(running)
                            if not ok:  # it may have evicted cached prefixes
                                used0 = kvp + kvs + hbn
                                break
                            n = pf_target[i] - pf_done[i]
                        else:
                            # room for the prompt, and the outputs under "full" (kv_future
                            # tracked there only); under "prompt" one decode step of the running
                            # sequences (Replica._admit; its reservation of 0.0 left out)
                            if full:
                                reserve = float(osl[i] - g_i)
                                need = target + hb + reserve
                                used = kvp + kvs + hbn + kvf
                            else:
                                need = target + hb + Bf * E
                                used = kvp + kvs + hbn
                            if used + need > cap:
                                break
                            shared_l[i] = 0.0
                            pf_target[i] = target
                            pf_done[i] = 0
                            state[i] = PREFILLING
                            if not preempted or sched_s[i] != sched_s[i]:  # NaN: first admission
                                sched_s[i] = t
                            kvp += target
                            if full:
                                reserve_l[i] = reserve
                                kvf += reserve
                            running[i] = None
                            hbn += hb
                            prefilling.append(i)
                            n = target
                        waiting.popleft()
                        if n > budget:
                            n = int(budget)
                        chunks.append((i, n))
                        budget -= n
                if lone is not None or chunks:
                    # one iteration with prompt chunks and the running decodes
                    if lone is not None:
                        pass  # its step time above
                    elif inline_step:
                        tokens = 0
                        eff = 0.0
                        pairs = 0.0
                        for i, n in chunks:
                            off = pf_done[i]
                            tokens += n
                            if off:
                                eff += eff_context(off)
                                pairs += chunk_pairs(n, off)
                            else:  # a chunk from the prompt's start: eff_context(0) = 0
                                p = pairs0.get(n)
                                if p is None:
                                    p = pairs0[n] = chunk_pairs(n, 0)
                                pairs += p
                        dt = time_s(bf, C, float(tokens), float(len(chunks)), eff, pairs, q)
                    else:
                        self.C = C
                        self.b = B
                        dt = self._iteration_s(chunks)
                    used = kvp + kvs + hbn
                    t += dt
                    busy += dt
                    kv_area2 += 2.0 * used * dt
                    if used > kv_used_max:
                        kv_used_max = used
                    if not b:
                        iterations += 1
                    else:
                        grown = bf * E
                        G += 1
                        C += grown
                        kvp += grown
                        if full:
                            kvf -= grown
                        # requests whose last decode iteration this was (as Replica._finish)
                        while heap:
                            if heap[0][0] > G:
                                break
                            _, ep, gid, i = pop(heap)
                            if not preempted or (
                                state[i] == DECODING and epoch[i] == ep and gids[i] == gid
                            ):
                                grown = E * (G - g_entry[i])
                                ctx = ctx_entry[i] + grown
                                C -= ctx
                                B -= 1
                                Bf -= 1.0
                                sh = shared_l[i]
                                kvp -= ctx - sh
                                if full:
                                    kvf -= reserve_l[i] - grown
                                del running[i]
                                hbn -= hb
                                if sh:
                                    entry = resident[pids[i]]
                                    entry[1] -= 1
                                    if entry[1] == 0:
                                        lru[pids[i]] = entry[0]
                                completed += 1
                                if record is None:
                                    state[i] = DONE
                                    finish_s[i] = t
                                    finished(i)
                                else:  # the sink's finished(i), inline (the slot is free
                                    # at once: its state and finish time are not read)
                                    record((
                                        gids[i], sched_s[i], first_s[i], t, preempts[i],
                                        replica_l[i],
                                    ) if whole_records else (
                                        gids[i], sched_s[i], first_s[i], t,
                                    ))  # fmt: skip
                                    free(i)
                    # prompts done: each request samples its first token, then decodes (in
                    # admission order: the chunks follow the prefilling list)
                    if lone is not None:
                        i = lone
                        pf_done[i] = target
                        if not preempted and one_token:
                            # nothing generated before (g_i = 0): the first token now, the
                            # other osl - 1 one a step (ceil((osl - 1) / 1 - 1e-9) = osl - 1)
                            gen[i] = 1.0
                            first_s[i] = t
                            steps = osl[i] - 1
                        else:
                            g = gen[i] + 1.0
                            gen[i] = g
                            if not preempted or first_s[i] != first_s[i]:  # NaN: first token
                                first_s[i] = t
                            remaining = osl[i] - g
                            steps = ceil(remaining / E - 1e-9) if remaining > 0.0 else 0
                            if steps < 1 and remaining > 0.0:
                                steps = 1
                        ctx = ftarget
                        ctx_entry[i] = ctx
                        g_entry[i] = G
                        state[i] = DECODING
                        C += ctx
                        B += 1
                        Bf += 1.0
                        if steps <= 0:
                            self._store(t, G, C, B, kvp, kvf)
                            self.completed = completed
                            self._finish(i, t)
                            C, B, kvp, kvf = self.C, self.b, self.kv_private, self.kv_future
                            hbn = hb * len(running)
                            Bf = float(B)
                            completed = self.completed
                        else:
                            push(heap, (G + steps, epoch[i], gids[i], i))
                    else:
                        done = 0
                        for i, n in chunks:
                            pf = pf_done[i] + n
                            pf_done[i] = pf
                            if pf < pf_target[i]:
                                continue
                            done += 1
                            g = gen[i] + 1.0
                            gen[i] = g
                            if not preempted or first_s[i] != first_s[i]:  # NaN: first token
                                first_s[i] = t
                            ctx = float(pf)
                            ctx_entry[i] = ctx
                            g_entry[i] = G
                            state[i] = DECODING
                            C += ctx
                            B += 1
                            Bf += 1.0
                            remaining = osl[i] - g
                            if remaining <= 0.0:
                                self._store(t, G, C, B, kvp, kvf)
                                self.completed = completed
                                self._finish(i, t)
                                C, B = self.C, self.b
                                kvp, kvf = self.kv_private, self.kv_future
                                hbn = hb * len(running)
                                Bf = float(B)
                                completed = self.completed
                            else:
                                steps = ceil(remaining / E - 1e-9)
                                push(heap, (G + (steps if steps > 1 else 1), epoch[i], gids[i], i))
                        if done == len(prefilling):
                            prefilling.clear()
                        elif done:
                            prefilling[:] = [i for i in prefilling if state[i] == PREFILLING]
                    if drain_each and len(records) >= records_max:  # type: ignore[arg-type]
                        self.sink.drain()  # type: ignore[attr-defined]
                    # straight on to the decode-only runs when the loop's next pass would go
                    # there (nothing waits or prefills, the horizon is ahead, the KV cache
                    # holds the next decode step); else the next pass
                    if waiting or prefilling or not B:
                        continue
                    until_s = self.until_s
                    if t >= until_s:
                        continue
                    used0 = kvp + kvs + hbn
                    if prompt_mode and used0 + Bf * E > cap:
                        continue
                    b = B
                    bf = Bf
            if b == 0:
                # Nothing runs and the head request cannot be admitted into an empty cache.
                i = waiting.popleft()
                state[i] = REJECTED
                self.t = t
                self.sink.rejected(i)
                continue
            # 3. decode-only runs, each until the next event (the next finish, the horizon or
            # a KV shortfall), one after another while nothing waits or prefills.
            while True:
                g0 = heap[0][0]
                if preempted:  # skip the entries of requests preempted since they were pushed
                    while True:
                        g0, ep, gid, i = heap[0]
                        if state[i] == DECODING and epoch[i] == ep and gids[i] == gid:
                            break
                        pop(heap)
                n_max = g0 - G
                # the batch size's decode line and run constants (a sentinel off every
                # context when it has none); hbeta = beta / 2, the step's growth per decode
                # iteration halved (halving is exact, so x * 0.5 below moves onto it)
                try:
                    a0, slope, lo, hi, bE, hbeta = run_consts[b]
                except KeyError:  # first run at this batch size
                    self.b = B
                    line = self._decode_line(b) if fast else None
                    bE = bf * E
                    if line is None:
                        consts = (nan, nan, inf, -inf, bE, nan)
                    else:
                        consts = (line[0], line[1], line[2], line[3], bE, line[1] * bE * 0.5)
                    run_consts[b] = consts
                    a0, slope, lo, hi, bE, hbeta = consts
                m = n_max + 0.0  # the run's length as a float (float-only arithmetic below)
                if prompt_mode and cap - used0 < (m + 1.0) * bE:
                    # the KV cache may fill before the next finish (else n_kv >= n_max)
                    n_kv = int((cap - used0) // bE)
                    if n_kv < n_max:
                        n_max = n_kv if n_kv > 1 else 1
                        m = n_max + 0.0
                m1 = m - 1.0
                if lo > C or hi - m1 * bE < C:
                    # off the batch size's checked line (or none): summed piece by piece
                    self.b = B
                    n, dt = self._decode_run(C, n_max, until_s - t)
                    grown = n * b * E
                else:
                    # the run lies on the batch size's checked line (the common case, inline):
                    # n iterations take n t0 + beta n (n - 1) / 2, with n as a float (m; k =
                    # m - 1), the same bits as with the int; beta x y * 0.5 is computed as
                    # hbeta x y (scaling by 2 commutes with rounding: the same bits)
                    t0 = a0 + slope * C
                    dt = m * t0 + hbeta * m * m1
                    n = n_max
                    need = until_s - t
                    if dt >= need:
                        # the horizon falls inside: the first iteration that ends at or after
                        # it (as Replica._partial_run). The steps only grow, so the iteration
                        # at which steps as long as the first would reach it, ceil(need /
                        # t0), is never early, and it is the one unless the steps grow by a
                        # whole step on the way (rare): a division instead of the root of the
                        # quadratic. Where it is late (its predecessor already reaches the
                        # horizon), the root (2 beta = 4 hbeta exactly). dt is nondecreasing in
                        # n, so the loops below settle on the same iteration from either.
                        n = ceil(need / t0) if t0 > 0.0 else n_max
                        if n > n_max:
                            n = n_max
                        m = n + 0.0
                        k = m - 1.0
                        if n > 1 and k * t0 + hbeta * k * (k - 1.0) >= need:
                            a = t0 - hbeta
                            if a > 0.0:
                                disc = a * a + 4.0 * hbeta * need
                                root = a + sqrt(disc if disc > 0.0 else 0.0)
                                n = ceil(2.0 * need / root - 1e-9)
                                n = 1 if n < 1 else n_max if n > n_max else n
                                m = n + 0.0
                                k = m - 1.0
                            while n > 1 and k * t0 + hbeta * k * (k - 1.0) >= need:
                                n -= 1
                                m = k
                                k -= 1.0
                        dt = m * t0 + hbeta * m * k
                        while dt < need and n < n_max:
                            n += 1
                            k = m
                            m += 1.0
                            dt = m * t0 + hbeta * m * k
                    grown = m * bf * E  # = n * b * E: n b < 2^53 is exact in a float
                t += dt
                G += n
                C += grown
                kvp += grown
                if full:
                    kvf -= grown
                runs += 1
                busy += dt
                used1 = used0 + grown
                kv_area2 += (used0 + used1) * dt
                if used1 > kv_used_max:
                    kv_used_max = used1
                if heap[0][0] > G:
                    break  # stopped by the horizon or the KV cache: back to the outer loop
                # requests whose last decode iteration this was (as Replica._finish): the
                # first is due now
                while True:
                    _, ep, gid, i = pop(heap)
                    if preempted and not (
                        state[i] == DECODING and epoch[i] == ep and gids[i] == gid
                    ):
                        if heap and heap[0][0] <= G:
                            continue
                        break
                    grown = E * (G - g_entry[i])
                    ctx = ctx_entry[i] + grown
                    C -= ctx
                    B -= 1
                    Bf -= 1.0
                    sh = shared_l[i]
                    kvp -= ctx - sh
                    if full:
                        kvf -= reserve_l[i] - grown
                    del running[i]
                    hbn -= hb
                    if sh:
                        entry = resident[pids[i]]
                        entry[1] -= 1
                        if entry[1] == 0:
                            lru[pids[i]] = entry[0]
                    completed += 1
                    if record is None:
                        state[i] = DONE
                        finish_s[i] = t
                        finished(i)
                    else:  # the sink's finished(i), inline (the slot is free at once: its
                        # state and finish time are not read)
                        record((
                            gids[i], sched_s[i], first_s[i], t, preempts[i], replica_l[i],
                        ) if whole_records else (gids[i], sched_s[i], first_s[i], t))  # fmt: skip
                        free(i)
                    if not heap or heap[0][0] > G:
                        break
                if waiting or prefilling or not B:
                    break
                until_s = self.until_s
                used0 = kvp + kvs + hbn
                if t >= until_s or (prompt_mode and used0 + Bf * E > cap):
                    break
                b = B
                bf = Bf
        self._store(t, G, C, B, kvp, kvf)
        self.kv_shared = kvs
        self.iterations, self.decode_runs, self.busy_s = iterations + G, runs, busy
        self.kv_area2, self.kv_used_max = kv_area2, kv_used_max
        self.completed = completed

    def _iteration_s(self, chunks: list[tuple[int, int]]) -> float:
        """Seconds of an iteration with prompt ``chunks`` ((request, tokens) pairs) and the
        running decodes (plus the draft model's share with speculation)."""
        r = self.reqs
        fast = self.fast
        b = self.b
        tokens = 0
        eff = 0.0
        pairs = 0.0
        for i, n in chunks:
            c0 = r.pf_done[i]
            tokens += n
            eff += fast.eff_context(c0)
            pairs += fast.chunk_pairs(n, c0)
        seqs = len(chunks)
        dt = fast.time_s(b, self.C, tokens, seqs, eff, pairs, self.q)
        draft = self.draft
        if draft is not None:
            d_eff = 0.0
            d_pairs = 0.0
            for i, n in chunks:
                c0 = r.pf_done[i]
                d_eff += draft.eff_context(c0)
                d_pairs += draft.chunk_pairs(n, c0)
            dt += draft.time_s(b, self.C, tokens, seqs, d_eff, d_pairs)
            if b:
                dt += (self.k - 1) * draft.time_s(b, self.C)
        return dt


class ReferenceReplica(Replica):
    """The same scheduler, stepped one iteration at a time through
    :func:`infercost.perf.step.mixed_step` (numpy, tens of microseconds a call).

    For validation and as the speed baseline of ``benchmarks/sim_speed.py``. Iterations with
    several prompt chunks pass their mean chunk size and mean offset, ``mixed_step``'s own
    description of a mixed batch, so results match :class:`Replica` exactly only when each
    iteration carries at most one chunk. Speculative decoding is not supported here.
    """

    def __init__(self, cfg: ReplicaConfig, reqs: Requests, sink: Sink) -> None:
        if cfg.spec is not None:
            raise InputError("The reference stepper does not model speculative decoding.")
        super().__init__(cfg, reqs, sink)
        self._closed_form = False

    def _decode_step_s(self, ctx_sum: float) -> float:
        b = self.b
        return float(mixed_step(self.cfg.step, b, ctx_sum / b).total_s)

    def _decode_run(self, ctx0: float, n_max: int, budget_s: float) -> tuple[int, float]:
        d_ctx = self.b * self.E
        elapsed = 0.0
        for j in range(n_max):
            elapsed += self._decode_step_s(ctx0 + j * d_ctx)
            if elapsed >= budget_s:
                return j + 1, elapsed
        return n_max, elapsed

    def _iteration_s(self, chunks: list[tuple[int, int]]) -> float:
        r = self.reqs
        b = self.b
        seqs = len(chunks)
        tokens = sum(n for _, n in chunks)
        offset = sum(r.pf_done[i] for i, _ in chunks) / seqs
        ctx = self.C / b if b else 0.0
        return float(mixed_step(self.cfg.step, b, ctx, tokens, offset, seqs).total_s)
