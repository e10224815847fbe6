"""What an offline max-throughput run configures: the batch and token caps of ``--max-throughput``.

Most engines run their configured caps (``max_num_seqs_offline`` or ``max_num_seqs``, and
``max_num_batched_tokens``). TensorRT-LLM's ``trtllm-bench throughput`` (``offline_sizing =
"trtllm-bench"`` in engines.toml) sizes both from the dataset and from its *own estimate* of
the KV cache, which is not the KV cache the runtime then allocates:

- ``tensorrt_llm/bench/build/build.py`` ``get_benchmark_engine_settings``: formats outside
  ``TUNED_QUANTS`` (NVFP4, FP8, FP8_BLOCK_SCALES, no quantization) get ``BuildConfig``'s
  defaults, max_batch_size 2048 and max_num_tokens 8192 (e.g. gpt-oss's MXFP4, AWQ int4).
- ``tensorrt_llm/bench/build/tuning.py`` ``calc_engine_setting``: engine size = the
  checkpoint's safetensors element count x bytes per element of its quant algo (FP8 1, NVFP4
  0.5, else 2); KV bytes per token = 2 x attention layers x max(TP, num_key_value_heads) x
  head size x KV bytes (FP8 1, NVFP4 0.5, else 2), as multi-head attention, so an MLA model's
  KV cache is estimated as 128 heads of 56 values (DeepSeek-V3) and a sliding-window layer
  as a full one; requests = (TP x PP x device memory in GiB - engine size) x the KV memory
  fraction / (KV bytes per token x (ISL + OSL)) (hybrid Mamba models add their state per
  request and square the fraction).
- ``finetune_setting``: raw batch = min(requests, 4096) / PP, rounded up (to a multiple of
  32 below 256, of 128 below 1024, else of 256; at least 64; hybrid models: down to even);
  raw tokens = min(raw batch x (1 + ISL / OSL), 32768), rounded up (at least 2048; to 256 below
  4096, 512 below 8192, else 1024).
- ``tensorrt_llm/bench/benchmark/utils/general.py`` ``get_settings``: chunked prefill is off
  unless asked for, so max_num_tokens is raised to at least max ISL + max_batch_size.

The runtime then runs at most max_batch_size sequences per rank (each attention-DP rank has its
own scheduler) and at most what its real KV cache holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infercost.catalog.schema import Accelerator, EngineProfile, ModelArch, QuantFormat
from infercost.perf.memory import weight_bytes
from infercost.perf.params import param_counts

GIB = float(2**30)

#: trtllm-bench's ``BYTES_PER_ELEM`` per QuantAlgo, keyed by infercost's format ids (FP8 and
#: FP8_BLOCK_SCALES are both "fp8"; NO_QUANT is the 16-bit checkpoints). tuning.py.
BENCH_BYTES_PER_ELEM: dict[str, float] = {"fp8": 1.0, "nvfp4": 0.5}
#: the quant algos trtllm-bench tunes for (build.py ``TUNED_QUANTS``); the 16-bit formats are
#: NO_QUANT / None.
BENCH_TUNED_FORMATS = frozenset({"fp8", "nvfp4", "bf16", "fp16", "fp32"})
#: ``BuildConfig`` defaults trtllm-bench falls back to for other formats (build.py).
BENCH_DEFAULT_MAX_BATCH_SIZE = 2048
BENCH_DEFAULT_MAX_NUM_TOKENS = 8192
#: finetune_setting's caps: "Cap total batch size to avoid decoder buffer size becoming too
#: large" and "Cap num tokens to avoid TRT activation buffer becoming too large".
BENCH_BATCH_CAP = 4096
BENCH_TOKEN_CAP = 32768


@dataclass(frozen=True, slots=True)
class OfflineSettings:
    """The caps an offline run configures.

    Attributes:
        max_batch_size: sequences per rank and micro-batch the engine schedules at most.
        max_num_tokens: tokens per iteration (the prefill budget).
        estimated_requests: trtllm-bench's estimate of the requests its KV cache holds (its
            heuristic, not the runtime's KV cache); None where the engine runs fixed caps or
            trtllm-bench does not tune the format.
        how: one line for ``--explain``.
        note: what the user should know ("" when nothing): trtllm-bench stops on its own
            estimate of under one request.
    """

    max_batch_size: int
    max_num_tokens: int
    estimated_requests: float | None
    how: str
    note: str = ""


def checkpoint_elements(m: ModelArch, fmt: QuantFormat) -> float:
    """Elements the checkpoint's safetensors headers count (``parameter_count`` summed over
    dtypes, what trtllm-bench reads as the parameter count): one per 16-bit or 8-bit weight
    and, for formats packed into bytes (NVFP4, MXFP4: two values per uint8), bits/8 per
    quantized weight including the scale tensors (NVFP4: 0.5 + 1/16 FP8 scales = 4.5/8).
    The MTP layers a checkpoint ships count too."""
    c = param_counts(m)
    total = float(c.total)
    b = fmt.bytes_per_weight
    if b < 2.0:
        # weight_bytes = 2 (P - Q) + b Q  ->  Q, the weights stored at fmt
        q = (2.0 * total - weight_bytes(m, fmt).total) / (2.0 - b)
        total -= q * (1.0 - b)
    return total * (1.0 + c.mtp / float(c.total))


def _bench_attention_layers(m: ModelArch) -> int:
    """Layers trtllm-bench counts as holding KV: the attention layers of a Nemotron-style
    Mamba hybrid (``NemotronHybridConfig``), else every hidden layer (linear-attention and
    sliding-window layers included)."""
    return m.attention_layers if m.num_mamba_layers > 0 else m.num_layers


def _mamba_gib_per_request(m: ModelArch) -> float:
    """NemotronHybridConfig.extra_model_cache_in_gb: conv + SSM state at 2 bytes."""
    if m.num_mamba_layers == 0:
        return 0.0
    d_inner = m.mamba_num_heads * m.mamba_head_dim
    conv = (d_inner + 2 * m.mamba_n_groups * m.mamba_state_size) * (m.mamba_conv_kernel - 1)
    ssm = m.mamba_num_heads * m.mamba_head_dim * m.mamba_state_size
    return 2.0 * m.num_mamba_layers * (conv + ssm) / GIB


def bench_requests(
    m: ModelArch,
    fmt: QuantFormat,
    kv_dtype: str,
    acc: Accelerator,
    tp: int,
    pp: int,
    isl: float,
    osl: float,
    kv_fraction: float,
) -> float:
    """trtllm-bench's estimate of the requests of ISL + OSL tokens its KV cache holds
    (tuning.py ``calc_engine_setting``, ``kv_cache_max_requests``); may be <= 0 where it
    estimates the weights alone fill the GPUs. ``tp``: the ``--tp`` it runs with (attention-DP
    layouts pass the whole DEP width)."""
    per_elem = BENCH_BYTES_PER_ELEM.get(fmt.id, 2.0)
    kv_elem = BENCH_BYTES_PER_ELEM.get(kv_dtype, 2.0)
    layers = _bench_attention_layers(m)
    per_token_gib = 2.0 * layers * max(tp, m.num_kv_heads) * m.head_dim * kv_elem / GIB
    engine_gib = checkpoint_elements(m, fmt) * per_elem / GIB
    available = tp * pp * acc.memory_bytes / GIB - engine_gib
    mamba = _mamba_gib_per_request(m)
    fraction = kv_fraction * kv_fraction if mamba > 0 else kv_fraction
    return available * fraction / (per_token_gib * (isl + osl) + mamba)


def finetune(
    requests: float, isl: float, osl: float, pp: int, optimistic: bool = True
) -> tuple[int, int]:
    """tuning.py ``finetune_setting``: (max_batch_size, max_num_tokens) from the requests
    estimate."""
    raw_bs = min(requests, BENCH_BATCH_CAP) / pp
    raw_token = min(raw_bs * (1.0 + isl / osl), BENCH_TOKEN_CAP)
    if optimistic:
        if raw_bs < 256:
            max_bs = max(64, 32 * math.ceil(raw_bs / 32))
        elif raw_bs < 1024:
            max_bs = 128 * math.ceil(raw_bs / 128)
        else:
            max_bs = 256 * math.ceil(raw_bs / 256)
    else:
        max_bs = 2 * math.floor(raw_bs / 2)
    if raw_token < 4096:
        max_token = max(2048, 256 * math.ceil(raw_token / 256))
    elif raw_token < 8192:
        max_token = 512 * math.ceil(raw_token / 512)
    else:
        max_token = 1024 * math.ceil(raw_token / 1024)
    return int(max_bs), int(max_token)


def offline_settings(
    engine: EngineProfile,
    m: ModelArch,
    fmt: QuantFormat,
    kv_dtype: str,
    acc: Accelerator,
    tp: int,
    pp: int,
    isl: float,
    osl: float,
) -> OfflineSettings:
    """The caps of an offline max-throughput run of ``engine`` (module docstring).

    Args:
        tp: GPUs of one attention group as the engine is launched (``--tp``): tp, or
            dp x tp for an attention-DP layout.
        isl, osl: the dataset's mean lengths, tokens.
    """
    if engine.offline_sizing != "trtllm-bench":
        cap = engine.max_num_seqs_offline or engine.max_num_seqs
        return OfflineSettings(cap, engine.max_num_batched_tokens, None, "the engine's caps")
    if fmt.id not in BENCH_TUNED_FORMATS:
        bs, tokens = BENCH_DEFAULT_MAX_BATCH_SIZE, BENCH_DEFAULT_MAX_NUM_TOKENS
        requests = None
        how = f"trtllm-bench does not tune {fmt.id}: BuildConfig defaults"
    else:
        requests = bench_requests(m, fmt, kv_dtype, acc, tp, pp, isl, osl,
                                  engine.usable_memory_fraction)  # fmt: skip
        bs, tokens = finetune(max(requests, 1.0), isl, osl, pp, m.num_mamba_layers == 0)
        bs = max(bs, 1)  # a hybrid's 2 x floor(raw / 2) is 0 below two requests
        how = f"trtllm-bench's estimate of {max(requests, 0.0):,.1f} requests in its KV cache"
        if requests < 1.0:
            note = (
                f"trtllm-bench would not run this: it estimates its KV cache holds "
                f"{max(requests, 0.0):.2f} requests of {isl + osl:,.0f} tokens and stops "
                "('The amount of KV cache memory is insufficient', tuning.py); with "
                "--max_batch_size and --max_num_tokens given it runs, and this prediction "
                f"assumes its smallest cap, {bs} sequences"
            )
            return OfflineSettings(bs, max(tokens, math.ceil(isl) + bs), requests, how, note)
    # chunked prefill off (trtllm-bench's default): a whole prompt fits one iteration
    tokens = max(tokens, math.ceil(isl) + bs)
    return OfflineSettings(bs, tokens, requests, how)
