"""Fit engine efficiencies to measurements (pure: no file I/O; ``save_profile`` writes TOML).

Few physical parameters per engine, each bounded to its physical range:

- ``mbu`` in [0.5, 0.95]: achieved fraction of peak memory bandwidth;
- ``mfu`` in [0.2, 0.8]: achieved fraction of peak dense FLOP/s;
- ``step_overhead_s`` in [0.5, 8] ms: fixed time per iteration;
- ``seq_overhead_s`` in [0, 10] µs: time per running sequence per iteration (the scheduler's
  and sampler's per-request work; at 2,048 sequences 10 µs is 20 ms, the most any engine's
  CPU-side iteration has been reported to take, so the bound is generous);
- ``token_overhead_s`` (kept at the engine's value, not fitted): time per token per
  iteration outside the roofline;
- ``allreduce_latency_s`` in [2, 20] µs: latency of one round of a small TP all-reduce
  (log2(TP) rounds). NCCL's own cost model puts a whole small all-reduce over 8 NVLink GPUs
  at 7.5-10 µs (LL protocol: base 4.4 µs tree / 3.6 µs ring + 0.52 / 0.47 µs per hop) and
  at most ~37 µs (LL128 ring: 10 + 14 x 1.9 µs), i.e. 2.5-12 µs per log2 round
  (``src/graph/tuning.cc``, baseLat and hwLat); 20 µs leaves room for the kernel launch. The
  earlier bound of 50 µs let offline fits park fixed TP costs there (50 µs x 3 rounds x 160
  all-reduces = 24 ms a step for a 70B model at TP 8), which then over-predicted the ITL of
  lightly loaded servers 1.4-1.7x;
- ``moe_layer_overhead_s`` in [0, 300] µs: fixed time per MoE layer per step (router,
  top-k, permutation, grouped-GEMM launches); searched with the others (it and the step
  overhead separate on dense vs MoE rows);
- ``comm_efficiency`` in [0.15, 1]: achieved fraction of link bandwidth in TP all-reduces;
- ``request_overhead_s`` in [0, 30] ms: time per request before its first token.
- ``wave_sync`` in [0, 1] and then ``frontend_overhead_s`` in [0, 250] ms (each fitted alone
  after the grid, on online TTFT rows, to their median |log ratio|): how together a closed
  loop's requests arrive (``perf.serving.closed_loop_mixed``) and the HTTP front end's time
  per online request.
- ``expert_dequant_efficiency`` in [0.2, 1]: the fraction of MFU the engine's weight-only
  grouped expert GEMMs reach (weights stored in 4 or 8 bits and dequantised to bf16 in
  registers: MXFP4 experts on Hopper). Only rows that run such GEMMs see it: after the grid
  (where it stays at the prior) they set it alone, source-weighted, and the TTFT-only terms
  are then refitted with it in place. Data whose rows all run such GEMMs cannot tell it from
  MFU, and data with none cannot set it: then it is not fitted and not written. (Keeping
  those rows out of the grid instead moved the grid's MoE terms: TensorRT-LLM's closed-loop
  TPOT held out went from 13.5 % to 16.3 %.)

Which rows set which parameters. On a ``mixed`` scheduler (vLLM, TensorRT-LLM: prompt chunks
ride in the decode iterations) an online closed loop's TTFT is mostly how the requests' prompts
queue and interleave (the arrival synchrony, the waves), which the model reads from the
scheduling rules only approximately; with those rows in the grid the fit bent the GPU's
efficiencies to cover the gap (TensorRT-LLM's all-reduce at 0.27 of the NVLink bandwidth,
offline TP 8 throughput 0.4-0.8x the measured). So for these engines the grid (efficiencies,
step and communication costs) is fitted on every other row, and the online TTFT rows then set,
one at a time, the terms only the first token carries: ``request_overhead_s``, ``wave_sync``,
``frontend_overhead_s``. On SGLang's prefill-first scheduler a closed loop's TTFT is the
prefill of the wave itself (``perf.serving.prefill_first_waves``), the only rows that pin its
prefill speed (all its rows are closed-loop), and they stay in the grid: without them its
held-out TTFT went from 30 % to 90 % (docs/accuracy.md).

Identifiability: in compute-bound steps MFU and the per-token overhead trade off (both scale
with tokens); memory-bound rows with many tokens separate them. The fit reports the point it
found; predictions, not the individual values, are what the data pins down.

Loss: mean absolute log ratio (a robust, scale-free loss: over- and under-prediction by the
same factor cost the same), each source weighted equally so a large source does not drown a
small one. Search: an exhaustive vectorised grid over the bounded box (every formula in
``perf`` broadcasts), then grids of halving width around the best point.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import tomli_w

from infercost.calibrate.evaluate import (
    Params,
    Prepared,
    default_params,
    predict_measurement,
    prepare,
    scorable,
)
from infercost.calibrate.measurement import Measurement
from infercost.errors import InfercostError, InputError

FloatArray = npt.NDArray[np.float64]

BOUNDS: dict[str, tuple[float, float]] = {
    "mbu": (0.5, 0.95),
    "mfu": (0.2, 0.8),
    "step_overhead_s": (0.0005, 0.008),
    "token_overhead_s": (0.0, 16e-6),
    "allreduce_latency_s": (2e-6, 20e-6),
    "comm_efficiency": (0.15, 1.0),
    "request_overhead_s": (0.0, 0.030),
    "seq_overhead_s": (0.0, 10e-6),
    "frontend_overhead_s": (0.0, 0.25),
    "moe_layer_overhead_s": (0.0, 300e-6),
    "wave_sync": (0.0, 1.0),
    "expert_dequant_efficiency": (0.2, 1.0),
}
FIT_PARAMS = (
    "mbu",
    "mfu",
    "step_overhead_s",
    "allreduce_latency_s",
    "comm_efficiency",
    "request_overhead_s",
    "seq_overhead_s",
    "moe_layer_overhead_s",
)
"""The parameters the fit searches; the per-token overhead stays at the engine's value (it is
not separable from MFU in compute-bound steps, see the module docstring)."""

REQUEST_PARAM = "request_overhead_s"
FRONTEND_PARAM = "frontend_overhead_s"
"""Fitted after the others, alone, and only when the data has online TTFT rows (closed-loop
benchmarks through the engine's HTTP server): it moves nothing else."""
SYNC_PARAM = "wave_sync"
MOE_PARAM = "moe_layer_overhead_s"
DEQUANT_PARAM = "expert_dequant_efficiency"
"""Fitted after the TTFT-only terms, alone, on the rows whose routed experts are weight-only,
when the data also has rows without them (otherwise it and MFU cannot be told apart, and it
is left out of the fit's values: a saved profile keeps the engine's own)."""


def _online_ttft(p: Prepared) -> bool:
    return p.m.mode == "closed_loop" and p.m.metric.startswith("ttft")


def dequantising(p: Prepared) -> bool:
    """A row whose routed experts run a weight-only (dequantising) grouped GEMM: it sets
    ``expert_dequant_efficiency`` (see the module docstring)."""
    return bool(np.any(np.asarray(p.sm.expert_dequant) > 0))


def _ttft_only(p: Prepared) -> bool:
    """An online TTFT row on a ``mixed`` scheduler: it sets the TTFT-only terms, not the grid
    (see the module docstring)."""
    return _online_ttft(p) and p.r.engine.prefill_scheduling == "mixed"


@dataclass(frozen=True, slots=True)
class FitResult:
    """Fitted efficiencies of one engine.

    Attributes:
        engine: engine id.
        values: parameter name -> fitted value (base units).
        loss: mean absolute log ratio at the optimum (source-weighted).
        num_rows: measurements used.
        sources: source prefixes used.
    """

    engine: str
    values: dict[str, float]
    loss: float
    num_rows: int
    sources: tuple[str, ...]

    def params(self) -> Params:
        """The fit as evaluation parameters."""
        return Params(**self.values)


def source_prefix(measurement_id: str) -> str:
    """``TRT017-0001`` -> ``TRT017``."""
    return measurement_id.split("-", 1)[0]


def _grid(
    center: dict[str, float] | None, names: Sequence[str], points: int, shrink: float = 1.0
) -> list[FloatArray]:
    """Axes of a grid over the bounds, or around ``center`` with half-width ``shrink`` x one
    step of the full grid (clipped to the bounds)."""
    axes = []
    for k, name in enumerate(names):
        lo, hi = BOUNDS[name]
        if center is not None:
            span = (hi - lo) / (points - 1) * shrink
            lo, hi = max(lo, center[name] - span), min(hi, center[name] + span)
        shape = [1] * len(names)
        shape[k] = points
        axes.append(np.linspace(lo, hi, points).reshape(shape))
    return axes


def _loss(preps: Sequence[Prepared], params: Params) -> FloatArray:
    """Source-weighted mean |log(pred / measured)| over the broadcast parameter grid."""
    by_source: dict[str, list[FloatArray]] = {}
    shape = np.broadcast_shapes(*(np.shape(getattr(params, f.name)) for f in fields(Params)))
    for p in preps:
        try:
            pred = predict_measurement(p, params)
        except InfercostError:
            continue
        err = np.broadcast_to(np.abs(np.log(np.maximum(pred, 1e-12) / p.m.value)), shape)
        by_source.setdefault(source_prefix(p.m.id), []).append(err)
    if not by_source:
        raise InputError("No measurement could be evaluated; nothing to fit.")
    per_source = [np.mean(np.stack(errs), axis=0) for errs in by_source.values()]
    return np.asarray(np.mean(np.stack(per_source), axis=0), dtype=np.float64)


def _ttft_loss(preps: Sequence[Prepared], params: Params) -> FloatArray:
    """Median |log(pred / measured)| over online TTFT rows, each row counting once (the loss
    of the TTFT-only terms, :func:`_fit_1d`). The median, not the mean: these terms describe
    the typical row's front end and arrivals, and rows whose TTFT the physics misses by 3-10x
    (DeepSeek on TensorRT-LLM at a few clients) pulled a mean toward them; held out on the
    closed-loop file, TTFT 26.7 % -> 24.8 % (docs/accuracy.md, eighth session)."""
    shape = np.broadcast_shapes(*(np.shape(getattr(params, f.name)) for f in fields(Params)))
    errs = []
    for p in preps:
        try:
            pred = predict_measurement(p, params)
        except InfercostError:
            continue
        errs.append(np.broadcast_to(np.abs(np.log(np.maximum(pred, 1e-12) / p.m.value)), shape))
    if not errs:
        raise InputError("No online TTFT measurement could be evaluated; nothing to fit.")
    return np.asarray(np.median(np.stack(errs), axis=0), dtype=np.float64)


def _prior_penalty(
    axes: Sequence[FloatArray], prior: dict[str, float], names: Sequence[str] = FIT_PARAMS
) -> FloatArray:
    """Mean over parameters of the distance from the prior, each scaled by its bound's span."""
    total: FloatArray = np.zeros(())
    for k, name in enumerate(names):
        lo, hi = BOUNDS[name]
        total = total + np.abs(axes[k] - prior[name]) / (hi - lo)
    return np.asarray(total / len(names), dtype=np.float64)


def fit_engine(
    engine: str,
    preps: Sequence[Prepared],
    points: int | None = None,
    prior: dict[str, float] | None = None,
    prior_weight: float = 0.02,
    progress: Callable[[str], None] | None = None,
) -> FitResult:
    """Fit the engine's efficiencies to ``preps`` (all of one engine).

    Args:
        engine: engine id.
        preps: its measurements.
        points: grid points per parameter per stage (default: 4 for the seven dense
            parameters, 3 when MoE rows add the eighth: 3^8 = 6,561 configurations per stage
            against 4^7 = 16,384, where 4^8 would take four times as long).
        prior: values to pull toward (default: none); with ``prior_weight`` w the loss is
            mean |log ratio| + w x mean(|param - prior| / bound span). A weak pull keeps
            parameters the data does not determine (few rows, one regime) at their
            literature values instead of at an arbitrary corner of the box.
        progress: called with one line after each of the 7 grid stages.

    Raises:
        InputError: no usable measurements.
    """
    if not preps:
        raise InputError(f"No measurements for engine {engine!r}; nothing to fit.")
    fixed = {"token_overhead_s": (prior or {}).get("token_overhead_s", 0.0)}
    names: tuple[str, ...] = FIT_PARAMS
    if not any(p.r.model.is_moe for p in preps):  # nothing pins the MoE term: keep the prior
        names = tuple(n for n in FIT_PARAMS if n != MOE_PARAM)
        fixed[MOE_PARAM] = (prior or {}).get(MOE_PARAM, 0.0)
    if points is None:
        points = 4 if len(names) < len(FIT_PARAMS) else 3
    # the weight-only experts' efficiency is told apart from MFU only by rows without them
    dequant_preps = [p for p in preps if dequantising(p)]
    if len(dequant_preps) == len(preps):
        dequant_preps = []
    fixed[DEQUANT_PARAM] = (prior or {}).get(DEQUANT_PARAM, 1.0)
    grid_preps = [p for p in preps if not _ttft_only(p)] or list(preps)
    held_back = len(grid_preps) < len(preps)
    best: dict[str, float] | None = None
    loss_value = float("inf")
    # Full grid, then grids of shrinking half-width around the best point (1, 1/2, ... 1/32 of
    # a full-grid step), so the search converges inside the bounded box.
    for stage in range(7):
        shrink = 0.5 ** (stage - 1) if stage else 1.0
        axes = _grid(best if stage else None, names, points, shrink)
        params = Params(**dict(zip(names, axes, strict=True)), **fixed)
        loss = _loss(grid_preps, params)
        if prior is not None:
            loss = loss + prior_weight * _prior_penalty(axes, prior, names)
        idx = np.unravel_index(int(np.argmin(loss)), loss.shape)
        best = {name: float(axes[k].ravel()[idx[k]]) for k, name in enumerate(names)}
        loss_value = float(loss[idx])
        if progress is not None:
            progress(
                f"fitting {engine} ({len(preps)} rows): stage {stage + 1}/7, mean |log ratio| "
                f"{loss_value:.3f}"
            )
    assert best is not None
    best.update(fixed)
    online = any(_online_ttft(p) for p in preps)
    if not online and prior is not None:
        for name in (SYNC_PARAM, FRONTEND_PARAM):
            if name in prior:
                best[name] = prior[name]
    # the TTFT-only terms, then the weight-only GEMMs' efficiency on their own rows, then the
    # TTFT-only terms again with it in place
    if online:
        names_1d = (REQUEST_PARAM,) if held_back else ()
        for name in (*names_1d, SYNC_PARAM, FRONTEND_PARAM):
            best[name] = _fit_1d(name, best, preps, prior, prior_weight)
    if dequant_preps:
        best[DEQUANT_PARAM] = _fit_1d(DEQUANT_PARAM, best, dequant_preps, prior, prior_weight)
        if online:
            for name in (SYNC_PARAM, FRONTEND_PARAM):
                best[name] = _fit_1d(name, best, preps, prior, prior_weight)
    if held_back:
        loss_value = float(_loss(preps, Params(**best)))
    if not dequant_preps:  # no row set it: a saved profile keeps the engine's own value
        best.pop(DEQUANT_PARAM)
    sources = tuple(sorted({source_prefix(p.m.id) for p in preps}))
    return FitResult(engine, best, loss_value, len(preps), sources)


def _fit_1d(
    name: str,
    best: dict[str, float],
    preps: Sequence[Prepared],
    prior: dict[str, float] | None,
    prior_weight: float,
) -> float:
    """The value of ``name`` (a TTFT-only term) that minimises the loss with every other
    parameter at ``best``: a 1-D grid over its bounds, then two grids of a tenth of the width
    around the best. The loss: for ``wave_sync`` and ``frontend_overhead_s`` the median over
    the online TTFT rows, each row once (:func:`_ttft_loss`); for ``request_overhead_s`` the
    source-weighted loss over all rows (:func:`_loss`)."""
    lo, hi = BOUNDS[name]
    axis = np.linspace(lo, hi, 26)
    # the arrival synchrony and the front end act on online TTFT alone: fitted on those rows,
    # each counting once (source weighting let 24 DeepSeek-R1 rows at 3-10x the physics set
    # TensorRT-LLM's front end at 108 ms, more than the whole TTFT measured for Llama-3.1-70B
    # at 4 clients); the request overhead also enters every E2E and offline row
    ttft_rows = (
        [p for p in preps if _online_ttft(p)] if name not in (REQUEST_PARAM, DEQUANT_PARAM) else []
    )
    value = 0.0
    for _ in range(3):
        params = replace(Params(**best), **{name: axis})
        loss = _ttft_loss(ttft_rows, params) if ttft_rows else _loss(preps, params)
        if prior is not None and name in prior:
            loss = loss + prior_weight * np.abs(axis - prior[name]) / (hi - lo) / len(FIT_PARAMS)
        value = float(axis[int(np.argmin(loss))])
        step = (axis[1] - axis[0]) if axis.size > 1 else 0.0
        axis = np.linspace(max(lo, value - step), min(hi, value + step), 21)
    return value


def parameter_grid_size(points: int = 4) -> int:
    """Configurations evaluated per grid stage."""
    return len(list(itertools.product(*(range(points) for _ in FIT_PARAMS))))


def fit_all(
    preps: Sequence[Prepared],
    points: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, FitResult]:
    """Fit every engine that has measurements in ``preps`` (``progress`` as
    :func:`fit_engine`).

    Raises:
        InputError: ``preps`` is empty.
    """
    if not preps:
        raise InputError("No measurements to fit. Import a result file first.")
    by_engine: dict[str, list[Prepared]] = {}
    for p in preps:
        by_engine.setdefault(p.r.engine.id, []).append(p)
    out = {}
    for eng, group in sorted(by_engine.items()):
        d = default_params(eng)
        prior = {f.name: float(np.asarray(getattr(d, f.name))) for f in fields(Params)}
        out[eng] = fit_engine(eng, group, points, prior=prior, progress=progress)
    return out


def profile_document(
    fits: dict[str, FitResult], today: date, provenance: str
) -> dict[str, dict[str, Any]]:
    """The fitted profile as TOML data: one table per engine overriding its efficiencies, with
    where the fit comes from (``fitted_on``, ``source``) and when (``as_of``)."""
    return {
        engine: {
            **{key: float(f"{value:.6g}") for key, value in fit.values.items()},
            "fitted_on": f"{', '.join(fit.sources)} ({fit.num_rows} rows, mean |log ratio| "
            f"{fit.loss:.3f})",
            "source": f"calibrate.fit on {provenance}",
            "as_of": today,
        }
        for engine, fit in fits.items()
    }


def profiles_toml(fits: dict[str, FitResult], today: date, provenance: str) -> str:
    """A whole ``engine_fits.toml``: comment lines naming the data, then one table per engine,
    written by tomli-w (every string quoted and escaped, so any file name is safe)."""
    header = "".join(
        f"# {line}\n"
        for line in (
            "Engine efficiencies fitted by `infercost calibrate fit`; overrides engines.toml "
            "field by field.",
            f"Data: {provenance}",
        )
        for line in line.splitlines() or [""]
    )
    return header + "\n" + tomli_w.dumps(profile_document(fits, today, provenance))


def prepare_all(
    measurements: Sequence[Measurement],
) -> tuple[list[Prepared], list[tuple[str, str]]]:
    """Resolve each measurement against the catalog.

    Returns:
        (prepared measurements, [(measurement id, why it was not used)]). Nothing is dropped
        silently: every unused row is listed with its reason.
    """
    used: list[Prepared] = []
    unused: list[tuple[str, str]] = []
    for m in measurements:
        why = scorable(m)
        if why is not None:
            unused.append((m.id, why))
            continue
        try:
            used.append(prepare(m))
        except InfercostError as err:
            unused.append((m.id, str(err)))
    return used, unused


def prepare_for_fit(
    measurements: Sequence[Measurement],
) -> tuple[list[Prepared], list[tuple[str, str]]]:
    """:func:`prepare_all`, refusing a set too small to fit (``calibrate fit`` and
    ``POST /api/calibrate/fit`` alike).

    Raises:
        InputError: no measurement is usable, or fewer than 3 are.
    """
    preps, unused = prepare_all(measurements)
    if not preps:
        raise InputError(
            f"None of the {len(measurements)} measurements could be used "
            f"(first reason: {unused[0][1] if unused else 'none'}). Fix the gpu/model "
            "names the file states (--gpu/--model only fill in what a file leaves out)."
        )
    if len(preps) < 3:
        raise InputError(
            f"Only {len(preps)} usable measurement(s); a fit needs at least 3 (better: 12 or "
            "more across batch sizes and prompt lengths). Measure more points with "
            "`infercost calibrate run --concurrency 1,4,16,64`."
        )
    return preps, unused
