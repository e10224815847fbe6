"""Memory: weight bytes, KV-cache bytes, workspace and the fit verdict.

All results are bytes (SI). Per-GPU figures divide by tensor (TP), pipeline (PP) and expert
(EP) parallelism as vLLM and TensorRT-LLM shard them: attention and dense FFN weights split
across TP ranks, layers across PP stages, experts across max(TP, EP) ranks; GQA KV heads split
across TP ranks (a rank keeps at least one head); the MLA latent cache is replicated on every
TP rank (vLLM's MLA backend stores the whole latent per rank).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.catalog.schema import ModelArch, QuantFormat
from infercost.perf.params import ParamCounts, param_counts

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | int | FloatArray

#: bytes of the embedding table, LM head, norms and router, which quantisation recipes
#: (vLLM fp8/AWQ/GPTQ, TensorRT-LLM fp8) keep at 16 bits.
UNQUANTIZED_BYTES_PER_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class WeightBytes:
    """Weight bytes of the whole model (one replica), by part.

    Attributes:
        dense: attention + dense FFN + shared experts + norms + router (read every step).
        experts: all routed experts (E x per-expert bytes x MoE layers).
        per_expert_all_layers: one routed expert summed over the MoE layers.
        embedding: input embedding table (one row read per token).
        lm_head: output projection (read every step; = 0 when tied to the embedding).
    """

    dense: float
    experts: float
    per_expert_all_layers: float
    embedding: float
    lm_head: float

    @property
    def total(self) -> float:
        """Every weight byte held in memory."""
        return self.dense + self.experts + self.embedding + self.lm_head


def quantized_parts(m: ModelArch, fmt: QuantFormat) -> frozenset[str]:
    """The linear parts stored at ``fmt``; the others stay 16-bit.

    At the checkpoint's own format, the parts its quantization config quantizes
    (``ModelArch.quantized_parts``: e.g. gpt-oss MXFP4 and Kimi-K2.5 INT4 quantize only the
    routed experts; Kimi-K2.5-NVFP4 excludes attention). A format the user picks with
    ``--weight-dtype`` applies to every linear layer (the flag overrides the checkpoint).
    """
    if fmt.id == m.checkpoint_dtype:
        return frozenset(m.quantized_parts)
    return frozenset({"attention", "attention_out", "dense_ffn", "shared_experts", "experts"})


def weight_bytes(m: ModelArch, fmt: QuantFormat, counts: ParamCounts | None = None) -> WeightBytes:
    """Weight bytes of one replica at storage format ``fmt``.

    Linear layers take ``fmt.bytes_per_weight`` where the checkpoint quantizes them
    (:func:`quantized_parts`), else 16 bits; embeddings, LM head, norms and routers stay
    16-bit; linear-attention and Mamba2 mixers count with attention. A format wider than
    16 bits (fp32) holds every weight at its width: an fp32 model is 4 bytes per parameter.
    """
    c = counts or param_counts(m)
    b = fmt.bytes_per_weight
    parts = quantized_parts(m, fmt)
    u = max(UNQUANTIZED_BYTES_PER_WEIGHT, b)

    def at(part: str) -> float:
        return b if part in parts else u

    small = (c.norms + c.router) * u
    dense = (
        (c.mixers - c.attention_out) * at("attention")
        + c.attention_out * at("attention_out")
        + c.dense_ffn * at("dense_ffn")
        + c.shared_experts * at("shared_experts")
        + small
    )
    expert_b = at("experts")
    per_expert = (c.experts / m.num_experts) * expert_b if m.is_moe else 0.0
    embedding = m.vocab_size * m.hidden_size * u
    lm_head = 0.0 if m.tie_word_embeddings else embedding
    return WeightBytes(
        dense=float(dense),
        experts=float(c.experts * expert_b),
        per_expert_all_layers=float(per_expert),
        embedding=float(embedding),
        lm_head=float(lm_head),
    )


def weight_bytes_per_gpu(
    w: WeightBytes, tp: ArrayLike, pp: ArrayLike, ep: ArrayLike
) -> FloatArray:
    """Weight bytes one GPU holds: dense/(TP·PP) + experts/(max(TP,EP)·PP) + vocab/(TP·PP)."""
    tp_a = np.asarray(tp, dtype=np.float64)
    pp_a = np.asarray(pp, dtype=np.float64)
    ep_a = np.asarray(ep, dtype=np.float64)
    return np.asarray(
        (w.dense + w.embedding + w.lm_head) / (tp_a * pp_a)
        + w.experts / (np.maximum(tp_a, ep_a) * pp_a),
        dtype=np.float64,
    )


def kv_bytes_per_token_per_layer(m: ModelArch, kv_bytes_per_elem: float) -> float:
    """KV-cache bytes one token adds in one attention layer (whole layer, before TP split).

    GQA/MHA: 2 (K and V) x KV heads x head_dim x bytes. MLA (DeepSeek-V2/V3): the compressed
    latent plus the decoupled RoPE key, (kv_lora_rank + qk_rope_head_dim) x bytes
    (DeepSeek-V2 paper, arXiv:2405.04434, section 2.1.2).
    """
    if m.attention_kind == "mla":
        return float((m.kv_lora_rank + m.qk_rope_head_dim) * kv_bytes_per_elem)
    return float(2 * m.num_kv_heads * m.head_dim * kv_bytes_per_elem)


def kv_bytes_per_token(m: ModelArch, kv_bytes_per_elem: float) -> float:
    """KV-cache bytes per token over all attention layers of one replica (no window cap),
    with the DSA indexer's key cache."""
    return (
        kv_bytes_per_token_per_layer(m, kv_bytes_per_elem) + indexer_bytes_per_token_per_layer(m)
    ) * m.attention_layers


def indexer_bytes_per_token_per_layer(m: ModelArch) -> float:
    """DSA indexer key cache per token per layer: index_head_dim fp8 values plus one fp32
    scale per 128 (DeepSeek-V3.2-Exp ``inference/model.py``: ``k_cache`` float8_e4m3 and
    ``k_scale_cache`` float32 with block size 128); 0 without DSA."""
    if not m.uses_dsa:
        return 0.0
    return float(m.index_head_dim + 4 * max(m.index_head_dim // 128, 1))


def state_bytes_per_layer(m: ModelArch, kv_bytes_per_elem: float) -> tuple[float, float]:
    """(gated-DeltaNet, Mamba2) state bytes one sequence keeps per layer, whole layer.

    DeltaNet: recurrent state value heads x key dim x value dim, plus the causal-conv window of
    (kernel - 1) past inputs over q, k, v (transformers ``Qwen3NextDynamicCache``: conv and
    recurrent states). Mamba2: SSM state heads x head dim x N, plus (kernel - 1) past inputs
    over x, B, C (``NemotronHHybridDynamicCache``). The recurrent state is stored at
    ``state_bytes_per_elem`` (the checkpoint's ``mamba_ssm_dtype``, else the KV dtype); the
    conv window at the KV dtype.
    """
    ssm_b = m.state_bytes_per_elem or kv_bytes_per_elem
    delta = 0.0
    if m.num_linear_layers:
        key_dim = m.linear_num_key_heads * m.linear_key_head_dim
        value_dim = m.linear_num_value_heads * m.linear_value_head_dim
        recurrent = m.linear_num_value_heads * m.linear_key_head_dim * m.linear_value_head_dim
        conv = (2 * key_dim + value_dim) * max(m.linear_conv_kernel - 1, 0)
        delta = recurrent * ssm_b + conv * kv_bytes_per_elem
    mamba = 0.0
    if m.num_mamba_layers:
        inner = m.mamba_num_heads * m.mamba_head_dim
        ssm = inner * m.mamba_state_size
        conv = (inner + 2 * m.mamba_n_groups * m.mamba_state_size) * max(
            m.mamba_conv_kernel - 1, 0
        )
        mamba = ssm * ssm_b + conv * kv_bytes_per_elem
    return float(delta), float(mamba)


def state_bytes_per_sequence(m: ModelArch, kv_bytes_per_elem: float) -> float:
    """Fixed state bytes of one sequence over all linear-attention and Mamba2 layers."""
    delta, mamba = state_bytes_per_layer(m, kv_bytes_per_elem)
    return delta * m.num_linear_layers + mamba * m.num_mamba_layers


def kv_bytes_per_sequence(
    m: ModelArch, context: ArrayLike, kv_bytes_per_elem: float
) -> FloatArray:
    """Cache bytes of one sequence of ``context`` tokens over all layers (one replica): the
    KV of every attention layer (sliding-window and chunked layers hold at most their window
    or chunk) plus the fixed state of linear-attention and Mamba2 layers.
    """
    ctx = np.asarray(context, dtype=np.float64)
    per_layer = kv_bytes_per_token_per_layer(m, kv_bytes_per_elem)
    window, n_windowed = m.window_cap
    full_layers = m.attention_layers - n_windowed
    capped = n_windowed * np.minimum(ctx, float(window)) if window and n_windowed else 0.0
    index = indexer_bytes_per_token_per_layer(m) * m.attention_layers * ctx
    return np.asarray(
        per_layer * (full_layers * ctx + capped)
        + index
        + state_bytes_per_sequence(m, kv_bytes_per_elem),
        dtype=np.float64,
    )


def kv_shard_factor(m: ModelArch, tp: ArrayLike, pp: ArrayLike) -> FloatArray:
    """Fraction of a sequence's KV cache that one GPU stores.

    GQA: max(KV heads / TP, 1) / KV heads per layer, times 1/PP of the layers. MLA: the latent
    is replicated on each TP rank, so only PP divides it. The fixed state of linear-attention
    and Mamba2 layers splits over TP by heads like GQA (``state_shard_factor``); this factor is
    for the attention KV.
    """
    tp_a = np.asarray(tp, dtype=np.float64)
    pp_a = np.asarray(pp, dtype=np.float64)
    if m.attention_kind == "mla":
        return np.asarray(1.0 / pp_a + 0.0 * tp_a, dtype=np.float64)
    heads_per_gpu = np.maximum(m.num_kv_heads / tp_a, 1.0)
    return np.asarray(heads_per_gpu / m.num_kv_heads / pp_a, dtype=np.float64)


def state_shard_factor(m: ModelArch, tp: ArrayLike, pp: ArrayLike) -> FloatArray:
    """Fraction of a sequence's recurrent state one GPU stores: the heads split over TP
    (vLLM shards DeltaNet value heads and Mamba2 heads over TP ranks), the layers over PP."""
    tp_a = np.asarray(tp, dtype=np.float64)
    pp_a = np.asarray(pp, dtype=np.float64)
    heads = m.linear_num_value_heads or m.mamba_num_heads or 1
    per_gpu = np.maximum(heads / tp_a, 1.0)
    return np.asarray(per_gpu / heads / pp_a, dtype=np.float64)


def cache_bytes_per_sequence_per_gpu(
    m: ModelArch, context: ArrayLike, kv_bytes_per_elem: float, tp: ArrayLike, pp: ArrayLike
) -> FloatArray:
    """Cache bytes one sequence of ``context`` tokens holds on one GPU: its attention KV
    share (:func:`kv_shard_factor`) plus its recurrent-state share (:func:`state_shard_factor`).

    Scalars take :func:`sequence_cache_terms` (the same operations on Python floats)."""
    if type(context) in (float, int):
        terms = sequence_cache_terms(m, kv_bytes_per_elem, tp, pp)
        if terms is not None:
            return np.asarray(terms.bytes_per_gpu(float(context)))
    state = state_bytes_per_sequence(m, kv_bytes_per_elem)
    kv = kv_bytes_per_sequence(m, context, kv_bytes_per_elem) - state
    return np.asarray(
        kv * kv_shard_factor(m, tp, pp) + state * state_shard_factor(m, tp, pp),
        dtype=np.float64,
    )


@dataclass(frozen=True, slots=True)
class SequenceCacheTerms:
    """The terms of :func:`cache_bytes_per_sequence_per_gpu` that do not depend on the
    context, for one model, KV dtype and layout (:func:`sequence_cache_terms`); a deployment
    keeps them and :meth:`bytes_per_gpu` adds the context."""

    per_layer: float
    full_layers: int
    window: int
    windowed_layers: int
    index_per_token: float
    state: float
    kv_shard: float
    state_shard: float

    def bytes_per_gpu(self, ctx: float) -> float:
        """One sequence of ``ctx`` tokens: the operations of :func:`kv_bytes_per_sequence`,
        :func:`kv_shard_factor` and :func:`state_shard_factor` in the same order on floats
        (``tests/perf/test_memory_scalar_path.py`` checks equality)."""
        window, n_windowed = self.window, self.windowed_layers
        capped = n_windowed * min(ctx, float(window)) if window and n_windowed else 0.0
        index = self.index_per_token * ctx
        state = self.state
        kv = self.per_layer * (self.full_layers * ctx + capped) + index + state - state
        return kv * self.kv_shard + state * self.state_shard


def sequence_cache_terms(
    m: ModelArch, kv_bytes_per_elem: float, tp: ArrayLike, pp: ArrayLike
) -> SequenceCacheTerms | None:
    """The context-free terms of one sequence's cache bytes per GPU, or None where the
    scalar path does not apply (TP or PP not a positive int; no KV heads outside MLA)."""
    if not (
        type(tp) is type(pp) is int
        and tp > 0 < pp
        and (m.num_kv_heads > 0 or m.attention_kind == "mla")
    ):
        return None
    window, n_windowed = m.window_cap
    if m.attention_kind == "mla":
        kv_shard = 1.0 / pp + 0.0 * tp
    else:
        kv_shard = max(m.num_kv_heads / tp, 1.0) / m.num_kv_heads / pp
    heads = m.linear_num_value_heads or m.mamba_num_heads or 1
    return SequenceCacheTerms(
        per_layer=kv_bytes_per_token_per_layer(m, kv_bytes_per_elem),
        full_layers=m.attention_layers - n_windowed,
        window=window,
        windowed_layers=n_windowed,
        index_per_token=indexer_bytes_per_token_per_layer(m) * m.attention_layers,
        state=state_bytes_per_sequence(m, kv_bytes_per_elem),
        kv_shard=kv_shard,
        state_shard=max(heads / tp, 1.0) / heads / pp,
    )


def activation_workspace_bytes(
    m: ModelArch, max_batched_tokens: ArrayLike, tp: ArrayLike, act_bytes: float = 2.0
) -> FloatArray:
    """Peak activation memory per GPU for one forward pass of ``max_batched_tokens`` tokens.

    Estimate: the largest live tensors of one layer, hidden states (x2 for the residual),
    q/k/v and the FFN gate+up output (2 x intermediate / TP), at ``act_bytes``; plus fp32
    logits for up to 256 sequences (vLLM samples the last token of each sequence).
    This is what vLLM's profiling run measures before sizing the KV cache.
    """
    t = np.asarray(max_batched_tokens, dtype=np.float64)
    tp_a = np.asarray(tp, dtype=np.float64)
    width = m.moe_intermediate_size * m.experts_per_token if m.is_moe else m.intermediate_size
    width = max(width, m.intermediate_size if not m.is_moe else 0)
    per_token = (
        2 * m.hidden_size
        + (m.num_heads + 2 * m.num_kv_heads) * m.head_dim / tp_a
        + 2 * width / tp_a
    ) * act_bytes
    logits = 256 * m.vocab_size * 4.0 / tp_a
    return np.asarray(t * per_token + logits, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class MemoryBudget:
    """Per-GPU memory accounting, bytes (arrays broadcast over the inputs).

    Attributes:
        usable_bytes: memory the engine may use (fraction x capacity).
        weights_bytes: weights on this GPU.
        workspace_bytes: activations + runtime overhead (CUDA graphs, NCCL buffers).
        kv_bytes: what is left for the KV cache (negative: does not fit).
    """

    usable_bytes: FloatArray
    weights_bytes: FloatArray
    workspace_bytes: FloatArray
    kv_bytes: FloatArray


def memory_budget(
    memory_bytes: ArrayLike,
    usable_fraction: ArrayLike,
    weights_per_gpu_bytes: ArrayLike,
    activation_bytes: ArrayLike,
    runtime_overhead_bytes: ArrayLike,
    nccl_bytes: ArrayLike,
    tp: ArrayLike,
) -> MemoryBudget:
    """KV-cache bytes left per GPU after weights and workspace.

    usable = fraction x memory (vLLM ``gpu_memory_utilization``, default 0.9);
    kv = usable - weights - activations - runtime overhead - NCCL buffers (TP >= 2 only).
    """
    usable = np.asarray(memory_bytes, dtype=np.float64) * np.asarray(usable_fraction)
    tp_a = np.asarray(tp, dtype=np.float64)
    workspace = (
        np.asarray(activation_bytes, dtype=np.float64)
        + np.asarray(runtime_overhead_bytes, dtype=np.float64)
        + np.where(tp_a >= 2, np.asarray(nccl_bytes, dtype=np.float64), 0.0)
    )
    weights = np.asarray(weights_per_gpu_bytes, dtype=np.float64)
    return MemoryBudget(
        usable_bytes=usable + 0.0 * tp_a,
        weights_bytes=weights + 0.0 * tp_a,
        workspace_bytes=workspace,
        kv_bytes=usable - weights - workspace,
    )


def engine_kv_budget(
    memory_bytes: ArrayLike,
    weights_per_gpu_bytes: ArrayLike,
    activation_bytes: ArrayLike,
    tp: ArrayLike,
    *,
    usable_fraction: float,
    fraction_of_free: bool,
    runtime_overhead_bytes: float,
    nccl_bytes: float,
) -> MemoryBudget:
    """The engine's memory budget per GPU, with ``kv_bytes`` as the engine sizes its KV cache.

    vLLM/SGLang (``fraction_of_free`` False): usable = fraction x memory, KV = usable - weights
    - workspace. TensorRT-LLM (True): KV = fraction x (memory - weights - workspace), its
    ``kv_cache_free_gpu_mem_fraction``.
    """
    if fraction_of_free:
        whole = memory_budget(
            memory_bytes, 1.0, weights_per_gpu_bytes, activation_bytes,
            runtime_overhead_bytes, nccl_bytes, tp,
        )  # fmt: skip
        return MemoryBudget(
            usable_bytes=whole.usable_bytes,
            weights_bytes=whole.weights_bytes,
            workspace_bytes=whole.workspace_bytes,
            kv_bytes=whole.kv_bytes * usable_fraction,
        )
    return memory_budget(
        memory_bytes, usable_fraction, weights_per_gpu_bytes, activation_bytes,
        runtime_overhead_bytes, nccl_bytes, tp,
    )  # fmt: skip


def max_concurrency(
    kv_bytes_per_gpu: ArrayLike, kv_bytes_per_seq_per_gpu: ArrayLike
) -> FloatArray:
    """Sequences whose whole KV cache fits: floor(KV bytes / bytes per sequence), >= 0."""
    if type(kv_bytes_per_gpu) is float and type(kv_bytes_per_seq_per_gpu) is float:
        per_seq_f = kv_bytes_per_seq_per_gpu
        if per_seq_f > 0 and math.isfinite(kv_bytes_per_gpu):  # floats: the same floor
            return np.asarray(float(math.floor(max(kv_bytes_per_gpu, 0.0) / per_seq_f)))
    kv = np.asarray(kv_bytes_per_gpu, dtype=np.float64)
    per_seq = np.asarray(kv_bytes_per_seq_per_gpu, dtype=np.float64)
    return np.asarray(np.floor(np.maximum(kv, 0.0) / per_seq), dtype=np.float64)


def kv_heads_shard(num_kv_heads: int, tp: int) -> bool:
    """Whether TP ranks can hold ``num_kv_heads`` KV heads: TP divides them, or they divide
    TP and each is replicated (vLLM's attention layers assert exactly this, e.g.
    vllm/model_executor/models/llama.py ``LlamaAttention``: ``total_num_kv_heads % tp_size``
    when there are at least tp_size of them, else ``tp_size % total_num_kv_heads``)."""
    return num_kv_heads % tp == 0 if num_kv_heads >= tp else tp % num_kv_heads == 0
