"""The cheapest disaggregated prefill/decode deployment under TTFT/TPOT targets
(``infercost plan search --disagg``), beside the aggregated winner.

Candidates: on one GPU type, a prefill pool of ``x`` workers of TP ``tp_p`` and a decode pool
of ``y`` workers of TP ``tp_d`` (TP in 1, 2, 4, 8 within a node; x, y in 1..4), at most
``max_gpus`` GPUs in all, each at closed-loop concurrencies C = 4, 8, 16, ... up to
``max_concurrency``. Each point is :func:`infercost.disagg.predict_disagg`; for one layout the
TTFT and TPOT grow with C, so the scan of a layout stops at the first C that misses a target.
The cost is the deployment's $/h over its output tokens/hour (all GPU time charged to output,
the ``plan search`` convention, docs/cost.md). Workers whose layout does not hold the model are
skipped; a layout with no point meeting the targets contributes nothing.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from infercost.disagg import DisaggPrediction, Pool, predict_disagg
from infercost.errors import InputError
from infercost.units import S_PER_HOUR, TOKENS_PER_M

TP_OPTIONS = (1, 2, 4, 8)
WORKER_OPTIONS = (1, 2, 3, 4)
#: Largest closed-loop concurrency tried by default.
MAX_CONCURRENCY = 1024


@dataclass(frozen=True, slots=True)
class DisaggCandidate:
    """One priced disaggregated point.

    Attributes:
        prediction: the :class:`DisaggPrediction`.
        usd_per_m_output_incl_input: deployment $/h ÷ output tokens/hour x 1e6.
    """

    prediction: DisaggPrediction
    usd_per_m_output_incl_input: float

    @property
    def layout(self) -> str:
        """``xP(TPa) yD(TPb)``, e.g. ``1P TP4 + 2D TP2``."""
        p = self.prediction
        return (
            f"{p.prefill_workers}P TP{p.prefill_layout['tp']} + "
            f"{p.decode_workers}D TP{p.decode_layout['tp']}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the layout, the cost and the prediction's keys."""
        return {
            "layout": self.layout,
            "usd_per_m_output_incl_input": self.usd_per_m_output_incl_input,
            **self.prediction.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class DisaggSearch:
    """The result: the cheapest point meeting the targets (None: none does), how many points
    were evaluated, and the runners-up (best per layout, cheapest first)."""

    winner: DisaggCandidate | None
    evaluated: int
    runners_up: tuple[DisaggCandidate, ...]
    max_ttft_s: float | None
    max_tpot_s: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``plan search --disagg --json``: the ``disaggregated`` key)."""
        return {
            "evaluated": self.evaluated,
            "max_ttft_s": self.max_ttft_s,
            "max_tpot_s": self.max_tpot_s,
            "winner": self.winner.to_dict() if self.winner else None,
            "runners_up": [c.to_dict() for c in self.runners_up],
        }


def _cost(p: DisaggPrediction) -> float | None:
    if not p.fits or not p.output_tok_s or p.usd_per_gpu_hour is None:
        return None
    return p.usd_per_gpu_hour * p.num_gpus / (p.output_tok_s * S_PER_HOUR / TOKENS_PER_M)


def _meets(p: DisaggPrediction, max_ttft_s: float | None, max_tpot_s: float | None) -> bool:
    if p.ttft_s is None or p.tpot_s is None or p.saturated is not None:
        return False
    return (max_ttft_s is None or p.ttft_s <= max_ttft_s) and (
        max_tpot_s is None or p.tpot_s <= max_tpot_s
    )


def _best_of_layout(
    model: str, gpu: str, isl: int, osl: int, prefill: Pool, decode: Pool, levels: list[int],
    max_ttft_s: float | None, max_tpot_s: float | None, options: dict[str, Any],
) -> tuple[DisaggCandidate | None, int]:  # fmt: skip
    """The cheapest concurrency of one layout that meets the targets, and the points tried."""
    best: DisaggCandidate | None = None
    tried = 0
    for c in levels:
        p = predict_disagg(
            model, gpu, isl, osl, prefill=prefill, decode=decode, concurrency=c, **options
        )
        tried += 1
        if not p.fits or not _meets(p, max_ttft_s, max_tpot_s):
            break  # a worker that does not hold the model, or latency that only grows with C
        cost = _cost(p)
        if cost is None or not math.isfinite(cost):
            continue
        if best is None or cost < best.usd_per_m_output_incl_input:
            best = DisaggCandidate(p, cost)
    return best, tried


def search_disagg(
    model: str,
    gpu: str,
    isl: int,
    osl: int,
    *,
    max_ttft_s: float | None = None,
    max_tpot_s: float | None = None,
    max_gpus: int = 16,
    max_concurrency: int = MAX_CONCURRENCY,
    top: int = 5,
    **options: Any,
) -> DisaggSearch:
    """Search xPyD layouts and concurrencies on ``gpu`` (module docstring).

    ``options``: the remaining :func:`predict_disagg` keywords (engine, weight_dtype,
    kv_dtype, gpu_hour_usd, offer, link, overlap, ...).

    Raises:
        InputError: ``max_gpus`` below 2 (a disaggregated deployment needs one GPU per pool)
            or a non-positive concurrency bound.
        UnknownNameError: unknown model, GPU, engine or dtype.
    """
    if max_gpus < 2:
        raise InputError(
            f"--max-gpus must be at least 2 for --disagg (one per pool), got {max_gpus}."
        )
    if max_concurrency < 1:
        raise InputError(f"--max-concurrency must be at least 1, got {max_concurrency}.")
    levels = [c for c in (2**k for k in range(2, 21)) if c <= max_concurrency] or [max_concurrency]
    per_layout: list[DisaggCandidate] = []
    evaluated = 0
    for tp_p, tp_d, x, y in itertools.product(
        TP_OPTIONS, TP_OPTIONS, WORKER_OPTIONS, WORKER_OPTIONS
    ):
        if x * tp_p + y * tp_d > max_gpus:
            continue
        prefill, decode = Pool(tp=tp_p, workers=x), Pool(tp=tp_d, workers=y)
        best, n = _best_of_layout(
            model, gpu, isl, osl, prefill, decode, levels, max_ttft_s, max_tpot_s, options
        )
        evaluated += n
        if best is not None:
            per_layout.append(best)
    per_layout.sort(key=lambda c: c.usd_per_m_output_incl_input)
    return DisaggSearch(
        winner=per_layout[0] if per_layout else None,
        evaluated=evaluated,
        runners_up=tuple(per_layout[1 : 1 + max(0, top)]),
        max_ttft_s=max_ttft_s,
        max_tpot_s=max_tpot_s,
    )
