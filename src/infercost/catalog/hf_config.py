"""Hugging Face ``config.json`` → :class:`ModelArch`, pure (no I/O).

Reads only what the config states. Where a key is absent the documented default of the
``transformers`` config class for that ``model_type`` applies, and the table below cites it.
No architecture is ever inferred from ratios of sizes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from infercost.catalog.schema import ModelArch
from infercost.errors import InputError

#: model_type → (gated MLP, default tie_word_embeddings). Gated = SwiGLU/GeGLU gate+up+down.
#: Sources: transformers' modeling_<type>.py MLP classes (gate_proj/up_proj/down_proj for all
#: listed gated types) and each <Type>Config's ``tie_word_embeddings`` default.
KNOWN_MODEL_TYPES: dict[str, tuple[bool, bool]] = {
    "llama": (True, False),
    "mistral": (True, False),
    "mixtral": (True, False),
    "qwen2": (True, False),
    "qwen2_moe": (True, False),
    "qwen3": (True, False),
    "qwen3_moe": (True, False),
    "deepseek_v2": (True, False),
    "deepseek_v3": (True, False),
    "gemma": (True, True),
    "gemma2": (True, True),
    "gemma3_text": (True, True),
    "gpt_oss": (True, False),
    "phi3": (True, False),
    "granite": (True, True),
    "olmo2": (True, False),
}

#: Gemma3TextConfig defaults (transformers models/gemma3/configuration_gemma3.py): used only
#: when the (multimodal) config omits them.
_GEMMA3_TEXT_DEFAULTS: dict[str, Any] = {"vocab_size": 262_208, "sliding_window_pattern": 6}

_DTYPE_NAMES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


def _require(cfg: dict[str, Any], key: str, where: str) -> Any:
    if key not in cfg or cfg[key] is None:
        raise InputError(
            f"{where}: config.json has no {key!r}; a Hugging Face decoder config states it. "
            "Pass the model's own config.json (from its Hugging Face repository)."
        )
    return cfg[key]


def _quant_int(value: Any, key: str, where: str) -> int:
    """An integer field of ``quantization_config``; anything else is an InputError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InputError(
            f"{where}: quantization_config {key} must be an integer, got {value!r}; fix the "
            "config or pass --weight-dtype."
        )
    return int(value)


def _quantized_dtype(quant: dict[str, Any], where: str) -> tuple[str, str]:
    """(weight format id, note) from a ``quantization_config`` block.

    Recognised: ``fp8`` (DeepSeek/vLLM FP8), ``mxfp4`` (gpt-oss), ``awq``/``gptq`` (``bits``,
    4 by default), ``compressed-tensors`` (``config_groups.*.weights``: ``num_bits`` and
    ``type`` float/int), ``bitsandbytes`` (``load_in_4bit``/``load_in_8bit``), ``modelopt``
    (``quant_algo`` FP8 / NVFP4). Anything else is an error: guessing 16 bits would cost a
    quantized checkpoint as if it were bf16.
    """
    method = str(quant.get("quant_method", "")).lower()
    if method == "fp8":
        block = quant.get("weight_block_size")
        blocks = (
            f", {block[0]}x{block[1]} blocks"
            if isinstance(block, list) and len(block) == 2
            else ""
        )
        return "fp8", f"fp8 ({quant.get('fmt', 'e4m3')}) weights{blocks}"
    if method == "mxfp4":
        skipped = quant.get("modules_to_not_convert", [])
        return "mxfp4", "mxfp4 MoE experts; bf16: " + ", ".join(str(s) for s in skipped)
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
                    return fmt, f"compressed-tensors {kind}{bits} weights"
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
        if algo in {"FP8", "NVFP4"}:
            return algo.lower(), f"NVIDIA ModelOpt {algo}"
    raise InputError(
        f"{where}: quantization_config.quant_method {method!r} is not recognised "
        "(fp8, mxfp4, awq, gptq, compressed-tensors, bitsandbytes, modelopt). "
        "Pass --weight-dtype to say how the weights are stored."
    )


def _positive_int(cfg: dict[str, Any], key: str, where: str, default: Any = None) -> int:
    """``cfg[key]`` as a positive integer (booleans, fractions, NaN and <= 0 are errors)."""
    value = cfg.get(key, default)
    if value is None:
        raise InputError(
            f"{where}: config.json has no {key!r}; a Hugging Face decoder config states it. "
            "Pass the model's own config.json (from its Hugging Face repository)."
        )
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    if isinstance(value, float) and value.is_integer() and value > 0:
        ok, value = True, int(value)
    if not ok:
        raise InputError(f"{where}: {key} must be a positive integer, got {value!r}.")
    return int(value)


def _sliding_layers(
    text: dict[str, Any], model_type: str, num_layers: int
) -> tuple[int | None, int]:
    """(window tokens, number of sliding-window layers) as the config states them."""
    window = text.get("sliding_window")
    if window is not None and (
        not isinstance(window, int) or isinstance(window, bool) or window <= 0
    ):
        if window in (0, False):
            return None, 0
        raise InputError(
            f"sliding_window must be a positive number of tokens, got {window!r}; fix the config."
        )
    layer_types = text.get("layer_types")
    if isinstance(layer_types, list) and window:
        return int(window), sum(1 for t in layer_types if t == "sliding_attention")
    if model_type == "gemma3_text" and window:
        pattern = int(
            text.get("sliding_window_pattern", _GEMMA3_TEXT_DEFAULTS["sliding_window_pattern"])
        )
        # every `pattern`-th layer is global
        # (transformers Gemma3: layer i slides when (i + 1) % pattern != 0)
        return int(window), sum(1 for i in range(num_layers) if (i + 1) % pattern != 0)
    if model_type == "gemma2" and window:
        return int(window), num_layers // 2  # Gemma 2 alternates local and global layers
    if model_type in {"qwen2", "qwen2_moe", "qwen3", "qwen3_moe"}:
        if text.get("use_sliding_window") and window:
            max_window_layers = int(text.get("max_window_layers", num_layers))
            return int(window), max(num_layers - max_window_layers, 0)
        return None, 0
    if window and model_type in {"mistral", "mixtral", "phi3"}:
        return int(window), num_layers
    return None, 0


def arch_from_hf_config(cfg: dict[str, Any], model_id: str, source: str, as_of: date) -> ModelArch:
    """Build a :class:`ModelArch` from a parsed ``config.json`` dict.

    Args:
        cfg: the parsed JSON object.
        model_id: the catalog id to give it (usually the HF repo id).
        source: where the file came from (kept as provenance).
        as_of: when it was read.

    Raises:
        InputError: unsupported ``model_type`` or a required key is missing; the message names
            the key and the file's model id.
    """
    where = f"model {model_id!r}"
    text = cfg.get("text_config") if isinstance(cfg.get("text_config"), dict) else None
    text_cfg: dict[str, Any] = dict(text) if text is not None else cfg
    model_type = str(text_cfg.get("model_type") or cfg.get("model_type") or "")
    if model_type == "gemma3":
        model_type = "gemma3_text"
    if model_type not in KNOWN_MODEL_TYPES:
        raise InputError(
            f"{where}: model_type {model_type!r} is not supported yet "
            f"(supported: {', '.join(sorted(KNOWN_MODEL_TYPES))}). "
            "Open an issue with the config.json, or use a catalogued model of the same family."
        )
    gated, tie_default = KNOWN_MODEL_TYPES[model_type]
    if model_type == "gemma3_text":
        for key, value in _GEMMA3_TEXT_DEFAULTS.items():
            text_cfg.setdefault(key, value)

    num_layers = _positive_int(text_cfg, "num_hidden_layers", where)
    hidden = _positive_int(text_cfg, "hidden_size", where)
    num_heads = _positive_int(text_cfg, "num_attention_heads", where)
    num_kv_heads = _positive_int(text_cfg, "num_key_value_heads", where, num_heads)
    if num_kv_heads > num_heads or num_heads % num_kv_heads:
        raise InputError(
            f"{where}: num_key_value_heads {num_kv_heads} must divide num_attention_heads "
            f"{num_heads} (grouped-query attention shares each KV head among a group of heads)."
        )
    head_dim = _positive_int(text_cfg, "head_dim", where, hidden // num_heads or None)
    vocab = _positive_int(text_cfg, "vocab_size", where)
    tie = text_cfg.get("tie_word_embeddings", cfg.get("tie_word_embeddings", tie_default))

    kwargs: dict[str, Any] = {}
    if text_cfg.get("kv_lora_rank"):
        kwargs.update(
            attention_kind="mla",
            kv_lora_rank=int(text_cfg["kv_lora_rank"]),
            q_lora_rank=int(text_cfg.get("q_lora_rank") or 0),
            qk_nope_head_dim=int(_require(text_cfg, "qk_nope_head_dim", where)),
            qk_rope_head_dim=int(_require(text_cfg, "qk_rope_head_dim", where)),
            v_head_dim=int(_require(text_cfg, "v_head_dim", where)),
        )
    else:
        kwargs["attention_kind"] = "mha" if num_kv_heads == num_heads else "gqa"

    # Mixture of experts: routed experts are n_routed_experts (DeepSeek), num_experts (Qwen MoE)
    # or num_local_experts (Mixtral, gpt-oss). Expert FFN width: moe_intermediate_size where
    # stated, else intermediate_size (Mixtral, gpt-oss state only that).
    experts_key = next(
        (k for k in ("n_routed_experts", "num_experts", "num_local_experts") if text_cfg.get(k)),
        None,
    )
    num_experts = _positive_int(text_cfg, experts_key, where) if experts_key else 0
    intermediate = _positive_int(text_cfg, "intermediate_size", where)
    if num_experts:
        k = text_cfg.get("num_experts_per_tok") or text_cfg.get("experts_per_token")
        if not k:
            raise InputError(f"{where}: MoE config has no 'num_experts_per_tok'.")
        if not isinstance(k, int) or isinstance(k, bool) or not 0 < k <= num_experts:
            raise InputError(
                f"{where}: num_experts_per_tok {k!r} must be an integer between 1 and the "
                f"{num_experts} experts."
            )
        moe_inter = int(text_cfg.get("moe_intermediate_size") or intermediate)
        n_shared = int(text_cfg.get("n_shared_experts") or 0)
        shared_inter = int(text_cfg.get("shared_expert_intermediate_size") or 0)
        if shared_inter and not n_shared:
            n_shared = 1  # Qwen2-MoE: one shared expert of shared_expert_intermediate_size
        elif n_shared and not shared_inter:
            shared_inter = moe_inter  # DeepSeek: each shared expert has the routed expert width
        dense_layers = int(text_cfg.get("first_k_dense_replace") or 0)
        mlp_only = text_cfg.get("mlp_only_layers") or []
        dense_layers += len(mlp_only)
        kwargs.update(
            num_experts=num_experts,
            experts_per_token=int(k),
            num_shared_experts=n_shared,
            moe_intermediate_size=moe_inter,
            shared_expert_intermediate_size=shared_inter,
            num_dense_layers=dense_layers,
        )

    window, n_sliding = _sliding_layers(text_cfg, model_type, num_layers)

    torch_dtype = str(cfg.get("torch_dtype") or text_cfg.get("torch_dtype") or "bfloat16")
    if torch_dtype not in _DTYPE_NAMES:
        raise InputError(
            f"{where}: torch_dtype {torch_dtype!r} is not a checkpoint dtype infercost knows "
            f"({', '.join(_DTYPE_NAMES)}). Fix the config or pass --weight-dtype."
        )
    checkpoint_dtype = _DTYPE_NAMES[torch_dtype]
    quant_note = ""
    quant = cfg.get("quantization_config")
    if isinstance(quant, dict):
        checkpoint_dtype, quant_note = _quantized_dtype(quant, where)
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
            gated_mlp=gated,
            attention_bias=bool(
                text_cfg.get("attention_bias", model_type in {"qwen2", "qwen2_moe"})
            ),
            sliding_window=window,
            num_sliding_layers=n_sliding,
            max_position_embeddings=int(text_cfg.get("max_position_embeddings") or 0),
            checkpoint_dtype=checkpoint_dtype,
            quantized_modules_note=quant_note,
            source=source,
            as_of=as_of,
            **kwargs,
        )
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where}: {field}: {first['msg']}; fix the config.json.") from err
