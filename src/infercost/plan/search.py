"""Cheapest configuration under latency targets: ``infercost plan search``.

Every GPU x weight dtype x layout (GPUs per replica, TP, PP, EP) x KV dtype x concurrency is
evaluated in one vectorised sweep (:mod:`infercost.plan.sweep`); a configuration is feasible
when its dtype runs on the GPU, weights + KV cache for ``concurrency`` sequences of isl + osl
tokens fit, its steady-state mean TTFT and TPOT meet the targets, and an offer (or a typed
rate) prices it. The winner minimises

    $/M output (incl. input) = replica $/h ÷ (output tok/s x 3600 ÷ 1e6)

which, for a fixed isl/osl, ranks exactly as cost per request (every GPU-second of the
replica is charged; the prefill/decode split that ``predict`` reports is shown beside it).

Each GPU is a *family*; a family that lost says why, with its binding constraint:

``unsupported dtype``  no weight dtype has a compute dtype this GPU publishes FLOP/s for;
``memory``             no layout up to the largest replica holds the weights plus one sequence;
``ttft`` / ``tpot``    configurations fit but none meets that target (the best value is shown);
``ttft+tpot``          none meets both (each alone may be reachable);
``price``              feasible but no offer prices it, or it loses on $/used GPU-hour;
``throughput``         feasible and priced but fewer tokens per GPU-hour than the winner.

For a loser with a feasible configuration the cost ratio to the winner splits exactly into
a price factor (its $/used GPU-hour ÷ the winner's) and a throughput factor (the winner's
output tok/s per GPU ÷ its own); the larger names the constraint.

Percentile targets: :func:`infercost.plan.tail.search_p99` re-checks a short-list with the
iteration-level simulator (:mod:`infercost.sim`) under Poisson arrivals.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from infercost.catalog import get_accelerator, get_engine, get_model, load_accelerators
from infercost.catalog.pricing import Offer
from infercost.domains import check_args, check_work
from infercost.errors import InputError
from infercost.plan.candidate import Candidate, candidate
from infercost.plan.layouts import concurrency_levels, layouts
from infercost.plan.prices import gpu_prices
from infercost.plan.sweep import (
    Sweep,
    build_grid,
    evaluate,
    kv_dtypes_for,
    skipped_weight_formats,
    weight_formats,
)
from infercost.predict import LLAMACPP_WEIGHT_FORMATS, default_weight_dtype, engine_vendor_error
from infercost.units import GB

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_ALL = (1, 2, 3, 4)  # axes other than the GPU axis of a (G, W, P, K, C) array


@dataclass(frozen=True, slots=True)
class Targets:
    """Latency targets on steady-state means, seconds (None: no target).

    Raises:
        InputError: a target that is not a positive finite number.
    """

    max_ttft_s: float | None = None
    max_tpot_s: float | None = None

    def __post_init__(self) -> None:
        if self.max_ttft_s is not None and not (
            math.isfinite(self.max_ttft_s) and self.max_ttft_s > 0
        ):
            raise InputError(f"--max-ttft-s must be a positive number, got {self.max_ttft_s:g}.")
        if self.max_tpot_s is not None and not (
            math.isfinite(self.max_tpot_s) and self.max_tpot_s > 0
        ):
            raise InputError(
                f"--max-tpot-ms must be a positive number, got {self.max_tpot_s * 1e3:g}."
            )

    @property
    def is_set(self) -> bool:
        """Whether any target is given."""
        return self.max_ttft_s is not None or self.max_tpot_s is not None

    def describe(self) -> str:
        """``TTFT <= 1 s, TPOT <= 50 ms`` (the values as given, never rounded to 0) or
        ``no latency target``."""
        parts = []
        if self.max_ttft_s is not None:
            parts.append(f"TTFT <= {self.max_ttft_s:g} s")
        if self.max_tpot_s is not None:
            parts.append(f"TPOT <= {self.max_tpot_s * 1e3:g} ms")
        return ", ".join(parts) or "no latency target"


@dataclass(frozen=True, slots=True)
class Family:
    """One GPU's verdict.

    Attributes:
        gpu: accelerator id.
        constraint: ``winner`` or the binding constraint (module docstring).
        detail: the figures behind the verdict, in words.
        best: its cheapest feasible configuration, or None.
        cost_ratio: best $/M ÷ the winner's (None without a feasible priced configuration).
    """

    gpu: str
    constraint: str
    detail: str
    best: Candidate | None = None
    cost_ratio: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "gpu": self.gpu,
            "constraint": self.constraint,
            "detail": self.detail,
            "cost_ratio": self.cost_ratio,
            "best": self.best.to_dict() if self.best else None,
        }


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The winner, the runners-up, and every family's verdict.

    Attributes:
        model, engine: what was searched.
        isl, osl: tokens per request.
        targets: the latency targets.
        candidates_evaluated: grid size G x W x P x K x C.
        feasible: how many candidates met every constraint.
        elapsed_s: wall time of the search.
        winner: the cheapest feasible configuration, or None.
        runners_up: the next cheapest distinct configurations (GPU, dtype, layout, KV dtype),
            each at its best concurrency.
        families: one verdict per GPU, winner first, then by cost, then the infeasible.
    """

    model: str
    engine: str
    isl: int
    osl: int
    targets: Targets
    candidates_evaluated: int
    feasible: int
    elapsed_s: float
    winner: Candidate | None
    runners_up: tuple[Candidate, ...]
    families: tuple[Family, ...]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``plan search --json``)."""
        return {
            "model": self.model,
            "engine": self.engine,
            "isl": self.isl,
            "osl": self.osl,
            "max_ttft_s": self.targets.max_ttft_s,
            "max_tpot_s": self.targets.max_tpot_s,
            "ranking_metric": "usd_per_m_output_incl_input",
            "candidates_evaluated": self.candidates_evaluated,
            "feasible": self.feasible,
            "elapsed_s": self.elapsed_s,
            "winner": self.winner.to_dict() if self.winner else None,
            "runners_up": [c.to_dict() for c in self.runners_up],
            "families": [f.to_dict() for f in self.families],
            "notes": list(self.notes),
        }


def latency_ok(sweep: Sweep, targets: Targets) -> tuple[BoolArray, BoolArray]:
    """(TTFT within target, TPOT within target), each broadcast to the grid shape."""
    shape = sweep.grid.shape
    ttft = (
        np.ones(shape, dtype=bool)
        if targets.max_ttft_s is None
        else np.broadcast_to(sweep.ttft_s <= targets.max_ttft_s, shape)
    )
    tpot = (
        np.ones(shape, dtype=bool)
        if targets.max_tpot_s is None
        else np.broadcast_to(sweep.tpot_s <= targets.max_tpot_s, shape)
    )
    return np.asarray(ttft), np.asarray(tpot)


def feasible_cost(sweep: Sweep, targets: Targets) -> FloatArray:
    """$/M output (incl. input) where feasible, +inf elsewhere; shape (G, W, P, K, C)."""
    ok_ttft, ok_tpot = latency_ok(sweep, targets)
    priced = np.isfinite(sweep.replica_usd_per_hour)
    ok = sweep.fits & ok_ttft & ok_tpot & priced
    cost = np.broadcast_to(sweep.usd_per_m_output_incl_input, sweep.grid.shape)
    return np.asarray(np.where(ok, cost, np.inf), dtype=np.float64)


def ranked_configs(cost: FloatArray, count: int) -> list[tuple[int, int, int, int, int]]:
    """Indices of the ``count`` cheapest distinct (GPU, dtype, layout, KV dtype) configurations,
    each at its cheapest concurrency, cheapest first (finite costs only)."""
    best_c = np.argmin(cost, axis=4)  # (G, W, P, K)
    best = np.take_along_axis(cost, best_c[..., None], axis=4)[..., 0]
    flat = best.ravel()
    k = min(count, int(np.isfinite(flat).sum()))
    if k == 0:
        return []
    top = np.argpartition(flat, k - 1)[:k] if k < flat.size else np.arange(flat.size)
    top = top[np.argsort(flat[top], kind="stable")]
    out = []
    for f in top[:k]:
        g, w, p, kv = np.unravel_index(int(f), best.shape)
        out.append((int(g), int(w), int(p), int(kv), int(best_c[g, w, p, kv])))
    return out


def _any(a: BoolArray, axes: tuple[int, ...]) -> BoolArray:
    """``a.any(axis=axes)`` as an array (per GPU)."""
    return np.asarray(np.any(a, axis=axes), dtype=bool)


def _masked_min(a: FloatArray, mask: BoolArray) -> FloatArray:
    """Per GPU: min of ``a`` where ``mask`` (inf where none)."""
    return np.asarray(np.where(mask, a, np.inf).min(axis=_ALL), dtype=np.float64)


def _argmin_index(a: FloatArray, mask: BoolArray, g: int) -> tuple[int, int, int, int, int]:
    """Grid index of the smallest ``a`` on GPU ``g`` where ``mask``."""
    sub = np.where(mask[g], a[g], np.inf)
    w, p, k, c = np.unravel_index(int(np.argmin(sub)), sub.shape)
    return (g, int(w), int(p), int(k), int(c))


def family_verdicts(
    sweep: Sweep, targets: Targets, cost: FloatArray, winner: Candidate | None
) -> list[Family]:
    """The binding constraint of every GPU family (see the module docstring)."""
    grid = sweep.grid
    shape = grid.shape
    ok_ttft, ok_tpot = latency_ok(sweep, targets)
    fits = np.broadcast_to(sweep.fits, shape)
    ttft = np.broadcast_to(sweep.ttft_s, shape)
    tpot = np.broadcast_to(sweep.tpot_s, shape)
    sup_any = _any(grid.supported, (1,))
    fits_any = _any(fits, _ALL)
    ttft_any = _any(fits & ok_ttft, _ALL)
    tpot_any = _any(fits & ok_tpot, _ALL)
    both_any = _any(fits & ok_ttft & ok_tpot, _ALL)
    best_cost = cost.min(axis=_ALL)
    kv_best = np.where(grid.supported[:, :, None, None, None], grid.kv_bytes_per_gpu, -np.inf).max(
        axis=_ALL
    )
    fmts = ", ".join(f.id for f in grid.weight_fmts)
    top_n = int(grid.layouts.num_gpus.max())
    out: list[Family] = []
    for g, acc in enumerate(grid.gpus):
        if not sup_any[g]:
            out.append(
                Family(
                    acc.id,
                    "unsupported dtype",
                    f"{acc.id} publishes no dense FLOP/s for the compute dtype of any of "
                    f"{fmts} (catalog: {sorted(acc.dense_flop_s) or 'none'}); add a measured "
                    "figure in a user catalog to include it",
                )
            )
        elif not fits_any[g]:
            if kv_best[g] <= 0:
                detail = (
                    f"weights + workspace exceed usable memory on every layout tried (up to "
                    f"{top_n} GPUs per replica; short by {-kv_best[g] / GB:.1f} GB per GPU at "
                    "best); use more GPUs per replica or a smaller weight dtype"
                )
            else:
                detail = (
                    f"at most {kv_best[g] / GB:.1f} GB per GPU is left for the KV cache, less "
                    f"than one sequence of {int(sweep.isl + sweep.osl)} tokens needs; use more "
                    "GPUs per replica, a smaller weight dtype or --kv-dtypes fp8"
                )
            out.append(Family(acc.id, "memory", detail))
        elif not both_any[g]:
            bt = _masked_min(ttft, fits)[g]
            bp = _masked_min(tpot, fits)[g]
            if not ttft_any[g] and not tpot_any[g]:
                kind = "ttft+tpot"
                detail = (
                    f"best TTFT {bt:.3f} s and best TPOT {bp * 1e3:.1f} ms miss "
                    f"{targets.describe()}"
                )
            elif not tpot_any[g]:
                c = candidate(sweep, _argmin_index(tpot, fits, g))
                kind, detail = (
                    "tpot",
                    (
                        f"best TPOT {bp * 1e3:.1f} ms ({c.layout} {c.weight_dtype}, batch "
                        f"{c.concurrency}) misses {targets.describe()}"
                    ),
                )
            elif not ttft_any[g]:
                c = candidate(sweep, _argmin_index(ttft, fits, g))
                kind, detail = (
                    "ttft",
                    (
                        f"best TTFT {bt:.3f} s ({c.layout} {c.weight_dtype}, batch "
                        f"{c.concurrency}) misses {targets.describe()}"
                    ),
                )
            else:
                kind, detail = (
                    "ttft+tpot",
                    (
                        f"TTFT and TPOT are each reachable (best {bt:.3f} s, {bp * 1e3:.1f} ms) "
                        f"but no configuration meets both of {targets.describe()}"
                    ),
                )
            out.append(Family(acc.id, kind, detail))
        elif not math.isfinite(best_cost[g]):
            out.append(
                Family(
                    acc.id,
                    "price",
                    f"meets every target, but no current {sweep.prices.pricing_kind} offer "
                    "prices it: use --gpu-hour-usd or add an offer",
                )
            )
        else:
            mine = candidate(sweep, _argmin_index(cost, np.isfinite(cost), g))
            out.append(_versus(mine, winner))
    rank = {"winner": 0}
    return sorted(
        out,
        key=lambda f: (
            rank.get(f.constraint, 1 if f.best else 2),
            f.cost_ratio if f.cost_ratio is not None else math.inf,
            f.gpu,
        ),
    )


def _versus(mine: Candidate, winner: Candidate | None) -> Family:
    """A feasible family against the winner: price factor x throughput factor."""
    assert mine.usd_per_m_output_incl_input is not None and mine.usd_per_gpu_hour is not None
    if winner is None or winner.gpu == mine.gpu:
        return Family(mine.gpu, "winner", "cheapest feasible configuration", mine, 1.0)
    assert winner.usd_per_m_output_incl_input is not None and winner.usd_per_gpu_hour is not None
    ratio = mine.usd_per_m_output_incl_input / winner.usd_per_m_output_incl_input
    price_f = mine.usd_per_gpu_hour / winner.usd_per_gpu_hour
    thru_f = winner.output_tok_s_per_gpu / mine.output_tok_s_per_gpu
    text = (
        f"cost x{ratio:.2f} = price x{price_f:.2f} (${mine.usd_per_gpu_hour:.2f} vs "
        f"${winner.usd_per_gpu_hour:.2f}/GPU-h) x throughput x{thru_f:.2f} "
        f"({mine.output_tok_s_per_gpu:,.0f} vs {winner.output_tok_s_per_gpu:,.0f} tok/s/GPU)"
    )
    kind = "price" if price_f >= thru_f else "throughput"
    return Family(mine.gpu, kind, text, mine, ratio)


def smallest_fit(sweep: Sweep) -> Candidate | None:
    """The configuration with the fewest GPUs per replica that fits (memory and dtype only),
    the fastest of those; None when nothing fits. Says what one replica needs."""
    shape = sweep.grid.shape
    fits = np.broadcast_to(sweep.fits, shape)
    if not fits.any():
        return None
    n = np.broadcast_to(sweep.grid.layouts.num_gpus.reshape(1, 1, -1, 1, 1), shape)
    fewest = n[fits].min()
    tok = np.where(fits & (n == fewest), np.broadcast_to(sweep.output_tok_s, shape), -np.inf)
    return candidate(sweep, tuple(int(v) for v in np.unravel_index(int(np.argmax(tok)), shape)))  # type: ignore[arg-type]


def run_sweep(
    model: str,
    isl: int,
    osl: int,
    *,
    gpus: Sequence[str] | None = None,
    weight_dtypes: Sequence[str] | None = None,
    kv_dtypes: Sequence[str] | None = None,
    max_gpus: int = 8,
    num_gpus: Sequence[int] | None = None,
    concurrency_count: int = 64,
    max_concurrency: int | None = None,
    engine: str = "vllm",
    gpu_hour_usd: float | None = None,
    offers: Sequence[Offer] | None = None,
    pricing_kind: str | None = None,
    allow_spot: bool = False,
    cached_prefix_share: float = 0.0,
    max_work: float | None = None,
) -> Sweep:
    """Resolve names, build the grid, price it and evaluate it (arguments as :func:`search`).

    ``max_work`` raises (or lowers) the limit on grid configurations
    (:data:`infercost.domains.WORK_LIMITS` ``"plan grid"``), checked before the grid is
    allocated.

    Raises:
        UnknownNameError: unknown model, GPU, dtype or engine.
        InputError: bad token counts, counts or prices, or a grid past the work limit.
    """
    check_args(
        isl=isl, osl=osl, max_gpus=max_gpus, num_gpus=list(num_gpus or ()),
        concurrency_levels=concurrency_count, max_concurrency=max_concurrency,
        gpu_hour_usd=gpu_hour_usd, cached_share=cached_prefix_share,
    )  # fmt: skip
    if not 0.0 <= cached_prefix_share < 1.0:
        raise InputError(f"cached prefix share must lie in [0, 1), got {cached_prefix_share}.")
    m = get_model(model)
    eng = get_engine(engine)
    if gpus:
        accs = tuple({a.id: a for a in (get_accelerator(g) for g in gpus)}.values())
        for a in accs:
            refused = engine_vendor_error(eng, a)
            if refused is not None:
                raise InputError(refused)
    else:  # every catalog GPU the engine runs on
        accs = tuple(a for a in load_accelerators() if engine_vendor_error(eng, a) is None)
    lay = layouts(m, max_gpus, num_gpus)
    conc = concurrency_levels(max_concurrency or eng.max_num_seqs, concurrency_count)
    fmts = weight_formats(weight_dtypes, m, eng.id)
    kvs = kv_dtypes_for(kv_dtypes, m)
    cells = len(accs) * len(fmts) * len(lay) * len(kvs) * int(conc.size)
    check_work(
        "plan grid", cells, max_work,
        f"{len(accs)} GPU(s) x {len(fmts)} weight dtype(s) x {len(lay)} layout(s) up to "
        f"--max-gpus x {len(kvs)} KV dtype(s) x {conc.size} --concurrency-levels",
    )  # fmt: skip
    grid = build_grid(
        m, accs, eng, weight_fmts=fmts, kv_dtypes=kvs, layout=lay, concurrency=conc
    )  # fmt: skip
    prices = gpu_prices(
        accs,
        lay,
        gpu_hour_usd=gpu_hour_usd,
        offers=offers,
        pricing_kind=pricing_kind,
        allow_spot=allow_spot,
    )
    return evaluate(grid, isl, osl, prices, cached_prefix_share=cached_prefix_share)


def weight_format_notes(sweep: Sweep, weight_dtypes: Sequence[str] | None) -> list[str]:
    """Says which default weight formats the sweep left out because its engine cannot run
    them (:func:`infercost.plan.sweep.skipped_weight_formats`; none when the formats were
    named, since a named format the engine cannot run is refused)."""
    if weight_dtypes is not None:
        return []
    engine = sweep.grid.engine.id
    skipped = skipped_weight_formats(sweep.grid.model, engine)
    if not skipped:
        return []
    tried = ", ".join(f.id for f in sweep.grid.weight_fmts)
    return [
        f"weights {', '.join(skipped)} not tried: --engine {engine} runs GGUF types only "
        f"({', '.join(sorted(LLAMACPP_WEIGHT_FORMATS))}); tried {tried}"
    ]


def search(
    model: str,
    isl: int,
    osl: int,
    *,
    max_ttft_s: float | None = None,
    max_tpot_s: float | None = None,
    top: int = 5,
    **sweep_options: Any,
) -> SearchResult:
    """Cheapest configuration of ``model`` meeting the mean TTFT/TPOT targets.

    Args:
        model: model name (catalog id, HF id or common spelling).
        isl, osl: prompt and output tokens per request.
        max_ttft_s, max_tpot_s: steady-state mean targets, seconds (None: no target).
        top: runners-up to list.
        sweep_options: keywords of :func:`run_sweep`: ``gpus`` (default every catalogued
            accelerator), ``weight_dtypes`` (default
            :func:`infercost.plan.sweep.weight_formats`), ``kv_dtypes`` (default ``auto`` and
            ``fp8``), ``max_gpus`` / ``num_gpus`` (GPUs per replica), ``concurrency_count`` /
            ``max_concurrency`` (batch sizes, default up to the engine's ``max_num_seqs``),
            ``engine``, ``gpu_hour_usd`` (one rate for every GPU instead of offers),
            ``offers`` / ``pricing_kind`` / ``allow_spot`` (each GPU priced at its family
            offer of one kind, :func:`infercost.plan.prices.gpu_prices`; spot only when
            allowed), ``cached_prefix_share``.

    Returns:
        A :class:`SearchResult`.

    Raises:
        UnknownNameError: unknown model, GPU, dtype or engine.
        InputError: bad token counts, targets, counts or prices.
    """
    t0 = time.perf_counter()
    targets = Targets(max_ttft_s, max_tpot_s)
    if top < 0:
        raise InputError(f"--top must be >= 0, got {top}.")
    sweep = run_sweep(model, isl, osl, **sweep_options)
    grid = sweep.grid
    eng = grid.engine
    cost = feasible_cost(sweep, targets)
    ranked = ranked_configs(cost, top + 1)
    winner = candidate(sweep, ranked[0]) if ranked else None
    runners = tuple(candidate(sweep, ix) for ix in ranked[1:])
    families = family_verdicts(sweep, targets, cost, winner)
    notes = weight_format_notes(sweep, sweep_options.get("weight_dtypes"))
    if any(c.price_stale for c in (winner, *runners) if c is not None):
        notes.append("some offer prices are older than 180 days (STALE): check them")
    checkpoint = default_weight_dtype(grid.model)
    if winner is not None and winner.weight_dtype != checkpoint:
        notes.append(
            f"the winner stores weights as {winner.weight_dtype} (checkpoint: {checkpoint}); "
            "check its quality, or restrict --weight-dtypes"
        )
    above = [c for c in (winner, *runners) if c is not None and c.concurrency > c.max_concurrency]
    if above:
        notes.append(
            f"{len(above)} shown configuration(s) run a batch above their max_concurrency "
            f"(full-length sequences): {eng.id} allocates KV as tokens come, so sequences "
            f"of the mean context isl + osl / 2 = {isl + osl / 2:,.6g} tokens fit "
            "(docs/physics.md, Serving caps)"
        )
    max_conc = sweep_options.get("max_concurrency")
    if max_conc and max_conc > eng.max_num_seqs:
        notes.append(
            f"batches above {eng.id}'s max_num_seqs {eng.max_num_seqs} need the engine's "
            "limit raised (vLLM --max-num-seqs)"
        )
    return SearchResult(
        model=grid.model.id,
        engine=eng.id,
        isl=isl,
        osl=osl,
        targets=targets,
        candidates_evaluated=grid.size,
        feasible=int(np.isfinite(cost).sum()),
        elapsed_s=time.perf_counter() - t0,
        winner=winner,
        runners_up=runners,
        families=tuple(families),
        notes=tuple(notes),
    )
