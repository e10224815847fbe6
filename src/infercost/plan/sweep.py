"""Broadcast grids of deployments, evaluated in one vectorised pass.

One grid holds every combination of

    GPU (G) x weight dtype (W) x parallel layout (P: GPUs per replica, TP, PP, EP)
            x KV-cache dtype (K) x concurrency (C)

for one model and engine. Each :class:`~infercost.perf.step.StepModel` field becomes an array
shaped to broadcast over ``(G, W, P, K, C)`` (a field that depends only on the layout has
shape ``(1, 1, P, 1, 1)``, one that depends on the GPU ``(G, 1, 1, 1, 1)``, ...), so the perf
formulas (:func:`~infercost.perf.serving.closed_loop`, :mod:`~infercost.perf.memory`) run
once over the whole grid. No Python loop touches a configuration; the only loops build the
per-format and per-GPU constants (W + G x W small scalar calls).

The per-GPU constants mirror :func:`infercost.perf.step.step_model` and the memory budget
mirrors :func:`infercost.predict.kv_budget_bytes_per_gpu`; ``tests/plan/test_sweep.py`` pins
both against the scalar functions at sampled grid points, so a change there shows up here.

Pipeline parallelism is treated as :func:`infercost.predict.serve` treats it: each of the
``pp`` stages runs ``N / pp`` sequences; latencies are ``pp`` times a stage's, throughput is a
stage's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.catalog import get_quant_format, load_quant_formats
from infercost.catalog.schema import (
    DTYPE_BYTES,
    Accelerator,
    EngineProfile,
    ModelArch,
    QuantFormat,
)
from infercost.cost.tokens import split_usd_per_m, usd_per_m_tokens
from infercost.errors import InfercostError, InputError
from infercost.perf.memory import (
    activation_workspace_bytes,
    cache_bytes_per_sequence_per_gpu,
    engine_kv_budget,
    max_concurrency,
    weight_bytes,
    weight_bytes_per_gpu,
)
from infercost.perf.serving import CLOSED_LOOP_WAVES, arrival_wave_sync, closed_loop
from infercost.perf.step import (
    ACTIVATION_DTYPE,
    StepModel,
    collective_link_bytes_s,
    compute_dtype,
    expert_tile_rows,
    nvlink_peers,
    operand_peaks,
    pcie_bytes_s,
    shard_step_model,
    unsharded_step_model,
    usable_mem_bw_bytes_s,
)
from infercost.plan.layouts import Layouts
from infercost.plan.prices import GpuPrices
from infercost.predict import default_weight_dtype, engine_weight_format_error, resolve_kv_dtype

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

AXES: tuple[str, ...] = ("gpu", "weight_dtype", "layout", "kv_dtype", "concurrency")
"""Names of the five grid axes, in array order."""


def _axis(values: FloatArray | IntArray | Sequence[float], axis: int) -> FloatArray:
    """``values`` reshaped to lie along ``axis`` of the 5-D grid."""
    shape = [1, 1, 1, 1, 1]
    arr = np.asarray(values, dtype=np.float64)
    shape[axis] = arr.shape[0]
    return arr.reshape(shape)


@dataclass(frozen=True, slots=True)
class Grid:
    """A broadcast grid of deployments of one model on one engine (isl/osl-independent).

    Attributes:
        model, engine: what is deployed and how.
        gpus: the G accelerators.
        weight_fmts: the W weight storage formats.
        kv_dtypes: the K KV-cache dtypes (resolved: bf16, fp16, fp8, int8).
        layouts: the P parallel layouts.
        concurrency: the C batch sizes (requests in flight per replica), shape ``(C,)``.
        supported: ``(G, W)``: the GPU has the format's compute dtype (native or fallback).
        compute_dtypes: ``(G, W)`` compute dtype names ("" where unsupported).
        step: per-GPU step constants, fields broadcasting over ``(G, W, P, K, 1)``.
        weights_bytes_per_gpu: ``(1, W, P, 1, 1)`` weight bytes one GPU holds.
        kv_bytes_per_gpu: ``(G, W, P, 1, 1)`` KV-cache bytes left per GPU (<= 0: no fit).
    """

    model: ModelArch
    engine: EngineProfile
    gpus: tuple[Accelerator, ...]
    weight_fmts: tuple[QuantFormat, ...]
    kv_dtypes: tuple[str, ...]
    layouts: Layouts
    concurrency: IntArray
    supported: BoolArray
    compute_dtypes: npt.NDArray[np.str_]
    step: StepModel
    weights_bytes_per_gpu: FloatArray
    kv_bytes_per_gpu: FloatArray

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        """(G, W, P, K, C)."""
        return (
            len(self.gpus),
            len(self.weight_fmts),
            len(self.layouts),
            len(self.kv_dtypes),
            int(self.concurrency.shape[0]),
        )

    @property
    def size(self) -> int:
        """Candidates in the grid: G x W x P x K x C."""
        return math.prod(self.shape)


def weight_formats(
    names: Iterable[str] | None, m: ModelArch, engine: str = "vllm"
) -> tuple[QuantFormat, ...]:
    """The formats ``names`` spell, or by default the checkpoint's format followed by every
    catalogued format that differs from those before it in (bits, compute dtype, fallback)
    (so fp16 is dropped beside bf16: the same bytes and the same tensor-core rate), among
    the formats ``engine`` runs (:func:`infercost.predict.engine_weight_format_error`:
    llama.cpp runs GGUF types only); those left out are :func:`skipped_weight_formats`.

    Raises:
        UnknownNameError: an unknown dtype name.
        InputError: a named format the engine cannot run (as ``predict`` refuses it).
    """
    if names is not None:
        fmts = tuple({f.id: f for f in (get_quant_format(n) for n in names)}.values())
        for fmt in fmts:
            refused = engine_weight_format_error(engine, fmt, True, flag="--weight-dtypes")
            if refused is not None:
                raise InputError(refused)
        return fmts
    chosen: list[QuantFormat] = []
    seen: set[tuple[float, str, str, str | None]] = set()
    for fmt in _default_formats(m):
        key = (
            fmt.bits_per_weight,
            fmt.compute_dtype,
            fmt.fallback_compute_dtype,
            fmt.compute_requires,
        )
        if key not in seen and engine_weight_format_error(engine, fmt, False) is None:
            seen.add(key)
            chosen.append(fmt)
    return tuple(chosen)


def skipped_weight_formats(m: ModelArch, engine: str) -> tuple[str, ...]:
    """The default candidate formats (the checkpoint's and the catalog's) that ``engine``
    cannot run, which :func:`weight_formats` leaves out when no format is named."""
    return tuple(
        dict.fromkeys(
            f.id for f in _default_formats(m) if engine_weight_format_error(engine, f, False)
        )
    )


def _default_formats(m: ModelArch) -> tuple[QuantFormat, ...]:
    return (get_quant_format(default_weight_dtype(m)), *load_quant_formats())


def kv_dtypes_for(names: Iterable[str] | None, m: ModelArch) -> tuple[str, ...]:
    """Resolved KV dtypes (``auto`` -> the activation dtype); default ``auto`` and ``fp8``.

    Raises:
        InputError: an unknown KV dtype.
    """
    raw = list(names) if names is not None else ["auto", "fp8"]
    return tuple(dict.fromkeys(resolve_kv_dtype(m, n) for n in raw))


def build_grid(
    m: ModelArch,
    gpus: Sequence[Accelerator],
    engine: EngineProfile,
    *,
    weight_fmts: Sequence[QuantFormat],
    kv_dtypes: Sequence[str],
    layout: Layouts,
    concurrency: Sequence[int] | IntArray,
) -> Grid:
    """Build the broadcast step constants and memory budget of every configuration.

    Formulas: those of :func:`infercost.perf.step.step_model` (per-GPU shares of weights,
    KV, FLOP by TP/PP/EP) and :func:`infercost.predict.kv_budget_bytes_per_gpu`
    (usable memory - weights - workspace), evaluated on arrays.

    Raises:
        InputError: an empty axis, or a concurrency level below 1.
    """
    conc = np.asarray(concurrency, dtype=np.int64)
    if not gpus or not weight_fmts or not kv_dtypes or len(layout) == 0 or conc.size == 0:
        raise InputError(
            "Every grid axis needs at least one value (GPUs, weight dtypes, KV dtypes, "
            "layouts that divide the model's heads, concurrency levels)."
        )
    if int(conc.min()) < 1:
        raise InputError(f"Concurrency levels must be >= 1, got {int(conc.min())}.")
    g_n, w_n = len(gpus), len(weight_fmts)
    # Model-only constants per format, from step_model at TP = PP = EP = 1 on a probe
    # accelerator that lists every compute dtype (the per-GPU figures are set below).
    dtypes = {f.compute_dtype for f in weight_fmts} | {
        f.fallback_compute_dtype for f in weight_fmts
    }
    dtypes |= {f.compute_requires for f in weight_fmts if f.compute_requires}
    dtypes.add(ACTIVATION_DTYPE)
    probe = gpus[0].model_copy(update={"dense_flop_s": dict.fromkeys(sorted(dtypes), 1.0)})
    base = [unsharded_step_model(m, probe, f, 1.0, engine) for f in weight_fmts]
    b0 = base[0]
    supported = np.zeros((g_n, w_n), dtype=bool)
    peak = np.full((g_n, w_n), np.nan)
    ratios = np.ones((3, g_n, w_n))  # expert, LM head, attention peaks over the dense peak
    # weight-only expert GEMMs (perf.step.OperandPeaks) and the experts' tile height
    dequant = np.zeros((g_n, w_n))
    tiles = np.zeros((g_n, w_n))
    cdt = np.full((g_n, w_n), "", dtype=object)
    for gi, acc in enumerate(gpus):
        for wi, fmt in enumerate(weight_fmts):
            try:
                dtype = compute_dtype(acc, fmt)
                peaks = operand_peaks(m, acc, fmt)
            except InfercostError:
                continue
            supported[gi, wi] = True
            peak[gi, wi] = peaks.dense
            ratios[:, gi, wi] = (peaks.expert, peaks.lm_head, peaks.attention)
            ratios[:, gi, wi] /= peaks.dense
            dequant[gi, wi] = float(peaks.expert_dequant)
            tiles[gi, wi] = expert_tile_rows(m, acc, peaks)
            cdt[gi, wi] = dtype
    tp = _axis(layout.tp, 2)
    pp = _axis(layout.pp, 2)
    ep = _axis(layout.ep, 2)
    kv_elem = _axis([DTYPE_BYTES[k] for k in kv_dtypes], 3)
    # Whole-model constants as arrays over (GPU, weight format, ., KV dtype), then the per-GPU
    # share of each layout by the same rule as predict (perf.step.shard_step_model).
    whole = dataclasses.replace(
        b0,
        dense_bytes=_axis([float(s.dense_bytes) for s in base], 1),
        expert_bytes=_axis([float(s.expert_bytes) for s in base], 1),
        kv_layer_token_bytes=float(b0.kv_layer_token_bytes) * kv_elem,
        mem_bw_bytes_s=_axis([usable_mem_bw_bytes_s(a) for a in gpus], 0),
        peak_flop_s=peak.reshape(g_n, w_n, 1, 1, 1),
        expert_peak_ratio=ratios[0].reshape(g_n, w_n, 1, 1, 1),
        lm_head_peak_ratio=ratios[1].reshape(g_n, w_n, 1, 1, 1),
        attn_peak_ratio=ratios[2].reshape(g_n, w_n, 1, 1, 1),
        expert_tile_rows=tiles.reshape(g_n, w_n, 1, 1, 1),
        expert_dequant=dequant.reshape(g_n, w_n, 1, 1, 1),
        expert_dequant_efficiency=engine.expert_dequant_efficiency,
        link_bytes_s=_axis([collective_link_bytes_s(a) for a in gpus], 0),
        nvlink_peers=_axis([nvlink_peers(a) for a in gpus], 0),
        pcie_bytes_s=_axis([pcie_bytes_s(a) for a in gpus], 0),
    )
    sm = shard_step_model(m, whole, tp, pp, ep)
    tp_f, pp_f, ep_f = (np.asarray(a, dtype=np.float64) for a in (layout.tp, layout.pp, layout.ep))
    weights = np.stack(
        [weight_bytes_per_gpu(weight_bytes(m, f), tp_f, pp_f, ep_f) for f in weight_fmts]
    ).reshape(1, w_n, len(layout), 1, 1)
    act = activation_workspace_bytes(m, engine.max_num_batched_tokens, tp)
    memory = _axis([a.memory_bytes for a in gpus], 0)
    kv = engine_kv_budget(
        memory,
        weights,
        act,
        tp,
        usable_fraction=engine.usable_memory_fraction,
        fraction_of_free=engine.kv_fraction_of_free,
        runtime_overhead_bytes=engine.runtime_overhead_bytes,
        nccl_bytes=engine.nccl_buffer_bytes,
    ).kv_bytes
    return Grid(
        model=m,
        engine=engine,
        gpus=tuple(gpus),
        weight_fmts=tuple(weight_fmts),
        kv_dtypes=tuple(kv_dtypes),
        layouts=layout,
        concurrency=conc,
        supported=supported,
        compute_dtypes=cdt.astype(str),
        step=sm,
        weights_bytes_per_gpu=np.asarray(weights, dtype=np.float64),
        kv_bytes_per_gpu=np.asarray(kv, dtype=np.float64),
    )


@dataclass(frozen=True, slots=True)
class Sweep:
    """Every configuration of a :class:`Grid` evaluated at one workload (arrays ``(G,W,P,K,C)``
    unless noted).

    Attributes:
        grid: the configurations.
        isl, osl: prompt and output tokens per request.
        max_concurrency: ``(G, W, P, K, 1)`` sequences of isl + osl tokens whose KV cache fits.
        fits: supported dtype, weights fit, and the concurrency runs: at most max_concurrency,
            or for an engine that allocates KV on demand (vLLM, SGLang) at most the sequences
            of the mean context isl + osl / 2 that fit (lengths varying, as predict runs them).
        output_tok_s, ttft_s, tpot_s, e2e_s: replica throughput (tokens/s) and mean latencies
            (s), from :func:`infercost.perf.serving.closed_loop` (the engine's scheduling rule).
        prefill_time_share: share of GPU time on prefill (charged to input tokens).
        prices: the $/used GPU-hour table.
        replica_usd_per_hour: ``(G, 1, P, 1, 1)`` dollars per replica-hour (NaN: no price).
        usd_per_m_output_incl_input: dollars per million output tokens with all the replica's
            time charged to them (= cost per request ÷ osl x 1e6); the ranking metric.
        usd_per_m_input, usd_per_m_output: the prefill/decode split of
            :func:`infercost.cost.tokens.split_usd_per_m` (as ``predict`` reports them).
    """

    grid: Grid
    isl: float
    osl: float
    max_concurrency: FloatArray
    fits: BoolArray
    output_tok_s: FloatArray
    ttft_s: FloatArray
    tpot_s: FloatArray
    e2e_s: FloatArray
    prefill_time_share: FloatArray
    prices: GpuPrices
    replica_usd_per_hour: FloatArray
    usd_per_m_output_incl_input: FloatArray
    usd_per_m_input: FloatArray
    usd_per_m_output: FloatArray

    @property
    def output_tok_s_per_user(self) -> FloatArray:
        """Output tokens per second one request sees over its life: osl ÷ E2E."""
        return np.asarray(self.osl / self.e2e_s, dtype=np.float64)


def evaluate(
    grid: Grid,
    isl: float,
    osl: float,
    prices: GpuPrices,
    *,
    cached_prefix_share: float = 0.0,
) -> Sweep:
    """Memory fit, steady-state serving and $/M of every configuration, in one pass.

    Raises:
        InputError: isl or osl below 1, or a context beyond the model's
            ``max_position_embeddings``.
    """
    if isl < 1 or osl < 1:
        raise InputError(f"--isl and --osl must be at least 1 token (got {isl}, {osl}).")
    m = grid.model
    context = float(isl + osl)
    if m.max_position_embeddings and context > m.max_position_embeddings:
        raise InputError(
            f"isl + osl = {int(context)} tokens exceeds {m.id}'s context of "
            f"{m.max_position_embeddings} tokens (config.json max_position_embeddings). "
            "Use a shorter prompt or output."
        )
    layout = grid.layouts
    tp = _axis(layout.tp, 2)
    pp = _axis(layout.pp, 2)

    def per_seq_at(tokens: float) -> FloatArray:  # (1, 1, layouts, kv dtypes, 1)
        return np.concatenate(
            [
                np.broadcast_to(
                    cache_bytes_per_sequence_per_gpu(
                        grid.engine.cache_model(m), tokens, DTYPE_BYTES[k], tp, pp
                    ),
                    (1, 1, tp.shape[2], 1, 1),
                )
                for k in grid.kv_dtypes
            ],
            axis=3,
        )

    max_conc = max_concurrency(grid.kv_bytes_per_gpu, per_seq_at(context))
    # an engine that allocates KV as tokens come runs traffic of varying lengths at the mean
    # context isl + osl / 2 (predict.load_stage); one that reserves, at the full length
    running = grid.engine.running_context(isl, osl)
    run_conc = (
        max_concurrency(grid.kv_bytes_per_gpu, per_seq_at(running))
        if running < context
        else max_conc
    )
    conc = _axis(grid.concurrency, 4)
    supported = grid.supported.reshape(grid.shape[0], grid.shape[1], 1, 1, 1)
    fits = supported & (grid.kv_bytes_per_gpu > 0) & (conc <= run_conc)
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = closed_loop(
            grid.step, conc / pp, isl, osl, grid.engine.max_num_batched_tokens,
            grid.engine.request_overhead_for(online=True),
            cached_prefix_share,
            grid.engine.prefill_scheduling,
            CLOSED_LOOP_WAVES,
            # traffic's lengths vary: requests arrive spread out (predict's default)
            arrival_wave_sync(grid.engine.wave_sync, fixed_lengths=False),
        )  # fmt: skip
        replica = (prices.usd_per_gpu_hour * layout.num_gpus).reshape(
            grid.shape[0], 1, len(layout), 1, 1
        )
        incl = usd_per_m_tokens(replica, sp.output_tok_s)
        per_in, per_out, _ = split_usd_per_m(
            replica, sp.output_tok_s, isl, osl, sp.prefill_time_share
        )
    return Sweep(
        grid=grid,
        isl=float(isl),
        osl=float(osl),
        max_concurrency=np.asarray(max_conc, dtype=np.float64),
        fits=np.asarray(fits, dtype=bool),
        output_tok_s=sp.output_tok_s,
        ttft_s=sp.ttft_s * pp,
        tpot_s=sp.tpot_s * pp,
        e2e_s=sp.e2e_s * pp,
        prefill_time_share=sp.prefill_time_share,
        prices=prices,
        replica_usd_per_hour=np.asarray(replica, dtype=np.float64),
        usd_per_m_output_incl_input=np.asarray(incl, dtype=np.float64),
        usd_per_m_input=np.asarray(per_in, dtype=np.float64),
        usd_per_m_output=np.asarray(per_out, dtype=np.float64),
    )
