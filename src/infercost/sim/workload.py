"""The requests a simulation serves: arrival times, token lengths, optional shared prefixes.

A :class:`Workload` is plain numpy arrays of one length n, sorted by arrival. Build one from an
arrival process and length distributions (:func:`synthetic_workload`) or from a trace file
(:mod:`infercost.sim.trace`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from infercost.errors import InputError
from infercost.sim.arrivals import ArrivalPlan
from infercost.sim.lengths import LengthDist

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: (arrival_s, input_tokens, output_tokens, prefix_id, prefix_tokens) of consecutive requests.
Chunk = tuple[FloatArray, IntArray, IntArray, IntArray, IntArray]
#: Requests per chunk of a streamed workload (a few MB of arrays).
CHUNK_REQUESTS = 1 << 16


class RequestSource(Protocol):
    """What the simulator reads from a workload: its size, a few order statistics, and the
    requests in arrival-ordered chunks (:class:`Workload` in memory, :class:`WorkloadStream`
    drawn on demand)."""

    @property
    def num_requests(self) -> int:
        """n."""
        ...

    def request_chunks(self, size: int = CHUNK_REQUESTS) -> Iterator[Chunk]:
        """The requests in order, at most ``size`` per chunk."""
        ...

    def arrival_marks(self) -> tuple[float, float, float]:
        """Arrival times of the first, the middle (index n // 2) and the last request, s."""
        ...

    def mean_tokens(self) -> tuple[float, float]:
        """Mean input and output tokens per request."""
        ...

    def median_tokens(self) -> tuple[float, float]:
        """Median input and output tokens per request (as ``np.median``)."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class Workload:
    """n requests, sorted by arrival.

    Attributes:
        arrival_s: arrival times, seconds, shape (n,), non-decreasing, >= 0.
        input_tokens: prompt tokens, shape (n,), >= 1.
        output_tokens: output tokens, shape (n,), >= 1.
        prefix_id: id of a shared prompt prefix (system prompt, document), -1 for none,
            shape (n,).
        prefix_tokens: tokens of that prefix at the start of the prompt, shape (n,),
            0 <= prefix_tokens <= input_tokens.

    Raises:
        InputError: mismatched shapes, unsorted or negative times, lengths < 1, prefixes
            longer than their prompts.
    """

    arrival_s: FloatArray
    input_tokens: IntArray
    output_tokens: IntArray
    prefix_id: IntArray
    prefix_tokens: IntArray

    def __post_init__(self) -> None:
        n = self.arrival_s.shape
        if len(n) != 1 or n[0] == 0:
            raise InputError("A workload needs at least one request (1-D arrays).")
        for name in ("input_tokens", "output_tokens", "prefix_id", "prefix_tokens"):
            if getattr(self, name).shape != n:
                raise InputError(
                    f"Workload {name} has shape {getattr(self, name).shape}, not {n}."
                )
        if not np.all(np.isfinite(self.arrival_s)) or np.any(self.arrival_s < 0):
            raise InputError("Arrival times must be finite and >= 0 seconds.")
        if np.any(np.diff(self.arrival_s) < 0):
            raise InputError("Arrival times must be sorted; sort the requests by arrival.")
        if np.any(self.input_tokens < 1) or np.any(self.output_tokens < 1):
            raise InputError("Every request needs at least 1 input and 1 output token.")
        bad = (self.prefix_tokens < 0) | (self.prefix_tokens > self.input_tokens)
        if np.any(bad):
            raise InputError(
                f"{int(bad.sum())} request(s) have a prefix longer than the prompt or negative; "
                "prefix_tokens must lie in [0, input_tokens]."
            )

    @property
    def num_requests(self) -> int:
        """n."""
        return int(self.arrival_s.size)

    def request_chunks(self, size: int = CHUNK_REQUESTS) -> Iterator[Chunk]:
        """The requests in order, at most ``size`` per chunk (views of the arrays)."""
        for a in range(0, self.num_requests, size):
            b = a + size
            yield (
                self.arrival_s[a:b],
                self.input_tokens[a:b],
                self.output_tokens[a:b],
                self.prefix_id[a:b],
                self.prefix_tokens[a:b],
            )

    def arrival_marks(self) -> tuple[float, float, float]:
        """Arrival times of the first, middle (n // 2) and last request, seconds."""
        t = self.arrival_s
        return float(t[0]), float(t[t.size // 2]), float(t[-1])

    def mean_tokens(self) -> tuple[float, float]:
        """Mean input and output tokens."""
        return float(np.mean(self.input_tokens)), float(np.mean(self.output_tokens))

    def median_tokens(self) -> tuple[float, float]:
        """Median input and output tokens."""
        return float(np.median(self.input_tokens)), float(np.median(self.output_tokens))

    @classmethod
    def from_arrays(
        cls,
        arrival_s: npt.ArrayLike,
        input_tokens: npt.ArrayLike,
        output_tokens: npt.ArrayLike,
        prefix_id: npt.ArrayLike | None = None,
        prefix_tokens: npt.ArrayLike | None = None,
    ) -> Workload:
        """From array-likes; scalars for lengths broadcast to every request."""
        t = np.asarray(arrival_s, dtype=np.float64).ravel()
        n = t.size

        def ints(x: npt.ArrayLike | None, default: int) -> IntArray:
            if x is None:
                return np.full(n, default, dtype=np.int64)
            arr = np.asarray(x)
            if arr.size and not np.all(np.asarray(arr, dtype=np.float64) == np.rint(arr)):
                raise InputError("Token counts and prefix ids must be whole numbers.")
            return np.asarray(np.broadcast_to(arr.astype(np.int64), (n,)).copy(), dtype=np.int64)

        return cls(
            t,
            ints(input_tokens, 0),
            ints(output_tokens, 0),
            ints(prefix_id, -1),
            ints(prefix_tokens, 0),
        )


def synthetic_workload(
    arrival_s: FloatArray,
    input_len: LengthDist,
    output_len: LengthDist,
    rng: np.random.Generator,
    prefix_share_frac: float = 0.0,
    num_prefixes: int = 1,
    prefix_tokens: int = 0,
) -> Workload:
    """Requests at ``arrival_s`` with lengths drawn from the distributions.

    Args:
        arrival_s: sorted arrival times, seconds, shape (n,).
        input_len, output_len: prompt and output length distributions.
        rng: random generator (lengths, then prefix assignment, in that order).
        prefix_share_frac: fraction of requests whose prompt starts with one of
            ``num_prefixes`` shared prefixes of ``prefix_tokens`` tokens (picked uniformly).
            Prompts shorter than the prefix are lengthened to hold it.

    Returns:
        A :class:`Workload` of n requests.

    Raises:
        InputError: a fraction outside [0, 1], or prefixes asked for with no tokens.
    """
    n = int(arrival_s.size)
    isl = input_len.sample(n, rng)
    osl = output_len.sample(n, rng)
    if not 0.0 <= prefix_share_frac <= 1.0:
        raise InputError(f"--prefix-share must lie in [0, 1], got {prefix_share_frac}.")
    pid = np.full(n, -1, dtype=np.int64)
    ptok = np.zeros(n, dtype=np.int64)
    if prefix_share_frac > 0:
        if prefix_tokens < 1 or num_prefixes < 1:
            raise InputError("Shared prefixes need --prefix-tokens >= 1 and --num-prefixes >= 1.")
        has = rng.random(n) < prefix_share_frac
        pid[has] = rng.integers(0, num_prefixes, size=int(has.sum()))
        ptok[has] = prefix_tokens
        isl = np.maximum(isl, ptok)
    return Workload(np.asarray(arrival_s, dtype=np.float64), isl, osl, pid, ptok)


class _Counts:
    """Exact counts of token lengths (integers >= 1), for the median and mean of a stream
    without keeping it: dense counts below 2^20 tokens, a dictionary above."""

    DENSE = 1 << 20

    def __init__(self) -> None:
        self.dense = np.zeros(0, dtype=np.int64)
        self.sparse: dict[int, int] = {}
        self.total = 0
        self.n = 0

    def add(self, x: IntArray) -> None:
        big = x >= self.DENSE
        if big.any():
            vals, cnt = np.unique(x[big], return_counts=True)
            for v, c in zip(vals.tolist(), cnt.tolist(), strict=True):
                self.sparse[v] = self.sparse.get(v, 0) + c
            x = x[~big]
        c = np.bincount(x)
        if c.size > self.dense.size:
            c[: self.dense.size] += self.dense
            self.dense = c
        else:
            self.dense[: c.size] += c
        self.total += int(x.sum())
        self.n += int(x.size)

    def _at(self, rank: int) -> int:
        """The value of 0-based ``rank`` in sorted order."""
        cum = np.cumsum(self.dense)
        if cum.size and rank < int(cum[-1]):
            return int(np.searchsorted(cum, rank, side="right"))
        rank -= int(cum[-1]) if cum.size else 0
        for v in sorted(self.sparse):
            rank -= self.sparse[v]
            if rank < 0:
                return v
        raise AssertionError("rank beyond the counts")

    def median(self) -> float:
        """As ``np.median``: the middle value, or the mean of the two middle values."""
        n = self.n + sum(self.sparse.values())
        return (self._at((n - 1) // 2) + self._at(n // 2)) / 2.0

    def mean(self) -> float:
        """The mean (exact integer sum over the count)."""
        n = self.n + sum(self.sparse.values())
        return (self.total + sum(v * k for v, k in self.sparse.items())) / n


class WorkloadStream:
    """The requests of :func:`synthetic_workload` drawn in chunks instead of held in memory.

    Gives the same requests, bit for bit, as ``synthetic_workload(plan.materialize(rng),
    ...)`` with the same generator: the generator's state is recorded where each kind of
    draw starts (arrivals, input lengths, output lengths, prefix membership, prefix ids) by
    one pass that draws and discards everything, and each later pass replays from those
    states. Memory is a few chunks of arrays, whatever the number of requests; the caller's
    ``rng`` ends where ``synthetic_workload`` would leave it.

    Raises:
        InputError: as :func:`synthetic_workload`, and no arrival within the duration.
    """

    def __init__(
        self,
        arrivals: ArrivalPlan,
        input_len: LengthDist,
        output_len: LengthDist,
        rng: np.random.Generator,
        prefix_share_frac: float = 0.0,
        num_prefixes: int = 1,
        prefix_tokens: int = 0,
        chunk: int = CHUNK_REQUESTS,
    ) -> None:
        if not 0.0 <= prefix_share_frac <= 1.0:
            raise InputError(f"--prefix-share must lie in [0, 1], got {prefix_share_frac}.")
        if prefix_share_frac > 0 and (prefix_tokens < 1 or num_prefixes < 1):
            raise InputError("Shared prefixes need --prefix-tokens >= 1 and --num-prefixes >= 1.")
        self._plan = arrivals
        self._isl = input_len
        self._osl = output_len
        self._share = prefix_share_frac
        self._num_prefixes = num_prefixes
        self._prefix_tokens = prefix_tokens
        self._chunk = chunk
        # Pass 1: draw everything once, in the order synthetic_workload draws it.
        self._s_arr = copy.deepcopy(rng)
        n = 0
        cut = arrivals.duration_s
        for t in arrivals.chunks(rng, chunk):
            n += int(t.size if cut is None else np.count_nonzero(t < cut))
        if n == 0:
            raise InputError(
                f"No request arrives within --duration {cut} s at this rate; "
                "lengthen the duration or raise the rate."
            )
        self._n = n
        self._s_isl = copy.deepcopy(rng)
        for m in self._sizes():
            input_len.sample(m, rng)
        self._s_osl = copy.deepcopy(rng)
        for m in self._sizes():
            output_len.sample(m, rng)
        self._s_has = copy.deepcopy(rng)
        self._s_pid = self._s_has
        if prefix_share_frac > 0:
            has = [int(np.count_nonzero(rng.random(m) < prefix_share_frac)) for m in self._sizes()]
            self._s_pid = copy.deepcopy(rng)
            for k in has:
                rng.integers(0, num_prefixes, size=k)
        self._stats: tuple[tuple[float, float, float], _Counts, _Counts] | None = None

    def _sizes(self) -> Iterator[int]:
        for a in range(0, self._n, self._chunk):
            yield min(self._chunk, self._n - a)

    @property
    def num_requests(self) -> int:
        """n (arrivals within the duration, or the count asked for)."""
        return self._n

    def request_chunks(self, size: int = CHUNK_REQUESTS) -> Iterator[Chunk]:
        """The requests in order, in chunks of the stream's own size (``size`` is a hint)."""
        del size
        g_arr, g_isl, g_osl = (copy.deepcopy(g) for g in (self._s_arr, self._s_isl, self._s_osl))
        g_has, g_pid = copy.deepcopy(self._s_has), copy.deepcopy(self._s_pid)
        times = self._plan.chunks(g_arr, self._chunk)
        for m in self._sizes():
            arr = next(times)[:m]
            isl = self._isl.sample(m, g_isl)
            osl = self._osl.sample(m, g_osl)
            pid = np.full(m, -1, dtype=np.int64)
            ptok = np.zeros(m, dtype=np.int64)
            if self._share > 0:
                has = g_has.random(m) < self._share
                pid[has] = g_pid.integers(0, self._num_prefixes, size=int(has.sum()))
                ptok[has] = self._prefix_tokens
                isl = np.maximum(isl, ptok)
            yield arr, isl, osl, pid, ptok

    def _summary(self) -> tuple[tuple[float, float, float], _Counts, _Counts]:
        if self._stats is None:
            isl, osl = _Counts(), _Counts()
            first = last = mid = 0.0
            seen = 0
            half = self._n // 2
            for arr, i, o, _, _ in self.request_chunks():
                if seen == 0:
                    first = float(arr[0])
                if seen <= half < seen + arr.size:
                    mid = float(arr[half - seen])
                seen += arr.size
                last = float(arr[-1])
                isl.add(i)
                osl.add(o)
            self._stats = ((first, mid, last), isl, osl)
        return self._stats

    def arrival_marks(self) -> tuple[float, float, float]:
        """Arrival times of the first, middle (n // 2) and last request, seconds."""
        return self._summary()[0]

    def mean_tokens(self) -> tuple[float, float]:
        """Mean input and output tokens."""
        _, isl, osl = self._summary()
        return isl.mean(), osl.mean()

    def median_tokens(self) -> tuple[float, float]:
        """Median input and output tokens."""
        _, isl, osl = self._summary()
        return isl.median(), osl.median()

    def materialize(self) -> Workload:
        """All requests in memory (for small runs and tests)."""
        parts = list(self.request_chunks())
        return Workload(*(np.concatenate([p[k] for p in parts]) for k in range(5)))
