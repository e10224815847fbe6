"""The ``infercost.predict()`` facade: names → catalog → perf → cost → :class:`Prediction`.

One steady-state prediction for one deployment and workload, exactly as the ``predict``
contract in DESIGN.md: a configuration that does not fit returns ``fits=False`` with the
reason and what would fit, and null performance figures.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from infercost.catalog import (
    get_accelerator,
    get_engine,
    get_model,
    get_quant_format,
    gpu_variant_note,
    load_accelerators,
    load_engines,
    load_model_config_file,
    load_models,
    load_quant_formats,
    model_alias_note,
)
from infercost.catalog.loader import apply_engine_profile, load_model_aliases
from infercost.catalog.names import dtype_hint, family_key
from infercost.catalog.pricing import default_offer, get_offer, load_offers
from infercost.catalog.schema import (
    DTYPE_BYTES,
    Accelerator,
    EngineProfile,
    ModelArch,
    QuantFormat,
)
from infercost.cost.gpu_hour import resolve_price
from infercost.cost.tokens import split_usd_per_m
from infercost.domains import check_predict_types, check_value
from infercost.errors import InfercostError, InputError
from infercost.explain import Trail
from infercost.perf.achievable import REFERENCE_GPU, achievable_scale
from infercost.perf.comm import (
    SCALEOUT_EFFICIENCY,
    WIDE_EP_RANKS,
    Placement,
    nic_figures,
    placement,
    with_scale_out,
)
from infercost.perf.errors_band import error_band_for, is_memory_bound, widen_e2e_band
from infercost.perf.memory import (
    SequenceCacheTerms,
    WeightBytes,
    activation_workspace_bytes,
    cache_bytes_per_sequence_per_gpu,
    engine_kv_budget,
    kv_bytes_per_token,
    kv_heads_shard,
    max_concurrency,
    sequence_cache_terms,
    weight_bytes,
    weight_bytes_per_gpu,
)
from infercost.perf.offline import OfflineSettings, offline_settings
from infercost.perf.params import param_counts
from infercost.perf.serving import (
    CLOSED_LOOP_WAVES,
    ServingPoint,
    arrival_wave_sync,
    closed_loop,
)
from infercost.perf.step import (
    StepModel,
    compute_dtype,
    decode_step,
    graph_padded,
    step_model,
    with_expert_parallel,
    with_graph_padding,
)
from infercost.sim import ReplicaConfig, SpecDecoding

#: The ``predict --json`` keys, in order. Written out, never derived from a model's fields;
#: a golden test pins it (DESIGN.md "Contracts").
PREDICT_JSON_KEYS: tuple[str, ...] = (
    "model",
    "gpu",
    "engine",
    "num_gpus",
    "tp",
    "pp",
    "ep",
    "dp",
    "weight_dtype",
    "kv_dtype",
    "isl",
    "osl",
    "concurrency",
    "fits",
    "reason",
    "weights_bytes_per_gpu",
    "kv_bytes_per_token",
    "max_concurrency",
    "output_tok_s",
    "total_tok_s",
    "output_tok_s_per_gpu",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "usd_per_gpu_hour",
    "price_source",
    "usd_per_m_input",
    "usd_per_m_output",
    "usd_per_m_blended",
    "error_band",
    "explain",
)

KV_DTYPES = ("bf16", "fp16", "fp8", "int8")


class Prediction(BaseModel):
    """One steady-state prediction. Field names are the ``predict --json`` keys.

    Times in seconds, throughputs in tokens/s for the whole replica unless the name says
    per GPU, bytes SI, money US$. Performance and cost fields are None when ``fits`` is False.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    gpu: str
    engine: str
    num_gpus: int
    tp: int
    pp: int
    ep: int
    dp: int
    weight_dtype: str
    kv_dtype: str
    isl: int
    osl: int
    concurrency: int | None
    fits: bool
    reason: str | None
    weights_bytes_per_gpu: float
    kv_bytes_per_token: float
    max_concurrency: int
    output_tok_s: float | None
    total_tok_s: float | None
    output_tok_s_per_gpu: float | None
    ttft_s: float | None
    tpot_s: float | None
    e2e_s: float | None
    usd_per_gpu_hour: float | None
    price_source: str | None
    usd_per_m_input: float | None
    usd_per_m_output: float | None
    usd_per_m_blended: float | None
    error_band: dict[str, Any] | None
    explain: list[dict[str, Any]] | None = None
    notes: tuple[str, ...] = ()
    """Defaults applied and assumptions made (printed by the CLI; not a JSON key)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in :data:`PREDICT_JSON_KEYS` order."""
        data = self.model_dump()
        return {k: data[k] for k in PREDICT_JSON_KEYS}


@dataclass(frozen=True, slots=True)
class Resolved:
    """Catalog objects a prediction uses, after name resolution and defaulting."""

    model: ModelArch
    acc: Accelerator
    engine: EngineProfile
    weight_fmt: QuantFormat
    kv_dtype: str
    kv_bytes_per_elem: float
    tp: int
    pp: int
    ep: int
    num_gpus: int
    dp: int = 1
    notes: tuple[str, ...] = ()
    num_nodes: int = 1

    @property
    def placement(self) -> Placement:
        """Where the ranks sit on the scale-up domains (``perf.comm.placement``): the
        deployment's GPUs spread evenly over ``num_nodes`` domains."""
        per_node = -(-self.num_gpus // self.num_nodes)
        return placement(self.tp, self.pp, self.dp, self.ep, per_node)

    @property
    def attention_dp(self) -> bool:
        """Attention data parallelism with experts spread over the DP ranks (DEP / wide EP):
        each rank runs its own sequences' attention, the MoE layers exchange tokens."""
        return self.dp > 1 and self.ep > self.tp


def default_weight_dtype(m: ModelArch) -> str:
    """The checkpoint's own dtype (bf16, fp16, fp8 or mxfp4)."""
    return m.checkpoint_dtype if m.checkpoint_dtype != "fp32" else "bf16"


def resolve_kv_dtype(m: ModelArch, kv_dtype: str, engine: EngineProfile | None = None) -> str:
    """The KV-cache dtype. ``auto`` is what the engine does with this checkpoint
    (``EngineProfile.kv_dtype_auto``, sourced in engines.toml): the KV dtype the checkpoint's
    quantization config declares (ModelOpt ``kv_cache_quant_algo``, ``kv_cache_scheme``), else
    the model's activation dtype (fp16 for fp16 checkpoints, else bf16); llama.cpp: fp16.
    Without an engine, the checkpoint rule.

    Raises:
        InputError: an unsupported KV dtype.
    """
    key = kv_dtype.strip().lower()
    if key == "auto":
        if engine is not None and engine.kv_dtype_auto == "fp16":
            return "fp16"
        if m.checkpoint_kv_dtype in KV_DTYPES:
            return m.checkpoint_kv_dtype
        return "fp16" if m.checkpoint_dtype == "fp16" else "bf16"
    key = {"bfloat16": "bf16", "float16": "fp16", "f16": "fp16", "fp8_e4m3": "fp8"}.get(key, key)
    if key not in KV_DTYPES:
        raise InputError(
            f"Unknown --kv-dtype {kv_dtype!r}; use one of auto, {', '.join(KV_DTYPES)}."
        )
    return key


def kv_dtype_note(m: ModelArch, kv: str, engine: EngineProfile) -> str:
    """Why ``--kv-dtype auto`` gave ``kv`` for this checkpoint on this engine."""
    if engine.kv_dtype_auto == "fp16":
        why = "the engine's default cache type"
    elif m.checkpoint_kv_dtype == kv:
        why = "the checkpoint's quantization config declares an fp8 KV cache"
    else:
        why = "the model's activation dtype (the checkpoint declares no KV-cache dtype)"
    return f"--kv-dtype auto -> {kv} on {engine.id}: {why} ({engine.kv_dtype_auto_source})"


#: A compute dtype whose dense peak is below this share of the GPU's fastest dense peak at the
#: same or more bits gets a note (B300's INT8 at 153.5 TFLOP/s against FP8's 4,500).
SLOW_DTYPE_SHARE = 0.25


def slow_dtype_note(acc: Accelerator, fmt: QuantFormat) -> str | None:
    """A note when ``fmt`` computes on ``acc`` at a dtype far slower than another dtype of at
    least as many bits that the GPU runs (a part that cut INT8 tensor throughput, say), with
    the faster choice; None otherwise."""
    try:
        dtype = compute_dtype(acc, fmt)
    except InfercostError:
        return None
    bits = {"fp4": 4, "int8": 8, "fp8": 8, "fp16": 16, "bf16": 16}
    peak = acc.flop_s(dtype)
    if peak is None or dtype not in bits:
        return None
    better = [
        (acc.flop_s(d) or 0.0, d)
        for d in bits
        if bits[d] >= bits[dtype] and (acc.flop_s(d) or 0.0) > peak / SLOW_DTYPE_SHARE
    ]
    if not better:
        return None
    best_peak, best = max(better)
    return (
        f"{fmt.id} computes at {dtype} on {acc.id}: {peak / 1e12:,.0f} TFLOP/s dense, against "
        f"{best_peak / 1e12:,.0f} at {best} (datasheet); --weight-dtype {best} would run "
        "the GEMMs far faster"
    )


#: Weight formats llama.cpp runs: GGUF tensor types (ggml.h ``ggml_type``: F32, F16, BF16,
#: Q8_0, Q4_0, Q4_K with the Q4_K_M mix, MXFP4). GGUF has no FP8, INT8 (W8A8), AWQ/GPTQ INT4
#: or NVFP4 type and llama.cpp no GEMM kernels for them: such checkpoints are converted to a
#: GGUF type (``convert_hf_to_gguf.py`` dequantises them) before llama.cpp serves them.
LLAMACPP_WEIGHT_FORMATS = frozenset({"fp32", "fp16", "bf16", "q8_0", "q4_0", "q4_k_m", "mxfp4"})


def engine_weight_format_error(
    engine: str, fmt: QuantFormat, given: bool, flag: str = "--weight-dtype"
) -> str | None:
    """Why ``engine`` cannot run weights stored as ``fmt``, with what to use instead; None
    when it can. ``given``: the user named the format (else it is the checkpoint's);
    ``flag``: the option that names it (the planners' ``--weight-dtypes``)."""
    if engine != "llamacpp" or fmt.id in LLAMACPP_WEIGHT_FORMATS:
        return None
    eight_bit = fmt.bits_per_weight >= 6
    nearest = "q8_0 (GGUF Q8_0, 8.5 bits per weight)" if eight_bit else "q4_k_m or q4_0"
    what = f"{flag} {fmt.id}" if given else f"the checkpoint's {fmt.id} weights"
    return (
        f"llama.cpp runs GGUF weights and has no {fmt.id} type or GEMM path, so {what} cannot "
        "be served as such (llama.cpp serves such a checkpoint once converted to a GGUF type): "
        "give "
        f"{flag} {nearest}, or bf16/fp16; or serve {fmt.id} with --engine vllm, "
        "sglang or trtllm."
    )


def engine_vendor_error(eng: EngineProfile, acc: Accelerator) -> str | None:
    """Why ``eng`` cannot run on ``acc`` (its vendor is not one the engine supports), with
    what to do; None when it can. The same words in predict and the planners."""
    if eng.vendors and acc.vendor not in eng.vendors:
        return (
            f"{eng.id} runs on {', '.join(eng.vendors)} accelerators, not on {acc.name}; "
            "pick another --engine (vllm and sglang support AMD)."
        )
    return None


def _positive_int(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise InputError(f"--{name.replace('_', '-')} must be a positive integer, got {value}.")


def resolve(
    model: str | None,
    gpu: str,
    *,
    model_config: str | None = None,
    num_gpus: int | None = None,
    tp: int | None = None,
    pp: int = 1,
    ep: int = 1,
    dp: int | None = None,
    weight_dtype: str | None = None,
    kv_dtype: str = "auto",
    engine: str = "vllm",
    profile: str | None = None,
    num_nodes: int | None = None,
) -> Resolved:
    """Resolve names and parallelism; raises the project's errors for unknown names and
    inconsistent parallelism.

    Layout: ``num_gpus = dp x tp x pp``; ``dp`` data-parallel ranks each run a TP x PP unit.
    ``ep`` may reach ``dp x tp``: experts spread over the DP ranks (attention data parallelism
    with expert parallelism, the DEP layouts) need ``ep = dp x tp``. ``num_nodes``: scale-up
    domains (nodes, NVL72 racks) the GPUs are spread over, evenly (default: as few as hold
    them, :func:`gpus_per_node` each); traffic between them takes the scale-out network
    (``perf.comm``).
    """
    for name, value in (
        ("num_gpus", num_gpus),
        ("tp", tp),
        ("pp", pp),
        ("ep", ep),
        ("dp", dp),
        ("num_nodes", num_nodes),
    ):
        check_value(name, value, label="--" + name.replace("_", "-"))
    if model_config and model:
        raise InputError("Give --model NAME or --model-config PATH, not both.")
    if model_config:
        arch = load_model_config_file(model_config)
    elif model:
        arch = get_model(model)
    else:
        raise InputError("Give --model NAME or --model-config PATH.")
    acc = get_accelerator(gpu)
    eng = get_engine(engine)
    if profile is not None:
        eng = apply_engine_profile(eng, profile)
    vendor_error = engine_vendor_error(eng, acc)
    if vendor_error is not None:
        raise InputError(vendor_error)
    hint = dtype_hint(model) if model and not model_config else None
    notes: list[str] = [f"config default: {d}" for d in arch.defaults_applied]
    if arch.vision_note:
        # a name resolved to another entry (an alias, a text-only sibling such as
        # Kimi-K2-Thinking -> Kimi-K2.5) says whose checkpoint the note is about
        other = model is not None and not model_config and family_key(model) != family_key(arch.id)
        notes.append(
            f"{arch.id} (the architecture used): {arch.vision_note}" if other else arch.vision_note
        )
    fmt = get_quant_format(weight_dtype or hint or default_weight_dtype(arch))
    refused = engine_weight_format_error(eng.id, fmt, bool(weight_dtype))
    if refused:
        raise InputError(refused)
    if not weight_dtype and hint and hint != arch.checkpoint_dtype:
        notes.append(
            f"weights {fmt.id}: the format the name {model!r} announces (a quantized "
            f"checkpoint keeps the layer shapes of {arch.id}); --weight-dtype overrides it"
        )
    if not weight_dtype and not hint and arch.checkpoint_dtype == "fp32":
        notes.append(
            "the checkpoint is fp32 (torch_dtype float32): served at 16 bits, as engines load "
            "it (vLLM --dtype auto: FP16 for FP32 checkpoints); --weight-dtype fp32 sizes it "
            "at 32 bits"
        )
    if weight_dtype and fmt.id != arch.checkpoint_dtype and arch.quantized_modules_note:
        notes.append(
            f"--weight-dtype {fmt.id} overrides the checkpoint's {arch.checkpoint_dtype} "
            f"({arch.quantized_modules_note}) for every linear layer"
        )
    kv = resolve_kv_dtype(arch, kv_dtype, eng)
    if kv_dtype.strip().lower() == "auto":
        notes.append(kv_dtype_note(arch, kv, eng))
    slow = slow_dtype_note(acc, fmt)
    if slow:
        notes.append(slow)
    if eng.keeps_full_window(arch):
        notes.append(
            f"{eng.id} keeps every token's KV on {arch.id}'s {arch.num_sliding_layers} "
            f"sliding-window layers (window {arch.sliding_window}): the window applies in "
            "attention only, so a sequence holds as much KV as with full attention "
            "(engines.toml sliding_window_kv, with its source)"
        )
    variant = gpu_variant_note(gpu, acc)
    if variant:
        notes.append(variant)
    alias = model_alias_note(arch, model) if model else ""
    if alias:
        notes.append(f"{model} is served as {arch.id}: {alias}")
    elif model and hint is None and _names_other_checkpoint(model, arch):
        notes.append(
            f"{model} resolved to {arch.id}, the catalog's {arch.checkpoint_dtype} checkpoint "
            f"of that family: its weights (and the KV dtype its config declares) apply; give "
            "--weight-dtype / --kv-dtype for another checkpoint"
        )
    tp_given = tp is not None
    if dp is None:
        unit = (tp or 1) * pp
        dp = num_gpus // unit if num_gpus and tp is not None and num_gpus % unit == 0 else 1
    if tp is None:
        tp = (num_gpus // (pp * dp)) if num_gpus else 1
        tp = max(tp, 1)
    if num_gpus is None:
        num_gpus = dp * tp * pp
    if num_gpus != dp * tp * pp:
        raise InputError(
            f"--num-gpus {num_gpus} does not equal --dp {dp} x --tp {tp} x --pp {pp} = "
            f"{dp * tp * pp}; the deployment uses dp x tp x pp GPUs. Drop --num-gpus or make "
            "them agree."
        )
    if ep > 1 and not arch.is_moe:
        raise InputError(f"--ep {ep} needs a mixture-of-experts model; {arch.id} is dense.")
    if dp == 1 and pp == 1 and (ep > num_gpus or num_gpus % ep):
        raise InputError(
            f"--ep {ep} must divide the {num_gpus} GPUs of the replica; to spread experts over "
            f"data-parallel ranks use --dp (e.g. --tp 1 --dp {ep} --ep {ep}, attention data "
            "parallelism with expert parallelism)."
        )
    if dp == 1 and pp > 1 and (ep > tp or tp % ep):
        # each pipeline stage holds its own layers' experts: EP splits them over the GPUs of
        # one stage (vLLM and TensorRT-LLM build the EP group inside the TP group of a stage)
        raise InputError(
            f"--ep {ep} with --pp {pp}: experts are split over the GPUs of one pipeline stage, "
            f"so --ep must divide --tp {tp} (each of the {pp} stages holds only its own "
            "layers' experts)."
        )
    if dp > 1 and ep > tp and ep != dp * tp:
        raise InputError(
            f"--ep {ep} with --dp {dp} --tp {tp}: experts go either within each rank (--ep "
            f"dividing --tp {tp}) or over all ranks (--ep {dp * tp}, attention data parallelism "
            "with expert parallelism)."
        )
    if dp > 1 and ep <= tp and tp % ep:
        raise InputError(f"--ep {ep} must divide --tp {tp} within each data-parallel rank.")
    if arch.num_heads % tp:
        given = (
            f"--tp {tp}"
            if tp_given
            else f"--num-gpus {num_gpus} (without --tp it is --tp {tp}; give --dp for replicas)"
        )
        raise InputError(
            f"{given} does not divide {arch.id}'s {arch.num_heads} attention heads; "
            "use a TP that divides it (1, 2, 4, 8 usually)."
        )
    if not kv_heads_shard(arch.num_kv_heads, tp):
        raise InputError(
            f"--tp {tp} cannot split {arch.id}'s {arch.num_kv_heads} KV heads: the engines "
            "need TP to divide the KV heads, or the KV heads to divide TP (each then "
            f"replicated); use a TP that divides {arch.num_kv_heads} or is a multiple of it."
        )
    if arch.num_layers < pp:
        raise InputError(f"--pp {pp} exceeds the model's {arch.num_layers} layers.")
    nodes = _resolve_nodes(acc, num_gpus, num_nodes)
    notes += layout_notes(arch, acc, tp, pp, dp, ep, num_gpus, nodes)
    return Resolved(
        model=arch,
        acc=acc,
        engine=eng,
        weight_fmt=fmt,
        kv_dtype=kv,
        kv_bytes_per_elem=DTYPE_BYTES[kv],
        tp=tp,
        pp=pp,
        ep=ep,
        num_gpus=num_gpus,
        dp=dp,
        notes=tuple(notes),
        num_nodes=nodes,
    )


def _resolve_nodes(acc: Accelerator, num_gpus: int, num_nodes: int | None) -> int:
    """Scale-up domains the deployment spans: ``num_nodes`` checked (at least as many as
    hold the GPUs, dividing them evenly), else as few as hold them."""
    domain = gpus_per_node(acc)
    fewest = -(-num_gpus // domain)
    if num_nodes is None:
        return fewest
    if num_nodes < fewest or num_gpus % num_nodes:
        raise InputError(
            f"--num-nodes {num_nodes} does not fit {num_gpus} GPUs on {acc.id}, whose scale-up "
            f"domain (node) holds {domain}: give a --num-nodes of at least {fewest} that "
            f"divides {num_gpus}, or leave it out ({fewest})."
        )
    return num_nodes


def _link_text(acc: Accelerator) -> str:
    """The scale-out link a prediction uses, for the notes."""
    nic, lat, known = nic_figures(acc)
    where = (
        "from the catalog"
        if known
        else "assumed: the catalog has no NIC figure for this GPU (ConnectX-7 class)"
    )
    return (
        f"the scale-out network at {nic * 8 / 1e9:.0f} Gb/s per GPU x "
        f"{SCALEOUT_EFFICIENCY:g} achieved, {lat * 1e6:g} µs per hop ({where})"
    )


def layout_notes(
    m: ModelArch,
    acc: Accelerator,
    tp: int,
    pp: int,
    dp: int,
    ep: int,
    num_gpus: int,
    nodes: int,
) -> list[str]:
    """What crosses scale-up domains in this layout and over which link
    (``perf.comm.placement``), and the wide-EP load imbalance."""
    per_node = -(-num_gpus // nodes)
    place = placement(tp, pp, dp, ep, per_node)
    domain = f"{nodes} nodes of {per_node} {acc.id}" if nodes > 1 else f"one node of {acc.id}"
    up = acc.interconnect or "PCIe"
    out: list[str] = []
    if place.tp_nodes > 1:
        out.append(
            f"--tp {tp} spans {place.tp_nodes} nodes of {per_node} {acc.id}: each all-reduce runs "
            f"hierarchically, {up} among the {place.tp_local:g} GPUs of a node and "
            f"{_link_text(acc)} between nodes; TP within a node and --pp across nodes is the "
            "usual layout"
        )
    if place.pp_cross:
        out.append(
            f"{place.pp_cross} of the {pp - 1} pipeline hand-offs cross nodes ({domain}) over "
            f"{_link_text(acc)}"
        )
    if 0 < place.ep_local < place.ep_ranks:
        out.append(
            f"expert all-to-all over {place.ep_ranks} ranks on {domain}: "
            f"{place.ep_local - 1} peers of a rank over {up}, {place.ep_ranks - place.ep_local} "
            f"over {_link_text(acc)}; each exchange takes the slower of the two"
        )
    if place.ep_ranks >= WIDE_EP_RANKS and m.is_moe:
        out.append(
            f"wide EP ({place.ep_ranks} ranks): the busiest rank's routed (token, expert) pairs "
            "set the step, mean + sqrt(2 x mean x ln ranks) under uniform routing (Raab & "
            "Steger 1998; a floor, real routing is less even)"
        )
    return out


class _DeploymentMemo:
    """Results that depend only on the deployment, not on the workload, kept between calls.

    Keyed on the identity of the catalog objects (the catalog caches its entries, so a name
    resolves to the same frozen object on every call; a config.json read again is a new
    object and a new key) and on the plain values. An entry holds its objects, so while it
    lives no other object can have their ids: a key that matches names the same objects.
    At most ``size`` entries; when full it starts over.
    """

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: dict[tuple[Any, ...], tuple[tuple[object, ...], Any]] = {}

    def get(self, objs: tuple[object, ...], values: tuple[Any, ...], compute: Any) -> Any:
        key = (*map(id, objs), *values)
        hit = self._entries.get(key)
        if hit is not None:
            return hit[1]
        result = compute()
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[key] = (objs, result)
        return result


_budget_memo = _DeploymentMemo()
_step_memo = _DeploymentMemo()
_resolve_memo = _DeploymentMemo()
_price_memo = _DeploymentMemo()
_band_memo = _DeploymentMemo()
_memory_memo = _DeploymentMemo()


def _catalog_tables() -> tuple[object, ...]:
    """The loaded catalog tables a name resolves against (each cached by its loader; a
    reload, e.g. after clearing the caches for another user catalog, gives new objects)."""
    return (
        load_models(),
        load_model_aliases(),
        load_accelerators(),
        load_engines(),
        load_quant_formats(),
    )


def kv_budget_bytes_per_gpu(r: Resolved) -> tuple[float, float, float]:
    """(weights per GPU, workspace per GPU, KV bytes available per GPU); computed once per
    deployment (model, format, engine, GPU, TP, PP, EP) and kept."""
    return _budget_memo.get(  # type: ignore[no-any-return]
        (r.model, r.weight_fmt, r.engine, r.acc),
        (r.tp, r.pp, r.ep),
        lambda: _kv_budget(r),
    )


def _kv_budget(r: Resolved, w: WeightBytes | None = None) -> tuple[float, float, float]:
    w = w or weight_bytes(r.model, r.weight_fmt)
    weights_gpu = float(weight_bytes_per_gpu(w, r.tp, r.pp, r.ep))
    act = float(activation_workspace_bytes(r.model, r.engine.max_num_batched_tokens, r.tp))
    budget = engine_kv_budget(
        r.acc.memory_bytes,
        weights_gpu,
        act,
        r.tp,
        usable_fraction=r.engine.usable_memory_fraction,
        fraction_of_free=r.engine.kv_fraction_of_free,
        runtime_overhead_bytes=r.engine.runtime_overhead_bytes,
        nccl_bytes=r.engine.nccl_buffer_bytes,
    )
    return weights_gpu, float(budget.workspace_bytes), float(budget.kv_bytes)


@dataclass(frozen=True, slots=True)
class _MemoryConstants:
    """What stage 3 (:func:`memory_stage`) needs that depends only on the deployment: the
    KV budget (:func:`kv_budget_bytes_per_gpu`), the KV bytes of one token, and the
    context-free terms of one sequence's cache per GPU (``perf.memory.sequence_cache_terms``;
    None where :func:`kv_bytes_per_seq_per_gpu` takes the array path)."""

    weights_bytes_per_gpu: float
    workspace_bytes: float
    kv_bytes_available_per_gpu: float
    kv_bytes_per_token: float
    sequence: SequenceCacheTerms | None


def _memory_constants(r: Resolved) -> _MemoryConstants:
    """:class:`_MemoryConstants`, computed once per deployment (model, format, engine, GPU,
    KV dtype, TP, PP, EP) and kept."""

    def build() -> _MemoryConstants:
        weights_gpu, workspace, kv_avail = kv_budget_bytes_per_gpu(r)
        return _MemoryConstants(
            weights_bytes_per_gpu=weights_gpu,
            workspace_bytes=workspace,
            kv_bytes_available_per_gpu=kv_avail,
            kv_bytes_per_token=kv_bytes_per_token(r.model, r.kv_bytes_per_elem),
            sequence=sequence_cache_terms(
                r.engine.cache_model(r.model), r.kv_bytes_per_elem, r.tp, r.pp
            ),
        )

    return _memory_memo.get(  # type: ignore[no-any-return]
        (r.model, r.weight_fmt, r.engine, r.acc),
        (r.kv_bytes_per_elem, r.tp, r.pp, r.ep),
        build,
    )


def kv_bytes_per_seq_per_gpu(r: Resolved, context: float) -> float:
    """KV bytes one sequence of ``context`` tokens holds on one GPU."""
    return float(
        cache_bytes_per_sequence_per_gpu(
            r.engine.cache_model(r.model), context, r.kv_bytes_per_elem, r.tp, r.pp
        )
    )


def max_concurrency_at(r: Resolved, context: float) -> int:
    """Sequences of ``context`` tokens whose KV cache fits (KV-limited, before engine caps)."""
    _, _, kv = kv_budget_bytes_per_gpu(r)
    return int(max_concurrency(kv, kv_bytes_per_seq_per_gpu(r, context)))


#: Sequences of isl + osl a suggested layout should leave KV-cache room for, at the least: a
#: batch continuous batching can use (or the concurrency asked, up to the engine's cap).
USEFUL_BATCH = 8

#: Weight formats tried when a configuration does not fit, smallest last. FP8 (W8A8) is
#: effectively lossless on the Llama-3.1 family, 4-bit weight-only is not quite (Kurtic et
#: al., "Give Me BF16 or Give Me Death?", arXiv:2411.02355): suggestions prefer 8 bits and up.
SUGGESTED_WEIGHT_DTYPES = ("fp8", "int4")

#: Nodes a suggested layout may span (pipeline stages across nodes), at most.
MAX_SUGGESTED_NODES = 8


def gpus_per_node(acc: Accelerator) -> int:
    """GPUs one tensor-parallel group can span: the accelerator's scale-up domain, the
    catalog's ``scale_up_domain`` where it has one, else read from its ``interconnect`` text.
    NVL72 racks (GB200): 72 GPUs on one NVLink fabric;
    GH200 (NVLink-C2C to its Grace CPU only, no GPU-to-GPU link): 1; Trainium2: 16 per
    trn2.48xlarge, Inferentia2: 12 per inf2.48xlarge (NeuronLink); otherwise 8 (HGX/DGX
    NVLink boards, MI300-series and Gaudi 3 8-accelerator baseboards, 8-GPU PCIe servers,
    TPU v5e-8/v6e-8 hosts)."""
    if acc.scale_up_domain is not None:
        return acc.scale_up_domain
    text = acc.interconnect.lower()
    if "nvl72" in text:
        return 72
    if "c2c" in text and not acc.interconnect_bytes_s:
        return 1
    if "neuronlink-v3" in text:
        return 16
    if "neuronlink-v2" in text:
        return 12
    return 8


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One layout that would fit, with the batch it leaves.

    Attributes:
        weight_dtype, tp, pp, ep: the layout (one replica, no data parallelism).
        num_gpus: tp x pp; nodes: nodes of :func:`gpus_per_node` GPUs it spans.
        seqs: sequences of the asked isl + osl its KV cache holds (before engine caps).
        flags: the ``infercost predict`` options that select it.
    """

    weight_dtype: str
    tp: int
    pp: int
    ep: int
    num_gpus: int
    nodes: int
    node_size: int
    seqs: int
    flags: str

    def text(self, context: float) -> str:
        where = (
            f"{self.nodes} nodes of {self.node_size}: TP within a node, PP across nodes"
            if self.nodes > 1
            else "one node"
        )
        gpus = f"{self.num_gpus} GPU{'s' if self.num_gpus > 1 else ''}"
        return (
            f"{self.flags} ({gpus}, {where}; KV room for {self.seqs:,} sequences of "
            f"{int(context):,} tokens)"
        )


def _layout(m: ModelArch, n: int, node: int) -> tuple[int, int] | None:
    """(TP, PP) for ``n`` GPUs: the largest TP within a node that divides ``n`` and the
    attention heads, pipeline stages for the rest (across nodes); None when PP would exceed
    the layers."""
    tp = max(t for t in range(1, min(n, node) + 1) if n % t == 0 and m.num_heads % t == 0)
    pp = n // tp
    return None if pp > m.num_layers else (tp, pp)


def fit_suggestions(
    r: Resolved, context: float, need: int, asked: int | None = None, limit: int = 3
) -> list[Suggestion]:
    """Layouts that would hold ``need`` sequences of ``context`` tokens, best first, at most
    ``limit``.

    Tried: the configured weight format and each smaller one of
    :data:`SUGGESTED_WEIGHT_DTYPES`, on 1, 2, 4, ... GPUs up to a node, then whole nodes (TP
    stays within a node of :func:`gpus_per_node`, PP spans nodes) up to
    :data:`MAX_SUGGESTED_NODES`. For each format the smallest layout that leaves a useful
    batch (room for max(:data:`USEFUL_BATCH`, the asked concurrency up to the engine's
    ``max_num_seqs``) sequences), else the smallest that holds ``need``. Ranked by: a useful
    batch first, then 16/8-bit weights before 4-bit, then fewer GPUs, then wider weights.
    """
    m = r.model
    node = gpus_per_node(r.acc)
    useful = max(need, USEFUL_BATCH, min(asked or 0, r.engine.max_num_seqs))
    sizes = sorted(
        {n for n in (1, 2, 4, 8, 16, 32, 64) if n < node}
        | {node * k for k in range(1, MAX_SUGGESTED_NODES + 1)}
    )
    formats = [r.weight_fmt] + [
        f
        for f in map(get_quant_format, SUGGESTED_WEIGHT_DTYPES)
        if f.bytes_per_weight < r.weight_fmt.bytes_per_weight
    ]
    found: list[tuple[tuple[float, ...], Suggestion]] = []
    for fmt in formats:
        try:
            compute_dtype(r.acc, fmt)
        except InputError:
            continue  # the GPU has no published FLOP/s to run this format at
        w = weight_bytes(m, fmt)
        best: tuple[int, Suggestion] | None = None
        for n in sizes:
            layout = _layout(m, n, node)
            if layout is None:
                continue
            tp, pp = layout
            ep = r.ep if r.ep > 1 and n % r.ep == 0 else 1
            alt = dataclasses.replace(
                r, weight_fmt=fmt, tp=tp, pp=pp, ep=ep, num_gpus=n, dp=1, notes=()
            )
            _, _, kv = _kv_budget(alt, w)
            seqs = int(max_concurrency(kv, kv_bytes_per_seq_per_gpu(alt, context)))
            if seqs < need:
                continue
            tier = 0 if seqs >= useful else 1
            if best is not None and best[0] <= tier:
                continue
            flags = [f"--tp {tp}"]
            flags += [f"--pp {pp}"] if pp > 1 else []
            flags += [f"--ep {ep}"] if ep > 1 else []
            flags += ["--dp 1"] if r.dp > 1 else []
            flags += [f"--weight-dtype {fmt.id}"] if fmt.id != r.weight_fmt.id else []
            nodes = -(-n // node)
            best = (tier, Suggestion(fmt.id, tp, pp, ep, n, nodes, node, seqs, " ".join(flags)))
            if tier == 0:
                break
        if best is not None:
            tier, sug = best
            quality = 0 if fmt.bits_per_weight >= 8 else 1
            found.append(((tier, quality, sug.num_gpus, -fmt.bits_per_weight), sug))
    found.sort(key=lambda item: item[0])
    return [sug for _, sug in found[:limit]]


def _what_would_fit(r: Resolved, context: float, need: int, asked: int | None = None) -> str:
    """Suggestions: up to three layouts (:func:`fit_suggestions`), a KV dtype, fewer
    sequences, a shorter context."""
    tips = [s.text(context) for s in fit_suggestions(r, context, need, asked)]
    if r.kv_dtype in ("bf16", "fp16"):
        alt = Resolved(**{**_as_kwargs(r), "kv_dtype": "fp8", "kv_bytes_per_elem": 1.0})
        if max_concurrency_at(alt, context) >= need:
            tips.append("--kv-dtype fp8")
    here = max_concurrency_at(r, context)
    if 1 <= here < need:
        tips.append(f"--concurrency {here}")
    elif here < 1:
        _, _, kv = kv_budget_bytes_per_gpu(r)
        per_token = kv_bytes_per_seq_per_gpu(r, 1.0)
        tokens = int(kv / per_token) if kv > 0 and per_token > 0 else 0
        if tokens >= 1:
            tips.append(f"a context of at most {tokens} tokens")
    return "; ".join(tips) if tips else "a GPU with more memory"


def _as_kwargs(r: Resolved) -> dict[str, Any]:
    return {f: getattr(r, f) for f in Resolved.__slots__}


def fit_reason(
    r: Resolved,
    context: float,
    need: int,
    kv_seq_gpu: float | None = None,
    asked: int | None = None,
) -> str | None:
    """Why the deployment cannot hold ``need`` sequences of ``context`` tokens, with what would
    fit; None when it can. ``kv_seq_gpu``: :func:`kv_bytes_per_seq_per_gpu` at ``context``
    when the caller has it; ``asked``: the concurrency asked for, which the suggested
    layouts try to leave room for (:func:`fit_suggestions`)."""
    weights_gpu, workspace, kv = kv_budget_bytes_per_gpu(r)
    mem_gib = r.acc.memory_bytes / 2**30
    if kv <= 0:
        over = -kv / 1e9
        return (
            f"does not fit: {r.model.id} at {r.weight_fmt.id} needs {weights_gpu / 1e9:.1f} GB "
            f"of weights + {workspace / 1e9:.1f} GB workspace per GPU on {r.num_gpus}x "
            f"{r.acc.id} ({mem_gib:.0f} GiB, {r.engine.usable_memory_fraction:.0%} usable by "
            f"{r.engine.id}); short by {over:.1f} GB before any KV cache. Would fit: "
            f"{_what_would_fit(r, context, need, asked)}."
        )
    if kv_seq_gpu is None:
        kv_seq_gpu = kv_bytes_per_seq_per_gpu(r, context)
    have = int(max_concurrency(kv, kv_seq_gpu))
    if have < need:
        return (
            f"does not fit: the KV cache left per GPU ({kv / 1e9:.1f} GB) holds {have} "
            f"sequences of {int(context)} tokens, fewer than the {need} asked for. Would fit: "
            f"{_what_would_fit(r, context, need, asked)}."
        )
    return None


def _price(
    r: Resolved,
    gpu_hour_usd: float | None,
    offer: str | None,
    allow_spot: bool = False,
    pack_replicas: bool = False,
) -> tuple[float | None, str | None]:
    """($ per used GPU-hour, source text), or (None, None) when no price was given and the
    catalog has no offer for the GPU.

    A replica of k GPUs on an n-GPU instance pays for the whole instance (``cost.gpu_hour``:
    ceil(k / n) x instance $/h ÷ k per used GPU-hour), the economics issue's bundling rule.
    With ``pack_replicas`` and k dividing n, n / k replicas share the instance and each GPU
    costs instance $/h ÷ n. Spot offers are refused for latency serving unless ``allow_spot``.
    """
    if gpu_hour_usd is not None and offer is not None:
        raise InputError("Give --gpu-hour-usd or --offer, not both.")
    if gpu_hour_usd is not None and (not math.isfinite(gpu_hour_usd) or gpu_hour_usd <= 0):
        raise InputError(f"--gpu-hour-usd must be a positive number, got {gpu_hour_usd}.")
    if gpu_hour_usd is not None:
        price = resolve_price(r.acc.id, r.num_gpus, gpu_hour_usd=gpu_hour_usd)
        return float(price.usd_per_gpu_hour), price.source
    chosen = get_offer(offer) if offer is not None else default_offer(r.acc.id)
    if chosen is None:
        return None, None
    n = chosen.gpus_per_instance
    packed = pack_replicas and r.num_gpus < n and n % r.num_gpus == 0
    price = resolve_price(
        r.acc.id,
        n if packed else r.num_gpus,
        offer=chosen,
        allow_spot=allow_spot,
        slo_serving=True,
    )
    if packed:
        note = f" ({n // r.num_gpus} replicas of {r.num_gpus} GPUs packed per instance)"
    elif r.num_gpus < n:
        note = (
            f" ({r.num_gpus} of {n} GPUs used, whole instance billed; --pack-replicas runs "
            f"{n // r.num_gpus if n % r.num_gpus == 0 else 'several'} replicas per instance)"
        )
    elif pack_replicas:
        note = (
            f" (--pack-replicas changes nothing: the instance holds {n} GPU(s) and one replica "
            f"uses {r.num_gpus})"
        )
    else:
        note = ""
    default = "" if offer is not None else "default offer (median on-demand): "
    return float(price.usd_per_gpu_hour), default + price.source + note


def _names_other_checkpoint(name: str, arch: ModelArch) -> bool:
    """Whether ``name``, which names no weight format (``catalog.names.dtype_hint``; the
    caller checks), resolved by family to a quantized checkpoint, so the user may be asking
    for a different one (Kimi-K2.6 -> nvidia's NVFP4)."""
    quantized = arch.checkpoint_dtype not in ("bf16", "fp16", "fp32")
    return quantized and name.strip().lower() != arch.id.lower()


def _rank_step_model(r: Resolved) -> StepModel:
    """One rank's step constants (:func:`step_model` with :func:`with_expert_parallel`),
    computed once per deployment and kept."""

    def build() -> StepModel:
        sm = step_model(
            r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep
        )
        sm = with_expert_parallel(r.model, sm, r.dp, r.tp, r.ep, r.pp)
        return with_scale_out(r.model, sm, r.placement, r.acc)

    return _step_memo.get(  # type: ignore[no-any-return]
        (r.model, r.acc, r.weight_fmt, r.engine),
        (r.kv_bytes_per_elem, r.tp, r.pp, r.ep, r.dp, r.num_nodes),
        build,
    )


def request_overhead_s(r: Resolved, online: bool) -> float:
    """Time per request before its first token outside the GPU: the engine's
    ``request_overhead_s``, plus its HTTP front end's ``frontend_overhead_s`` when serving
    online (clients over the OpenAI-compatible server), not in an offline batch."""
    return r.engine.request_overhead_for(online)


def serve(
    r: Resolved,
    concurrency: float,
    isl: float,
    osl: float,
    cached_prefix_share: float = 0.0,
    online: bool = True,
    fixed_lengths: bool = False,
    token_budget: int | None = None,
    graph_batch_cap: int | None = None,
) -> ServingPoint:
    """Closed-loop serving of one data-parallel rank of the resolved deployment holding
    ``concurrency`` sequences (pipeline stages run ``pp`` micro-batches), TTFT as a
    closed-loop benchmark reports it (:func:`~infercost.perf.serving.closed_loop`);
    throughputs are the rank's (:func:`scale_dp` sums the ranks). ``online``: through the
    engine's HTTP server (its front-end overhead counts in TTFT), else an offline batch.
    ``fixed_lengths``: every request exactly isl/osl, so online waves stay together as far as
    the engine keeps them (:func:`~infercost.perf.serving.arrival_wave_sync`); by default
    lengths vary and requests arrive spread out. ``token_budget``: tokens per iteration
    (None: the engine's ``max_num_batched_tokens``). ``graph_batch_cap``: an offline run's
    max batch size per rank and micro-batch; its decode-only iterations run the engine's
    offline CUDA graphs, padded (:func:`~infercost.perf.step.with_graph_padding`; None:
    unpadded, as online serving runs by default)."""
    sm = _rank_step_model(r)
    if graph_batch_cap is not None:
        sm = with_graph_padding(
            sm, r.engine, graph_batch_cap, token_budget or r.engine.max_num_batched_tokens
        )
    per_stage = concurrency / r.pp
    sp = closed_loop(
        sm,
        per_stage,
        isl,
        osl,
        token_budget or r.engine.max_num_batched_tokens,
        request_overhead_s(r, online),
        cached_prefix_share,
        r.engine.prefill_scheduling,
        CLOSED_LOOP_WAVES,
        arrival_wave_sync(r.engine.wave_sync, fixed_lengths) if online else 1.0,
    )
    if r.pp == 1:
        return sp
    # PP: each of pp micro-batches passes pp stages per token; stage throughput is unchanged.
    return ServingPoint(
        concurrency=sp.concurrency * r.pp,
        decode_step_s=sp.decode_step_s * r.pp,
        prefill_marginal_s=sp.prefill_marginal_s * r.pp,
        ttft_s=sp.ttft_s * r.pp,
        tpot_s=sp.tpot_s * r.pp,
        e2e_s=sp.e2e_s * r.pp,
        output_tok_s=sp.output_tok_s,
        total_tok_s=sp.total_tok_s,
        request_s=sp.request_s,
        prefill_time_share=sp.prefill_time_share,
        memory_bound_share=sp.memory_bound_share,
    )


def scale_dp(sp: ServingPoint, dp: int) -> ServingPoint:
    """The deployment of ``dp`` ranks stepping side by side: concurrency and throughputs add,
    latencies and time shares are one rank's."""
    if dp == 1:
        return sp
    return dataclasses.replace(
        sp,
        concurrency=np.asarray(sp.concurrency) * dp,
        output_tok_s=np.asarray(sp.output_tok_s) * dp,
        total_tok_s=np.asarray(sp.total_tok_s) * dp,
        request_s=np.asarray(sp.request_s) * dp,
    )


def predict(
    model: str | None = None,
    gpu: str = "",
    isl: int = 0,
    osl: int = 0,
    *,
    model_config: str | None = None,
    num_gpus: int | None = None,
    tp: int | None = None,
    pp: int = 1,
    ep: int = 1,
    dp: int | None = None,
    weight_dtype: str | None = None,
    kv_dtype: str = "auto",
    concurrency: int | None = None,
    max_throughput: bool = False,
    engine: str = "vllm",
    gpu_hour_usd: float | None = None,
    offer: str | None = None,
    profile: str | None = None,
    pack_replicas: bool = False,
    allow_spot: bool = False,
    explain: bool = False,
    num_nodes: int | None = None,
    fixed_lengths: bool = False,
) -> Prediction:
    """Predict memory fit, throughput, latency and $/M tokens for one deployment.

    Args:
        model: HF id, catalog id or common spelling; or ``model_config`` (a config.json path).
        gpu: accelerator name.
        isl, osl: prompt and output tokens per request.
        num_gpus, tp, pp, ep, dp: GPUs of the deployment and parallelism
            (num_gpus = dp x tp x pp; ep up to dp x tp, see :func:`resolve`).
        num_nodes: scale-up domains (nodes, NVL72 racks) the GPUs spread over (default: as
            few as hold them); traffic between them is modelled over the scale-out network.
        weight_dtype: storage format (default: the checkpoint's dtype).
        kv_dtype: ``auto``, bf16, fp16, fp8, int8.
        concurrency: requests in flight; or ``max_throughput`` for the largest batch that fits.
        fixed_lengths: every request exactly ``isl``/``osl`` (a fixed-length benchmark): a
            closed loop's requests stay in waves as far as the engine keeps them together.
            Default: lengths vary around isl/osl (real traffic, random-length benchmarks such
            as InferenceMAX's), so requests arrive spread out
            (:func:`~infercost.perf.serving.arrival_wave_sync`).
        engine: efficiency profile name.
        gpu_hour_usd, offer: price of a GPU-hour (default: a catalog offer, named in
            ``price_source``).
        allow_spot: accept a spot offer (interruptible) for latency serving.
        pack_replicas: share a multi-GPU instance among replicas (k divides n) instead of
            billing the whole instance to one replica.
        profile: a TOML engine profile (``infercost calibrate fit --out``) to apply.
        explain: attach the formula trail.

    Returns:
        A :class:`Prediction`; ``fits`` False (with ``reason``) when it does not fit.

    Raises:
        UnknownNameError: unknown model, GPU, engine, dtype or offer.
        InputError: inconsistent or out-of-range options.
    """
    check_predict_types(
        model=model, gpu=gpu, isl=isl, osl=osl, model_config=model_config, num_gpus=num_gpus,
        tp=tp, pp=pp, ep=ep, dp=dp, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
        concurrency=concurrency, max_throughput=max_throughput, engine=engine,
        gpu_hour_usd=gpu_hour_usd, offer=offer, profile=profile, num_nodes=num_nodes,
        fixed_lengths=fixed_lengths,
    )  # fmt: skip
    if isl < 1 or osl < 1:
        raise InputError(f"--isl and --osl must be at least 1 token (got {isl}, {osl}).")
    if (concurrency is None) == (not max_throughput):
        raise InputError("Give exactly one of --concurrency N or --max-throughput.")
    _positive_int("concurrency", concurrency)
    if fixed_lengths and max_throughput:
        raise InputError(
            "--fixed-lengths only acts on an online closed loop (--concurrency N): an offline "
            "--max-throughput batch refills each slot as a request ends, whatever the lengths."
        )
    if allow_spot and offer is None:
        raise InputError(
            "--allow-spot only acts with --offer (a spot offer id; `infercost offers "
            "--kind spot` lists them): the default offer is on-demand."
        )

    def resolved() -> Resolved:
        return resolve(
            model,
            gpu,
            model_config=model_config,
            num_gpus=num_gpus,
            tp=tp,
            pp=pp,
            ep=ep,
            dp=dp,
            weight_dtype=weight_dtype,
            kv_dtype=kv_dtype,
            engine=engine,
            profile=profile,
            num_nodes=num_nodes,
        )

    if model_config is None and profile is None:  # names only: the same names, the same answer
        r: Resolved = _resolve_memo.get(
            _catalog_tables(),
            (model, gpu, num_gpus, tp, pp, ep, dp, weight_dtype, kv_dtype, engine, num_nodes),
            resolved,
        )
    else:  # files are read again on every call
        r = resolved()
    trail = Trail()
    context = float(isl + osl)
    if explain:
        explain_layout(trail, r)
    mem = memory_stage(r, context)
    if explain:
        explain_memory(trail, r, mem)
    base = _base_fields(r, isl, osl, mem)
    reason = refusal(r, mem, concurrency)
    if reason is not None:
        return _refused(base, concurrency, reason, trail if explain else None, r.notes)
    running = (
        r.engine.running_context(isl, osl, lengths_vary=not fixed_lengths)
        if concurrency is not None
        else None
    )
    load = load_stage(r, mem, concurrency, isl, osl, fixed_lengths, running)
    if explain:
        explain_load(trail, r, mem, load)
    sp, queueing_s = serving_stage(r, load, isl, osl)
    if explain:
        explain_serving(trail, r, load, sp, isl, queueing_s, osl)
    price = price_stage(r, sp, isl, osl, gpu_hour_usd, offer, allow_spot, pack_replicas)
    if explain:
        explain_price(trail, r, sp, price)
    return Prediction(
        **base,
        concurrency=int(load.batch),
        fits=True,
        reason=None,
        output_tok_s=float(sp.output_tok_s),
        total_tok_s=float(sp.total_tok_s),
        output_tok_s_per_gpu=float(sp.output_tok_s) / r.num_gpus,
        ttft_s=float(sp.ttft_s),
        tpot_s=float(sp.tpot_s) if osl > 1 else None,
        e2e_s=float(sp.e2e_s),
        usd_per_gpu_hour=price.usd_per_gpu_hour,
        price_source=price.source,
        usd_per_m_input=price.usd_per_m_input,
        usd_per_m_output=price.usd_per_m_output,
        usd_per_m_blended=price.usd_per_m_blended,
        error_band=_error_band(r, sp, profile),
        explain=trail.to_list() if explain else None,
        notes=tuple(r.notes) + load.notes,
    )


# --- The stages of a prediction, in order (each used by predict() and read by --explain) ---
# 1. layout and 2. precision: resolve() (names, parallelism, weight format, KV dtype)
# 3. memory and KV capacity: memory_stage()      4. load: load_stage() (batch, queue)
# 5. step time and serving point: serving_stage()  6. price: price_stage()


@dataclass(frozen=True, slots=True)
class MemoryFit:
    """Stage 3: what one GPU holds, for sequences of ``context`` tokens.

    Attributes:
        context: isl + osl tokens per sequence.
        weights_bytes_per_gpu, workspace_bytes, kv_bytes_available_per_gpu: bytes.
        kv_bytes_per_token: KV cache of one token over the whole model (all layers).
        kv_bytes_per_seq_per_gpu: one sequence's KV cache (and recurrent state) on one GPU.
        max_concurrency_rank: sequences one data-parallel rank's KV cache holds.
    """

    context: float
    weights_bytes_per_gpu: float
    workspace_bytes: float
    kv_bytes_available_per_gpu: float
    kv_bytes_per_token: float
    kv_bytes_per_seq_per_gpu: float
    max_concurrency_rank: int

    def max_concurrency(self, r: Resolved) -> int:
        """Sequences the whole deployment holds (every data-parallel rank)."""
        return self.max_concurrency_rank * r.dp


def memory_stage(r: Resolved, context: float) -> MemoryFit:
    """Weights, workspace and KV budget per GPU (:func:`kv_budget_bytes_per_gpu`), KV bytes
    per token and per sequence of ``context`` tokens, and how many sequences fit per rank.
    What does not depend on ``context`` is the deployment's (:func:`_memory_constants`)."""
    c = _memory_constants(r)
    if c.sequence is not None:
        kv_seq_gpu = c.sequence.bytes_per_gpu(float(context))
    else:
        kv_seq_gpu = kv_bytes_per_seq_per_gpu(r, context)
    return MemoryFit(
        context=context,
        weights_bytes_per_gpu=c.weights_bytes_per_gpu,
        workspace_bytes=c.workspace_bytes,
        kv_bytes_available_per_gpu=c.kv_bytes_available_per_gpu,
        kv_bytes_per_token=c.kv_bytes_per_token,
        kv_bytes_per_seq_per_gpu=kv_seq_gpu,
        max_concurrency_rank=int(max_concurrency(c.kv_bytes_available_per_gpu, kv_seq_gpu)),
    )


def refusal(r: Resolved, mem: MemoryFit, concurrency: int | None) -> str | None:
    """Why the deployment cannot serve sequences of ``mem.context`` tokens, or None: the
    context exceeds the model's, or the weights or one sequence do not fit
    (:func:`fit_reason`, with what would fit). More requests than fit are queued, not
    refused (:func:`load_stage`)."""
    m = r.model
    if m.max_position_embeddings and mem.context > m.max_position_embeddings:
        return (
            f"refused: isl + osl = {int(mem.context)} tokens exceeds {m.id}'s context of "
            f"{m.max_position_embeddings} tokens (config.json max_position_embeddings). "
            "Use a shorter prompt or output."
        )
    if mem.kv_bytes_available_per_gpu > 0 and mem.max_concurrency_rank >= 1:
        return None  # fit_reason's two tests, on the figures memory_stage has
    return fit_reason(r, mem.context, 1, mem.kv_bytes_per_seq_per_gpu, concurrency)


@dataclass(frozen=True, slots=True)
class Load:
    """Stage 4: the requests in flight and those the engine runs.

    Attributes:
        batch: requests in flight over the deployment (``--concurrency``, or the largest
            batch that fits for ``--max-throughput``).
        running_rank: sequences one data-parallel rank runs at once (mean).
        online: through the engine's HTTP server (``--concurrency``), not an offline batch.
        fixed_lengths: every request exactly isl/osl (``--fixed-lengths``): online waves stay
            together as far as the engine keeps them; else requests arrive spread out.
        offline_cap: the offline run's batch cap per rank (``--max-throughput``; PP
            micro-batches x max batch size), else the engine's ``max_num_seqs``.
        notes: what the caller should know (requests queued).
        token_budget: tokens per iteration (the offline run's max_num_tokens, else the
            engine's ``max_num_batched_tokens``).
        cap_how: where the offline cap comes from, for ``--explain``.
    """

    batch: int
    running_rank: float
    online: bool
    offline_cap: int
    notes: tuple[str, ...] = ()
    fixed_lengths: bool = False
    token_budget: int = 0
    cap_how: str = ""

    def running(self, r: Resolved) -> float:
        """Sequences the deployment runs at once."""
        return self.running_rank * r.dp

    def graph_batch_cap(self, r: Resolved) -> int | None:
        """An offline run's max batch size per rank and micro-batch, whose decode-only
        iterations run the engine's padded CUDA graphs (:func:`serve`); None online."""
        return None if self.online else self.offline_cap // r.pp


def offline_caps(r: Resolved, isl: float, osl: float) -> OfflineSettings:
    """The caps an offline run of ``r`` configures (:func:`~infercost.perf.offline.
    offline_settings`); the engine is launched with ``--tp`` = the attention group: dp x tp
    for an attention-DP layout, else tp."""
    tp_group = r.tp * r.dp if r.attention_dp else r.tp
    return offline_settings(
        r.engine, r.model, r.weight_fmt, r.kv_dtype, r.acc, tp_group, r.pp, isl, osl
    )


def load_stage(
    r: Resolved,
    mem: MemoryFit,
    concurrency: int | None,
    isl: float,
    osl: float,
    fixed_lengths: bool = False,
    running_context: float | None = None,
) -> Load:
    """Each rank runs at most the engine's ``max_num_seqs`` and at most what its KV cache
    holds; more requests wait in the engine's queue without holding KV cache (every engine
    admits what fits and queues the rest). ``concurrency`` None: the largest batch that fits
    under the caps the offline run configures (:func:`~infercost.perf.offline.offline_settings`:
    the engine's, or trtllm-bench's from its own KV estimate, per micro-batch with PP
    micro-batches in flight), with its token budget.

    What the KV cache holds: sequences of ``running_context`` tokens
    (:meth:`~infercost.catalog.schema.EngineProfile.running_context`: isl + osl / 2 on an
    engine that allocates KV as tokens come while lengths vary, else isl + osl =
    ``mem.context``)."""
    serve_cap = r.engine.max_num_seqs
    max_conc_rank = mem.max_concurrency_rank
    offline = None
    if concurrency is None:
        offline = offline_caps(r, isl, osl)
    cap = offline.max_batch_size * r.pp if offline is not None else serve_cap
    notes: tuple[str, ...] = (offline.note,) if offline is not None and offline.note else ()
    kv_rank, kv_context = max_conc_rank, mem.context
    spread_kv = running_context is not None and running_context < mem.context
    if spread_kv and running_context is not None and concurrency is not None:
        kv_context = running_context
        if concurrency / r.dp > max_conc_rank:  # only then can the mean context matter
            kv_rank = memory_stage(r, running_context).max_concurrency_rank
    if concurrency is not None:
        batch = concurrency
        per_rank = concurrency / r.dp  # the ranks share the requests (mean per rank)
        running_rank = min(per_rank, float(serve_cap), float(kv_rank))
    else:
        running_rank = float(max(min(max_conc_rank, cap), 1))
        batch = int(running_rank) * r.dp
    running = running_rank * r.dp
    if running > mem.max_concurrency(r):
        notes = (
            *notes,
            f"{running:g} sequences run although the KV cache holds {mem.max_concurrency(r)} "
            f"of their full {mem.context:,.0f} tokens: {r.engine.id} allocates KV as tokens "
            f"are generated and, with lengths varying, running sequences hold "
            f"{kv_context:,.6g} tokens on average (--fixed-lengths: all grow together)",
        )
    if fixed_lengths and (r.engine.prefill_scheduling == "prefill-first" or running_rank <= 1):
        why = (
            f"{r.engine.id}'s prefill-first scheduler runs a closed loop in waves either way"
            if r.engine.prefill_scheduling == "prefill-first"
            else "one sequence runs at a time, so there are no waves to keep together"
        )
        notes = (*notes, f"--fixed-lengths changes nothing here: {why}")
    if running < batch:
        limit = (
            f"the KV cache holds {kv_rank * r.dp} sequences of {kv_context:,.6g} tokens"
            + (" on average" if spread_kv else "")
            if kv_rank < serve_cap
            else f"{r.engine.id} runs at most {serve_cap} sequences per rank (max_num_seqs)"
        )
        notes = (
            *notes,
            f"{batch} requests in flight but {limit}: the engine runs {running:g} at once and "
            "queues the rest (their wait is in TTFT)",
        )
    return Load(
        batch,
        running_rank,
        concurrency is not None,
        cap,
        notes,
        fixed_lengths,
        offline.max_num_tokens if offline is not None else r.engine.max_num_batched_tokens,
        offline.how if offline is not None else "",
    )


def serving_stage(r: Resolved, load: Load, isl: int, osl: int) -> tuple[ServingPoint, float]:
    """Step times and the closed-loop serving point of ``load`` (:func:`serve` per rank,
    summed over ranks by :func:`scale_dp`), and the seconds spent queueing before the first
    token (0 unless more clients than the engine runs). With more clients, the throughput is
    that of the running sequences and, by Little's law, E2E = N / request rate + the
    per-request overhead (spent off the GPU); the extra time is queueing before the first
    token (TTFT includes queueing, as vLLM bench serve measures it)."""
    sp = scale_dp(
        serve(
            r,
            load.running_rank,
            float(isl),
            float(osl),
            online=load.online,
            fixed_lengths=load.fixed_lengths,
            token_budget=load.token_budget or None,
            graph_batch_cap=load.graph_batch_cap(r),
        ),
        r.dp,
    )
    if load.running(r) >= load.batch:
        return sp, 0.0
    e2e_q = load.batch / sp.request_s + request_overhead_s(r, load.online)
    queued = dataclasses.replace(
        sp,
        concurrency=np.asarray(float(load.batch)),
        e2e_s=np.asarray(e2e_q),
        ttft_s=np.asarray(e2e_q - (osl - 1) * sp.tpot_s),
    )
    return queued, float(queued.ttft_s) - float(sp.ttft_s)


@dataclass(frozen=True, slots=True)
class PricePoint:
    """Stage 6: the GPU-hour price and $/M tokens (None without a price)."""

    usd_per_gpu_hour: float | None
    source: str | None
    usd_per_m_input: float | None
    usd_per_m_output: float | None
    usd_per_m_blended: float | None
    prefill_time_share: float


def price_stage(
    r: Resolved,
    sp: ServingPoint,
    isl: int,
    osl: int,
    gpu_hour_usd: float | None,
    offer: str | None,
    allow_spot: bool,
    pack_replicas: bool,
) -> PricePoint:
    """The used GPU-hour's price (``gpu_hour_usd``, ``offer`` or the catalog's default offer,
    :func:`_price`) and the deployment's $/M input and output tokens
    (:func:`infercost.cost.tokens.split_usd_per_m`: prefill time charged to input)."""
    usd_gpu, source = _price_memo.get(
        (r.acc, load_offers()),
        (r.num_gpus, gpu_hour_usd, offer, allow_spot, pack_replicas, date.today()),
        lambda: _price(r, gpu_hour_usd, offer, allow_spot, pack_replicas),
    )
    share = float(sp.prefill_time_share)
    if usd_gpu is None:
        text = f"no catalog offer for {r.acc.id}: pass --gpu-hour-usd or --offer for $/M figures"
        return PricePoint(None, text, None, None, None, share)
    per_in, per_out, blended = split_usd_per_m(
        usd_gpu * r.num_gpus, float(sp.output_tok_s), isl, osl, share
    )
    return PricePoint(usd_gpu, source, float(per_in), float(per_out), float(blended), share)


def _error_band(r: Resolved, sp: ServingPoint, profile: str | None) -> dict[str, Any] | None:
    """The held-out error band of the shipped calibration for this engine, GPU, model kind and
    regime.

    Under a user's ``--profile`` there is no band: the shipped figures measure the shipped
    profile's held-out error, not this one's, and a profile file records only the in-sample
    loss of its fit (``fitted_on``), which says nothing of held-out error. Every metric's
    figure is then None, ``calibrated`` is False and ``basis`` says why and quotes the fit
    the file records (a badly fitted profile must not borrow the shipped bands).

    The band depends on the engine, the GPU, the model and the regime key alone, so it is
    looked up once per (model, GPU, engine, regime) and kept (the regime key's only other
    input is whether the step is memory bound); each prediction gets its own copy (a caller
    may change its dict)."""
    share = float(sp.memory_bound_share)
    band = _copy_dicts(
        _band_memo.get(
            (r.model, r.acc),
            (r.engine.id, is_memory_bound(share), r.attention_dp),
            lambda: error_band_for(r.engine.id, r.acc, r.model, share, r.attention_dp),
        )
    )
    if band is None:
        return band
    widen_e2e_band(band, float(sp.ttft_s), float(sp.e2e_s))
    if profile is None:
        band["calibrated"] = True  # the copy is this prediction's own
        return band
    fit = r.engine.fitted_on or "none recorded"
    return {
        **{k: None for k, v in band.items() if isinstance(v, float)},
        "extrapolating": True,
        "calibrated": False,
        "basis": {
            "description": "no error band: the shipped bands are the held-out error of the "
            "shipped engine profile, not of a user's profile",
            "profile": f"{profile}: no held-out error is known for it; the fit it records: "
            f"{fit} (the fit's in-sample loss, not a held-out error, which needs "
            "measurements the fit did not use)",
        },
    }


def _copy_dicts(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` with every nested dict copied (the leaves are numbers, strings and booleans)."""
    return {k: _copy_dicts(v) if isinstance(v, dict) else v for k, v in d.items()}


def _base_fields(r: Resolved, isl: int, osl: int, mem: MemoryFit) -> dict[str, Any]:
    """The fields every prediction carries, fitting or not."""
    return {
        "model": r.model.id,
        "gpu": r.acc.id,
        "engine": r.engine.id,
        "num_gpus": r.num_gpus,
        "tp": r.tp,
        "pp": r.pp,
        "ep": r.ep,
        "dp": r.dp,
        "weight_dtype": r.weight_fmt.id,
        "kv_dtype": r.kv_dtype,
        "isl": isl,
        "osl": osl,
        "weights_bytes_per_gpu": mem.weights_bytes_per_gpu,
        "kv_bytes_per_token": mem.kv_bytes_per_token,
        "max_concurrency": mem.max_concurrency(r),
    }


def _refused(
    base: dict[str, Any],
    concurrency: int | None,
    reason: str,
    trail: Trail | None,
    notes: tuple[str, ...],
) -> Prediction:
    """A prediction that does not fit: the reason, null performance and cost figures."""
    empty = dict.fromkeys(
        (
            "output_tok_s", "total_tok_s", "output_tok_s_per_gpu", "ttft_s", "tpot_s", "e2e_s",
            "usd_per_gpu_hour", "price_source", "usd_per_m_input", "usd_per_m_output",
            "usd_per_m_blended", "error_band",
        )
    )  # fmt: skip
    return Prediction(
        **base,
        **empty,
        concurrency=concurrency,
        fits=False,
        reason=reason,
        explain=trail.to_list() if trail is not None else None,
        notes=notes,
    )


# --- --explain: each stage's terms, in the order the stages run ---


def explain_layout(trail: Trail, r: Resolved) -> None:
    """Stages 1-2: the parameters of the model and the precision they are stored in."""
    m = r.model
    counts = param_counts(m)
    trail.add("total_params", counts.total, "params", "derived from config.json shapes", m.source)
    trail.add(
        "active_params", counts.active, "params", "dense + k routed experts + shared", m.source
    )


def explain_memory(trail: Trail, r: Resolved, mem: MemoryFit) -> None:
    """Stage 3: weights, KV per token, KV available and the sequences that fit."""
    m = r.model
    trail.add(
        "weights_bytes_per_gpu",
        mem.weights_bytes_per_gpu,
        "B",
        "(dense+embeddings)/(TP·PP) + experts/(max(TP,EP)·PP) at "
        f"{r.weight_fmt.bits_per_weight} bits/weight for linear layers, 16 for "
        "embeddings/norms",
        r.weight_fmt.source,
    )
    trail.add(
        "kv_bytes_per_token",
        mem.kv_bytes_per_token,
        "B",
        "MLA: (kv_lora_rank + rope_dim) x layers x bytes"
        if m.attention_kind == "mla"
        else f"2 x {m.num_layers} layers x {m.num_kv_heads} KV heads x {m.head_dim} x "
        f"{r.kv_bytes_per_elem:g} B",
        m.source,
    )
    trail.add(
        "kv_bytes_available_per_gpu",
        mem.kv_bytes_available_per_gpu,
        "B",
        (
            f"{r.engine.usable_memory_fraction} x ({r.acc.memory_bytes / 1e9:.0f} GB - weights "
            "- workspace"
            if r.engine.kv_fraction_of_free
            else f"{r.acc.memory_bytes / 1e9:.0f} GB x {r.engine.usable_memory_fraction} "
            "usable - weights - workspace"
        )
        + f" ({mem.workspace_bytes / 1e9:.2f} GB: activations for "
        f"{r.engine.max_num_batched_tokens} tokens, runtime, NCCL)"
        + (")" if r.engine.kv_fraction_of_free else ""),
        f"{r.acc.source}; {r.engine.source}",
    )
    trail.add(
        "max_concurrency",
        mem.max_concurrency(r),
        "seqs",
        (f"{r.dp} ranks x " if r.dp > 1 else "")
        + f"floor(KV available / KV per sequence of {int(mem.context)} tokens on one GPU "
        f"= {mem.kv_bytes_per_seq_per_gpu / 1e6:.2f} MB)",
        "",
    )


def explain_load(trail: Trail, r: Resolved, mem: MemoryFit, load: Load) -> None:
    """Stage 4: the batch an offline run picks (``--max-throughput``)."""
    if load.online:
        return
    pp_text = f" = PP {r.pp} micro-batches" if r.pp > 1 else ""
    trail.add(
        "concurrency",
        load.batch,
        "seqs",
        f"{r.dp} rank(s) x min(KV-limited {mem.max_concurrency_rank}, engine cap "
        f"{load.offline_cap} sequences{pp_text}: {load.cap_how}); "
        f"{load.token_budget:,} tokens per iteration",
        r.engine.source,
    )


def _graph_padding_text(sm: StepModel, batch: float) -> str:
    """The CUDA-graph padding of a decode-only step, for ``--explain`` ("" when none)."""
    rows = graph_padded(sm.graph_batch_sizes, math.ceil(batch), 0.0)
    if rows <= math.ceil(batch):
        return ""
    return (
        f"; decode-only iterations run the {rows:g}-row CUDA graph (padding on: GEMMs, MoE, "
        f"LM head and collectives at {rows:g} rows, KV of the {batch:g} sequences), "
        "iterations that carry a prompt run eagerly at their own size"
    )


def explain_serving(
    trail: Trail,
    r: Resolved,
    load: Load,
    sp: ServingPoint,
    isl: int,
    queueing_s: float,
    osl: int = 1,
) -> None:
    """Stage 5: the step times, then the serving point (throughput, any queueing, TTFT,
    TPOT)."""
    dtype = compute_dtype(r.acc, r.weight_fmt)
    e = r.engine
    scale = achievable_scale(r.acc.id)
    per_stage = load.running_rank / r.pp
    rank_sm = _rank_step_model(r)
    cap = load.graph_batch_cap(r)
    if cap is not None:  # the offline run's padded CUDA graphs, as serve() runs them
        budget = load.token_budget or e.max_num_batched_tokens
        rank_sm = with_graph_padding(rank_sm, e, cap, budget)
    st = decode_step(rank_sm, per_stage, isl + osl / 2.0)
    pp_text = f"; x PP {r.pp} stages per token" if r.pp > 1 else ""
    trail.add(
        "decode_step_s",
        float(sp.decode_step_s),
        "s",
        f"max(bytes/(BW x MBU {e.mbu}), FLOP/({dtype} peak x MFU {e.mfu})) + "
        f"TP comm + overhead {e.step_overhead_s * 1e3:.2f} ms + "
        f"{e.seq_overhead_s * 1e6:.2f} µs per sequence"
        + (
            f" + {e.moe_layer_overhead_s * 1e6:.2f} µs per MoE layer x {r.model.num_moe_layers}"
            if r.model.is_moe and e.moe_layer_overhead_s > 0
            else ""
        )
        + f" + fp32 logits, at batch "
        f"{per_stage:g} per stage and context {isl + osl / 2:g}: "
        f"{float(st.read_bytes) / 1e9:.3g} GB read -> {float(st.memory_s) * 1e3:.3g} ms, "
        f"{float(st.flop) / 1e12:.3g} TFLOP -> {float(st.compute_s) * 1e3:.3g} ms "
        f"(GEMMs and attention each take their own max), "
        f"TP/PP/EP communication {float(st.comm_s) * 1e3:.3g} ms, "
        f"overheads {float(st.overhead_s) * 1e3:.3g} ms{pp_text}; "
        f"memory-bound share {float(sp.memory_bound_share):.2f}"
        + _weight_only_experts_text(r, rank_sm, dtype, per_stage, isl + osl / 2.0)
        + _graph_padding_text(rank_sm, per_stage),
        f"{r.acc.id}: {r.acc.mem_bw_bytes_s / 1e12:.2f} TB/s, {dtype} "
        f"{(r.acc.flop_s(dtype) or 0) / 1e12:.0f} TFLOP/s (datasheet) x reachable share over "
        f"{REFERENCE_GPU}'s: memory {scale.bandwidth:.3f}, {dtype} "
        f"{scale.gemm_factor(dtype):.3f}, collectives {scale.collective:.3f} "
        f"({scale.basis}); engine {e.id}",
    )
    trail.add(
        "prefill_marginal_s",
        float(sp.prefill_marginal_s),
        "s",
        f"extra iteration time of one {isl}-token prompt fused with the other decodes "
        f"(chunks of {load.token_budget or e.max_num_batched_tokens} tokens)",
        "",
    )
    trail.add(
        "output_tok_s",
        float(sp.output_tok_s),
        "tok/s",
        "N x osl / E2E (a closed loop of N clients, Little's law; E2E = TTFT + (osl - 1) x TPOT)",
        "",
    )
    if queueing_s > 0:
        trail.add(
            "queueing",
            queueing_s,
            "s",
            f"{load.batch} requests in flight but the engine runs {load.running(r):g} at once "
            "(max_num_seqs, KV capacity); E2E = N / request rate, the rest waits before its "
            "first token",
            e.source,
        )
    overhead = request_overhead_s(r, load.online)
    sync = arrival_wave_sync(e.wave_sync, load.fixed_lengths) if load.online else 1.0
    if sync == 0.0:
        periodic = (
            "; periodic = a request arriving alone beside the other decodes (lengths vary, "
            "so arrivals spread out; --fixed-lengths for lockstep waves)"
        )
    elif sync < 1.0:
        periodic = (
            f"; periodic = {sync:g} x the synchronised wave + {1 - sync:g} x a request "
            "arriving alone (--fixed-lengths: wave_sync, fitted)"
        )
    else:
        periodic = ""
    rule = (
        "prefill-first waves: mean of the burst's FCFS prefill iterations"
        if e.prefill_scheduling == "prefill-first"
        else "periodic wave + (start-up burst - periodic) / 10 waves (perf.serving.closed_loop)"
        + periodic
    )
    trail.add(
        "ttft_s",
        float(sp.ttft_s),
        "s",
        f"request overhead {overhead * 1e3:.1f} ms"
        + (f" (incl. HTTP front end {e.frontend_overhead_s * 1e3:.1f} ms)" if load.online else "")
        + f" + {rule}"
        + (" + queueing" if queueing_s > 0 else ""),
        e.source,
    )
    trail.add("tpot_s", float(sp.tpot_s), "s", "(cycle - own prefill) / (osl - 1)", "")


def _weight_only_experts_text(
    r: Resolved, sm: StepModel, dtype: str, batch: float, context: float
) -> str:
    """The decode step's words on weight-only routed experts (MXFP4 on Hopper), with the
    compute time they add over running at MFU (``sm``: one rank's step model); "" when the
    experts are not weight-only."""
    if float(np.asarray(sm.expert_dequant)) <= 0:
        return ""
    eff = float(np.asarray(sm.expert_dequant_efficiency))
    at_mfu = decode_step(dataclasses.replace(sm, expert_dequant_efficiency=1.0), batch, context)
    slow = decode_step(sm, batch, context)
    extra_ms = float(slow.compute_s - at_mfu.compute_s) * 1e3
    return (
        f"; the routed experts are weight-only ({r.weight_fmt.id} dequantised to {dtype}): "
        f"16-row tiles at MFU x {eff:g} ({r.engine.id}'s expert_dequant_efficiency; 1 where not "
        f"calibrated), which adds {extra_ms:.3g} ms to the compute time above"
    )


def explain_price(trail: Trail, r: Resolved, sp: ServingPoint, price: PricePoint) -> None:
    """Stage 6: $/M output and input tokens."""
    if price.usd_per_gpu_hour is None:
        return
    trail.add(
        "usd_per_m_output",
        price.usd_per_m_output,
        "USD/M tok",
        f"${price.usd_per_gpu_hour:.2f}/GPU-h x {r.num_gpus} GPUs x (1 - prefill share "
        f"{price.prefill_time_share:.3f}) / (output tok/s x 3600 / 1e6)",
        price.source or "",
    )
    trail.add(
        "usd_per_m_input",
        price.usd_per_m_input,
        "USD/M tok",
        "replica $/h x prefill share / (input tok/s x 3600 / 1e6)",
        price.source or "",
    )


def replica_config(
    r: Resolved,
    mean_context: float,
    spec: SpecDecoding | None = None,
    draft: Resolved | None = None,
) -> ReplicaConfig:
    """The simulator's replica of the resolved deployment (``infercost simulate`` and
    ``POST /api/simulate``): its step constants, the engine's limits, and
    the KV tokens its cache holds (KV bytes available per GPU over the KV bytes per token per
    GPU at ``mean_context``, which only matters for sliding-window models). A ``draft`` model
    for speculative decoding takes its weights out of the KV budget and adds its own KV per
    token.

    TensorRT-LLM admits with GUARANTEED_NO_EVICT (reserve the outputs too); the others admit
    on the prompt and preempt by recompute.

    Raises:
        InputError: pipeline parallelism (not simulated) or weights that leave no KV cache.
    """
    if r.pp > 1:
        raise InputError(
            "The simulator models one pipeline stage; use --tp (or run `infercost predict` "
            "for --pp > 1)."
        )
    if r.dp > 1:
        raise InputError(
            f"{r.num_gpus} GPUs at --tp {r.tp} are {r.dp} data-parallel ranks; the simulator "
            f"runs each rank as a replica behind a router: use --tp {r.tp} --replicas {r.dp} "
            "(attention data parallelism with expert parallelism is predicted by "
            "`infercost predict --dp`, not simulated)."
        )
    _, _, kv_avail = kv_budget_bytes_per_gpu(r)
    per_token = kv_bytes_per_seq_per_gpu(r, mean_context) / mean_context
    if draft is not None:
        w = weight_bytes(draft.model, draft.weight_fmt)
        kv_avail -= float(weight_bytes_per_gpu(w, draft.tp, draft.pp, draft.ep))
        per_token += kv_bytes_per_seq_per_gpu(draft, mean_context) / mean_context
    if kv_avail <= 0:
        reason = fit_reason(r, mean_context, 1) or "no room is left for the KV cache"
        raise InputError(f"{r.model.id} on {r.num_gpus}x {r.acc.id}: {reason}")
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    sm = with_scale_out(r.model, sm, r.placement, r.acc)
    return ReplicaConfig(
        step=sm,
        max_num_seqs=r.engine.max_num_seqs,
        max_num_batched_tokens=r.engine.max_num_batched_tokens,
        kv_capacity_tokens=kv_avail / per_token,
        request_overhead_s=request_overhead_s(r, online=True),
        admission="full" if r.engine.id == "trtllm" else "prompt",
        spec=spec,
        max_model_len=r.model.max_position_embeddings or None,
    )


__all__ = ["PREDICT_JSON_KEYS", "Prediction", "predict", "replica_config"]

_ = np  # numpy is used through perf; kept for type clarity in annotations
