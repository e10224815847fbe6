"""Fit engine efficiencies to measurements (pure: no file I/O; ``save_profile`` writes TOML).

Few physical parameters per engine, each bounded to its physical range:

- ``mbu`` in [0.5, 0.95]: achieved fraction of peak memory bandwidth;
- ``mfu`` in [0.2, 0.8]: achieved fraction of peak dense FLOP/s;
- ``step_overhead_s`` in [0.5, 8] ms: fixed time per iteration;
- ``token_overhead_s`` in [0, 16] µs: time per token per iteration outside the roofline;
- ``comm_efficiency`` in [0.15, 1]: achieved fraction of link bandwidth in TP all-reduces;
- ``request_overhead_s`` in [0, 30] ms: time per request before its first token
  (second stage, on latency rows only).

Loss: mean absolute log ratio (a robust, scale-free loss: over- and under-prediction by the
same factor cost the same), each source weighted equally so a large source does not drown a
small one. Search: an exhaustive vectorised grid over the bounded box (every formula in
``perf`` broadcasts), then a finer grid around the best point.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from infercost.calibrate.evaluate import Params, Prepared, predict_measurement
from infercost.errors import InfercostError, InputError

FloatArray = npt.NDArray[np.float64]

BOUNDS: dict[str, tuple[float, float]] = {
    "mbu": (0.5, 0.95),
    "mfu": (0.2, 0.8),
    "step_overhead_s": (0.0005, 0.008),
    "token_overhead_s": (0.0, 16e-6),
    "comm_efficiency": (0.15, 1.0),
    "request_overhead_s": (0.0, 0.030),
}
_STAGE1 = ("mbu", "mfu", "step_overhead_s", "token_overhead_s", "comm_efficiency")
_LATENCY_METRICS = {"ttft_mean_s", "ttft_p50_s", "ttft_p99_s", "e2e_mean_s"}


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


def _grid(center: dict[str, float] | None, names: Sequence[str], points: int) -> list[FloatArray]:
    axes = []
    for k, name in enumerate(names):
        lo, hi = BOUNDS[name]
        if center is not None:
            span = (hi - lo) / (points - 1)
            lo, hi = max(lo, center[name] - span), min(hi, center[name] + span)
        shape = [1] * len(names)
        shape[k] = points
        axes.append(np.linspace(lo, hi, points).reshape(shape))
    return axes


def _loss(preps: Sequence[Prepared], params: Params) -> FloatArray:
    """Source-weighted mean |log(pred / measured)| over the broadcast parameter grid."""
    by_source: dict[str, list[FloatArray]] = {}
    for p in preps:
        try:
            pred = predict_measurement(p, params)
        except InfercostError:
            continue
        err = np.abs(np.log(np.maximum(pred, 1e-12) / p.m.value))
        by_source.setdefault(source_prefix(p.m.id), []).append(err)
    if not by_source:
        raise InputError("No measurement could be evaluated; nothing to fit.")
    per_source = [np.mean(np.stack(errs), axis=0) for errs in by_source.values()]
    return np.asarray(np.mean(np.stack(per_source), axis=0), dtype=np.float64)


def fit_engine(engine: str, preps: Sequence[Prepared], points: int = 7) -> FitResult:
    """Fit the engine's efficiencies to ``preps`` (all of one engine).

    Raises:
        InputError: no usable measurements.
    """
    if not preps:
        raise InputError(f"No measurements for engine {engine!r}; nothing to fit.")
    best: dict[str, float] | None = None
    loss_value = float("inf")
    for center in (None, "refine", "refine"):
        axes = _grid(best if center else None, _STAGE1, points)
        params = Params(
            mbu=axes[0],
            mfu=axes[1],
            step_overhead_s=axes[2],
            token_overhead_s=axes[3],
            comm_efficiency=axes[4],
            request_overhead_s=0.005,
        )
        loss = _loss(preps, params)
        idx = np.unravel_index(int(np.argmin(loss)), loss.shape)
        best = {name: float(axes[k].ravel()[idx[k]]) for k, name in enumerate(_STAGE1)}
        loss_value = float(loss[idx])
    assert best is not None
    latency = [p for p in preps if p.m.metric in _LATENCY_METRICS]
    best["request_overhead_s"] = 0.005
    if latency:
        ro = np.linspace(*BOUNDS["request_overhead_s"], 31)
        params = Params(
            mbu=best["mbu"],
            mfu=best["mfu"],
            step_overhead_s=best["step_overhead_s"],
            token_overhead_s=best["token_overhead_s"],
            comm_efficiency=best["comm_efficiency"],
            request_overhead_s=ro,
        )
        lat_loss = _loss(latency, params)
        best["request_overhead_s"] = float(ro[int(np.argmin(lat_loss))])
        loss_value = float(_loss(preps, Params(**best)))
    sources = tuple(sorted({source_prefix(p.m.id) for p in preps}))
    return FitResult(engine, best, loss_value, len(preps), sources)


def profile_toml(fit: FitResult, today: date) -> str:
    """A TOML table overriding the engine's efficiencies with the fit, dated and sourced."""
    lines = [f"[{fit.engine}]"]
    for key, value in fit.values.items():
        lines.append(f"{key} = {value:.6g}")
    lines.append(
        f'fitted_on = "{", ".join(fit.sources)} ({fit.num_rows} rows, mean |log ratio| '
        f'{fit.loss:.3f})"'
    )
    lines.append(f"as_of = {today.isoformat()}")
    return "\n".join(lines) + "\n"


def parameter_grid_size(points: int = 7) -> int:
    """Configurations evaluated per grid stage."""
    return len(list(itertools.product(*(range(points) for _ in _STAGE1))))


def fit_all(preps: Sequence[Prepared], points: int = 7) -> dict[str, FitResult]:
    """Fit every engine that has measurements in ``preps``.

    Raises:
        InputError: ``preps`` is empty.
    """
    if not preps:
        raise InputError("No measurements to fit. Import a result file first.")
    by_engine: dict[str, list[Prepared]] = {}
    for p in preps:
        by_engine.setdefault(p.r.engine.id, []).append(p)
    return {eng: fit_engine(eng, group, points) for eng, group in sorted(by_engine.items())}


def profiles_toml(fits: dict[str, FitResult], today: date, provenance: str) -> str:
    """A whole ``engine_fits.toml``: a header naming the data, then one table per engine."""
    header = (
        "# Engine efficiencies fitted by `infercost calibrate fit` "
        f"({provenance}). Overrides engines.toml field by field.\n\n"
    )
    body = "\n".join(
        profile_toml(f, today).replace(
            "\nas_of", f'\nsource = "calibrate.fit on {provenance}"\nas_of'
        )
        for f in fits.values()
    )
    return header + body
