"""Frozen catalog entries: accelerators, model architectures and quantization formats.

Every entry carries ``source`` (where its figures were read) and ``as_of`` (the date of that
reading). Figures are stored in base SI units (bytes, bytes/s, FLOP/s); the CSV/TOML files
use the scaled units vendors print and the loader converts them (see ``loader.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Dtype = Literal["bf16", "fp16", "fp8", "int8", "int4", "fp4"]
"""Compute dtypes an accelerator may run matrix multiplies at."""

DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
}
"""Bytes per element of the plain (unscaled) dtypes; grouped formats live in QuantFormat."""


class CatalogEntry(BaseModel):
    """Base of every catalog entry: frozen, no unknown fields, sourced and dated."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: object) -> object:
        """TOML ``true`` is not a number: refuse it for every field that is not a flag."""
        if isinstance(data, dict):
            for key, value in data.items():
                field = cls.model_fields.get(str(key))
                if isinstance(value, bool) and field is not None and field.annotation is not bool:
                    raise ValueError(f"field {key!r} must be a number, got {str(value).lower()}")
        return data

    source: str = Field(min_length=3, description="Where the figures were read.")
    as_of: date = Field(description="Date the figures were read or published.")


class Accelerator(CatalogEntry):
    """One accelerator (per device; a superchip or pair is described per GPU).

    Attributes:
        id: catalog id, lower-case (``h100-sxm``).
        name: vendor's product name.
        vendor: NVIDIA, AMD, Google, AWS, Intel.
        generation: architecture family (ampere, ada, hopper, blackwell, cdna3, ...).
        memory_bytes: device memory in bytes (decimal; GiB figures converted).
        mem_bw_bytes_s: peak device-memory bandwidth, bytes/s.
        dense_flop_s: dense (no sparsity) tensor FLOP/s per compute dtype; a dtype absent from
            the dict is unsupported or unpublished and is never borrowed from another dtype.
        tdp_w: board/module power, W (None when unpublished).
        interconnect: scale-up link name.
        interconnect_bytes_s: scale-up bandwidth per device per direction, bytes/s
            (None: PCIe only, see ``pcie_gen``).
        pcie_gen: host PCIe generation.
        scale_up_domain: GPUs on one scale-up fabric (an HGX/DGX board: 8; a GB200/GB300
            NVL72 rack: 72 on one NVLink switch fabric); None: inferred from ``interconnect``
            (``predict.gpus_per_node``).
        nic_bytes_s: scale-out network bandwidth per GPU per direction, bytes/s (the NIC that
            serves each GPU, e.g. ConnectX-7 400 Gb/s = 50e9); None: unpublished.
        nic_latency_s: latency of one hop over that network (NIC to NIC through the fabric),
            seconds; None: unpublished.
        nic_source: where the NIC figures were read, with the date.
        year: launch year.
        list_price_usd: a commonly cited purchase price, with ``price_source``.
        aliases: other spellings that resolve to this entry.
    """

    id: str
    name: str
    vendor: str
    generation: str
    memory_bytes: float = Field(gt=0)
    mem_bw_bytes_s: float = Field(gt=0)
    dense_flop_s: dict[str, float]
    tdp_w: float | None = None
    interconnect: str = ""
    interconnect_bytes_s: float | None = None
    pcie_gen: int | None = None
    scale_up_domain: int | None = Field(default=None, ge=1)
    nic_bytes_s: float | None = Field(default=None, gt=0)
    nic_latency_s: float | None = Field(default=None, ge=0)
    nic_source: str = ""
    year: int | None = None
    list_price_usd: float | None = None
    price_source: str = ""
    aliases: tuple[str, ...] = ()
    notes: str = ""

    def flop_s(self, dtype: str) -> float | None:
        """Dense FLOP/s at ``dtype``, or None when the accelerator does not support it."""
        return self.dense_flop_s.get(dtype)


class AchievedFigure(CatalogEntry):
    """One measured (not datasheet) throughput figure of an accelerator, from a published
    microbenchmark (``catalog/data/achievable.csv``).

    Attributes:
        gpu: catalog id of the accelerator.
        kind: ``mem_bw`` (a streaming kernel's sustained device-memory bandwidth, TB/s),
            ``gemm_bf16`` / ``gemm_fp8`` / ``gemm_fp4`` (the best large dense GEMM at that
            dtype, TFLOP/s) or ``allreduce_busbw`` (the collective library's all-reduce bus
            bandwidth at its largest message over the whole scale-up board, GB/s).
        measured: the figure, TB/s, TFLOP/s or GB/s (decimal).
        conditions: kernel, sizes, software as the source states them.
        quote: the cell or sentence it was read from.
    """

    gpu: str
    kind: Literal["mem_bw", "gemm_bf16", "gemm_fp8", "gemm_fp4", "allreduce_busbw"]
    measured: float = Field(gt=0)
    conditions: str = ""
    quote: str = ""


class QuantFormat(CatalogEntry):
    """A weight (or KV-cache) storage format.

    Attributes:
        id: canonical name (``bf16``, ``fp8``, ``int4-awq``, ``nvfp4``, ``mxfp4``, ``q4_0``).
        bits_per_weight: storage bits per weight including group scales and zero points.
        compute_dtype: dtype the matmuls run at on hardware that supports it natively.
        fallback_compute_dtype: dtype used where the hardware lacks ``compute_dtype``
            (weight-only dequantisation to this dtype).
        compute_requires: a dtype whose tensor cores the native path also needs (None: only
            ``compute_dtype``'s). MXFP4 weights with MXFP8 activations run at the FP8 rate,
            but only on GPUs with FP4 tensor cores (the mixed FP4 x FP8 MMA of Blackwell);
            Hopper has FP8 tensor cores and still dequantises MXFP4 to bf16.
        aliases: other spellings.
    """

    id: str
    bits_per_weight: float = Field(gt=0, le=32)
    compute_dtype: str
    fallback_compute_dtype: str = "bf16"
    compute_requires: str | None = None
    aliases: tuple[str, ...] = ()
    notes: str = ""

    @property
    def bytes_per_weight(self) -> float:
        """Storage bytes per weight, group-scale overhead included."""
        return self.bits_per_weight / 8.0


AttentionKind = Literal["mha", "gqa", "mla"]


class ModelArch(CatalogEntry):
    """A transformer decoder architecture as stated by its Hugging Face ``config.json``.

    Counts follow HF key names. Total and active parameter counts are derived in
    ``infercost.perf.params``, never typed in.

    Attributes:
        id: catalog id (the HF repo id, ``meta-llama/Llama-3.1-70B-Instruct``).
        model_type: HF ``model_type`` of the text model.
        num_layers: decoder layers (``num_hidden_layers``).
        hidden_size: residual width.
        num_heads: query heads.
        num_kv_heads: key/value heads (= num_heads for MHA).
        head_dim: per-head width (``head_dim`` key, else hidden_size / num_heads).
        intermediate_size: dense FFN width.
        vocab_size: vocabulary size.
        tie_word_embeddings: whether the LM head shares the embedding matrix.
        gated_mlp: SwiGLU/GeGLU (3 matrices) rather than 2 (Nemotron-H relu2), for the dense
            FFN and the experts alike.
        attention_bias: q/k/v projections carry a bias.
        attention_kind: mha, gqa or mla.
        kv_lora_rank, q_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim: MLA sizes.
        sliding_window: window in tokens for sliding-window layers (None: no such layers).
        num_sliding_layers: how many of ``num_layers`` use the sliding window.
        num_experts: routed experts per MoE layer (0 = dense model).
        experts_per_token: routed experts each token activates.
        num_shared_experts: always-on experts per MoE layer.
        moe_intermediate_size: FFN width of one routed expert.
        shared_expert_intermediate_size: FFN width of one shared expert.
        num_dense_layers: layers with a dense FFN in an MoE model
            (DeepSeek ``first_k_dense_replace``).
        max_position_embeddings: the context the config states.
        checkpoint_dtype: dtype of the published weights (bf16, fp16, fp8, mxfp4).
        quantized_modules_note: what the checkpoint's ``quantization_config`` leaves unquantized.
        aliases: other spellings that resolve here.

    Layer composition (``docs/models.md``): ``num_layers`` decoder blocks, of which
    ``attention_layers`` keep a KV cache (full, sliding-window or chunked softmax attention),
    ``num_linear_layers`` are gated-DeltaNet linear attention and ``num_mamba_layers`` Mamba2
    SSM mixers (both keep a fixed-size state per sequence); ``ffn_layers`` carry an FFN (dense
    or MoE). Usual decoders have one attention mixer and one FFN per block; Nemotron-H blocks
    hold either a mixer or an FFN.

        num_attention_layers: softmax-attention layers (None: all ``num_layers``).
        num_ffn_layers: layers with an FFN, dense or MoE (None: all ``num_layers``).
        attention_chunk_size, num_chunked_layers: Llama-4 chunked local attention (a token
            attends within its chunk of this many tokens; the KV cache is capped at it).
        attn_output_gate: q_proj also produces a sigmoid output gate (Qwen3-Next, Qwen3.5).
        qk_norm: RMSNorm on q and k: ``per_head`` (over head_dim, Qwen3) or ``per_layer``
            (over the whole projection, MiniMax-M2), or ``none``.
        norms_per_layer: RMSNorm weight vectors of hidden size per block (2; Gemma 4; 1 for
            Nemotron-H's single-mixer blocks).
        linear_*: gated DeltaNet sizes (key/value heads and head dims, causal conv kernel).
        mamba_*: Mamba2 sizes (heads, head dim, state size N, groups, conv kernel).
        state_bytes_per_elem: bytes of one SSM/linear-attention recurrent-state element as the
            checkpoint asks (``mamba_ssm_dtype`` / ``mamba_ssm_cache_dtype``; None: the KV dtype).
        index_n_heads, index_head_dim, index_topk: DeepSeek sparse attention (DSA) lightning
            indexer; each query attends to the top-k tokens the indexer picks.
        num_mtp_layers: multi-token-prediction layers (``num_nextn_predict_layers``), counted
            apart from the decoder (loaded only for speculative decoding).
        quantized_parts: which linear parts take the checkpoint's quantization format
            (others stay 16-bit): attention (its input projections, and the mixers of
            linear-attention and Mamba2 layers), attention_out (``o_proj``), dense_ffn,
            shared_experts, experts.
        checkpoint_kv_dtype: KV-cache dtype the checkpoint declares (ModelOpt
            ``kv_cache_quant_algo``, compressed-tensors ``kv_cache_scheme``); None: none.
        vision_note: what the multimodal wrapper holds beside the text decoder (not counted).
        defaults_applied: config keys that were absent and took a library default, with the
            default and its source (shown in ``--explain`` and the output notes).
    """

    id: str
    model_type: str
    num_layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    num_heads: int = Field(gt=0)
    num_kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    intermediate_size: int = Field(gt=0)
    vocab_size: int = Field(gt=0)
    tie_word_embeddings: bool = False
    gated_mlp: bool = True
    attention_bias: bool = False
    attention_kind: AttentionKind = "gqa"
    kv_lora_rank: int = 0
    q_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    sliding_window: int | None = None
    num_sliding_layers: int = 0
    num_experts: int = 0
    experts_per_token: int = 0
    num_shared_experts: int = 0
    moe_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0
    num_dense_layers: int = 0
    max_position_embeddings: int = 0
    checkpoint_dtype: str = "bf16"
    quantized_modules_note: str = ""
    aliases: tuple[str, ...] = ()
    notes: str = ""
    num_attention_layers: int | None = Field(default=None, ge=0)
    num_ffn_layers: int | None = Field(default=None, ge=0)
    attention_chunk_size: int | None = None
    num_chunked_layers: int = 0
    attn_output_gate: bool = False
    qk_norm: Literal["none", "per_head", "per_layer"] = "none"
    norms_per_layer: int = Field(default=2, ge=0)
    num_linear_layers: int = Field(default=0, ge=0)
    linear_num_key_heads: int = 0
    linear_num_value_heads: int = 0
    linear_key_head_dim: int = 0
    linear_value_head_dim: int = 0
    linear_conv_kernel: int = 0
    num_mamba_layers: int = Field(default=0, ge=0)
    mamba_num_heads: int = 0
    mamba_head_dim: int = 0
    mamba_state_size: int = 0
    mamba_n_groups: int = 0
    mamba_conv_kernel: int = 0
    state_bytes_per_elem: float | None = None
    index_n_heads: int = 0
    index_head_dim: int = 0
    index_topk: int = 0
    num_mtp_layers: int = 0
    quantized_parts: tuple[str, ...] = (
        "attention",
        "attention_out",
        "dense_ffn",
        "shared_experts",
        "experts",
    )
    checkpoint_kv_dtype: str | None = None
    vision_note: str = ""
    defaults_applied: tuple[str, ...] = ()

    @property
    def is_moe(self) -> bool:
        """True when the model routes tokens to experts."""
        return self.num_experts > 0

    @property
    def attention_layers(self) -> int:
        """Layers with softmax attention (and so a KV cache)."""
        return self.num_layers if self.num_attention_layers is None else self.num_attention_layers

    @property
    def ffn_layers(self) -> int:
        """Layers with an FFN (dense or mixture of experts)."""
        return self.num_layers if self.num_ffn_layers is None else self.num_ffn_layers

    @property
    def num_moe_layers(self) -> int:
        """Layers whose FFN is a mixture of experts."""
        return self.ffn_layers - self.num_dense_layers if self.is_moe else 0

    @property
    def num_full_attention_layers(self) -> int:
        """Attention layers that attend to the whole context (no window, no chunk)."""
        return self.attention_layers - self.num_sliding_layers - self.num_chunked_layers

    @property
    def window_cap(self) -> tuple[int, int]:
        """(tokens, layers): the KV cap of the windowed layers, sliding or chunked (a model
        has one kind; a chunk of c tokens holds at most c tokens of KV)."""
        if self.num_chunked_layers and self.attention_chunk_size:
            return self.attention_chunk_size, self.num_chunked_layers
        return (self.sliding_window or 0), self.num_sliding_layers

    @property
    def state_layers(self) -> int:
        """Layers that keep a fixed-size recurrent state per sequence (DeltaNet, Mamba2)."""
        return self.num_linear_layers + self.num_mamba_layers

    @property
    def uses_dsa(self) -> bool:
        """DeepSeek sparse attention: attention reads only the indexer's top-k tokens."""
        return self.index_topk > 0

    @property
    def architecture_kind(self) -> str:
        """A short description of the layer kinds (``infercost models``)."""
        attn = self.attention_kind.upper()
        if self.uses_dsa:
            attn += "+DSA"
        parts = []
        if self.num_linear_layers:
            parts.append(f"{attn} {self.attention_layers}/DeltaNet {self.num_linear_layers}")
        elif self.num_mamba_layers:
            parts.append(f"{attn} {self.attention_layers}/Mamba2 {self.num_mamba_layers}")
        elif self.num_sliding_layers:
            parts.append(f"{attn}+SWA {self.num_sliding_layers}/{self.attention_layers}")
        elif self.num_chunked_layers:
            parts.append(f"{attn}+chunked {self.num_chunked_layers}/{self.attention_layers}")
        else:
            parts.append(attn)
        parts.append(
            f"MoE {self.num_experts}x{self.experts_per_token}" if self.is_moe else "dense"
        )
        return " ".join(parts)


class EngineProfile(CatalogEntry):
    """Efficiency and memory-policy figures of one serving engine.

    The efficiencies are the few physical parameters calibration fits (``calibrate/fit.py``);
    ``fitted_on`` says on which measurements, or is empty for literature defaults.

    Attributes:
        id: ``vllm``, ``sglang``, ``trtllm``, ``llamacpp``.
        mbu: achieved fraction of peak memory bandwidth on weight and KV reads.
        mfu: achieved fraction of peak dense FLOP/s on matmuls.
        step_overhead_s: fixed time per engine iteration (scheduling, kernel launches,
            sampling) not hidden behind GPU work.
        request_overhead_s: fixed time per request before its first token (tokenise, admit).
        frontend_overhead_s: time per request that online serving adds through the engine's
            OpenAI-compatible HTTP server and a benchmark client (request parsing, streaming
            the first token back, client-side timing); counted in TTFT when serving online
            (``predict --concurrency``, closed-loop benchmarks), not in offline runs.
        wave_sync: how together the N requests of an online closed loop arrive, in [0, 1]
            (1: all at once, every wave one iteration of N prompts; 0: spread out, each prompt
            alone beside the running decodes; ``perf.serving.closed_loop_mixed``); fitted on
            closed-loop TTFT rows, 1 until calibrated. Not used offline (a queue refills
            each finished slot at once) nor by SGLang's prefill-first waves.
        moe_layer_overhead_s: fixed time per MoE layer per step outside the roofline (router,
            top-k, token permutation, grouped-GEMM launches and synchronisation); fitted by
            calibration on MoE rows, 0 where not calibrated.
        expert_dequant_efficiency: the fraction of ``mfu`` the engine's weight-only grouped
            expert GEMMs reach (weights stored in 4 or 8 bits, dequantised to bf16 in
            registers before the MMA: W4A16 MXFP4 experts on Hopper); fitted by calibration on
            the rows that run them, 1 (no loss beyond the bf16 rate) where not calibrated.
            Dense weight-only GEMMs (AWQ/GPTQ) keep the MFU: no row measures them.
        allreduce_latency_s: latency of one round of a small TP all-reduce (NCCL/custom
            all-reduce); a TP all-reduce takes log2(TP) rounds (``perf.step.comm_s``).
        comm_efficiency: achieved fraction of the per-direction link bandwidth in TP
            collectives (NCCL all-reduce bus bandwidth vs link peak).
        allreduce_oneshot_max_bytes_4, allreduce_oneshot_max_bytes_8: the message size below
            which the engine's own all-reduce kernel runs one-shot (each GPU reads the whole
            message from every peer: (n - 1) x message bytes) instead of two-shot
            (reduce-scatter + all-gather: 2 (n - 1) / n x message), for TP groups of 3-4 and
            of 5-8 NVLink-connected GPUs (``perf.step.allreduce_traffic_bytes``); 0: never
            one-shot. ``allreduce_source`` cites the rule.
        token_overhead_s: per-token time per step outside the roofline (sampling, scheduling).
        seq_overhead_s: per-sequence time per step outside the roofline (the scheduler's and
            sampler's per-request work each iteration; grows with the batch).
        usable_memory_fraction: fraction of device memory the engine may use
            (vLLM ``gpu_memory_utilization``; TensorRT-LLM ``kv_cache_free_gpu_mem_fraction``
            applies to memory left after weights, see ``kv_fraction_of_free``).
        kv_fraction_of_free: True when the fraction applies to free memory after weights.
        runtime_overhead_bytes: CUDA context, library workspaces, CUDA graphs.
        nccl_buffer_bytes: communication buffers when TP >= 2.
        vendors: accelerator vendors the engine runs on (empty: any).
        max_num_seqs: the engine's default cap on running sequences when serving.
        max_num_seqs_offline: the cap an offline throughput benchmark builds with (None: the
            same as ``max_num_seqs``); trtllm-bench sizes its engine to the KV cache.
        max_num_batched_tokens: default token budget per iteration (chunked prefill size).
        offline_sizing: how an offline max-throughput run caps its batch and token budget:
            ``fixed`` (the caps above) or ``trtllm-bench`` (max batch and max tokens from
            trtllm-bench's own estimate of the KV cache; ``perf.offline.offline_settings``).
        kv_dtype_auto: the KV-cache dtype the engine picks when the user does not say:
            ``checkpoint`` (the dtype the checkpoint's quantization config declares for the KV
            cache, else the model's activation dtype) or ``fp16`` (llama.cpp's f16 cache);
            ``kv_dtype_auto_source`` cites the rule.
        prefill_scheduling: how new prompts share iterations with running decodes: ``mixed``
            (chunks fused into decode iterations) or ``prefill-first`` (a prefill batch runs
            before the decode batch resumes; closed loops run in waves,
            ``perf.serving.prefill_first_waves``); ``prefill_scheduling_source`` cites it.
        kv_allocation: how the KV cache is given to running requests: ``on-demand`` (blocks
            as tokens are generated, requests preempted when it runs out: sequences whose
            lengths vary hold isl + osl/2 tokens on average) or ``reserved`` (a request is
            admitted with its whole length reserved); ``kv_allocation_source`` cites it.
        sliding_window_kv: how much KV a sliding-window layer keeps per sequence: ``window``
            (its window: blocks outside it are freed or never allocated) or ``full`` (every
            token, as a full-attention layer; the window applies in the attention kernel
            only); ``sliding_window_kv_source`` cites it.
        cuda_graph_batch_sizes: the batch sizes the engine captures CUDA graphs for, with
            padding on: a decode-only iteration of b sequences runs the smallest captured size
            >= b (dummy rows through every GEMM, the MoE and the collectives; their KV is a
            token each), an iteration with a prefill runs eagerly at its own size, a batch
            above the largest size runs eagerly. Empty: no padding modelled (the engine's
            capture sizes are within a few per cent of any batch). ``cuda_graph_source``
            cites the list.
    """

    id: str
    aliases: tuple[str, ...] = ()
    mbu: float = Field(gt=0, le=1)
    mfu: float = Field(gt=0, le=1)
    step_overhead_s: float = Field(ge=0)
    request_overhead_s: float = Field(ge=0)
    frontend_overhead_s: float = Field(default=0.0, ge=0)
    wave_sync: float = Field(default=1.0, ge=0, le=1)
    moe_layer_overhead_s: float = Field(default=0.0, ge=0)
    expert_dequant_efficiency: float = Field(default=1.0, gt=0, le=1)
    allreduce_latency_s: float = Field(ge=0)
    comm_efficiency: float = Field(default=0.7, gt=0, le=1)
    allreduce_oneshot_max_bytes_4: float = Field(default=0.0, ge=0)
    allreduce_oneshot_max_bytes_8: float = Field(default=0.0, ge=0)
    allreduce_source: str = ""
    token_overhead_s: float = Field(default=0.0, ge=0)
    seq_overhead_s: float = Field(default=0.0, ge=0)
    usable_memory_fraction: float = Field(gt=0, le=1)
    kv_fraction_of_free: bool = False
    runtime_overhead_bytes: float = Field(ge=0)
    nccl_buffer_bytes: float = Field(ge=0)
    vendors: tuple[str, ...] = ()
    max_num_seqs: int = Field(gt=0)
    max_num_seqs_offline: int | None = Field(default=None, gt=0)
    max_num_batched_tokens: int = Field(gt=0)
    offline_sizing: Literal["fixed", "trtllm-bench"] = "fixed"
    kv_dtype_auto: Literal["checkpoint", "fp16"] = "checkpoint"
    kv_dtype_auto_source: str = ""
    prefill_scheduling: Literal["mixed", "prefill-first"] = "mixed"
    prefill_scheduling_source: str = ""
    kv_allocation: Literal["on-demand", "reserved"] = "reserved"
    kv_allocation_source: str = ""
    sliding_window_kv: Literal["window", "full"] = "window"
    sliding_window_kv_source: str = ""
    cuda_graph_batch_sizes: tuple[int, ...] = ()
    cuda_graph_source: str = ""
    fitted_on: str = ""
    notes: str = ""

    def request_overhead_for(self, online: bool) -> float:
        """Seconds per request spent off the GPU: ``request_overhead_s``, plus the HTTP front
        end's ``frontend_overhead_s`` when serving online (clients through the
        OpenAI-compatible server), not in an offline batch."""
        return self.request_overhead_s + (self.frontend_overhead_s if online else 0.0)

    def keeps_full_window(self, m: ModelArch) -> bool:
        """True when ``m`` has sliding-window layers and this engine keeps every token's KV on
        them (``sliding_window_kv`` full)."""
        return self.sliding_window_kv == "full" and m.num_sliding_layers > 0

    def cache_model(self, m: ModelArch) -> ModelArch:
        """``m`` as this engine's KV cache holds it: a sliding-window layer keeps every token
        where the engine allocates it as a full one (:meth:`keeps_full_window`), else ``m``.
        Only the cache's size changes; attention still reads the window."""
        if self.keeps_full_window(m):
            return m.model_copy(update={"sliding_window": None, "num_sliding_layers": 0})
        return m

    def running_context(self, isl: float, osl: float, lengths_vary: bool = True) -> float:
        """Tokens of KV cache one running sequence holds, for sizing the batch: on an engine
        that allocates KV as tokens come (``kv_allocation`` on-demand), requests whose
        lengths vary are spread over their lives and hold isl + osl / 2 on average; when
        the engine reserves the whole length, or every request grows in lockstep (fixed
        lengths), isl + osl."""
        if lengths_vary and self.kv_allocation == "on-demand":
            return isl + osl / 2.0
        return float(isl + osl)
