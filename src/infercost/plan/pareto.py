"""Cost-latency frontiers and the operating point for an SLO: ``infercost plan pareto``.

From one sweep (:mod:`infercost.plan.sweep`), every configuration that fits and is priced is a
point (latency, $/M output incl. input). Two frontiers:

* cost vs TPOT: the points no other point beats on both lower TPOT and lower cost;
* cost vs output tokens/s per user (osl ÷ E2E, what one request sees, its wait for the first
  token included): the points no other point beats on both higher speed and lower cost.

A point is on a frontier when it is strictly cheaper than every point at least as good on the
latency axis: sort by latency (ties by cost) and keep the points whose cost is below the
running minimum of those before them (``np.minimum.accumulate``). The operating point for an
SLO is the cheapest configuration meeting the TTFT/TPOT targets (the search winner over the
same grid); it lies on the TPOT frontier when TTFT does not bind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from infercost.plan.candidate import Candidate, candidate
from infercost.plan.search import (
    Targets,
    feasible_cost,
    ranked_configs,
    run_sweep,
    weight_format_notes,
)
from infercost.plan.sweep import Sweep

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def frontier_indices(latency: FloatArray, cost: FloatArray) -> IntArray:
    """Indices of the points on the lower-left frontier of (latency, cost), by latency.

    Both arrays have shape (n,); non-finite points are ignored. A point is kept when its
    cost is strictly below the cost of every point with lower latency (or equal latency and
    lower cost).
    """
    ok = np.flatnonzero(np.isfinite(latency) & np.isfinite(cost))
    if ok.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = ok[np.lexsort((cost[ok], latency[ok]))]
    c = cost[order]
    prev_min = np.concatenate(([np.inf], np.minimum.accumulate(c)[:-1]))
    return np.asarray(order[c < prev_min], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class ParetoResult:
    """Frontiers and operating point of one model and workload.

    Attributes:
        model, isl, osl, targets: the query.
        points: feasible priced configurations considered.
        tpot_frontier: frontier configurations, fastest TPOT first.
        per_user_frontier: frontier configurations, fastest tokens/s per user first.
        operating_point: cheapest configuration meeting the targets (None: none does).
        cloud_tpot_s, cloud_tok_s_per_user, cloud_usd_per_m, cloud_gpu: every point, for the
            chart (shape (n,)).
        notes: what the caller should know (weight formats the engine cannot run, not
            tried).
    """

    model: str
    isl: int
    osl: int
    targets: Targets
    points: int
    tpot_frontier: tuple[Candidate, ...]
    per_user_frontier: tuple[Candidate, ...]
    operating_point: Candidate | None
    cloud_tpot_s: FloatArray
    cloud_tok_s_per_user: FloatArray
    cloud_usd_per_m: FloatArray
    cloud_gpu: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``plan pareto --json``; the point cloud is left out)."""
        return {
            "model": self.model,
            "isl": self.isl,
            "osl": self.osl,
            "max_ttft_s": self.targets.max_ttft_s,
            "max_tpot_s": self.targets.max_tpot_s,
            "cost_metric": "usd_per_m_output_incl_input",
            "points": self.points,
            "tpot_frontier": [_point(c, self.osl) for c in self.tpot_frontier],
            "per_user_frontier": [_point(c, self.osl) for c in self.per_user_frontier],
            "operating_point": (
                _point(self.operating_point, self.osl) if self.operating_point else None
            ),
            "notes": list(self.notes),
        }


def _point(c: Candidate, osl: int) -> dict[str, Any]:
    d = c.to_dict()
    d["output_tok_s_per_user"] = osl / c.e2e_s
    return d


def frontiers(sweep: Sweep, targets: Targets, notes: Sequence[str] = ()) -> ParetoResult:
    """Both frontiers and the SLO operating point of an evaluated sweep."""
    shape = sweep.grid.shape
    ok = sweep.fits & np.isfinite(sweep.replica_usd_per_hour)
    cost = np.where(ok, np.broadcast_to(sweep.usd_per_m_output_incl_input, shape), np.nan)
    flat_cost = cost.ravel()
    tpot = np.broadcast_to(sweep.tpot_s, shape).ravel()
    per_user = np.broadcast_to(sweep.output_tok_s_per_user, shape).ravel()
    keep = np.flatnonzero(np.isfinite(flat_cost))
    by_tpot = keep[frontier_indices(tpot[keep], flat_cost[keep])]
    by_user = keep[frontier_indices(-per_user[keep], flat_cost[keep])]

    def cands(flat: IntArray) -> tuple[Candidate, ...]:
        return tuple(
            candidate(sweep, tuple(int(v) for v in np.unravel_index(int(i), shape)))  # type: ignore[arg-type]
            for i in flat
        )

    best = ranked_configs(feasible_cost(sweep, targets), 1)
    g_idx = np.unravel_index(keep, shape)[0]
    return ParetoResult(
        model=sweep.grid.model.id,
        isl=int(sweep.isl),
        osl=int(sweep.osl),
        targets=targets,
        points=int(keep.size),
        tpot_frontier=cands(by_tpot),
        per_user_frontier=cands(by_user),
        operating_point=candidate(sweep, best[0]) if best else None,
        cloud_tpot_s=np.asarray(tpot[keep], dtype=np.float64),
        cloud_tok_s_per_user=np.asarray(per_user[keep], dtype=np.float64),
        cloud_usd_per_m=np.asarray(flat_cost[keep], dtype=np.float64),
        cloud_gpu=tuple(sweep.grid.gpus[int(g)].id for g in g_idx),
        notes=tuple(notes),
    )


def pareto(
    model: str,
    isl: int,
    osl: int,
    *,
    max_ttft_s: float | None = None,
    max_tpot_s: float | None = None,
    **sweep_options: Any,
) -> ParetoResult:
    """Frontiers of $/M output against TPOT and against tokens/s per user, and the operating
    point for the targets. ``sweep_options`` as :func:`infercost.plan.search.run_sweep`.

    Raises:
        UnknownNameError: unknown model, GPU, dtype or engine.
        InputError: bad token counts, targets, counts or prices.
    """
    targets = Targets(max_ttft_s, max_tpot_s)
    sweep = run_sweep(model, isl, osl, **sweep_options)
    return frontiers(
        sweep, targets, weight_format_notes(sweep, sweep_options.get("weight_dtypes"))
    )
