"""Time of one engine iteration (step): prefill, decode, or a mixed chunked-prefill batch.

Roofline with efficiencies, per kernel class: the GEMMs (which read the weights) and the
attention kernels (which read the KV cache) run one after the other, so each takes the slower
of its memory traffic and its arithmetic, and their times add; then tensor/pipeline-parallel
communication and a per-step overhead (fixed + per token + per sequence)::

    t = max(W / (BW x MBU), F_linear / (peak x MFU))
      + max(KV / (BW x MBU), F_attention / (peak x MFU)) + logits / (BW x MBU)
      + t_comm + t_overhead

Bytes: the weights each GPU reads once per step (dense part, LM head, and the routed experts
the step's tokens touch), the KV cache of every sequence in the batch, the KV written, and
each sequence's fp32 logits (written by the LM head, read by the sampler: a third,
memory-bound pass after the GEMMs and attention).
FLOP: 2 x active linear parameters per token, the LM head once per sequence, and attention,
4 x heads x head_dim per (token, context token) pair per layer (QK^T and PV; Kaplan et al. 2020,
arXiv:2001.08361, table 1), summed causally for a prompt. All figures are per GPU of one
pipeline stage; every input may be a numpy array and results broadcast.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.catalog.loader import PCIE_X16_BYTES_S
from infercost.catalog.schema import Accelerator, EngineProfile, ModelArch, QuantFormat
from infercost.errors import InputError
from infercost.perf.achievable import achievable_scale
from infercost.perf.memory import (
    indexer_bytes_per_token_per_layer,
    kv_bytes_per_token_per_layer,
    kv_shard_factor,
    quantized_parts,
    state_bytes_per_layer,
    state_shard_factor,
    weight_bytes,
)
from infercost.perf.moe import expected_experts_touched
from infercost.perf.params import ParamCounts, param_counts

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | int | FloatArray

ACTIVATION_BYTES = 2.0  #: bf16/fp16 activations exchanged by TP all-reduces and PP hand-offs
LOGITS_BYTES = 4.0  #: fp32 logits (TensorRT-LLM's default logits dtype; vLLM samples in fp32)
LOGITS_PASSES = 2.0  #: the LM head writes each sequence's logits, the sampler reads them


@dataclass(frozen=True, slots=True)
class StepModel:
    """Per-GPU constants of one deployment that step times need (floats or arrays).

    Built by :func:`step_model`; a sweep may build one with array fields (one element per
    configuration) and every function here broadcasts over them.

    Attributes:
        dense_bytes: weights read every step per GPU (attention, dense FFN, shared experts,
            norms, router, LM head), bytes.
        expert_bytes: bytes of one routed expert (all MoE layers) held per GPU.
        num_experts, experts_per_token: routing (0 for dense models).
        kv_layer_token_bytes: KV bytes per token per full-attention layer on this GPU.
        full_layers, sliding_layers, sliding_window: attention layers on this GPU by kind.
        linear_flop_per_token: 2 x active linear parameters on this GPU (no LM head).
        lm_head_flop_per_seq: 2 x vocab x hidden / TP, once per sequence per step.
        attn_flop_per_ctx: attention FLOP per (query token, context token) pair per layer.
        hidden_size: residual width (all-reduce message size per token).
        mem_bw_bytes_s, peak_flop_s: the accelerator's peak bandwidth and dense FLOP/s at the
            compute dtype.
        mbu, mfu, step_overhead_s, allreduce_latency_s: engine efficiencies.
        tp, pp: parallelism.
        link_bytes_s: per-direction scale-up bandwidth used for TP/PP traffic.
        comm_efficiency: achieved fraction of ``link_bytes_s`` for collectives (NCCL bus
            bandwidth is below the link peak; fitted by calibration).
        token_overhead_s: time per token in the step not covered by the roofline (sampling,
            per-sequence scheduling and bookkeeping; fitted by calibration).
        logits_bytes_per_seq: bytes of logits moved per sequence that emits a token: the LM
            head writes vocab fp32 logits and the sampler reads them (not split by TP: the
            logits are gathered), a separate memory-bound pass after the GEMMs.
        seq_overhead_s: time per sequence in the batch per step outside the roofline
            (per-request scheduling, sampling setup and bookkeeping); 0 unless calibrated.
        dsa_topk: DeepSeek sparse attention: each query attends to at most this many tokens
            on full-attention layers (0: dense attention).
        index_bytes_per_ctx, index_flop_per_ctx: the DSA indexer's key-cache bytes and FLOP
            per (query, context token) pair summed over this GPU's attention layers: it scores
            every context token to pick the top-k.
        state_bytes_per_seq: recurrent state (DeltaNet, Mamba2) of one sequence on this GPU;
            each step reads and writes it once per sequence.
        state_flop_per_token: recurrent-state FLOP per token on this GPU (state update and
            readout, ~6 x heads x d_k x d_v per layer).
        moe_token_scale: tokens the experts on this GPU see per token of this rank (the
            number of data-parallel ranks when experts spread over them; 1 otherwise).
        alltoalls_per_step, alltoall_bytes_per_token: expert-parallel token exchanges per
            step on this GPU (dispatch + combine per MoE layer) and the bytes each token of
            this rank sends per exchange (see :func:`with_expert_parallel`).
        allreduces_per_step: TP all-reduces per step on this GPU (2 per decoder block: after
            the mixer and after the FFN; 1 per Nemotron-H single-mixer block); 0: 2 x the
            attention layers (older constructions).
        expert_flop_per_pair: routed-expert FLOP per (token, expert) pair on this GPU, all
            its MoE layers (2 x expert params / expert-TP shards); 0: the experts' FLOP are in
            ``linear_flop_per_token`` (older constructions).
        expert_pairs_per_token: (token, expert) pairs this GPU computes per token its experts
            see (k / EP).
        expert_tile_rows: rows of the smallest tensor-core tile (wgmma m64 on Hopper and
            Blackwell, mma m16 before): an expert GEMM with fewer routed tokens than this
            still computes a whole tile (0: no floor).
        expert_act_bytes_per_pair, expert_act_bytes_per_token: MoE activation traffic per
            (token, expert) pair on this GPU (permute write, GEMM inputs and outputs, combine
            read) and per token of this rank (permute read, combine write), all MoE layers.
        dense_act_bytes_per_token: activations the dense GEMMs (attention projections, dense
            FFN, shared experts, router) read and write per token on this GPU.
        act_cached_tokens: tokens whose widest dense activation row still fits the L2 cache
            (:data:`L2_PRIOR_BYTES`): below it a GEMM's output is read back by the next kernel
            from L2, so only the tokens above it add activation traffic to HBM (0: all do).
        expert_peak_ratio, lm_head_peak_ratio, attn_peak_ratio: peak FLOP/s of the routed
            experts' GEMMs, the LM head and the attention math, each at its operands' compute
            dtype, over ``peak_flop_s`` (the dense GEMMs' effective peak); 1: the same peak.
        attn_flop_per_ctx_prefill: attention FLOP per (query, context) pair of a prompt
            token (MLA prefill runs un-absorbed: per-head K and V up-projected); 0: as decode.
        tp_local: GPUs of the TP group inside one scale-up domain when the group spans
            several (the NVLink stage of a hierarchical all-reduce runs over these); 0: the
            whole group is on one domain (``tp``).
        pp_cross: pipeline hand-offs per step that cross the scale-out network (they leave
            the ``pp - 1`` hand-offs over the scale-up link); 0: none.
        scaleout_const_s, scaleout_per_token_s: scale-out network time per step and per token
            of this rank (the inter-node stage of TP all-reduces, PP hand-offs across nodes,
            the cross-node share of the EP all-to-all; :mod:`infercost.perf.comm`); 0: one
            scale-up domain.
        expert_log_ranks: ln R of R expert-parallel ranks when the step is set by the busiest
            rank's expert load (wide EP): the routed (token, expert) pairs on it are
            mu + sqrt(2 mu ln R) for a mean of mu (:func:`infercost.perf.comm.expert_imbalance`);
            0: balanced.
        moe_layers: MoE layers on this GPU (its pipeline stage's share).
        graph_batch_sizes: the engine's CUDA-graph batch sizes with padding on, ascending
            (``EngineProfile.cuda_graph_batch_sizes``): a decode-only step of b sequences
            runs its GEMMs, MoE, LM head and collectives at the smallest size >= b
            (:func:`graph_padded`); KV traffic, attention and overheads stay at b. Steps with
            a prefill, and batches above the largest size, run unpadded. Empty: no padding.
        nvlink_peers: GPUs that share the scale-up link (0: the whole scale-up domain; 1: none,
            a PCIe-only card; 2: NVLink-bridged pairs). A collective over more GPUs than this
            runs over PCIe at NCCL's PCIe bus bandwidth (:func:`collective_bytes_s`).
        pcie_bytes_s: the card's PCIe x16 bandwidth per direction (used when a collective
            leaves its NVLink peers).
        oneshot_max_bytes_4, oneshot_max_bytes_8: the engine's one-shot all-reduce
            thresholds for TP groups of 3-4 and 5-8 GPUs, bytes
            (:func:`oneshot_threshold_bytes`, :func:`allreduce_traffic_bytes`).
        moe_layer_overhead_s: fixed time per MoE layer per step outside the roofline (router,
            top-k, token permutation and un-permutation, grouped-GEMM launches and their
            synchronisation: several more kernels per layer than a dense FFN); 0 unless
            calibrated.
        expert_dequant: 1 where the routed experts run a weight-only grouped GEMM that
            dequantises its weights to the activation dtype in registers (W4A16: MXFP4 on
            Hopper, AWQ / GPTQ INT4 experts; :func:`OperandPeaks`), else 0.
        expert_dequant_efficiency: the fraction of the MFU such a grouped GEMM reaches (an
            engine's, fitted on the rows that run one; 1: no loss beyond the bf16 rate).
    """

    dense_bytes: ArrayLike
    expert_bytes: ArrayLike
    num_experts: int
    experts_per_token: int
    kv_layer_token_bytes: ArrayLike
    full_layers: ArrayLike
    sliding_layers: ArrayLike
    sliding_window: float
    linear_flop_per_token: ArrayLike
    lm_head_flop_per_seq: ArrayLike
    attn_flop_per_ctx: ArrayLike
    hidden_size: int
    mem_bw_bytes_s: ArrayLike
    peak_flop_s: ArrayLike
    mbu: ArrayLike
    mfu: ArrayLike
    step_overhead_s: ArrayLike
    allreduce_latency_s: ArrayLike
    tp: ArrayLike
    pp: ArrayLike
    link_bytes_s: ArrayLike
    comm_efficiency: ArrayLike = 1.0
    token_overhead_s: ArrayLike = 0.0
    logits_bytes_per_seq: ArrayLike = 0.0
    seq_overhead_s: ArrayLike = 0.0
    dsa_topk: float = 0.0
    index_bytes_per_ctx: ArrayLike = 0.0
    index_flop_per_ctx: ArrayLike = 0.0
    state_bytes_per_seq: ArrayLike = 0.0
    state_flop_per_token: ArrayLike = 0.0
    allreduces_per_step: ArrayLike = 0.0
    moe_token_scale: ArrayLike = 1.0
    alltoalls_per_step: ArrayLike = 0.0
    alltoall_bytes_per_token: ArrayLike = 0.0
    expert_flop_per_pair: ArrayLike = 0.0
    expert_pairs_per_token: ArrayLike = 0.0
    expert_tile_rows: ArrayLike = 0.0
    expert_act_bytes_per_pair: ArrayLike = 0.0
    expert_act_bytes_per_token: ArrayLike = 0.0
    dense_act_bytes_per_token: ArrayLike = 0.0
    act_cached_tokens: ArrayLike = 0.0
    expert_peak_ratio: ArrayLike = 1.0
    lm_head_peak_ratio: ArrayLike = 1.0
    attn_peak_ratio: ArrayLike = 1.0
    attn_flop_per_ctx_prefill: ArrayLike = 0.0
    tp_local: ArrayLike = 0.0
    pp_cross: ArrayLike = 0.0
    scaleout_const_s: ArrayLike = 0.0
    scaleout_per_token_s: ArrayLike = 0.0
    expert_log_ranks: ArrayLike = 0.0
    moe_layers: ArrayLike = 0.0
    moe_layer_overhead_s: ArrayLike = 0.0
    nvlink_peers: ArrayLike = 0.0
    pcie_bytes_s: ArrayLike = 0.0
    oneshot_max_bytes_4: ArrayLike = 0.0
    oneshot_max_bytes_8: ArrayLike = 0.0
    expert_dequant: ArrayLike = 0.0
    expert_dequant_efficiency: ArrayLike = 1.0
    graph_batch_sizes: tuple[float, ...] = ()


def compute_dtype(acc: Accelerator, fmt: QuantFormat) -> str:
    """The dtype matmuls run at: the format's native dtype where ``acc`` supports it (and the
    dtype its native path also needs, ``QuantFormat.compute_requires``: MXFP4 x MXFP8 at the
    FP8 rate needs FP4 tensor cores), else its weight-only fallback (dequantise to bf16).
    Raises InputError if neither is published."""
    native_ok = fmt.compute_requires is None or acc.flop_s(fmt.compute_requires) is not None
    for dtype in (fmt.compute_dtype, fmt.fallback_compute_dtype):
        if dtype == fmt.compute_dtype and not native_ok:
            continue
        if acc.flop_s(dtype) is not None:
            return dtype
    wanted = " or ".join(dict.fromkeys((fmt.compute_dtype, fmt.fallback_compute_dtype)))
    raise InputError(
        f"{acc.name} has no published dense {wanted} tensor FLOP/s, so its compute time cannot "
        f"be predicted (see `infercost gpus`). Add a measured figure for {acc.id} in a user "
        "catalog (INFERCOST_CATALOG_DIR/accelerators.csv) or pick another GPU."
    )


#: Rows of the smallest dense tensor-core MMA per architecture family: Hopper's
#: ``wgmma.mma_async`` and Blackwell's ``tcgen05.mma`` take M = 64 at least (PTX ISA 8.x,
#: "Asynchronous Warpgroup Level Matrix Multiply-Accumulate": shapes m64nNk16), Ampere/Ada's
#: ``mma.sync`` m16n8k16, CDNA3's MFMA 16x16x16. A routed expert's GEMM with fewer tokens than
#: this computes a whole tile all the same.
TILE_ROWS: dict[str, float] = {"hopper": 64.0, "blackwell": 64.0}
DEFAULT_TILE_ROWS = 16.0

#: Rows of the smallest tile of a weight-only (dequantising) grouped GEMM on any GPU: such
#: kernels convert the weights in registers and feed ``mma.sync`` m16n8k16 (the Marlin
#: kernel family, Frantar et al., arXiv:2408.11743, section 4; its MoE variants in vLLM and
#: SGLang), picking the tile height from the tokens an expert gets down to 16 rows, not
#: Hopper's asynchronous wgmma m64 (whose B operand must come from shared memory as is).
DEQUANT_TILE_ROWS = 16.0

#: L2 cache a step's activations can live in between kernels: a documented prior for every GPU,
#: the smallest L2 among the calibrated datacenter GPUs (A100: 40 MB, NVIDIA A100 Tensor Core
#: GPU Architecture whitepaper, 2020; H100/H200: 50 MB, NVIDIA H100 whitepaper, 2022).
L2_PRIOR_BYTES = 40e6

#: The dtype unquantized GEMMs (16-bit weights, the LM head) and the attention math run at:
#: the activation dtype. FP16 shares the bf16 FLOP/s column (quant_formats.toml, fp16).
ACTIVATION_DTYPE = "bf16"


def expert_tile_rows(m: ModelArch, acc: Accelerator, peaks: OperandPeaks) -> float:
    """Rows of the smallest tile a routed expert's GEMM computes on ``acc``: 0 for a dense
    model, :data:`DEQUANT_TILE_ROWS` for weight-only experts, else :func:`tile_rows`."""
    if not m.is_moe:
        return 0.0
    return DEQUANT_TILE_ROWS if peaks.expert_dequant else tile_rows(acc)


def expert_dequant_scale(expert_dequant: ArrayLike, efficiency: ArrayLike) -> ArrayLike:
    """The factor on the routed experts' peak FLOP/s: ``efficiency`` where they are
    weight-only (``expert_dequant`` 1), 1 where not; the same operations on floats and arrays
    (the step model's array and scalar paths and the simulator use it alike)."""
    return 1.0 - expert_dequant * (1.0 - efficiency)


def tile_rows(acc: Accelerator) -> float:
    """Smallest tensor-core tile height of ``acc`` (see :data:`TILE_ROWS`)."""
    return TILE_ROWS.get(acc.generation, DEFAULT_TILE_ROWS)


def _peak_or_error(acc: Accelerator, dtype: str) -> float:
    """Dense FLOP/s at ``dtype`` the step model uses: the datasheet peak x the GPU's measured
    reachable share over the reference GPU's (:mod:`infercost.perf.achievable`)."""
    peak = acc.flop_s(dtype)
    if peak is None:
        raise InputError(
            f"{acc.name} has no published dense {dtype} tensor FLOP/s, so its compute time "
            f"cannot be predicted (see `infercost gpus`). Add a measured figure for {acc.id} "
            "in a user catalog (INFERCOST_CATALOG_DIR/accelerators.csv) or pick another GPU."
        )
    return peak * achievable_scale(acc.id).gemm_factor(dtype)


def usable_mem_bw_bytes_s(acc: Accelerator) -> float:
    """Device-memory bandwidth the step model uses: the datasheet figure x the GPU's measured
    reachable share over the reference GPU's (:mod:`infercost.perf.achievable`), bytes/s."""
    return acc.mem_bw_bytes_s * achievable_scale(acc.id).bandwidth


@dataclass(frozen=True, slots=True)
class OperandPeaks:
    """Peak dense FLOP/s of each GEMM class at its operands' compute dtype on one GPU.

    Attributes:
        dense: effective peak of the dense GEMMs (attention projections, dense FFN, shared
            experts, router): their FLOP over the sum of each part's FLOP / its own peak, so
            that FLOP / dense is the time each part takes at its own rate.
        expert: the routed experts' GEMMs.
        lm_head: the LM head (kept 16-bit by every quantization recipe).
        attention: the attention math (QK^T, PV) at the activation dtype.
        dtypes: part -> compute dtype, for the explain trail.
        expert_dequant: the routed experts' GEMM is weight-only: its weights are stored in
            fewer bits than it computes at (a 16-bit dtype), so it dequantises them first.
    """

    dense: float
    expert: float
    lm_head: float
    attention: float
    dtypes: tuple[tuple[str, str], ...]
    expert_dequant: bool = False


def operand_peaks(
    m: ModelArch, acc: Accelerator, fmt: QuantFormat, counts: ParamCounts | None = None
) -> OperandPeaks:
    """Per-operand compute peaks: a part the format quantizes (``memory.quantized_parts``:
    the checkpoint's own ``quantization_config``, or every linear part under
    ``--weight-dtype``) runs at :func:`compute_dtype` (the format's native dtype where the
    GPU has it, e.g. FP8 W8A8 on Hopper or FP4 on Blackwell; else its weight-only fallback:
    W4A16 and MXFP4 on Hopper dequantise to bf16); every other part, the LM head and the
    attention math run at the activation dtype (bf16).

    Raises:
        InputError: the accelerator lacks a dtype needed.
    """
    c = counts or param_counts(m)
    parts = quantized_parts(m, fmt)
    act_peak = _peak_or_error(acc, ACTIVATION_DTYPE)
    q_dtype = compute_dtype(acc, fmt)
    q_peak = _peak_or_error(acc, q_dtype)

    def dtype_of(part: str) -> str:
        return q_dtype if part in parts else ACTIVATION_DTYPE

    flop = {
        "attention": float(c.mixers - c.attention_out),
        "attention_out": float(c.attention_out),
        "dense_ffn": float(c.dense_ffn),
        "shared_experts": float(c.shared_experts),
    }
    rates = [(float(c.router), act_peak)] + [
        (f, q_peak if part in parts else act_peak) for part, f in flop.items()
    ]
    used = {peak for f, peak in rates if f > 0}
    if len(used) == 1:
        dense = used.pop()
    elif used:
        dense = sum(f for f, _ in rates) / sum(f / peak for f, peak in rates)
    else:
        dense = q_peak
    expert = q_peak if "experts" in parts else act_peak
    dtypes = (
        *((part, dtype_of(part)) for part in (*flop, "experts")),
        ("router", ACTIVATION_DTYPE),
        ("lm_head", ACTIVATION_DTYPE),
        ("attention_math", ACTIVATION_DTYPE),
    )
    # weight-only: stored in fewer bits than a 16-bit compute dtype (W4A16, W8A16)
    dequant = q_dtype in SIXTEEN_BIT_DTYPES and fmt.bits_per_weight < 15.0
    return OperandPeaks(
        dense,
        expert,
        act_peak,
        act_peak,
        dtypes,
        expert_dequant=dequant and m.is_moe and "experts" in parts,
    )


#: Compute dtypes a weight-only GEMM dequantises its weights to.
SIXTEEN_BIT_DTYPES = frozenset({"bf16", "fp16"})


def dense_activation_bytes_per_token(m: ModelArch, tp: ArrayLike) -> ArrayLike:
    """Activation bytes the dense GEMMs of one token read and write on one of ``tp`` GPUs,
    all layers (before the PP split): each GEMM reads its input row and writes its output
    row at :data:`ACTIVATION_BYTES` (Megatron sharding: a column-parallel GEMM reads the
    whole hidden row and writes 1/TP of its output, a row-parallel one reads 1/TP and
    writes the whole row). Counted: attention (q/k/v or MLA's low-rank projections, o),
    gated-DeltaNet and Mamba2 in/out projections, dense FFN, shared experts, router."""
    h = float(m.hidden_size)
    n1 = 2.0 if m.gated_mlp else 1.0
    if m.attention_kind == "mla":
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        q_in = (h + m.q_lora_rank + m.q_lora_rank) if m.q_lora_rank else h
        kv_a = h + m.kv_lora_rank + m.qk_rope_head_dim
        rep = q_in + kv_a + m.kv_lora_rank + h
        split = m.num_heads * (qk + m.qk_nope_head_dim + 2 * m.v_head_dim)
    else:
        q = m.num_heads * m.head_dim * (2 if m.attn_output_gate else 1)
        kv = 2 * m.num_kv_heads * m.head_dim
        rep = 2.0 * h
        split = q + kv + m.num_heads * m.head_dim
    attn_rep, attn_split = rep * m.attention_layers, split * m.attention_layers
    key_dim = m.linear_num_key_heads * m.linear_key_head_dim
    value_dim = m.linear_num_value_heads * m.linear_value_head_dim
    lin_split = (2 * key_dim + 3 * value_dim + 2 * m.linear_num_value_heads) * m.num_linear_layers
    inner = m.mamba_num_heads * m.mamba_head_dim
    bc = 2 * m.mamba_n_groups * m.mamba_state_size
    mamba_split = (3 * inner + bc + m.mamba_num_heads) * m.num_mamba_layers
    mixer_rep = attn_rep + 2.0 * h * (m.num_linear_layers + m.num_mamba_layers)
    dense_layers = m.num_dense_layers if m.is_moe else m.ffn_layers
    ffn_rep = 2.0 * h * dense_layers
    ffn_split = (n1 + 1.0) * m.intermediate_size * dense_layers
    shared = m.num_shared_experts * m.num_moe_layers
    ffn_rep += 2.0 * h * shared
    ffn_split += (n1 + 1.0) * m.shared_expert_intermediate_size * shared
    router = (h + m.num_experts) * m.num_moe_layers
    split_total = attn_split + lin_split + mamba_split + ffn_split
    return ACTIVATION_BYTES * (mixer_rep + ffn_rep + router + split_total / tp)


def widest_dense_row_bytes(m: ModelArch, tp: ArrayLike) -> ArrayLike:
    """Bytes of the widest activation row one token writes in a dense GEMM on one of ``tp``
    GPUs (the gate/up output of the dense FFN or shared expert, or the q/k/v output)."""
    n1 = 2.0 if m.gated_mlp else 1.0
    widths = [
        m.num_heads * m.head_dim * (2 if m.attn_output_gate else 1)
        + 2 * m.num_kv_heads * m.head_dim,
        n1 * (m.intermediate_size if (m.num_dense_layers or not m.is_moe) else 0),
        n1 * m.shared_expert_intermediate_size * m.num_shared_experts,
    ]
    return ACTIVATION_BYTES * max(widths) / tp


def expert_activation_bytes(m: ModelArch, expert_tp: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """(per (token, expert) pair, per token) MoE activation bytes of all MoE layers on one
    GPU whose experts are split ``expert_tp`` ways (TensorRT-LLM ``moe_tp_size``).

    The MoE layer runs as separate kernels (TensorRT-LLM ``cutlass_kernels/moe_kernels.cu``:
    ``expandInputRowsKernel`` permutes each token to its k expert rows, the grouped GEMMs,
    ``finalizeMoeRoutingKernel`` combines the k outputs; vLLM's fused_moe and SGLang's
    likewise): per pair the permuted row is written and read back by GEMM1 (2 h), GEMM1
    writes its 2I (gated) or I outputs, GEMM2 reads I and writes h, the combine reads it
    (h); per token the permute reads the hidden row and the combine writes it (2 h).
    """
    if not m.is_moe:
        return 0.0, 0.0
    h = float(m.hidden_size)
    i = float(m.moe_intermediate_size)
    n1 = (2.0 if m.gated_mlp else 1.0) * i
    layers = m.num_moe_layers * ACTIVATION_BYTES
    return (4.0 * h + (n1 + i) / expert_tp) * layers, 2.0 * h * layers


def mla_prefill_attn_flop_per_ctx(m: ModelArch) -> float:
    """Attention FLOP per (prompt query, context token) pair of MLA run un-absorbed, as
    engines run prefill (vLLM ``attention/backends/mla/common.py``: prefill up-projects the
    latent to per-head K and V, decode absorbs W_UK/W_UV into q and the output): QK^T over
    qk_nope + qk_rope and PV over v_head_dim, 2 FLOP each, per head. 0 for other kinds."""
    if m.attention_kind != "mla":
        return 0.0
    qk = m.qk_nope_head_dim + m.qk_rope_head_dim
    return 2.0 * m.num_heads * (qk + m.v_head_dim)


def pcie_bytes_s(acc: Accelerator) -> float:
    """Per-direction PCIe x16 bandwidth of ``acc``'s generation (Gen4 when unstated)."""
    return PCIE_X16_BYTES_S.get(acc.pcie_gen or 4, PCIE_X16_BYTES_S[4])


def link_bytes_s(acc: Accelerator) -> float:
    """Per-direction GPU-to-GPU bandwidth: the scale-up link, else PCIe x16 of its generation
    (Gen4 when unstated)."""
    if acc.interconnect_bytes_s:
        return acc.interconnect_bytes_s
    return pcie_bytes_s(acc)


def collective_link_bytes_s(acc: Accelerator) -> float:
    """The scale-up link's per-direction bandwidth the collectives are costed on: the
    datasheet link x the GPU's measured all-reduce share over the reference GPU's
    (:mod:`infercost.perf.achievable`; 1 without a measured figure, and for PCIe-only cards,
    whose collectives take :data:`PCIE_BUSBW_FRACTION_UP_TO_4`), bytes/s."""
    link = link_bytes_s(acc)
    return link * achievable_scale(acc.id).collective if acc.interconnect_bytes_s else link


def nvlink_peers(acc: Accelerator) -> float:
    """GPUs that share ``acc``'s scale-up link: 0 for a whole scale-up domain (NVLink/NVSwitch
    boards, xGMI, ICI, NeuronLink), 1 for PCIe-only cards, 2 for NVLink-bridged pairs (the
    catalog's "bridge" interconnects: A100/H100 PCIe, H100 NVL; NVIDIA's H100 NVL product
    brief: "NVLink bridge connecting two GPUs"). See :func:`collective_bytes_s`."""
    if not acc.interconnect_bytes_s:
        return 1.0
    return 2.0 if "bridge" in acc.interconnect.lower() else 0.0


#: NCCL all-reduce bus bandwidth reached over PCIe, as a share of the x16 link per direction,
#: for groups of up to 4 GPUs and of 5-8: 35 GB/s (4 GPUs) and 28 GB/s (8 GPUs) of a PCIe Gen5
#: x16 link's 64 GB/s, 1-8 GB messages, 8 x RTX 5090 in a dual-socket Xeon 8480+ server
#: (NVIDIA/nccl issue #1639, 2025-03-14; the NCCL maintainer's reply there: on PCIe systems
#: the CPU and memory set the bandwidth). The engines' own all-reduce kernels need NVLink
#: (vLLM ``custom_all_reduce.py`` turns its kernel off for more than two PCIe-only GPUs), so
#: over PCIe they run NCCL's and the engine's fitted ``comm_efficiency`` (fitted on NVLink
#: rows) does not apply.
PCIE_BUSBW_FRACTION_UP_TO_4 = 35.0 / 64.0
PCIE_BUSBW_FRACTION_ABOVE_4 = 28.0 / 64.0


def collective_bytes_s(
    link: ArrayLike,
    comm_efficiency: ArrayLike,
    peers: ArrayLike,
    pcie: ArrayLike,
    group: ArrayLike,
) -> FloatArray:
    """Achieved per-direction bandwidth of a collective over ``group`` GPUs, bytes/s.

    Within the scale-up link (``peers`` 0, or a group no larger than ``peers``): the link x
    the engine's fitted ``comm_efficiency``. A group larger than its NVLink peers (PCIe-only
    cards, bridged pairs at TP > 2) runs NCCL over PCIe: ``pcie`` x
    :data:`PCIE_BUSBW_FRACTION_UP_TO_4` (<= 4 GPUs) or :data:`PCIE_BUSBW_FRACTION_ABOVE_4`.
    A group of one (PP hand-offs, a lone rank) is taken as two GPUs. Arrays broadcast.
    """
    g = np.maximum(np.asarray(group, dtype=np.float64), 2.0)
    p = np.asarray(peers, dtype=np.float64)
    over_pcie = (p > 0) & (g > p)
    frac = np.where(g > 4, PCIE_BUSBW_FRACTION_ABOVE_4, PCIE_BUSBW_FRACTION_UP_TO_4)
    scale_up = np.asarray(link, dtype=np.float64) * np.asarray(comm_efficiency)
    return np.asarray(np.where(over_pcie, np.asarray(pcie) * frac, scale_up), dtype=np.float64)


def oneshot_threshold_bytes(
    group: ArrayLike,
    tp: ArrayLike,
    peers: ArrayLike,
    max_bytes_4: ArrayLike,
    max_bytes_8: ArrayLike,
) -> FloatArray:
    """Message size below which a TP all-reduce over ``group`` NVLink GPUs runs the engine's
    one-shot kernel, bytes (0: never).

    The engines' own all-reduce kernels (vLLM and SGLang ``custom_all_reduce.cuh``,
    TensorRT-LLM's AUTO strategy) need the whole TP group in one NVLink domain: ``group``
    equal to ``tp`` and within the link's ``peers`` (0: the whole scale-up domain). For 3-4
    GPUs the engine's ``max_bytes_4`` applies, for 5-8 ``max_bytes_8``; 2 GPUs move the same
    bytes either way, and larger or split groups run NCCL's ring. Arrays broadcast.
    """
    g = np.asarray(group, dtype=np.float64)
    p = np.asarray(peers, dtype=np.float64)
    custom = (g == np.asarray(tp, dtype=np.float64)) & ((p == 0) | (g <= p)) & (g > 2) & (g <= 8)
    thr = np.where(g <= 4, np.asarray(max_bytes_4), np.asarray(max_bytes_8))
    return np.asarray(np.where(custom, thr, 0.0), dtype=np.float64)


def allreduce_traffic_bytes(
    msg: ArrayLike, group: ArrayLike, oneshot_max: ArrayLike
) -> FloatArray:
    """Bytes one GPU moves over its link in an all-reduce of ``msg`` bytes over ``group``
    GPUs (the bandwidth term of :func:`comm_s`; arrays broadcast).

    Two-shot (reduce-scatter then all-gather, as NCCL's ring): 2 (n - 1) / n x msg. One-shot,
    below ``oneshot_max`` (:func:`oneshot_threshold_bytes`): each GPU reads the whole message
    from each of its n - 1 peers and reduces it locally, (n - 1) x msg, 4x the two-shot bytes at
    n = 8, in one round trip (vLLM ``cross_device_reduce_1stage`` against ``_2stage``). Above the
    threshold the two-shot bytes carry the difference at the threshold, (n - 1 - 2 (n - 1) / n)
    x threshold, as a fixed cost: an engine switches kernels where the two take the same time
    (the threshold is its measured crossover), so the cost is continuous in the message size
    and two-shot's extra synchronisation is priced by where the engine put the switch. Both in
    one formula: 2 (n - 1) / n x msg + (n - 1 - 2 (n - 1) / n) x min(msg, threshold).
    """
    n = np.asarray(group, dtype=np.float64)
    m = np.asarray(msg, dtype=np.float64)
    ring = 2.0 * (n - 1.0) / n
    one = n - 1.0
    return np.asarray(ring * m + (one - ring) * np.minimum(m, oneshot_max), dtype=np.float64)


def step_model(
    m: ModelArch,
    acc: Accelerator,
    weight_fmt: QuantFormat,
    kv_bytes_per_elem: float,
    engine: EngineProfile,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
) -> StepModel:
    """Per-GPU step-time constants for ``m`` on ``acc`` at the given precision and parallelism.

    Raises:
        InputError: the accelerator lacks the compute dtype (see :func:`compute_dtype`).
    """
    return shard_step_model(
        m, unsharded_step_model(m, acc, weight_fmt, kv_bytes_per_elem, engine), tp, pp, ep
    )


def unsharded_step_model(
    m: ModelArch,
    acc: Accelerator,
    weight_fmt: QuantFormat,
    kv_bytes_per_elem: float,
    engine: EngineProfile,
) -> StepModel:
    """Step-time constants of the whole model on one ``acc`` (TP = PP = EP = 1).

    Raises:
        InputError: the accelerator lacks the compute dtype (see :func:`compute_dtype`).
    """
    counts = param_counts(m)
    w = weight_bytes(m, weight_fmt, counts)
    peaks = operand_peaks(m, acc, weight_fmt, counts)
    peak = peaks.dense
    # dense GEMMs: mixers (attention, DeltaNet, Mamba2 projections), dense FFN, shared experts
    # and routers; the routed experts are a grouped GEMM of their own (expert_flop_per_pair)
    linear_params = counts.mixers + counts.dense_ffn
    expert_pair_flop = 0.0
    if m.is_moe:
        per_expert = counts.experts // (m.num_experts * m.num_moe_layers)
        linear_params += counts.shared_experts + counts.router
        expert_pair_flop = 2.0 * per_expert * m.num_moe_layers
    expert_pair_bytes, expert_token_bytes = expert_activation_bytes(m, 1.0)
    if m.attention_kind == "mla":
        # absorbed MLA decode: scores over (kv_lora_rank + rope) and values over kv_lora_rank
        attn = 2.0 * m.num_heads * (2 * m.kv_lora_rank + m.qk_rope_head_dim)
    else:
        attn = 4.0 * m.num_heads * m.head_dim
    window, n_windowed = m.window_cap
    delta_b, mamba_b = state_bytes_per_layer(m, kv_bytes_per_elem)
    # recurrent state per token: update (k v^T, decay) and readout (S^T q), ~6 FLOP per
    # state element (Yang et al., Gated Delta Networks, arXiv:2412.06464; Mamba2 SSD,
    # arXiv:2405.21060, the same outer-product recurrence)
    state_flop = 6.0 * (
        m.num_linear_layers
        * m.linear_num_value_heads
        * m.linear_key_head_dim
        * m.linear_value_head_dim
        + m.num_mamba_layers * m.mamba_num_heads * m.mamba_head_dim * m.mamba_state_size
    )
    # one TP all-reduce after each mixer and one after each FFN (2 per decoder block; 1 per
    # Nemotron-H block, which holds either)
    allreduces = float(m.attention_layers + m.state_layers + m.ffn_layers)
    return StepModel(
        dense_bytes=w.dense + w.lm_head,
        expert_bytes=w.per_expert_all_layers,
        num_experts=m.num_experts,
        experts_per_token=m.experts_per_token,
        kv_layer_token_bytes=kv_bytes_per_token_per_layer(m, kv_bytes_per_elem),
        full_layers=float(m.attention_layers - n_windowed),
        sliding_layers=float(n_windowed),
        sliding_window=float(window),
        dsa_topk=float(m.index_topk),
        index_bytes_per_ctx=indexer_bytes_per_token_per_layer(m) * m.attention_layers,
        index_flop_per_ctx=2.0 * m.index_n_heads * m.index_head_dim * m.attention_layers,
        state_bytes_per_seq=delta_b * m.num_linear_layers + mamba_b * m.num_mamba_layers,
        state_flop_per_token=state_flop,
        allreduces_per_step=allreduces,
        linear_flop_per_token=2.0 * linear_params,
        lm_head_flop_per_seq=2.0 * m.vocab_size * m.hidden_size,
        logits_bytes_per_seq=LOGITS_PASSES * LOGITS_BYTES * m.vocab_size,
        attn_flop_per_ctx=attn,
        hidden_size=m.hidden_size,
        mem_bw_bytes_s=usable_mem_bw_bytes_s(acc),
        peak_flop_s=peak,
        mbu=engine.mbu,
        mfu=engine.mfu,
        step_overhead_s=engine.step_overhead_s,
        allreduce_latency_s=engine.allreduce_latency_s,
        tp=1,
        pp=1,
        link_bytes_s=collective_link_bytes_s(acc),
        comm_efficiency=engine.comm_efficiency,
        oneshot_max_bytes_4=engine.allreduce_oneshot_max_bytes_4,
        oneshot_max_bytes_8=engine.allreduce_oneshot_max_bytes_8,
        token_overhead_s=engine.token_overhead_s,
        seq_overhead_s=engine.seq_overhead_s,
        expert_flop_per_pair=expert_pair_flop,
        expert_pairs_per_token=float(m.experts_per_token),
        expert_tile_rows=expert_tile_rows(m, acc, peaks),
        expert_dequant=1.0 if peaks.expert_dequant else 0.0,
        expert_dequant_efficiency=engine.expert_dequant_efficiency,
        expert_act_bytes_per_pair=expert_pair_bytes,
        expert_act_bytes_per_token=expert_token_bytes,
        moe_layers=float(m.num_moe_layers),
        moe_layer_overhead_s=engine.moe_layer_overhead_s,
        nvlink_peers=nvlink_peers(acc),
        pcie_bytes_s=pcie_bytes_s(acc),
        dense_act_bytes_per_token=dense_activation_bytes_per_token(m, 1.0),
        act_cached_tokens=L2_PRIOR_BYTES / widest_dense_row_bytes(m, 1.0),
        expert_peak_ratio=peaks.expert / peak,
        lm_head_peak_ratio=peaks.lm_head / peak,
        attn_peak_ratio=peaks.attention / peak,
        attn_flop_per_ctx_prefill=mla_prefill_attn_flop_per_ctx(m),
    )


def shard_step_model(
    m: ModelArch, whole: StepModel, tp: ArrayLike, pp: ArrayLike, ep: ArrayLike
) -> StepModel:
    """Per-GPU share of an unsharded step model under TP, PP and EP (arrays broadcast).

    Attention, dense FFN, LM head and their FLOP split over TP x PP; routed experts over
    max(TP, EP) x PP; layers (and so KV and attention per GPU) over PP; GQA KV heads over TP
    with at least one head per rank, the MLA latent replicated (``memory.kv_shard_factor``);
    attention FLOP per context token over TP (heads). The routed experts are split into EP
    groups of whole experts, each expert over max(TP, EP) / EP GPUs (TensorRT-LLM
    ``moe_tp_size`` x ``moe_ep_size`` = TP): a GPU computes k / EP (token, expert) pairs per
    token, each at 1 / expert-TP of the expert's FLOP.
    """
    arrays = any(isinstance(x, np.ndarray) for x in (tp, pp, ep))
    experts_div = np.maximum(tp, ep) if arrays else max(tp, ep)
    expert_tp = experts_div / ep
    pair_bytes, token_bytes = expert_activation_bytes(m, expert_tp)
    kv_shard = kv_shard_factor(m, tp, 1)
    kv_share = kv_shard if arrays else float(kv_shard)
    state_shard = state_shard_factor(m, tp, pp)
    state_share = state_shard if arrays else float(state_shard)
    return dataclasses.replace(
        whole,
        index_bytes_per_ctx=whole.index_bytes_per_ctx / pp,
        index_flop_per_ctx=whole.index_flop_per_ctx / (tp * pp),
        state_bytes_per_seq=whole.state_bytes_per_seq * state_share,
        state_flop_per_token=whole.state_flop_per_token / (tp * pp),
        allreduces_per_step=whole.allreduces_per_step / pp,
        dense_bytes=whole.dense_bytes / (tp * pp),
        expert_bytes=whole.expert_bytes / (experts_div * pp),
        kv_layer_token_bytes=whole.kv_layer_token_bytes * kv_share,
        full_layers=whole.full_layers / pp,
        sliding_layers=whole.sliding_layers / pp,
        moe_layers=whole.moe_layers / pp,
        linear_flop_per_token=whole.linear_flop_per_token / (tp * pp),
        lm_head_flop_per_seq=whole.lm_head_flop_per_seq / (tp * pp),
        attn_flop_per_ctx=whole.attn_flop_per_ctx / tp,
        attn_flop_per_ctx_prefill=whole.attn_flop_per_ctx_prefill / tp,
        expert_flop_per_pair=whole.expert_flop_per_pair / (expert_tp * pp),
        expert_pairs_per_token=whole.expert_pairs_per_token / ep,
        expert_act_bytes_per_pair=pair_bytes / pp,
        expert_act_bytes_per_token=token_bytes / pp,
        dense_act_bytes_per_token=dense_activation_bytes_per_token(m, tp) / pp,
        act_cached_tokens=L2_PRIOR_BYTES / widest_dense_row_bytes(m, tp),
        tp=tp,
        pp=pp,
    )


def with_expert_parallel(
    m: ModelArch, sm: StepModel, dp: int, tp: int, ep: int, pp: int = 1
) -> StepModel:
    """One rank's step model under attention data parallelism with expert parallelism (DEP).

    Each of ``dp`` ranks runs attention for its own sequences (its whole KV cache, dense
    weights replicated), the routed experts are split over ``ep = dp x tp`` GPUs, and the
    ranks step together: the experts on a GPU see the tokens of every rank (experts touched
    count ``dp`` x this rank's tokens), and each MoE layer exchanges tokens twice, a dispatch
    to the ranks of a token's k experts and a combine back (DeepSeek-V3 report, arXiv:
    2412.19437, section 3.2.2; DeepEP). Bytes per token per exchange: k x hidden x 2 bytes x
    (ep - 1) / ep (the share of a token's experts on other GPUs). Per-expert FLOP per GPU is
    unchanged (dp x tokens x k / ep = tokens x k / tp). Load is taken as balanced: the slowest
    rank sets the step, and with balanced routing every rank is the slowest.
    Plain DP (experts not spread over ranks) returns ``sm`` unchanged.
    """
    if dp <= 1 or ep <= tp or not m.is_moe:
        return sm
    moe_layers = m.num_moe_layers / pp
    per_token = m.experts_per_token * m.hidden_size * ACTIVATION_BYTES * (ep - 1) / ep
    return dataclasses.replace(
        sm,
        moe_token_scale=float(dp),
        alltoalls_per_step=2.0 * moe_layers,
        alltoall_bytes_per_token=per_token,
    )


def _effective_context(sm: StepModel, context: ArrayLike) -> FloatArray:
    """Context tokens attended, summed over this GPU's layers: window-capped on sliding (or
    chunked) layers, capped at the DSA top-k on full layers of a sparse-attention model."""
    ctx = np.asarray(context, dtype=np.float64)
    capped = np.minimum(ctx, sm.sliding_window) if sm.sliding_window else ctx
    full = np.minimum(ctx, sm.dsa_topk) if sm.dsa_topk else ctx
    return np.asarray(
        np.asarray(sm.full_layers) * full + np.asarray(sm.sliding_layers) * capped,
        dtype=np.float64,
    )


def capped_pairs(tokens: ArrayLike, ctx_before: ArrayLike, cap: float) -> FloatArray:
    """Causal (query, key) pairs of a chunk of ``tokens`` queries appended after
    ``ctx_before`` tokens when each query attends to at most ``cap`` tokens (a sliding window
    or a DSA top-k; 0: no cap): sum over i = 1..n of min(c0 + i, cap), with the continuous
    sum n c0 + n^2 / 2 below the cap."""
    n = np.asarray(tokens, dtype=np.float64)
    c0 = np.asarray(ctx_before, dtype=np.float64)
    full = n * c0 + n * n / 2.0
    if not cap:
        return np.asarray(full, dtype=np.float64)
    below = np.clip(cap - c0, 0.0, n)  # queries whose context is still below the cap
    pairs = below * c0 + below * below / 2.0 + (n - below) * cap
    return np.asarray(np.minimum(full, pairs), dtype=np.float64)


def _prefill_pair_sum(sm: StepModel, tokens: ArrayLike, ctx_before: ArrayLike) -> FloatArray:
    """Sum over this GPU's layers of (query, context) pairs for a causal chunk of ``tokens``
    appended after ``ctx_before`` tokens: n x c0 + n^2 / 2 per full layer (DSA-capped),
    window-capped on sliding layers."""
    full = capped_pairs(tokens, ctx_before, sm.dsa_topk)
    sliding = capped_pairs(tokens, ctx_before, sm.sliding_window)
    return np.asarray(
        np.asarray(sm.full_layers) * full + np.asarray(sm.sliding_layers) * sliding,
        dtype=np.float64,
    )


@dataclass(frozen=True, slots=True)
class StepTime:
    """Breakdown of one step, seconds (arrays broadcast over the inputs).

    Attributes:
        memory_s: all bytes / (bandwidth x MBU) (for regime reporting).
        compute_s: all FLOP / (peak x MFU) (for regime reporting).
        comm_s: TP all-reduces and PP hand-offs.
        overhead_s: per-step engine overhead (fixed + per token).
        total_s: GEMM roofline + attention roofline + comm_s + overhead_s.
        read_bytes: bytes moved per GPU.
        flop: FLOP per GPU.
    """

    memory_s: FloatArray
    compute_s: FloatArray
    comm_s: FloatArray
    overhead_s: FloatArray
    total_s: FloatArray
    read_bytes: FloatArray
    flop: FloatArray


def comm_s(sm: StepModel, tokens: ArrayLike) -> FloatArray:
    """TP and PP communication time of one step carrying ``tokens`` tokens.

    TP: two all-reduces per layer (after attention and after the FFN; Shoeybi et al.,
    Megatron-LM, arXiv:1909.08053), each latency x log2(TP) + 2 (TP-1)/TP x message / link
    bandwidth: the bandwidth term of a ring all-reduce, the latency of a small one growing
    with the log2(TP) rounds of a tree / recursive-doubling exchange (NCCL's LL protocol and
    vLLM's custom all-reduce; Thakur, Rabenseifner & Gropp 2005, "Optimization of collective
    communication operations in MPICH"), counted over the whole TP group (a group spread over
    scale-up domains adds its scale-out hops on top). One round at TP 2, three at TP 8: on the
    closed-loop Hopper file this cut held-out TPOT from 15.2% to 13.7% against a constant
    latency (benchmarks/calibration_error.py). PP: (PP-1) hand-offs of the hidden states.
    EP across data-parallel ranks: a dispatch and a combine per MoE layer, each latency +
    tokens x bytes per token / link bandwidth (:func:`with_expert_parallel`). Across scale-up
    domains (:mod:`infercost.perf.comm`): the NVLink stage of a TP all-reduce runs over the
    ``tp_local`` GPUs of a domain, ``pp_cross`` hand-offs leave the scale-up link, and the
    scale-out network adds ``scaleout_const_s + scaleout_per_token_s x tokens``.
    """
    t = np.asarray(tokens, dtype=np.float64)
    tp = np.asarray(sm.tp, dtype=np.float64)
    pp = np.asarray(sm.pp, dtype=np.float64)
    layers = np.asarray(sm.full_layers) + np.asarray(sm.sliding_layers)
    allreduces = np.asarray(sm.allreduces_per_step, dtype=np.float64)
    count = np.where(allreduces > 0, allreduces, 2.0 * layers)
    msg = t * sm.hidden_size * ACTIVATION_BYTES
    tp_local = np.asarray(sm.tp_local, dtype=np.float64)
    tl = np.where(tp_local > 0, tp_local, tp)
    link = collective_bytes_s(
        sm.link_bytes_s, sm.comm_efficiency, sm.nvlink_peers, sm.pcie_bytes_s, tl
    )
    rounds = np.log2(np.maximum(tp, 2.0))  # the whole group's rounds, wherever its GPUs are
    oneshot = oneshot_threshold_bytes(
        tl, tp, sm.nvlink_peers, sm.oneshot_max_bytes_4, sm.oneshot_max_bytes_8
    )
    traffic = allreduce_traffic_bytes(msg, tl, oneshot)
    per_allreduce = sm.allreduce_latency_s * rounds + traffic / link
    tp_s = np.where(tp > 1, count * per_allreduce, 0.0)
    pp_s = (pp - 1.0 - np.asarray(sm.pp_cross)) * (sm.allreduce_latency_s + msg / link)
    a2a = np.asarray(sm.alltoalls_per_step, dtype=np.float64)
    a2a_s = a2a * (sm.allreduce_latency_s + t * np.asarray(sm.alltoall_bytes_per_token) / link)
    out = np.asarray(sm.scaleout_const_s) + np.asarray(sm.scaleout_per_token_s) * t
    return np.asarray(tp_s + pp_s + a2a_s + out, dtype=np.float64)


def with_graph_padding(
    sm: StepModel, engine: EngineProfile, max_batch_size: float, max_num_tokens: float
) -> StepModel:
    """``sm`` for a run with the engine's offline CUDA-graph configuration
    (``EngineProfile.cuda_graph_batch_sizes``, padding on), of which the engine captures only
    the sizes <= its max_batch_size and <= max_num_tokens (TensorRT-LLM's PyTorch model
    engine keeps ``[bs for bs in cuda_graph_batch_sizes if bs <= max_num_tokens and bs <=
    batch_size]``, tensorrt_llm/_torch/pyexecutor/model_engine.py); a decode-only batch above
    the largest kept size runs eagerly. Step models are unpadded otherwise (online serving:
    ``trtllm-serve``'s CudaGraphConfig has padding off by default)."""
    kept = tuple(
        float(b)
        for b in sorted(engine.cuda_graph_batch_sizes)
        if b <= max_batch_size and b <= max_num_tokens
    )
    return sm if kept == sm.graph_batch_sizes else dataclasses.replace(sm, graph_batch_sizes=kept)


def graph_padded(sizes: tuple[float, ...], decode_seqs: float, prefill_tokens: float) -> float:
    """Rows a step's GEMMs run: the smallest CUDA-graph batch size in ``sizes`` (ascending)
    that holds ``decode_seqs``, for a decode-only step; ``decode_seqs`` itself when the step
    carries a prefill (TensorRT-LLM runs those eagerly), when the batch is above the largest
    size (eager too), or when ``sizes`` is empty. E.g. sizes (..., 512, 1024, ...): 531 -> 1024."""
    if not sizes or prefill_tokens > 0 or decode_seqs <= 0:
        return decode_seqs
    i = bisect.bisect_left(sizes, decode_seqs)
    return sizes[i] if i < len(sizes) else decode_seqs


def _graph_padded_array(
    sizes: tuple[float, ...], decode_seqs: FloatArray, prefill_tokens: FloatArray
) -> FloatArray:
    """:func:`graph_padded` over arrays (the same rule, element by element)."""
    if not sizes:
        return decode_seqs
    table = np.asarray(sizes, dtype=np.float64)
    i = np.searchsorted(table, decode_seqs, side="left")
    padded = np.where(i < table.size, table[np.minimum(i, table.size - 1)], decode_seqs)
    return np.asarray(
        np.where((prefill_tokens > 0) | (decode_seqs <= 0), decode_seqs, padded),
        dtype=np.float64,
    )


def mixed_step(
    sm: StepModel,
    decode_seqs: ArrayLike,
    decode_context: ArrayLike,
    prefill_tokens: ArrayLike = 0.0,
    prefill_ctx_before: ArrayLike = 0.0,
    prefill_seqs: ArrayLike = 0.0,
    *,
    graph: bool = True,
) -> StepTime:
    """One iteration holding ``decode_seqs`` decoding sequences at mean context
    ``decode_context`` plus a prefill of ``prefill_tokens`` (from ``prefill_seqs`` sequences,
    each appended after ``prefill_ctx_before`` cached tokens), as vLLM's chunked-prefill
    scheduler builds it. Pure decode: prefill_tokens = 0. Pure prefill: decode_seqs = 0.
    ``graph``: a decode-only step runs its CUDA graph, padded to ``sm.graph_batch_sizes``
    (:func:`graph_padded`); False: the same step run eagerly at its own size (an iteration
    that carries a prompt elsewhere in the batch).

    Scalar inputs with a scalar step model take :func:`_mixed_step_scalar` (the same
    operations in the same order on Python floats, so the same result to the bit; numpy
    scalars cost about a microsecond an operation); arrays broadcast here.
    """
    args = (decode_seqs, decode_context, prefill_tokens, prefill_ctx_before, prefill_seqs)
    for x in args:
        if type(x) not in _SCALAR_TYPES and not _is_0d(x):
            break
    else:
        consts = scalar_step_constants(sm)
        if consts is not None:
            b, dctx, p, pctx, ps = map(float, args)
            return _mixed_step_scalar(consts, b, dctx, p, pctx, ps, graph)
    return _mixed_step_array(
        sm, decode_seqs, decode_context, prefill_tokens, prefill_ctx_before, prefill_seqs, graph
    )


def _mixed_step_array(
    sm: StepModel,
    decode_seqs: ArrayLike,
    decode_context: ArrayLike,
    prefill_tokens: ArrayLike = 0.0,
    prefill_ctx_before: ArrayLike = 0.0,
    prefill_seqs: ArrayLike = 0.0,
    graph: bool = True,
) -> StepTime:
    """:func:`mixed_step` over numpy arrays (any broadcastable shapes)."""
    b = np.asarray(decode_seqs, dtype=np.float64)
    p = np.asarray(prefill_tokens, dtype=np.float64)
    ps = np.asarray(prefill_seqs, dtype=np.float64)
    tokens = b + p
    # rows the GEMMs, the MoE, the LM head and the collectives run (CUDA-graph padding)
    rows = (_graph_padded_array(sm.graph_batch_sizes, b, p) if graph else b) + p
    seen = rows * np.asarray(sm.moe_token_scale)
    experts = expected_experts_touched(sm.num_experts, sm.experts_per_token, seen)
    kv_tok = np.asarray(sm.kv_layer_token_bytes, dtype=np.float64)
    layers_total = np.asarray(sm.full_layers) + np.asarray(sm.sliding_layers)
    kv_read = b * kv_tok * _effective_context(
        sm, decode_context
    ) + ps * kv_tok * _effective_context(sm, prefill_ctx_before)
    kv_write = tokens * kv_tok * layers_total
    seqs = b + ps
    # DSA indexer: scores every context token (its small key cache read in full), plus the
    # recurrent state of linear-attention / Mamba2 layers read and written once per sequence
    dctx = np.asarray(decode_context, dtype=np.float64)
    pctx = np.asarray(prefill_ctx_before, dtype=np.float64)
    per_prompt = np.where(ps > 0, p / np.maximum(ps, 1.0), 0.0)
    index_bytes = np.asarray(sm.index_bytes_per_ctx) * (b * dctx + ps * (pctx + per_prompt))
    index_pairs = b * dctx + ps * capped_pairs(per_prompt, pctx, 0.0)
    state_bytes = 2.0 * seqs * np.asarray(sm.state_bytes_per_seq)
    kv_read = kv_read + index_bytes + state_bytes
    seqs_rows = rows - p + ps
    logits_bytes = seqs_rows * np.asarray(sm.logits_bytes_per_seq)
    # routed experts: a grouped GEMM over the (token, expert) pairs on this GPU; each touched
    # expert computes at least one tensor-core tile of rows
    pairs = seen * np.asarray(sm.expert_pairs_per_token)
    # wide EP: the busiest rank's pairs, mu + sqrt(2 mu ln R) (perf.comm.expert_imbalance)
    pairs = pairs + np.sqrt(2.0 * np.asarray(sm.expert_log_ranks) * pairs)
    k = float(sm.experts_per_token) or 1.0
    tile_pairs = (
        np.asarray(sm.expert_tile_rows) * experts * np.asarray(sm.expert_pairs_per_token) / k
    )
    expert_flop = np.maximum(pairs, tile_pairs) * np.asarray(sm.expert_flop_per_pair)
    expert_w = experts * np.asarray(sm.expert_bytes)
    expert_act = pairs * np.asarray(sm.expert_act_bytes_per_pair) + rows * np.asarray(
        sm.expert_act_bytes_per_token
    )
    dense_act = np.maximum(rows - np.asarray(sm.act_cached_tokens), 0.0) * np.asarray(
        sm.dense_act_bytes_per_token
    )
    read_bytes = (
        np.asarray(sm.dense_bytes)
        + dense_act
        + expert_w
        + expert_act
        + kv_read
        + kv_write
        + logits_bytes
    )
    d_pre = np.asarray(sm.attn_flop_per_ctx_prefill)
    pre_flop = np.where(d_pre > 0, d_pre, np.asarray(sm.attn_flop_per_ctx))
    mixer_flop = (
        np.asarray(sm.attn_flop_per_ctx) * b * _effective_context(sm, decode_context)
        + pre_flop * ps * _prefill_pair_sum(sm, per_prompt, prefill_ctx_before)
        + np.asarray(sm.index_flop_per_ctx) * index_pairs
        + np.asarray(sm.state_flop_per_token) * tokens
    )
    linear_flop = np.asarray(sm.linear_flop_per_token) * rows
    lm_flop = np.asarray(sm.lm_head_flop_per_seq) * seqs_rows
    flop = linear_flop + lm_flop + expert_flop + mixer_flop
    bw = np.asarray(sm.mem_bw_bytes_s) * np.asarray(sm.mbu)
    peak = np.asarray(sm.peak_flop_s) * np.asarray(sm.mfu)
    # Each GEMM class and the attention kernels run one after the other, each on its own
    # roofline at its operands' peak (OperandPeaks), and their times add.
    # weight-only (dequantising) expert GEMMs reach expert_dequant_efficiency of the MFU
    deq = np.asarray(sm.expert_dequant_efficiency)
    expert_scale = expert_dequant_scale(np.asarray(sm.expert_dequant), deq)
    dense_cmp = linear_flop / peak + lm_flop / (peak * np.asarray(sm.lm_head_peak_ratio))
    expert_cmp = expert_flop / (peak * np.asarray(sm.expert_peak_ratio) * expert_scale)
    attn_cmp = mixer_flop / (peak * np.asarray(sm.attn_peak_ratio))
    dense_s = np.maximum((np.asarray(sm.dense_bytes) + dense_act) / bw, dense_cmp)
    expert_s = np.maximum((expert_w + expert_act) / bw, expert_cmp)
    attn_s = np.maximum((kv_read + kv_write) / bw, attn_cmp)
    logits_s = logits_bytes / bw
    memory_s = read_bytes / bw
    compute_s = dense_cmp + expert_cmp + attn_cmp
    c = comm_s(sm, rows)
    overhead = (
        np.asarray(sm.step_overhead_s, dtype=np.float64)
        + np.asarray(sm.token_overhead_s, dtype=np.float64) * tokens
        + np.asarray(sm.seq_overhead_s, dtype=np.float64) * seqs
        + np.asarray(sm.moe_layer_overhead_s, dtype=np.float64) * np.asarray(sm.moe_layers)
    )
    total = dense_s + expert_s + attn_s + logits_s + c + overhead
    return StepTime(
        memory_s=np.asarray(memory_s, dtype=np.float64),
        compute_s=np.asarray(compute_s, dtype=np.float64),
        comm_s=c,
        overhead_s=overhead,
        total_s=np.asarray(total, dtype=np.float64),
        read_bytes=np.asarray(read_bytes, dtype=np.float64),
        flop=np.asarray(flop, dtype=np.float64),
    )


#: Types :func:`mixed_step` takes as scalars: their arithmetic is IEEE double on both paths.
_SCALAR_TYPES: frozenset[type] = frozenset({float, int, np.float64, np.int64})


def _is_0d(x: object) -> bool:
    return isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype == np.float64


@dataclass(frozen=True, slots=True)
class ScalarStep:
    """A scalar :class:`StepModel`'s constants as Python floats, for the scalar path."""

    dense_bytes: float
    expert_bytes: float
    num_experts: int
    experts_per_token: int
    kv_tok: float
    full_layers: float
    sliding_layers: float
    sliding_window: float
    dsa_topk: float
    linear_flop_per_token: float
    lm_head_flop_per_seq: float
    attn_flop_per_ctx: float
    index_bytes_per_ctx: float
    index_flop_per_ctx: float
    state_bytes_per_seq: float
    state_flop_per_token: float
    logits_bytes_per_seq: float
    moe_token_scale: float
    bw: float
    peak: float
    step_overhead_s: float
    token_overhead_s: float
    seq_overhead_s: float
    # communication
    tp: float
    pp: float
    hidden_size: float
    allreduce_latency_s: float
    allreduce_count: float
    link: float
    alltoalls_per_step: float
    alltoall_bytes_per_token: float
    tp_local: float
    oneshot_max_bytes: float
    pp_cross: float
    scaleout_const_s: float
    scaleout_per_token_s: float
    expert_log_ranks: float
    moe_overhead_s: float
    # grouped expert GEMMs, activations, per-operand peaks
    expert_flop_per_pair: float
    expert_pairs_per_token: float
    expert_tile_rows: float
    expert_act_bytes_per_pair: float
    expert_act_bytes_per_token: float
    dense_act_bytes_per_token: float
    act_cached_tokens: float
    expert_peak_ratio: float
    lm_head_peak_ratio: float
    attn_peak_ratio: float
    attn_flop_per_ctx_prefill: float
    # products of the above that step_floats would otherwise form on every step: the same
    # operations on the same values, so the same bits
    layers_total: float  # full_layers + sliding_layers
    pre_flop_per_ctx: float  # attn_flop_per_ctx_prefill if > 0, else attn_flop_per_ctx
    lm_head_peak: float  # peak x lm_head_peak_ratio
    expert_peak: float  # peak x expert_peak_ratio
    attn_peak: float  # peak x attn_peak_ratio
    allreduce_fixed_s: float  # allreduce_latency_s x log2(max(tp, 2))
    ring: float  # 2 (tp_local - 1) / tp_local
    pp_hops: float  # pp - 1 - pp_cross
    graph_batch_sizes: tuple[float, ...] = ()  # ascending CUDA-graph batch sizes


#: The step model whose constants :func:`scalar_step_constants` last converted, and them: one
#: slot, since callers (a predict() call, a simulator run) step one model many times.
_last_constants: tuple[StepModel, ScalarStep | None] | None = None


def scalar_step_constants(sm: StepModel) -> ScalarStep | None:
    """``sm``'s constants as floats, or None when a field is an array (a sweep) or a divisor
    is not positive (the array path then gives numpy's inf/nan as before)."""
    global _last_constants
    last = _last_constants
    if last is not None and last[0] is sm:
        return last[1]
    out: ScalarStep | None = None
    values = {f: getattr(sm, f) for f in StepModel.__slots__ if f != "graph_batch_sizes"}
    if all(type(v) in _SCALAR_TYPES or _is_0d(v) for v in values.values()):
        v = {k: float(x) for k, x in values.items()}
        bw = v["mem_bw_bytes_s"] * v["mbu"]
        peak = v["peak_flop_s"] * v["mfu"]
        link = float(
            collective_bytes_s(
                v["link_bytes_s"],
                v["comm_efficiency"],
                v["nvlink_peers"],
                v["pcie_bytes_s"],
                v["tp_local"] or v["tp"],
            )
        )
        if (
            bw > 0
            and peak > 0
            and link > 0
            and v["tp"] > 0
            and v["num_experts"] >= 0
            and v["expert_dequant_efficiency"] > 0
        ):
            layers = v["full_layers"] + v["sliding_layers"]
            allreduces = v["allreduces_per_step"]
            tp_local = v["tp_local"] or v["tp"]
            out = ScalarStep(
                dense_bytes=v["dense_bytes"],
                expert_bytes=v["expert_bytes"],
                num_experts=int(sm.num_experts),
                experts_per_token=int(sm.experts_per_token),
                kv_tok=v["kv_layer_token_bytes"],
                full_layers=v["full_layers"],
                sliding_layers=v["sliding_layers"],
                sliding_window=v["sliding_window"],
                dsa_topk=v["dsa_topk"],
                linear_flop_per_token=v["linear_flop_per_token"],
                lm_head_flop_per_seq=v["lm_head_flop_per_seq"],
                attn_flop_per_ctx=v["attn_flop_per_ctx"],
                index_bytes_per_ctx=v["index_bytes_per_ctx"],
                index_flop_per_ctx=v["index_flop_per_ctx"],
                state_bytes_per_seq=v["state_bytes_per_seq"],
                state_flop_per_token=v["state_flop_per_token"],
                logits_bytes_per_seq=v["logits_bytes_per_seq"],
                moe_token_scale=v["moe_token_scale"],
                bw=bw,
                peak=peak,
                step_overhead_s=v["step_overhead_s"],
                token_overhead_s=v["token_overhead_s"],
                seq_overhead_s=v["seq_overhead_s"],
                tp=v["tp"],
                pp=v["pp"],
                hidden_size=v["hidden_size"],
                allreduce_latency_s=v["allreduce_latency_s"],
                allreduce_count=allreduces if allreduces > 0 else 2.0 * layers,
                link=link,
                alltoalls_per_step=v["alltoalls_per_step"],
                alltoall_bytes_per_token=v["alltoall_bytes_per_token"],
                tp_local=tp_local,
                oneshot_max_bytes=float(
                    oneshot_threshold_bytes(
                        tp_local,
                        v["tp"],
                        v["nvlink_peers"],
                        v["oneshot_max_bytes_4"],
                        v["oneshot_max_bytes_8"],
                    )
                ),
                pp_cross=v["pp_cross"],
                scaleout_const_s=v["scaleout_const_s"],
                scaleout_per_token_s=v["scaleout_per_token_s"],
                expert_log_ranks=v["expert_log_ranks"],
                moe_overhead_s=v["moe_layer_overhead_s"] * v["moe_layers"],
                expert_flop_per_pair=v["expert_flop_per_pair"],
                expert_pairs_per_token=v["expert_pairs_per_token"],
                expert_tile_rows=v["expert_tile_rows"],
                expert_act_bytes_per_pair=v["expert_act_bytes_per_pair"],
                expert_act_bytes_per_token=v["expert_act_bytes_per_token"],
                dense_act_bytes_per_token=v["dense_act_bytes_per_token"],
                act_cached_tokens=v["act_cached_tokens"],
                expert_peak_ratio=v["expert_peak_ratio"],
                lm_head_peak_ratio=v["lm_head_peak_ratio"],
                attn_peak_ratio=v["attn_peak_ratio"],
                attn_flop_per_ctx_prefill=v["attn_flop_per_ctx_prefill"],
                layers_total=layers,
                pre_flop_per_ctx=(
                    v["attn_flop_per_ctx_prefill"]
                    if v["attn_flop_per_ctx_prefill"] > 0
                    else v["attn_flop_per_ctx"]
                ),
                lm_head_peak=peak * v["lm_head_peak_ratio"],
                expert_peak=peak
                * v["expert_peak_ratio"]
                * float(expert_dequant_scale(v["expert_dequant"], v["expert_dequant_efficiency"])),
                attn_peak=peak * v["attn_peak_ratio"],
                allreduce_fixed_s=v["allreduce_latency_s"] * math.log2(max(v["tp"], 2.0)),
                ring=2.0 * (tp_local - 1.0) / tp_local,
                pp_hops=v["pp"] - 1.0 - v["pp_cross"],
                graph_batch_sizes=sm.graph_batch_sizes,
            )
    _last_constants = (sm, out)
    return out


def _capped_pairs_scalar(n: float, c0: float, cap: float) -> float:
    """:func:`capped_pairs` on floats (same operations, same order)."""
    full = n * c0 + n * n / 2.0
    if not cap:
        return full
    below = min(max(cap - c0, 0.0), n)
    pairs = below * c0 + below * below / 2.0 + (n - below) * cap
    return min(full, pairs)


def _effective_context_scalar(c: ScalarStep, ctx: float) -> float:
    """:func:`_effective_context` on floats."""
    capped = min(ctx, c.sliding_window) if c.sliding_window else ctx
    full = min(ctx, c.dsa_topk) if c.dsa_topk else ctx
    return c.full_layers * full + c.sliding_layers * capped


def _mixed_step_scalar(
    c: ScalarStep, b: float, dctx: float, p: float, pctx: float, ps: float, graph: bool = True
) -> StepTime:
    """:func:`_mixed_step_array` on Python floats (:func:`step_floats`), as a
    :class:`StepTime` of numpy scalars."""
    figures = step_floats(c, b, dctx, p, pctx, ps, graph=graph)
    return StepTime(*map(np.float64, figures))  # type: ignore[arg-type]


#: A step's figures as Python floats, in :class:`StepTime`'s field order: memory_s,
#: compute_s, comm_s, overhead_s, total_s, read_bytes, flop.
StepFloats = tuple[float, float, float, float, float, float, float]


def step_floats(
    c: ScalarStep,
    b: float,
    dctx: float,
    p: float = 0.0,
    pctx: float = 0.0,
    ps: float = 0.0,
    *,
    graph: bool = True,
) -> StepFloats:
    """:func:`_mixed_step_array` on Python floats: every operation as there, in the same
    order (``np.maximum``/``np.minimum`` as max/min, ``np.where`` as a conditional), so
    IEEE double arithmetic gives the same bits; ``tests/perf`` checks it against the array
    path over the catalog.

    ``mixed_step(sm, b, dctx, p, pctx, ps)`` for a scalar caller that reads the figures as
    floats (the serving scalar paths of ``perf.serving``), with ``c`` =
    ``scalar_step_constants(sm)``: no numpy scalar is made and read back."""
    tokens = b + p
    rows = (graph_padded(c.graph_batch_sizes, b, p) if graph else b) + p  # as the array path
    seen = rows * c.moe_token_scale
    if c.num_experts == 0:
        experts = 0.0
    else:
        miss = 1.0 - c.experts_per_token / c.num_experts
        experts = c.num_experts * (1.0 - float(np.power(miss, max(seen, 0.0))))

    kv_tok = c.kv_tok
    layers_total = c.layers_total
    eff_d = _effective_context_scalar(c, dctx)
    kv_read = b * kv_tok * eff_d + ps * kv_tok * _effective_context_scalar(c, pctx)
    kv_write = tokens * kv_tok * layers_total
    seqs = b + ps
    per_prompt = p / max(ps, 1.0) if ps > 0 else 0.0
    index_bytes = c.index_bytes_per_ctx * (b * dctx + ps * (pctx + per_prompt))
    index_pairs = b * dctx + ps * _capped_pairs_scalar(per_prompt, pctx, 0.0)
    state_bytes = 2.0 * seqs * c.state_bytes_per_seq
    kv_read = kv_read + index_bytes + state_bytes
    seqs_rows = rows - p + ps
    logits_bytes = seqs_rows * c.logits_bytes_per_seq
    pairs = seen * c.expert_pairs_per_token
    if c.expert_log_ranks:
        pairs = pairs + math.sqrt(2.0 * c.expert_log_ranks * pairs)
    k = float(c.experts_per_token) or 1.0
    tile_pairs = c.expert_tile_rows * experts * c.expert_pairs_per_token / k
    expert_flop = max(pairs, tile_pairs) * c.expert_flop_per_pair
    expert_w = experts * c.expert_bytes
    expert_act = pairs * c.expert_act_bytes_per_pair + rows * c.expert_act_bytes_per_token
    dense_act = max(rows - c.act_cached_tokens, 0.0) * c.dense_act_bytes_per_token
    read_bytes = (
        c.dense_bytes + dense_act + expert_w + expert_act + kv_read + kv_write + logits_bytes
    )
    pair_sum = c.full_layers * _capped_pairs_scalar(
        per_prompt, pctx, c.dsa_topk
    ) + c.sliding_layers * _capped_pairs_scalar(per_prompt, pctx, c.sliding_window)
    pre_flop = c.pre_flop_per_ctx
    mixer_flop = (
        c.attn_flop_per_ctx * b * eff_d
        + pre_flop * ps * pair_sum
        + c.index_flop_per_ctx * index_pairs
        + c.state_flop_per_token * tokens
    )
    linear_flop = c.linear_flop_per_token * rows
    lm_flop = c.lm_head_flop_per_seq * seqs_rows
    flop = linear_flop + lm_flop + expert_flop + mixer_flop
    bw = c.bw
    peak = c.peak
    dense_cmp = linear_flop / peak + lm_flop / c.lm_head_peak
    expert_cmp = expert_flop / c.expert_peak
    attn_cmp = mixer_flop / c.attn_peak
    dense_s = max((c.dense_bytes + dense_act) / bw, dense_cmp)
    expert_s = max((expert_w + expert_act) / bw, expert_cmp)
    attn_s = max((kv_read + kv_write) / bw, attn_cmp)
    logits_s = logits_bytes / bw
    # communication, as comm_s
    msg = rows * c.hidden_size * ACTIVATION_BYTES
    thr = c.oneshot_max_bytes
    ring = c.ring
    traffic = ring * msg + (c.tp_local - 1.0 - ring) * (msg if msg < thr else thr)
    per_allreduce = c.allreduce_fixed_s + traffic / c.link
    tp_s = c.allreduce_count * per_allreduce if c.tp > 1 else 0.0
    pp_s = c.pp_hops * (c.allreduce_latency_s + msg / c.link)
    a2a_s = c.alltoalls_per_step * (
        c.allreduce_latency_s + rows * c.alltoall_bytes_per_token / c.link
    )
    out = c.scaleout_const_s + c.scaleout_per_token_s * rows
    comm = tp_s + pp_s + a2a_s + out
    overhead = (
        c.step_overhead_s
        + c.token_overhead_s * tokens
        + c.seq_overhead_s * seqs
        + c.moe_overhead_s
    )
    total = dense_s + expert_s + attn_s + logits_s + comm + overhead
    return (
        read_bytes / bw,  # memory_s
        dense_cmp + expert_cmp + attn_cmp,  # compute_s
        comm,
        overhead,
        total,
        read_bytes,
        flop,
    )


def decode_step(
    sm: StepModel, batch: ArrayLike, context: ArrayLike, *, graph: bool = True
) -> StepTime:
    """One decode iteration: ``batch`` sequences each at ``context`` tokens (``graph``: run
    as its padded CUDA graph, see :func:`mixed_step`)."""
    return mixed_step(sm, batch, context, graph=graph)


def prefill_step(
    sm: StepModel,
    tokens_per_seq: ArrayLike,
    num_seqs: ArrayLike = 1.0,
    ctx_before: ArrayLike = 0.0,
) -> StepTime:
    """One prefill iteration of ``num_seqs`` prompts of ``tokens_per_seq`` new tokens each."""
    n = np.asarray(tokens_per_seq, dtype=np.float64)
    s = np.asarray(num_seqs, dtype=np.float64)
    return mixed_step(sm, 0.0, 0.0, n * s, ctx_before, s)
