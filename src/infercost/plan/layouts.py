"""The parallel-layout and concurrency axes of a deployment grid.

A layout is one way to run a replica: ``tp x pp`` GPUs, TP dividing the attention heads, PP at
most the layer count, and for MoE models EP = 1 or the TP GPUs of one stage (the rules
:func:`infercost.predict.resolve` enforces). Concurrency levels are distinct batch sizes from 1
to a maximum, close to geometric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.catalog.schema import ModelArch
from infercost.errors import InputError
from infercost.perf.memory import kv_heads_shard

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Layouts:
    """Parallel layouts of one replica, one element per layout (shape ``(P,)``).

    Attributes:
        num_gpus: GPUs per replica (= tp x pp).
        tp, pp, ep: tensor, pipeline and expert parallelism.
    """

    num_gpus: IntArray
    tp: IntArray
    pp: IntArray
    ep: IntArray

    def __len__(self) -> int:
        return int(self.num_gpus.shape[0])

    def describe(self, i: int) -> str:
        """``4x (TP4)``, ``8x (TP4 PP2)``, ``8x (TP8 EP8)``."""
        parts = [f"TP{self.tp[i]}"]
        if self.pp[i] > 1:
            parts.append(f"PP{self.pp[i]}")
        if self.ep[i] > 1:
            parts.append(f"EP{self.ep[i]}")
        return f"{self.num_gpus[i]}x ({' '.join(parts)})"


def layouts(m: ModelArch, max_gpus: int = 8, num_gpus: Sequence[int] | None = None) -> Layouts:
    """Every layout with ``tp x pp`` GPUs, 1 <= GPUs <= ``max_gpus`` (or exactly ``num_gpus``).

    Rules (as :func:`infercost.predict.resolve` enforces them): TP divides the attention heads,
    PP is at most the layer count; for MoE models EP is 1 or the TP GPUs of one pipeline stage
    (each stage holds only its own layers' experts).

    Raises:
        InputError: ``max_gpus`` < 1 or a GPU count below 1.
    """
    counts = sorted(set(num_gpus)) if num_gpus is not None else list(range(1, max_gpus + 1))
    if not counts or counts[0] < 1:
        raise InputError(f"GPUs per replica must be >= 1, got {list(counts) or max_gpus}.")
    rows: list[tuple[int, int, int, int]] = []
    for n in counts:
        for tp in range(1, n + 1):
            pp = n // tp
            if n % tp or m.num_heads % tp or pp > m.num_layers:
                continue
            if not kv_heads_shard(m.num_kv_heads, tp):  # resolve's rule (vLLM's assert)
                continue
            rows.append((n, tp, pp, 1))
            if m.is_moe and tp > 1:  # EP over the GPUs of one stage (resolve's rule)
                rows.append((n, tp, pp, tp))
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    return Layouts(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), arr[:, 3].copy())


def concurrency_levels(max_concurrency: int, count: int = 64) -> IntArray:
    """``count`` distinct batch sizes from 1 to ``max_concurrency``, close to geometric.

    Level i is max(previous + 1, round(max ** (i / (count - 1)))), so small batches are all
    present and large ones are spaced by a constant ratio; fewer than ``count`` when
    ``max_concurrency`` < ``count`` (then every integer 1..max); one level is the maximum.

    Raises:
        InputError: ``max_concurrency`` < 1 or ``count`` < 1.
    """
    if max_concurrency < 1 or count < 1:
        raise InputError(
            f"Need a maximum concurrency >= 1 and a level count >= 1, got {max_concurrency} "
            f"and {count}."
        )
    if count == 1:
        return np.asarray([max_concurrency], dtype=np.int64)
    if max_concurrency <= count:
        return np.arange(1, max_concurrency + 1, dtype=np.int64)
    levels: list[int] = []
    for i in range(count):
        target = round(max_concurrency ** (i / (count - 1)))
        # keep room for the remaining levels below the maximum
        room = max_concurrency - (count - 1 - i)
        levels.append(min(max(levels[-1] + 1 if levels else 1, target), room))
    return np.asarray(levels, dtype=np.int64)
