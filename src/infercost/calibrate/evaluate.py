"""Predict a :class:`Measurement`'s metric with the physics, vectorised over engine parameters.

The fit (``fit.py``) and the error report (``error.py``) both call :func:`predict_measurement`
with arrays of candidate efficiencies (MBU, MFU, per-step and per-request overhead); every
formula in ``perf`` broadcasts, so one call scores a whole parameter grid.

How each measurement mode maps onto the physics:

- ``max_throughput``: the engine's batch = min(KV-limited sequences at isl + osl, the offline
  run's cap (``perf.offline.offline_settings``: trtllm-bench sizes max batch and tokens from
  its own estimate of the KV cache), steady-state continuous batching at that batch and
  token budget.
- ``static_batch``: :func:`~infercost.perf.serving.static_batch` at the stated batch; a
  first-token latency is one prefill iteration plus the request overhead (a session
  benchmark has no HTTP or tokeniser, but sets up each generation's buffers and state).
- ``closed_loop``: steady state at the stated concurrency.
- ``request_rate`` (finite): open loop; the in-flight count N solves Little's law
  N = rate x E2E(N) (fixed-point iteration, N at most the engine's batch and the run's
  request count); TTFT adds half a decode iteration of waiting for
  the running iteration to end. Past capacity the row is marked saturated.
- ``request_rate`` = inf: all R requests arrive at once (R from the notes, "N requests"); they
  run in waves of the engine's batch; mean TTFT = (waves - 1) / 2 x wave time + half a wave's
  prefill time.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.calibrate.dataset_sizes import documented_requests
from infercost.calibrate.measurement import Measurement
from infercost.errors import InfercostError
from infercost.perf.serving import (
    CLOSED_LOOP_WAVES,
    INFERENCEMAX_RANGE_RATIO,
    arrival_wave_sync,
    closed_loop,
    finite_run,
    static_batch,
    steady_state,
)
from infercost.perf.step import (
    StepModel,
    decode_step,
    prefill_step,
    step_model,
    with_expert_parallel,
    with_graph_padding,
)
from infercost.predict import (
    Resolved,
    kv_budget_bytes_per_gpu,
    kv_bytes_per_seq_per_gpu,
    offline_caps,
    resolve,
    scale_dp,
)

FloatArray = npt.NDArray[np.float64]

_ENGINE_NAMES = {
    "tensorrt-llm": "trtllm",
    "trt-llm": "trtllm",
    "vllm": "vllm",
    "sglang": "sglang",
    "llama.cpp": "llamacpp",
}


def engine_id(raw: str) -> str:
    """Catalog engine id for an engine name as a source writes it (``TensorRT-LLM``)."""
    low = raw.strip().lower()
    for key, value in _ENGINE_NAMES.items():
        if low.startswith(key):
            return value
    return low


def _dtype(raw: str, default: str | None) -> str | None:
    low = raw.strip().lower()
    if low in {"", "not stated", "auto"}:
        return default
    return {"f16": "fp16", "float16": "fp16", "bfloat16": "bf16"}.get(low, low)


@dataclass(frozen=True, slots=True)
class Params:
    """Engine efficiencies being evaluated (scalars or broadcastable arrays)."""

    mbu: float | FloatArray
    mfu: float | FloatArray
    step_overhead_s: float | FloatArray
    request_overhead_s: float | FloatArray
    comm_efficiency: float | FloatArray = 0.7
    token_overhead_s: float | FloatArray = 0.0
    allreduce_latency_s: float | FloatArray = 10e-6
    seq_overhead_s: float | FloatArray = 0.0
    frontend_overhead_s: float | FloatArray = 0.0
    wave_sync: float | FloatArray = 1.0
    moe_layer_overhead_s: float | FloatArray = 0.0
    expert_dequant_efficiency: float | FloatArray = 1.0


ROOFLINE_ONLY = Params(
    mbu=1.0,
    mfu=1.0,
    step_overhead_s=0.0,
    request_overhead_s=0.0,
    comm_efficiency=1.0,
    token_overhead_s=0.0,
    seq_overhead_s=0.0,
    allreduce_latency_s=0.0,
)


def default_params(engine: str) -> Params:
    """The engine's literature-default efficiencies from ``engines.toml`` (before any fit).

    Here, below both ``fit`` and ``error`` (which import it), so neither imports the other
    back: the calibrate modules form a chain evaluate <- fit <- error.
    """
    from infercost.catalog import get_engine
    from infercost.catalog.loader import load_engines

    e = next((x for x in load_engines(with_fits=False) if x.id == engine), None) or get_engine(
        engine
    )
    return Params(
        mbu=e.mbu,
        mfu=e.mfu,
        step_overhead_s=e.step_overhead_s,
        request_overhead_s=e.request_overhead_s,
        comm_efficiency=e.comm_efficiency,
        token_overhead_s=e.token_overhead_s,
        seq_overhead_s=e.seq_overhead_s,
        allreduce_latency_s=e.allreduce_latency_s,
        frontend_overhead_s=e.frontend_overhead_s,
        wave_sync=e.wave_sync,
        moe_layer_overhead_s=e.moe_layer_overhead_s,
        expert_dequant_efficiency=e.expert_dequant_efficiency,
    )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A measurement resolved against the catalog, ready to evaluate repeatedly."""

    m: Measurement
    r: Resolved
    sm: StepModel
    max_batch: int
    num_requests: int
    requests_stated: bool = False
    length_range_ratio: float = 1.0
    token_budget: int | None = None
    #: an offline row's run size as its source documents it (``dataset_sizes``); None: the
    #: row is scored as a steady state
    run_requests: int | None = None

    @property
    def mean_lengths(self) -> tuple[float, float]:
        """(isl, osl) as the run's mean tokens per request: the row's lengths, or for a
        random-length run drawn uniformly in [r x len, len] their mean (1 + r) / 2 x len."""
        scale = (1.0 + self.length_range_ratio) / 2.0
        return float(self.m.isl or 1) * scale, float(max(self.m.osl or 1, 1)) * scale

    @property
    def dp(self) -> int:
        """Data-parallel ranks; ``max_batch`` is per rank."""
        return self.r.dp


def scorable(m: Measurement) -> str | None:
    """Why a measurement cannot be scored (None when it can): variable lengths, no isl/osl."""
    if m.dataset is not None or m.isl is None or m.osl is None:
        return "variable-length dataset (no fixed ISL/OSL)"
    return None


#: 16-bit (and fp32) checkpoint dtypes: a quantized-format label on such a model names a
#: quantized checkpoint of it (ModelOpt FP8/NVFP4, AWQ) that the row's source ran.
_WIDE_CHECKPOINTS = frozenset({"bf16", "fp16", "fp32"})
_CHECKPOINT_NAMED = re.compile(r"checkpoint\s+(\S+)", re.IGNORECASE)


def served_weight_dtype(model: str, label: str | None, notes: str) -> tuple[str | None, str]:
    """The weight format a benchmark row ran, from its precision label and notes.

    Rule (docs/accuracy.md, "Precision labels"): a table's precision label names the GEMM
    precision class of its column, not a checkpoint. A model whose published checkpoint is
    itself quantized (its ``quantization_config``: gpt-oss MXFP4 experts with bf16 attention,
    DeepSeek-R1 block FP8) is served from that checkpoint, whatever the label, unless the
    row names a checkpoint in the label's format (``Checkpoint <repo>-FP8``): engines do not
    re-quantize a quantized checkpoint offline. A 16-bit model under a quantized label ran a
    quantized checkpoint of that format (the ModelOpt FP8 checkpoints named in the notes).

    Returns:
        (weight dtype for :func:`~infercost.predict.resolve`, a note; "" when the label holds).
    """
    if label is None:
        return None, ""
    from infercost.catalog import get_model

    try:
        arch = get_model(model)
    except InfercostError:
        return label, ""
    ckpt = arch.checkpoint_dtype
    if ckpt in _WIDE_CHECKPOINTS or label == ckpt:
        return label, ""
    named = _CHECKPOINT_NAMED.search(notes)
    if named and label.replace("-", "").lower() in named.group(1).replace("-", "").lower():
        return label, ""
    return ckpt, (
        f"precision label {label!r} read as the published {ckpt} checkpoint "
        f"({arch.quantized_modules_note or 'its quantization_config'})"
    )


#: A row whose source ran expert parallelism without printing its degree (the TensorRT-LLM
#: 1.0 performance overview's MoE command: "passes --ep $ep_size (value not stated)").
_EP_NOT_STATED = re.compile(r"passes --ep \$ep_size \(value not stated\)")


def served_ep(m: Measurement) -> int:
    """The expert-parallel degree a row ran: its own, or, where its source ran expert
    parallelism without stating the degree, EP over the whole TP group (TensorRT-LLM's
    ``moe_ep_size`` x ``moe_tp_size`` = ``tp``; a command that passes ``--ep`` to a MoE run
    spreads whole experts, and the tables label no partial split). Rule: docs/accuracy.md,
    "Precision labels" and the eighth session."""
    if m.ep == 1 and m.tp > 1 and _EP_NOT_STATED.search(m.notes):
        return m.tp
    return m.ep


#: A row whose notes say its lengths were drawn at random in a range (closed_loop_hopper.csv's
#: InferenceMAX/InferenceX rows: "InferenceX random prompts: lengths drawn in [ratio x len,
#: len]").
_RANDOM_LENGTHS = re.compile(r"random prompts: lengths drawn in \[ratio x len, len\]")


def graph_padded_run(m: Measurement) -> bool:
    """Whether an offline row ran with CUDA-graph padding at the engine profile's batch sizes
    (``EngineProfile.cuda_graph_batch_sizes``, :func:`~infercost.perf.step.with_graph_padding`):
    the TensorRT-LLM PyTorch-backend performance overviews publish ``cuda_graph_config:
    enable_padding: true`` with those sizes. The TensorRT-engine rows (v0.17 and older) and
    the closed-loop sources, which do not state a CUDA-graph configuration, are scored
    without padding."""
    return "pytorch backend" in m.engine.lower()


def prepare(m: Measurement) -> Prepared:
    """Resolve names and build the step model for ``m``.

    Raises:
        InfercostError: an unknown model/GPU or a configuration that does not fit.
    """
    eng = engine_id(m.engine)
    weight, _ = served_weight_dtype(m.model, _dtype(m.weight_dtype, None), m.notes)
    # TensorRT-LLM's FP8 recipe also quantises the KV cache to FP8 (perf-overview notes in the
    # calibration rows); when a TensorRT-LLM source leaves the KV dtype unstated, follow it.
    kv_default = "fp8" if eng == "trtllm" and weight == "fp8" else "auto"
    kv = _dtype(m.kv_dtype, kv_default) or kv_default
    r = resolve(
        m.model,
        m.gpu,
        num_gpus=m.num_gpus,
        tp=m.tp,
        pp=m.pp,
        ep=served_ep(m),
        dp=m.dp,
        weight_dtype=weight,
        kv_dtype=kv,
        engine=eng,
    )
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    sm = with_expert_parallel(r.model, sm, r.dp, r.tp, r.ep, r.pp)
    isl = m.isl or 1
    osl = max(m.osl or 1, 1)
    # InferenceMAX/InferenceX rows: "random prompts: lengths drawn in [ratio x len, len]",
    # the ratio that project's client runs with (perf.serving.INFERENCEMAX_RANGE_RATIO)
    ratio = INFERENCEMAX_RANGE_RATIO if _RANDOM_LENGTHS.search(m.notes) else 1.0
    _, _, kv_avail = kv_budget_bytes_per_gpu(r)
    context = float(isl + osl)
    if m.mode == "closed_loop" and ratio < 1.0 and r.engine.kv_allocation == "on-demand":
        # as predict's load stage, at the run's mean lengths (Prepared.mean_lengths); an
        # engine that reserves keeps the nominal full length
        scale = (1.0 + ratio) / 2.0
        context = r.engine.running_context(isl * scale, osl * scale)
    per_seq = kv_bytes_per_seq_per_gpu(r, context)
    kv_limited = int(max(kv_avail, 0.0) // per_seq)
    cap = r.engine.max_num_seqs
    token_budget = None
    if m.mode == "max_throughput":
        # the trtllm-bench cap is per micro-batch: PP micro-batches are in flight
        off = offline_caps(r, isl, osl)
        cap, token_budget = off.max_batch_size * r.pp, off.max_num_tokens
        if graph_padded_run(m):
            sm = with_graph_padding(sm, r.engine, off.max_batch_size, off.max_num_tokens)
    max_batch = max(min(kv_limited, cap), 0)
    found = re.search(r"(\d[\d,]*)\s+requests", m.notes)
    num_requests = int(found.group(1).replace(",", "")) if found else 500
    return Prepared(
        m=m,
        r=r,
        sm=sm,
        max_batch=max_batch,
        num_requests=num_requests,
        requests_stated=found is not None,
        length_range_ratio=ratio,
        token_budget=token_budget,
        run_requests=documented_requests(m),
    )


def with_params(sm: StepModel, p: Params) -> StepModel:
    """``sm`` with the efficiencies and overheads of ``p`` (arrays broadcast: a grid of
    parameter sets evaluates in one pass)."""
    return dataclasses.replace(
        sm,
        mbu=p.mbu,
        mfu=p.mfu,
        step_overhead_s=p.step_overhead_s,
        comm_efficiency=p.comm_efficiency,
        token_overhead_s=p.token_overhead_s,
        allreduce_latency_s=p.allreduce_latency_s,
        seq_overhead_s=p.seq_overhead_s,
        moe_layer_overhead_s=p.moe_layer_overhead_s,
        expert_dequant_efficiency=p.expert_dequant_efficiency,
    )


def predict_measurement(prep: Prepared, p: Params) -> FloatArray:
    """The predicted value of ``prep.m.metric`` in its base unit, broadcast over ``p``.

    Raises:
        InfercostError: the measured configuration does not fit in memory per the physics.
    """
    m = prep.m
    sm = with_params(prep.sm, p)
    isl, osl = prep.mean_lengths
    budget = float(prep.token_budget or prep.r.engine.max_num_batched_tokens)
    req = np.asarray(p.request_overhead_s, dtype=np.float64)
    metric = m.metric
    if metric == "prefill_throughput_tok_s":
        return np.asarray(isl / prefill_step(sm, isl, 1.0).total_s, dtype=np.float64)
    if metric == "decode_throughput_tok_s":
        return np.asarray(1.0 / decode_step(sm, 1.0, osl / 2.0).total_s, dtype=np.float64)
    if m.mode == "static_batch":
        batch = float(m.concurrency or 1)
        if metric == "ttft_mean_s" and osl <= 1.0:
            return np.asarray(prefill_step(sm, isl, batch).total_s + req, dtype=np.float64)
        sp = static_batch(sm, batch, isl, osl, budget)
        values = {
            "output_throughput_tok_s": sp.output_tok_s,
            "output_throughput_per_gpu_tok_s": sp.output_tok_s / prep.r.num_gpus,
            "e2e_mean_s": sp.e2e_s + req,
            "ttft_mean_s": sp.ttft_s + req,
            "tpot_mean_s": sp.tpot_s,
            "itl_mean_s": sp.tpot_s,
            "request_throughput_req_s": sp.request_s,
        }
        return np.asarray(values[metric], dtype=np.float64)
    if prep.max_batch < 1:
        raise InfercostError(f"{m.id}: the physics says this configuration holds no sequence")
    if m.mode == "max_throughput" and prep.run_requests is not None:
        # a finite run of the documented size, spread evenly over the dp ranks
        sp = scale_dp(
            finite_run(
                sm,
                float(prep.max_batch),
                max(prep.run_requests / prep.dp, 1.0),
                isl,
                osl,
                budget,
                req,
                prep.r.engine.prefill_scheduling,
            ),
            prep.dp,
        )
        return np.asarray(_pick(metric, sp, prep.r.num_gpus), dtype=np.float64)
    if m.mode in ("max_throughput", "closed_loop"):
        # each of dp ranks holds its share of the clients, runs at most max_batch of them
        # (engine cap, KV capacity) and queues the rest, as predict() does
        n = float(m.concurrency) / prep.dp if m.concurrency else float(prep.max_batch)
        running = min(n, float(prep.max_batch))
        rule = prep.r.engine.prefill_scheduling
        sync: float | FloatArray = 1.0  # offline: a queue refills each slot at once
        if m.mode == "closed_loop":  # an online benchmark: through the HTTP front end
            req = req + np.asarray(p.frontend_overhead_s, dtype=np.float64)
            # random lengths: arrivals spread out; fixed: the engine's fitted synchrony
            sync = arrival_wave_sync(p.wave_sync, fixed_lengths=prep.length_range_ratio >= 1.0)
        waves = max(prep.num_requests / max(n, 1.0), 1.0) if prep.requests_stated else None
        sp = scale_dp(
            closed_loop(
                sm, running, isl, osl, budget, req, 0.0, rule, waves or CLOSED_LOOP_WAVES, sync
            ),
            prep.dp,
        )
        if running < n:
            e2e = n * prep.dp / sp.request_s + req
            sp = dataclasses.replace(sp, e2e_s=e2e, ttft_s=e2e - (osl - 1.0) * sp.tpot_s)
        return np.asarray(_pick(metric, sp, prep.r.num_gpus), dtype=np.float64)
    # request_rate
    if m.request_rate_qps is None:
        n = float(min(prep.num_requests, prep.max_batch))
        sp = steady_state(sm, n, isl, osl, budget, req)
        if metric == "ttft_mean_s":
            waves = np.ceil(prep.num_requests / n)
            wave_s = n / sp.request_s
            wave_prefill_s = n * sp.prefill_marginal_s
            return np.asarray((waves - 1.0) / 2.0 * wave_s + wave_prefill_s / 2.0 + req)
        return np.asarray(_pick(metric, sp, prep.r.num_gpus), dtype=np.float64)
    rate = float(m.request_rate_qps)
    n_arr = np.full(
        np.broadcast_shapes(*(np.shape(getattr(p, f.name)) for f in dataclasses.fields(Params))),
        1.0,
    )
    # In flight: never more than the engine runs nor than the run's requests (a run of R
    # requests past saturation never holds more than R).
    n_max = float(min(prep.max_batch, prep.num_requests))
    for _ in range(30):
        sp = steady_state(sm, n_arr, isl, osl, budget, req)
        n_arr = np.clip(rate * sp.e2e_s, 1.0, n_max)
    sp = steady_state(sm, n_arr, isl, osl, budget, req)
    if metric == "output_throughput_tok_s":
        return np.asarray(np.minimum(rate * osl, sp.output_tok_s), dtype=np.float64)
    if metric == "ttft_mean_s":
        return np.asarray(sp.ttft_s + 0.5 * sp.decode_step_s, dtype=np.float64)
    return np.asarray(_pick(metric, sp, prep.r.num_gpus), dtype=np.float64)


def _pick(metric: str, sp: object, num_gpus: int) -> FloatArray:
    values = {
        "output_throughput_tok_s": sp.output_tok_s,  # type: ignore[attr-defined]
        "output_throughput_per_gpu_tok_s": sp.output_tok_s / num_gpus,  # type: ignore[attr-defined]
        "request_throughput_req_s": sp.request_s,  # type: ignore[attr-defined]
        "ttft_mean_s": sp.ttft_s,  # type: ignore[attr-defined]
        "ttft_p50_s": sp.ttft_s,  # type: ignore[attr-defined]
        "tpot_mean_s": sp.tpot_s,  # type: ignore[attr-defined]
        "itl_mean_s": sp.tpot_s,  # type: ignore[attr-defined]
        "e2e_mean_s": sp.e2e_s,  # type: ignore[attr-defined]
    }
    if metric not in values:
        raise InfercostError(f"metric {metric} cannot be predicted in this mode")
    return np.asarray(values[metric], dtype=np.float64)
