"""Prediction-error statistics: leave-one-source-out, pooled, per GPU and model (pure).

For each source prefix S, the engine's efficiencies are fitted on the other sources of the
same engine (or left at the literature defaults when S is the engine's only source) and S is
predicted; the absolute percentage error |pred / measured - 1| is collected per metric. The
roofline-only ablation predicts with MBU = MFU = 1 and no overheads (pure datasheet physics).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from infercost.calibrate.evaluate import (
    ROOFLINE_ONLY,
    Params,
    Prepared,
    default_params,
    engine_id,
    predict_measurement,
    with_params,
)
from infercost.calibrate.fit import BOUNDS, FitResult, fit_engine, source_prefix
from infercost.errors import InfercostError
from infercost.perf.serving import steady_state

__all__ = [
    "ROOFLINE_ONLY",
    "RowError",
    "default_params",
    "layout_label",
    "leave_one_source_out",
    "score",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class RowError:
    """One scored measurement: id, source, engine, gpu, model, metric, measured, predicted."""

    id: str
    source: str
    engine: str
    gpu: str
    model: str
    metric: str
    measured: float
    predicted: float
    regime: str
    gpu_family: str = ""
    model_family: str = ""
    layout: str = ""

    @property
    def ape(self) -> float:
        """Absolute percentage error as a fraction."""
        return abs(self.predicted / self.measured - 1.0)


def _regime(p: Prepared, params: Params) -> str:
    sm = with_params(p.sm, params)
    n = float(max(p.max_batch, 1)) if p.m.concurrency is None else float(p.m.concurrency)
    sp = steady_state(sm, n, float(p.m.isl or 1), float(max(p.m.osl or 1, 1)))
    bound = "memory" if float(sp.memory_bound_share) >= 0.999 else "compute"
    kind = "moe" if p.r.model.is_moe else "dense"
    return f"{p.r.engine.id}|{p.r.acc.generation}|{kind}|{bound}"


@dataclass(frozen=True, slots=True)
class InSample:
    """How well a fit reproduces its own rows (``calibrate fit`` and its REST twin).

    Attributes:
        median_ape: median |predicted / measured - 1| over the rows scored (None: no row).
        max_ape: the largest such error (None: no row).
        worst_id: the row with it ("" when none).
        not_scored: (id, why) of rows the physics could not predict with the fit.
    """

    median_ape: float | None
    max_ape: float | None
    worst_id: str
    not_scored: tuple[tuple[str, str], ...]


def in_sample(preps: Sequence[Prepared], fits: dict[str, FitResult]) -> InSample:
    """Score ``preps`` with the fits made on them (:func:`score`): the median and the largest
    absolute percentage error, and the row that has the largest."""
    not_scored: list[tuple[str, str]] = []
    rows = score(preps, {e: f.params() for e, f in fits.items()}, not_scored)
    errors = [(abs(r.predicted / r.measured - 1.0), r.id) for r in rows]
    if not errors:
        return InSample(None, None, "", tuple(not_scored))
    ordered = sorted(e for e, _ in errors)
    worst = max(errors)
    return InSample(ordered[len(ordered) // 2], worst[0], worst[1], tuple(not_scored))


def score(
    preps: Sequence[Prepared],
    params_for: dict[str, Params],
    skipped: list[tuple[str, str]] | None = None,
) -> list[RowError]:
    """Predict every measurement with its engine's params.

    A row the physics cannot predict (e.g. its configuration holds no sequence) is left out of
    the result and, when ``skipped`` is given, appended to it as (id, reason).
    """
    out = []
    for p in preps:
        eng = p.r.engine.id
        params = params_for.get(eng) or default_params(eng)
        try:
            value = float(predict_measurement(p, params))
        except InfercostError as err:
            if skipped is not None:
                skipped.append((p.m.id, str(err)))
            continue
        out.append(
            RowError(
                p.m.id,
                source_prefix(p.m.id),
                eng,
                p.r.acc.id,
                p.r.model.id,
                p.m.metric,
                p.m.value,
                value,
                _regime(p, params),
                p.r.acc.generation,
                p.r.model.architecture_kind,
                layout_label(p),
            )
        )
    return out


def leave_one_source_out(
    preps: Sequence[Prepared], held_out: Sequence[str] | None = None
) -> tuple[list[RowError], dict[str, FitResult]]:
    """Held-out errors per source, and the fit used for each held-out source and engine.

    Each engine's rows of a source are predicted by that engine's fit on the other sources
    (a source that measured several engines gets one fit per engine); an engine no other
    source measured keeps its defaults. ``fits`` is keyed ``SOURCE`` for a one-engine source
    and ``SOURCE/engine`` otherwise. ``held_out`` limits the sources held out (each still
    fitted on all the others); default: every source in turn.
    """
    sources = sorted({source_prefix(p.m.id) for p in preps})
    if held_out is not None:
        sources = [s for s in sources if s in set(held_out)]
    rows: list[RowError] = []
    fits: dict[str, FitResult] = {}
    for s in sources:
        held = [p for p in preps if source_prefix(p.m.id) == s]
        engines = sorted({p.r.engine.id for p in held})
        for eng in engines:
            held_eng = [p for p in held if p.r.engine.id == eng]
            train = [p for p in preps if source_prefix(p.m.id) != s and p.r.engine.id == eng]
            if not train:
                rows += score(held_eng, {eng: default_params(eng)})
                continue
            d = default_params(eng)
            prior = {k: float(np.asarray(getattr(d, k))) for k in BOUNDS}
            fit = fit_engine(eng, train, prior=prior)
            fits[s if len(engines) == 1 else f"{s}/{eng}"] = fit
            rows += score(held_eng, {eng: fit.params()})
    return rows, fits


def layout_label(p: Prepared) -> str:
    """``TP8``, ``TP4 EP4``, ``DEP8``, ``DP2 x TP4``, with ``PP`` when > 1."""
    r = p.r
    if r.attention_dp:
        label = f"DEP{r.ep}" if r.tp == 1 else f"DP{r.dp} x TP{r.tp} EP{r.ep}"
    else:
        label = (f"DP{r.dp} x " if r.dp > 1 else "") + f"TP{r.tp}"
        label += f" EP{r.ep}" if r.ep > 1 else ""
    return label + (f" PP{r.pp}" if r.pp > 1 else "")


def summarize(
    rows: Sequence[RowError], key: str
) -> dict[tuple[str, str], tuple[int, float, float]]:
    """(group, metric) -> (count, median APE, p90 APE), grouping by a RowError attribute."""
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        groups[(str(getattr(r, key)), r.metric)].append(r.ape)
    return {
        k: (len(v), float(np.median(v)), float(np.percentile(v, 90)))
        for k, v in sorted(groups.items())
    }


def engine_of(raw: str) -> str:
    """Catalog engine id of a source's engine name."""
    return engine_id(raw)
