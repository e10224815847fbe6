"""Hugging Face ``config.json`` → :class:`ModelArch`, pure (no I/O).

A config is read as a composition of parts, not matched against a list of ``model_type``s:
an embedding and LM head, and per layer a sequence mixer (full, sliding-window or chunked
softmax attention, MLA, DeepSeek sparse attention, gated-DeltaNet linear attention, Mamba2)
and an FFN (dense, MoE with shared experts, none). A new ``model_type`` made of known parts
works without code; a layer kind infercost does not model is an error naming the key.

Where a key is absent, the default of the ``transformers`` configuration class of that
``model_type`` applies (:data:`MODEL_TYPE_DEFAULTS`, with the class cited); every default
applied is recorded in ``ModelArch.defaults_applied`` and shown by ``predict``. No
architecture is inferred from ratios of sizes. See docs/models.md.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from pydantic import ValidationError

from infercost.catalog.schema import ModelArch
from infercost.errors import InputError

#: Library defaults a config may rely on, per ``model_type`` of the text model: the values the
#: transformers configuration class uses when the key is absent (transformers 4.57, the
#: ``<Type>Config.__init__`` keyword defaults), and the modelling facts of its implementation
#: that the config does not state (``_gated``: the MLP has gate/up/down projections;
#: ``_norms``: RMSNorm vectors of hidden size per block; ``_qk_norm``; ``_attn_output_gate``).
MODEL_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "llama": {"tie_word_embeddings": False, "_source": "LlamaConfig"},
    "mistral": {"tie_word_embeddings": False, "_source": "MistralConfig"},
    "ministral3": {"tie_word_embeddings": False, "_source": "Ministral3Config"},
    "mixtral": {"tie_word_embeddings": False, "_source": "MixtralConfig"},
    "qwen2": {"tie_word_embeddings": False, "attention_bias": True, "_source": "Qwen2Config"},
    "qwen2_moe": {
        "tie_word_embeddings": False,
        "attention_bias": True,
        "_source": "Qwen2MoeConfig",
    },
    "qwen3": {"tie_word_embeddings": False, "_qk_norm": "per_head", "_source": "Qwen3Config"},
    "qwen3_moe": {
        "tie_word_embeddings": False,
        "_qk_norm": "per_head",
        "_source": "Qwen3MoeConfig",
    },
    "qwen3_next": {
        "tie_word_embeddings": False,
        "full_attention_interval": 4,
        "_qk_norm": "per_head",
        "_attn_output_gate": True,
        "_source": "Qwen3NextConfig (Qwen3NextAttention gates its output)",
    },
    "qwen3_5_moe_text": {
        "tie_word_embeddings": False,
        "full_attention_interval": 4,
        "_qk_norm": "per_head",
        "_attn_output_gate": True,
        "_source": "Qwen3_5MoeTextConfig",
    },
    "qwen3_5_text": {
        "tie_word_embeddings": False,
        "full_attention_interval": 4,
        "_qk_norm": "per_head",
        "_attn_output_gate": True,
        "_source": "Qwen3_5TextConfig",
    },
    "qwen3_vl_text": {
        "tie_word_embeddings": False,
        "_qk_norm": "per_head",
        "_source": "Qwen3VLTextConfig (Qwen3VLTextAttention: q_norm/k_norm over head_dim)",
    },
    "qwen3_vl_moe_text": {
        "tie_word_embeddings": False,
        "_qk_norm": "per_head",
        "_source": "Qwen3VLMoeTextConfig (q_norm/k_norm over head_dim, as Qwen3-VL)",
    },
    "deepseek_v2": {"tie_word_embeddings": False, "_source": "DeepseekV2Config"},
    "deepseek_v3": {"tie_word_embeddings": False, "_source": "DeepseekV3Config"},
    "deepseek_v32": {"tie_word_embeddings": False, "_source": "DeepseekV32Config"},
    "kimi_k2": {"tie_word_embeddings": False, "_source": "DeepseekV3Config (Kimi-K2 remote code)"},
    "glm_moe_dsa": {"tie_word_embeddings": False, "_source": "GlmMoeDsaConfig"},
    "glm4_moe": {"tie_word_embeddings": False, "_qk_norm": "none", "_source": "Glm4MoeConfig"},
    "minimax_m2": {"tie_word_embeddings": False, "_source": "MiniMaxM2Config"},
    "llama4_text": {
        "tie_word_embeddings": False,
        "interleave_moe_layer_step": 1,
        "attention_chunk_size": 8192,
        "_source": "Llama4TextConfig",
    },
    "gemma": {"tie_word_embeddings": True, "_source": "GemmaConfig"},
    "gemma2": {"tie_word_embeddings": True, "_norms": 4, "_source": "Gemma2Config"},
    "gemma3_text": {
        "tie_word_embeddings": True,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "vocab_size": 262_208,
        "sliding_window_pattern": 6,
        "_norms": 4,
        "_qk_norm": "per_head",
        "_source": "Gemma3TextConfig",
    },
    "gpt_oss": {"tie_word_embeddings": False, "_source": "GptOssConfig"},
    "phi3": {"tie_word_embeddings": False, "_source": "Phi3Config"},
    "granite": {"tie_word_embeddings": True, "_source": "GraniteConfig"},
    "olmo2": {"tie_word_embeddings": False, "_qk_norm": "per_layer", "_source": "Olmo2Config"},
    "nemotron_h": {
        "tie_word_embeddings": False,
        "_gated": False,
        "_norms": 1,
        "_source": "NemotronHConfig (relu2 MLP, one mixer or FFN per block)",
    },
}

#: wrapper model_type → text model_type when the wrapper's text_config omits it.
_WRAPPERS = {"gemma3": "gemma3_text", "llama4": "llama4_text", "mistral3": "ministral3"}

_DTYPE_NAMES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}
_DTYPE_BYTES = {"bfloat16": 2.0, "float16": 2.0, "float32": 4.0}

#: ``layer_types`` values → the mixer kinds infercost models.
_LAYER_TYPES = {
    "full_attention": "full",
    "attention": "full",
    "sliding_attention": "sliding",
    "chunked_attention": "chunked",
    "linear_attention": "linear",
    "mamba": "mamba",
    # nvidia/GLM-5.2-NVFP4 (glm_moe_dsa): MLA with the DSA indexer on every layer; the DSA
    # part itself is read from index_topk / index_n_heads / index_head_dim
    "deepseek_sparse_attention": "full",
}

#: Nemotron-H ``hybrid_override_pattern`` characters: mixer or FFN of each block.
_PATTERN = {"M": "mamba", "*": "full", "-": "mlp", "E": "moe"}

#: transformers 5 NemotronHConfig spells the pattern as a list, ``layers_block_type``
#: (its ``PATTERN_MAP``: M mamba, * attention, - mlp, E moe), and derives num_hidden_layers
#: from its length.
_BLOCK_TYPES = {"mamba": "M", "attention": "*", "mlp": "-", "moe": "E"}

#: Keys that announce a part infercost does not model; reading the rest of such a config
#: would misstate its weights or cache silently, so it is refused with the key named.
_UNMODELLED_KEYS = {
    "moe_latent_size": "LatentMoE (routed experts work in a latent width below hidden_size; "
    "Nemotron-3 Super/Ultra)",
    "compress_ratios": "DeepSeek-V4 compressed sparse attention (per-layer KV compression) "
    "with hyper-connections",
    "global_head_dim": "global attention layers with their own head_dim and KV heads (Gemma 4)",
    "num_global_key_value_heads": "global attention layers with their own KV heads (Gemma 4)",
    "swa_num_key_value_heads": "sliding-window layers with their own head counts and dims "
    "(MiMo-V2)",
    "swa_head_dim": "sliding-window layers with their own head dims (MiMo-V2)",
    "sparse_attention_config": "block-sparse attention with an index (MiniMax-M3)",
    "linear_attn_config": "Kimi Delta Attention linear layers (Kimi Linear)",
    "block_configs": "heterogeneous per-layer blocks from neural architecture search "
    "(Llama-Nemotron Super/Ultra)",
}


def _fail(where: str, message: str) -> InputError:
    return InputError(f"{where}: {message}")


def _positive_int(
    cfg: dict[str, Any], key: str, where: str, default: Any = None, notes: list[str] | None = None
) -> int:
    """``cfg[key]`` as a positive integer (booleans, fractions, NaN and <= 0 are errors)."""
    value = cfg.get(key)
    if value is None:
        value = default
    if value is None:
        raise _fail(
            where,
            f"config.json has no {key!r}; a Hugging Face decoder config states it. "
            "Pass the model's own config.json (from its Hugging Face repository).",
        )
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    if isinstance(value, float) and value.is_integer() and value > 0:
        ok, value = True, int(value)
    if not ok:
        raise _fail(where, f"{key} must be a positive integer, got {value!r}.")
    return int(value)


def _int(cfg: dict[str, Any], key: str, where: str, default: int = 0) -> int:
    """A non-negative integer key (absent or null: ``default``)."""
    value = cfg.get(key)
    if value is None:
        return default
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise _fail(where, f"{key} must be an integer, got {value!r}; fix the config.json.")
    if value < 0:
        raise _fail(where, f"{key} must be >= 0, got {value!r}; fix the config.json.")
    return int(value)


class _Reader:
    """Reads keys of the text config, applying and recording the model_type's defaults."""

    def __init__(self, cfg: dict[str, Any], model_type: str, where: str) -> None:
        self.cfg = cfg
        self.where = where
        self.model_type = model_type
        self.defaults = MODEL_TYPE_DEFAULTS.get(model_type, {})
        self.notes: list[str] = []

    def default(self, key: str, fallback: Any = None, why: str = "") -> Any:
        """The config's value, else the library default (noted), else ``fallback`` (noted
        when ``why`` says where it comes from)."""
        value = self.cfg.get(key)
        if value is not None:
            return value
        if key in self.defaults:
            value = self.defaults[key]
            self.notes.append(
                f"{key} = {value} (absent; transformers {self.defaults['_source']} default)"
            )
            return value
        if fallback is not None and why:
            self.notes.append(f"{key} = {fallback} (absent; {why})")
        return fallback

    def fact(self, key: str, fallback: Any) -> Any:
        """A modelling fact of the implementation (not a config key)."""
        return self.defaults.get(key, fallback)

    def pos(self, key: str, fallback: Any = None, why: str = "") -> int:
        value = self.default(key, fallback, why)
        return _positive_int({key: value}, key, self.where)


def _mixer_kinds(r: _Reader, num_layers: int) -> list[str]:
    """The sequence mixer of each layer: full, sliding, chunked, linear, mamba (or ``none``
    for Nemotron-H FFN-only blocks), from whichever key the config uses."""
    cfg, where = r.cfg, r.where
    pattern = cfg.get("hybrid_override_pattern")
    if isinstance(pattern, str):
        unknown = sorted(set(pattern) - set(_PATTERN))
        if unknown:
            raise _fail(
                where,
                f"hybrid_override_pattern has block kinds {unknown} that infercost does not "
                "model (known: M = Mamba2, * = attention, - = MLP, E = MoE).",
            )
        if len(pattern) != num_layers:
            raise _fail(
                where,
                f"hybrid_override_pattern has {len(pattern)} blocks but num_hidden_layers is "
                f"{num_layers}; fix the config.json.",
            )
        return [_PATTERN[c] if _PATTERN[c] in {"mamba", "full"} else "none" for c in pattern]
    layer_types = cfg.get("layer_types")
    if isinstance(layer_types, list):
        unknown = sorted({str(t) for t in layer_types} - set(_LAYER_TYPES))
        if unknown:
            raise _fail(
                where,
                f"layer_types has layer kinds {unknown} that infercost does not model "
                f"(known: {', '.join(sorted(_LAYER_TYPES))}). Open an issue with the config.",
            )
        if len(layer_types) != num_layers:
            raise _fail(
                where,
                f"layer_types lists {len(layer_types)} layers but num_hidden_layers is "
                f"{num_layers}; fix the config.json.",
            )
        return [_LAYER_TYPES[str(t)] for t in layer_types]
    attn_types = cfg.get("attn_type_list")
    if isinstance(attn_types, list):
        if any(t != 1 for t in attn_types):
            raise _fail(
                where,
                "attn_type_list has layers of kind 0 (MiniMax lightning linear attention), which "
                "infercost does not model yet; only kind 1 (softmax attention) is.",
            )
        return ["full"] * num_layers
    interval = cfg.get("full_attention_interval")
    if (
        interval is None
        and r.model_type in MODEL_TYPE_DEFAULTS
        and cfg.get("linear_num_value_heads")
    ):
        interval = r.default("full_attention_interval")
    if interval:
        n = _positive_int({"full_attention_interval": interval}, "full_attention_interval", where)
        return ["full" if (i + 1) % n == 0 else "linear" for i in range(num_layers)]
    if r.model_type == "llama4_text" or cfg.get("attention_chunk_size"):
        chunk = r.default("attention_chunk_size")
        if chunk:
            # transformers Llama4TextConfig: no_rope_layers[i] = (i + 1) % 4 != 0; RoPE layers
            # use chunked attention, every 4th (NoPE) layer attends globally.
            no_rope = cfg.get("no_rope_layers")
            if isinstance(no_rope, list) and len(no_rope) == num_layers:
                return ["chunked" if flag else "full" for flag in no_rope]
            r.notes.append(
                "no_rope_layers = every 4th layer global (absent; transformers "
                "Llama4TextConfig no_rope_layer_interval 4)"
            )
            return ["chunked" if (i + 1) % 4 else "full" for i in range(num_layers)]
    return _sliding_kinds(r, num_layers)


def _sliding_kinds(r: _Reader, num_layers: int) -> list[str]:
    """Full or sliding-window attention per layer for configs without ``layer_types``."""
    cfg, model_type = r.cfg, r.model_type
    window = cfg.get("sliding_window")
    if window in (None, 0, False):
        return ["full"] * num_layers
    if not isinstance(window, int) or isinstance(window, bool) or window < 0:
        raise _fail(
            r.where,
            f"sliding_window must be a positive number of tokens, got {window!r}; fix the config.",
        )
    if model_type == "gemma3_text":
        pattern = int(r.default("sliding_window_pattern"))
        # every `pattern`-th layer is global (transformers Gemma3: layer i slides when
        # (i + 1) % pattern != 0)
        return ["sliding" if (i + 1) % pattern else "full" for i in range(num_layers)]
    if model_type == "gemma2":
        return ["sliding" if i % 2 == 0 else "full" for i in range(num_layers)]
    if model_type.startswith(("qwen2", "qwen3")):
        if cfg.get("use_sliding_window"):
            start = int(cfg.get("max_window_layers", num_layers))
            return ["sliding" if i >= start else "full" for i in range(num_layers)]
        return ["full"] * num_layers
    if model_type in {"mistral", "mixtral", "phi3"}:
        return ["sliding"] * num_layers
    return ["full"] * num_layers


def _ffn_kinds(r: _Reader, num_layers: int, num_experts: int) -> list[str]:
    """The FFN of each layer: ``dense``, ``moe`` or ``none`` (Nemotron-H mixer-only blocks)."""
    cfg = r.cfg
    pattern = cfg.get("hybrid_override_pattern")
    if isinstance(pattern, str):
        return [{"-": "dense", "E": "moe"}.get(c, "none") for c in pattern]
    if not num_experts:
        return ["dense"] * num_layers
    kinds = ["moe"] * num_layers
    first_dense = _int(cfg, "first_k_dense_replace", r.where)
    freq = _int(cfg, "moe_layer_freq", r.where, 1) or 1
    for i in range(num_layers):
        if i < first_dense or (i - first_dense) % freq:
            kinds[i] = "dense"
    step = cfg.get("interleave_moe_layer_step")
    if step is None and r.model_type == "llama4_text":
        step = r.default("interleave_moe_layer_step")
    if step:
        # transformers Llama4: MoE layers are range(step - 1, layers, step)
        step_n = _positive_int({"step": step}, "step", r.where)
        kinds = ["moe" if (i + 1) % step_n == 0 else "dense" for i in range(num_layers)]
    sparse_step = _int(cfg, "decoder_sparse_step", r.where, 1) or 1
    mlp_only = cfg.get("mlp_only_layers") or []
    if not isinstance(mlp_only, list):
        raise _fail(r.where, f"mlp_only_layers must be a list, got {mlp_only!r}.")
    for i in range(num_layers):
        if i in mlp_only or (sparse_step > 1 and (i + 1) % sparse_step):
            kinds[i] = "dense"
    return kinds


def _quant_int(value: Any, key: str, where: str) -> int:
    """An integer field of a quantization config; anything else is an InputError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InputError(
            f"{where}: quantization_config {key} must be an integer, got {value!r}; fix the "
            "config or pass --weight-dtype."
        )
    return int(value)


_ATTN_RE = re.compile(r"(self_attn|attention|\battn\b|linear_attn|mixer)")
_SHARED_RE = re.compile(r"shared_expert")
_DENSE_MLP_RE = re.compile(r"mlp\\?\.\(?(gate|up|down|gate_up)(_proj|\|)")
_ATTN_WHOLE_RE = re.compile(r"self_attn(\*|\.\*|\.?\*?\.?\*?$)")
_LAYER_RE = re.compile(r"layers\.(\d+)\.")


def _excluded_parts(patterns: list[Any], attention_layers: int) -> set[str]:
    """Linear parts a checkpoint leaves unquantized, from its exclude / ignore /
    modules_to_not_convert list: attention (a wildcard over layers, or explicit entries for at
    least half of the attention layers; ``o_proj`` only when the wildcard or an entry covers
    it: DeepSeek-V3.1-NVFP4 names q_a/q_b/kv_a/kv_b and quantizes o_proj), shared experts,
    dense MLPs. Routers, norms,
    embeddings and the LM head are 16-bit in every case."""
    parts: set[str] = set()
    attn_layers: set[str] = set()
    attn_wild = False
    out_named = False
    for raw in patterns:
        p = str(raw)
        whole = _ATTN_WHOLE_RE.search(p) is not None
        projection = "_proj" in p or whole
        if _ATTN_RE.search(p) and projection and "index" not in p and "norm" not in p:
            out_named = out_named or whole or "o_proj" in p
            m = _LAYER_RE.search(p)
            if m is None or "*" in p.split("self_attn")[0] or p.startswith("re:"):
                attn_wild = True
            else:
                attn_layers.add(m.group(1))
        if _SHARED_RE.search(p):
            parts.add("shared_experts")
        if _DENSE_MLP_RE.search(p) and "experts" not in p:
            parts.add("dense_ffn")
    if attn_wild or (attention_layers and len(attn_layers) * 2 >= attention_layers):
        parts.add("attention")
        if attn_wild or out_named:  # o_proj too, unless only the input projections are named
            parts.add("attention_out")
    return parts


def _quantized_dtype(quant: dict[str, Any], where: str) -> tuple[str, str]:
    """(weight format id, note) from a ``quantization_config`` (or ModelOpt ``quantization``)
    block.

    Recognised: ``fp8`` (DeepSeek/vLLM FP8), ``mxfp4`` (gpt-oss), ``awq``/``gptq`` (``bits``,
    4 by default), ``compressed-tensors`` (``config_groups.*.weights``: ``num_bits`` and
    ``type`` float/int), ``bitsandbytes`` (``load_in_4bit``/``load_in_8bit``), ``modelopt``
    and ModelOpt's ``hf_quant_config.json`` (``quant_algo`` FP8 / NVFP4 / W4A16_AWQ). Anything
    else is an error: guessing 16 bits would cost a quantized checkpoint as if it were bf16.
    """
    method = str(quant.get("quant_method", "modelopt" if "quant_algo" in quant else "")).lower()
    if method == "fp8":
        block = quant.get("weight_block_size")
        blocks = (
            f", {block[0]}x{block[1]} blocks"
            if isinstance(block, list) and len(block) == 2
            else ""
        )
        return "fp8", f"fp8 ({quant.get('fmt', 'e4m3')}) weights{blocks}"
    if method == "mxfp4":
        return "mxfp4", "mxfp4 MoE experts"
    if method in {"awq", "gptq"}:
        bits = _quant_int(quant.get("bits", quant.get("w_bit", 4)), "bits", where)
        if bits not in (4, 8):
            raise InputError(f"{where}: {method} with {bits} bits is not supported (4 or 8).")
        group = quant.get("group_size", quant.get("q_group_size", 128))
        return ("int4" if bits == 4 else "int8"), f"{method} {bits}-bit, group size {group}"
    if method == "compressed-tensors":
        groups = quant.get("config_groups") or {}
        for group in groups.values() if isinstance(groups, dict) else []:
            weights = group.get("weights") if isinstance(group, dict) else None
            if isinstance(weights, dict):
                bits = _quant_int(weights.get("num_bits", 0), "num_bits", where)
                kind = str(weights.get("type", ""))
                fmt = {
                    (8, "float"): "fp8",
                    (8, "int"): "int8",
                    (4, "int"): "int4",
                    (4, "float"): "nvfp4",
                }.get((bits, kind))
                if fmt:
                    gs = weights.get("group_size")
                    size = f", group size {gs}" if gs else ""
                    if fmt == "int4" and gs == 32 and weights.get("symmetric"):
                        fmt = "int4-g32"  # one bf16 scale per 32 weights, no zero point
                    return fmt, f"compressed-tensors {kind}{bits} weights{size}"
        raise InputError(
            f"{where}: compressed-tensors config without a recognisable weights group "
            "(num_bits 4/8, type int/float). Pass --weight-dtype."
        )
    if method == "bitsandbytes":
        if quant.get("load_in_4bit"):
            return "int4", "bitsandbytes 4-bit (costed as int4 with group scales)"
        if quant.get("load_in_8bit"):
            return "int8", "bitsandbytes 8-bit"
    if method == "modelopt":
        algo = str(quant.get("quant_algo", "")).upper()
        if algo == "MIXED_PRECISION":
            raise InputError(
                f"{where}: ModelOpt quant_algo MIXED_PRECISION (a format per layer, e.g. FP8 "
                "attention and NVFP4 MLP) is not modelled: infercost costs one weight format "
                "per checkpoint. For an estimate, pass the unquantized model's config.json "
                "with --weight-dtype."
            )
        if algo in {"FP8", "NVFP4"}:
            return algo.lower(), f"NVIDIA ModelOpt {algo}"
        if algo in {"W4A16_AWQ", "W4A8_AWQ"}:
            return "int4", f"NVIDIA ModelOpt {algo}"
    raise InputError(
        f"{where}: quantization_config.quant_method {method!r} is not recognised "
        "(fp8, mxfp4, awq, gptq, compressed-tensors, bitsandbytes, modelopt). "
        "Pass --weight-dtype to say how the weights are stored."
    )


def _kv_dtype_declared(quant: dict[str, Any]) -> str | None:
    """The KV-cache dtype a checkpoint declares: ModelOpt ``kv_cache_quant_algo`` or a
    compressed-tensors / ModelOpt ``kv_cache_scheme`` (8-bit float: fp8)."""
    algo = quant.get("kv_cache_quant_algo")
    if isinstance(algo, str) and algo.upper() in {"FP8", "INT8"}:
        return algo.lower()
    scheme = quant.get("kv_cache_scheme")
    if isinstance(scheme, dict) and scheme.get("num_bits") == 8:
        return "fp8" if str(scheme.get("type", "float")) == "float" else "int8"
    return None


def _quantization(
    cfg: dict[str, Any],
    text_cfg: dict[str, Any],
    hf_quant: dict[str, Any] | None,
    attention_layers: int,
    where: str,
) -> tuple[str | None, str, tuple[str, ...] | None, str | None]:
    """(format id, note, quantized parts, declared KV dtype) from the checkpoint's
    quantization config: ModelOpt ``hf_quant_config.json`` first, else ``quantization_config``
    at the top level or nested in ``text_config``. (None, "", None, None) when unquantized."""
    block: dict[str, Any] | None = None
    origin = ""
    if isinstance(hf_quant, dict):
        inner = hf_quant.get("quantization")
        block = inner if isinstance(inner, dict) else hf_quant
        origin = "hf_quant_config.json"
    else:
        for src, name in (
            (cfg, "quantization_config"),
            (text_cfg, "text_config.quantization_config"),
        ):
            q = src.get("quantization_config")
            if isinstance(q, dict):
                block, origin = q, name
                break
    if block is None:
        return None, "", None, None
    fmt, note = _quantized_dtype(block, where)
    excluded_list = (
        block.get("exclude_modules")
        or block.get("ignore")
        or block.get("modules_to_not_convert")
        or []
    )
    if not isinstance(excluded_list, list):
        raise _fail(where, f"{origin}: the excluded-modules list must be a list.")
    excluded = _excluded_parts(excluded_list, attention_layers)
    parts = tuple(
        p
        for p in ("attention", "attention_out", "dense_ffn", "shared_experts", "experts")
        if p not in excluded
    )
    if fmt == "mxfp4" and not excluded_list:
        parts = ("experts",)
    if excluded:
        note += "; 16-bit: " + ", ".join(sorted(excluded))
    return fmt, f"{note} (from {origin})", parts, _kv_dtype_declared(block)


def _block_types_as_pattern(cfg: dict[str, Any], where: str) -> tuple[dict[str, Any], bool]:
    """A Nemotron-H config that lists ``layers_block_type`` (transformers 5) read as the
    equivalent ``hybrid_override_pattern``, and whether num_hidden_layers was taken from the
    list's length; other configs unchanged."""
    blocks = cfg.get("layers_block_type")
    if not isinstance(blocks, list) or "hybrid_override_pattern" in cfg:
        return cfg, False
    unknown = sorted({str(b) for b in blocks} - set(_BLOCK_TYPES))
    if unknown:
        raise _fail(
            where,
            f"layers_block_type has block kinds {unknown} that infercost does not model "
            f"(known: {', '.join(_BLOCK_TYPES)}).",
        )
    out = dict(cfg)
    out["hybrid_override_pattern"] = "".join(_BLOCK_TYPES[str(b)] for b in blocks)
    derived = out.get("num_hidden_layers") is None
    if derived:
        out["num_hidden_layers"] = len(blocks)
    return out, derived


def _text_config(cfg: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    """(text config, its model_type, vision note) of a config, unwrapping multimodal ones."""
    text = cfg.get("text_config")
    vision = ""
    if any(k in cfg for k in ("vision_config", "vision_tower", "mm_tokens_per_image")):
        vision = (
            "multimodal checkpoint: the vision encoder and projector (vision_config) are not "
            "counted; parameters and memory are the text decoder's"
        )
    if isinstance(text, dict):
        outer = str(cfg.get("model_type") or "")
        model_type = str(text.get("model_type") or _WRAPPERS.get(outer, outer))
        return dict(text), model_type, vision
    model_type = str(cfg.get("model_type") or "")
    return cfg, _WRAPPERS.get(model_type, model_type), vision


def arch_from_hf_config(
    cfg: dict[str, Any],
    model_id: str,
    source: str,
    as_of: date,
    hf_quant: dict[str, Any] | None = None,
) -> ModelArch:
    """Build a :class:`ModelArch` from a parsed ``config.json`` dict.

    Args:
        cfg: the parsed JSON object.
        model_id: the catalog id to give it (usually the HF repo id).
        source: where the file came from (kept as provenance).
        as_of: when it was read.
        hf_quant: a ModelOpt ``hf_quant_config.json`` found beside the config, if any.

    Raises:
        InputError: a required key is missing or invalid, or a layer kind is not modelled;
            the message names the key and the file's model id.
    """
    where = f"model {model_id!r}"
    text_cfg, model_type, vision = _text_config(cfg)
    if not model_type:
        raise _fail(where, "config.json has no 'model_type'; pass the model's own config.json.")
    for key, what in _UNMODELLED_KEYS.items():
        if text_cfg.get(key) or cfg.get(key):
            raise _fail(
                where,
                f"config.json sets {key!r}: {what}, which infercost does not model; reading "
                "the rest of the config would misstate its weights or cache. Open an issue "
                "with the config.",
            )
    text_cfg, layers_from_blocks = _block_types_as_pattern(text_cfg, where)
    r = _Reader(text_cfg, model_type, where)
    if model_type not in MODEL_TYPE_DEFAULTS:
        r.notes.append(f"model_type {model_type!r} has no defaults table: read from its keys only")
    if layers_from_blocks:
        r.notes.append(
            f"num_hidden_layers = {text_cfg['num_hidden_layers']} (absent; transformers "
            "NemotronHConfig: the length of layers_block_type)"
        )

    num_layers = _positive_int(text_cfg, "num_hidden_layers", where)
    hidden = _positive_int(text_cfg, "hidden_size", where)
    num_heads = r.pos("num_attention_heads")
    num_kv_heads = r.pos(
        "num_key_value_heads",
        num_heads,
        "multi-head attention: the transformers default is num_attention_heads",
    )
    if num_kv_heads > num_heads or num_heads % num_kv_heads:
        raise _fail(
            where,
            f"num_key_value_heads {num_kv_heads} must divide num_attention_heads {num_heads} "
            "(grouped-query attention shares each KV head among a group of heads).",
        )
    head_dim_key = "attention_head_dim" if "attention_head_dim" in text_cfg else "head_dim"
    head_dim = r.pos(
        head_dim_key,
        hidden // num_heads or None,
        ""
        if text_cfg.get("kv_lora_rank")  # MLA states its own head dims
        else f"transformers default hidden_size / num_attention_heads = {hidden // num_heads}",
    )
    vocab = r.pos("vocab_size")
    tie = text_cfg.get("tie_word_embeddings", cfg.get("tie_word_embeddings"))
    if tie is None:
        tie = r.default("tie_word_embeddings", False, "untied: the PretrainedConfig default")

    mixers = _mixer_kinds(r, num_layers)
    counts = {k: mixers.count(k) for k in ("full", "sliding", "chunked", "linear", "mamba")}
    attention_layers = counts["full"] + counts["sliding"] + counts["chunked"]

    kwargs: dict[str, Any] = {}
    if text_cfg.get("kv_lora_rank"):
        kwargs.update(
            attention_kind="mla",
            kv_lora_rank=_positive_int(text_cfg, "kv_lora_rank", where),
            q_lora_rank=_int(text_cfg, "q_lora_rank", where),
            qk_nope_head_dim=_positive_int(text_cfg, "qk_nope_head_dim", where),
            qk_rope_head_dim=_positive_int(text_cfg, "qk_rope_head_dim", where),
            v_head_dim=_positive_int(text_cfg, "v_head_dim", where),
        )
    else:
        kwargs["attention_kind"] = "mha" if num_kv_heads == num_heads else "gqa"
    if text_cfg.get("index_topk"):
        kwargs.update(
            index_topk=_positive_int(text_cfg, "index_topk", where),
            index_n_heads=_positive_int(text_cfg, "index_n_heads", where),
            index_head_dim=_positive_int(text_cfg, "index_head_dim", where),
        )

    if counts["sliding"]:
        kwargs.update(
            sliding_window=_positive_int(text_cfg, "sliding_window", where),
            num_sliding_layers=counts["sliding"],
        )
    if counts["chunked"]:
        kwargs.update(
            attention_chunk_size=r.pos("attention_chunk_size"),
            num_chunked_layers=counts["chunked"],
        )
    ssm_dtype = str(text_cfg.get("mamba_ssm_dtype") or text_cfg.get("mamba_ssm_cache_dtype") or "")
    if counts["linear"]:
        kwargs.update(
            num_linear_layers=counts["linear"],
            linear_num_key_heads=_positive_int(text_cfg, "linear_num_key_heads", where),
            linear_num_value_heads=_positive_int(text_cfg, "linear_num_value_heads", where),
            linear_key_head_dim=_positive_int(text_cfg, "linear_key_head_dim", where),
            linear_value_head_dim=_positive_int(text_cfg, "linear_value_head_dim", where),
            linear_conv_kernel=_positive_int(text_cfg, "linear_conv_kernel_dim", where),
        )
    if counts["mamba"]:
        kwargs.update(
            num_mamba_layers=counts["mamba"],
            mamba_num_heads=_positive_int(text_cfg, "mamba_num_heads", where),
            mamba_head_dim=_positive_int(text_cfg, "mamba_head_dim", where),
            mamba_state_size=_positive_int(text_cfg, "ssm_state_size", where),
            mamba_n_groups=_positive_int(text_cfg, "n_groups", where),
            mamba_conv_kernel=_positive_int(text_cfg, "conv_kernel", where),
        )
    if ssm_dtype and (counts["linear"] or counts["mamba"]):
        if ssm_dtype not in _DTYPE_BYTES:
            raise _fail(where, f"mamba_ssm_dtype {ssm_dtype!r} is not a dtype infercost knows.")
        kwargs["state_bytes_per_elem"] = _DTYPE_BYTES[ssm_dtype]

    # Mixture of experts: routed experts are n_routed_experts (DeepSeek), num_experts (Qwen MoE)
    # or num_local_experts (Mixtral, gpt-oss, Llama-4, MiniMax). Expert FFN width:
    # moe_intermediate_size where stated, else intermediate_size (Mixtral, gpt-oss, Llama-4,
    # MiniMax state only that); Llama-4's dense layers use intermediate_size_mlp.
    experts_key = next(
        (k for k in ("n_routed_experts", "num_experts", "num_local_experts") if text_cfg.get(k)),
        None,
    )
    num_experts = _positive_int(text_cfg, experts_key, where) if experts_key else 0
    ffns = _ffn_kinds(r, num_layers, num_experts)
    if text_cfg.get("intermediate_size") is None and num_experts and "dense" not in ffns:
        # a pure MoE stack (Qwen3.5) has no dense FFN: its width is never used
        intermediate = _positive_int(text_cfg, "moe_intermediate_size", where)
    else:
        intermediate = _positive_int(text_cfg, "intermediate_size", where)
    if "hybrid_override_pattern" in text_cfg:
        kwargs["num_ffn_layers"] = sum(1 for k in ffns if k != "none")
        if not num_experts and "moe" in ffns:
            raise _fail(where, "hybrid_override_pattern has MoE blocks (E) but no expert count.")
    if num_experts:
        k = text_cfg.get("num_experts_per_tok") or text_cfg.get("experts_per_token")
        if not k:
            raise _fail(where, "MoE config has no 'num_experts_per_tok'.")
        if not isinstance(k, int) or isinstance(k, bool) or not 0 < k <= num_experts:
            raise _fail(
                where,
                f"num_experts_per_tok {k!r} must be an integer between 1 and the "
                f"{num_experts} experts.",
            )
        moe_inter = _int(text_cfg, "moe_intermediate_size", where) or intermediate
        dense_inter = _int(text_cfg, "intermediate_size_mlp", where) or intermediate
        n_shared = _int(text_cfg, "n_shared_experts", where)
        shared_inter = (
            _int(text_cfg, "shared_expert_intermediate_size", where)
            or _int(text_cfg, "moe_shared_expert_intermediate_size", where)
            or _int(text_cfg, "share_expert_dim", where)  # Step-3.5/3.7-Flash
        )
        if model_type == "llama4_text":
            n_shared, shared_inter = 1, moe_inter  # Llama4TextMoe: one shared expert
        if shared_inter and not n_shared:
            n_shared = 1  # Qwen2-MoE: one shared expert of shared_expert_intermediate_size
        elif n_shared and not shared_inter:
            shared_inter = moe_inter  # DeepSeek: each shared expert has the routed expert width
        kwargs.update(
            num_experts=num_experts,
            experts_per_token=int(k),
            num_shared_experts=n_shared,
            moe_intermediate_size=moe_inter,
            shared_expert_intermediate_size=shared_inter,
            num_dense_layers=ffns.count("dense"),
        )
        intermediate = dense_inter
    elif "hybrid_override_pattern" not in text_cfg and "none" in ffns:
        raise _fail(where, "layers without an FFN are only read from hybrid_override_pattern.")

    mtp = _int(text_cfg, "num_nextn_predict_layers", where) or _int(
        text_cfg, "mtp_num_hidden_layers", where
    )

    dtype_key = cfg.get("torch_dtype") or cfg.get("dtype") or text_cfg.get("torch_dtype")
    dtype_key = dtype_key or text_cfg.get("dtype")
    if dtype_key is None:
        r.notes.append("dtype = bfloat16 (absent: torch_dtype/dtype not stated)")
    torch_dtype = str(dtype_key or "bfloat16")
    if torch_dtype not in _DTYPE_NAMES:
        raise _fail(
            where,
            f"torch_dtype {torch_dtype!r} is not a checkpoint dtype infercost knows "
            f"({', '.join(_DTYPE_NAMES)}). Fix the config or pass --weight-dtype.",
        )
    checkpoint_dtype = _DTYPE_NAMES[torch_dtype]
    fmt, quant_note, parts, kv_declared = _quantization(
        cfg, text_cfg, hf_quant, attention_layers, where
    )
    if fmt is not None:
        checkpoint_dtype = fmt
    if parts is not None:
        kwargs["quantized_parts"] = parts
    qk_norm = str(r.fact("_qk_norm", "none"))
    if text_cfg.get("use_qk_norm") and qk_norm == "none":
        qk_norm = "per_layer" if text_cfg.get("qk_norm_type") == "per_layer" else "per_head"
    if model_type == "llama4_text":
        qk_norm = "none"  # Llama-4's L2 qk norm has no weights
    attn_gate = text_cfg.get("attn_output_gate")
    if attn_gate is None:
        attn_gate = r.fact("_attn_output_gate", False)
    try:
        return ModelArch(
            id=model_id,
            model_type=model_type,
            num_layers=num_layers,
            hidden_size=hidden,
            num_heads=num_heads,
            num_kv_heads=num_kv_heads,
            head_dim=head_dim,
            intermediate_size=intermediate,
            vocab_size=vocab,
            tie_word_embeddings=bool(tie),
            gated_mlp=bool(r.fact("_gated", True)),
            attention_bias=bool(r.default("attention_bias", False)),
            max_position_embeddings=_int(text_cfg, "max_position_embeddings", where),
            checkpoint_dtype=checkpoint_dtype,
            quantized_modules_note=quant_note,
            source=source,
            as_of=as_of,
            num_attention_layers=attention_layers if attention_layers != num_layers else None,
            attn_output_gate=bool(attn_gate),
            qk_norm=qk_norm,
            norms_per_layer=int(r.fact("_norms", 2)),
            num_mtp_layers=mtp,
            checkpoint_kv_dtype=kv_declared,
            vision_note=vision,
            defaults_applied=tuple(r.notes),
            **kwargs,
        )
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where}: {field}: {first['msg']}; fix the config.json.") from err
