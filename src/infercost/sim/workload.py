"""The requests a simulation serves: arrival times, token lengths, optional shared prefixes.

A :class:`Workload` is plain numpy arrays of one length n, sorted by arrival. Build one from an
arrival process and length distributions (:func:`synthetic_workload`) or from a trace file
(:mod:`infercost.sim.trace`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.errors import InputError
from infercost.sim.lengths import LengthDist

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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
