"""Models as a composition of parts (issue 18): every current config is read, its parameter
count matches the model card, and the cache per sequence equals a hand derivation.

Configs: shared/reference/models/current (copied into the catalog, sources in models.csv).
"""

from __future__ import annotations

from datetime import date

import pytest

from infercost.catalog import get_model, get_quant_format
from infercost.catalog.hf_config import arch_from_hf_config
from infercost.errors import InputError
from infercost.perf.memory import (
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    state_bytes_per_layer,
    state_bytes_per_sequence,
    weight_bytes,
)
from infercost.perf.params import param_counts

D = date(2026, 12, 7)

# Published totals (model cards, text decoder; multimodal cards include a small vision encoder,
# Llama-4 Scout's 109 B includes its ~1 B vision encoder, which the trimmed config omits).
CARDS = [
    ("MiniMaxAI/MiniMax-M2", 230e9, 0.01),
    ("Qwen/Qwen3-Next-80B-A3B-Thinking", 80e9, 0.01),
    ("Qwen/Qwen3-Coder-480B-A35B-Instruct", 480e9, 0.01),
    ("meta-llama/Llama-4-Maverick-17B-128E-Instruct", 400e9, 0.01),
    ("meta-llama/Llama-4-Scout-17B-16E-Instruct", 109e9, 0.015),
    ("moonshotai/Kimi-K2-Instruct", 1.04e12, 0.015),
    ("zai-org/GLM-5", 744e9, 0.01),
    ("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", 31.6e9, 0.01),
    ("nvidia/Nemotron-H-56B-Base-8K", 56e9, 0.01),
    ("openai/gpt-oss-120b", 116.8e9, 0.01),
    ("nvidia/Qwen3-235B-A22B-NVFP4", 235e9, 0.01),
    ("mistralai/Devstral-Small-2-24B-Instruct-2512", 24e9, 0.025),  # card counts vision
]


@pytest.mark.parametrize(("model", "card", "tol"), CARDS)
def test_parameters_match_the_model_card(model: str, card: float, tol: float) -> None:
    assert param_counts(get_model(model)).total == pytest.approx(card, rel=tol)


def test_deepseek_v32_main_plus_mtp_is_the_published_685b() -> None:
    # DeepSeek-V3 card: 671 B main model + 14 B MTP module = 685 B; V3.2 adds the indexer.
    c = param_counts(get_model("deepseek-ai/DeepSeek-V3.2"))
    assert c.total == pytest.approx(671e9, rel=0.01)
    assert c.total + c.mtp + c.embedding == pytest.approx(685e9, rel=0.01)


def test_gated_deltanet_state_by_hand() -> None:
    # Qwen3-Next-80B: 48 layers, full_attention_interval 4 -> 12 attention + 36 DeltaNet.
    # DeltaNet per layer: recurrent 32 v-heads x 128 x 128 = 524,288 elements; conv window
    # (4 - 1) x (2 x 16 x 128 + 32 x 128) = 3 x 8,192 = 24,576; at bf16: 2 x 548,864 B.
    m = get_model("Qwen/Qwen3-Next-80B-A3B-Thinking")
    assert (m.attention_layers, m.num_linear_layers) == (12, 36)
    delta, mamba = state_bytes_per_layer(m, 2.0)
    assert delta == 2 * (524_288 + 24_576)
    assert mamba == 0.0
    # KV per token: 12 layers x 2 x 2 KV heads x 256 x 2 B = 24,576 B
    assert kv_bytes_per_token(m, 2.0) == 24_576
    # one sequence of 1,000 tokens: 1,000 x 24,576 + 36 x 1,097,728
    assert float(kv_bytes_per_sequence(m, 1000, 2.0)) == 1000 * 24_576 + 36 * 1_097_728


def test_mamba2_state_by_hand() -> None:
    # Nemotron-H-56B: pattern of 118 blocks, 54 M (Mamba2), 10 * (attention), 54 - (MLP).
    # Mamba2 per layer: SSM 256 heads x 64 x 256 state = 4,194,304; conv (4 - 1) x
    # (16,384 + 2 x 8 x 256) = 61,440; bf16 (no mamba_ssm_dtype stated) -> 2 B each.
    m = get_model("nvidia/Nemotron-H-56B-Base-8K")
    assert (m.num_layers, m.num_mamba_layers, m.attention_layers, m.ffn_layers) == (
        118,
        54,
        10,
        54,
    )
    _, mamba = state_bytes_per_layer(m, 2.0)
    assert mamba == 2 * (4_194_304 + 61_440)
    assert state_bytes_per_sequence(m, 2.0) == 54 * mamba


def test_mamba_state_dtype_from_config() -> None:
    # Nemotron-3-Nano states mamba_ssm_cache_dtype float32: the SSM state is 4 B/element,
    # the conv window stays at the KV dtype. 64 heads x 64 x 128 = 524,288; conv 3 x
    # (4,096 + 2 x 8 x 128) = 18,432.
    m = get_model("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16")
    _, mamba = state_bytes_per_layer(m, 2.0)
    assert mamba == 4 * 524_288 + 2 * 18_432


def test_chunked_attention_caps_kv_above_the_chunk() -> None:
    # Llama-4 Scout: 48 layers, every 4th global -> 36 chunked (8,192 tokens) + 12 full.
    # KV per token per layer: 2 x 8 x 128 x 2 B = 4,096 B.
    m = get_model("meta-llama/Llama-4-Scout-17B-16E-Instruct")
    assert (m.num_chunked_layers, m.attention_chunk_size) == (36, 8192)
    below = float(kv_bytes_per_sequence(m, 4000, 2.0))
    above = float(kv_bytes_per_sequence(m, 20_000, 2.0))
    assert below == 4096 * 48 * 4000
    assert above == 4096 * (12 * 20_000 + 36 * 8192)


def test_dsa_indexer_cache_and_decode_step_above_and_below_topk() -> None:
    # DeepSeek-V3.2: MLA latent 512 + rope 64 at fp8 = 576 B, indexer key 128 fp8 + 4 B scale
    # = 132 B, per token per layer, 61 layers; top-k 2,048.
    from infercost.catalog import get_accelerator, get_engine
    from infercost.perf.step import decode_step, step_model

    m = get_model("deepseek-ai/DeepSeek-V3.2")
    assert kv_bytes_per_token(m, 1.0) == (576 + 132) * 61
    sm = step_model(m, get_accelerator("H200"), get_quant_format("fp8"), 1.0, get_engine("vllm"))
    short, long_ = 1_000, 100_000
    # attention pairs per sequence: 61 x min(ctx, 2048); indexer pairs: ctx (summed layers)
    f_short = decode_step(sm, 1, short).flop
    f_long = decode_step(sm, 1, long_).flop
    attn = float(sm.attn_flop_per_ctx)
    index = float(sm.index_flop_per_ctx)  # 2 x 64 heads x 128 x 61 layers
    assert index == 2 * 64 * 128 * 61
    growth = float(f_long - f_short)
    assert growth == pytest.approx(attn * 61 * (2048 - short) + index * (long_ - short))


def test_quantization_from_hf_quant_config_excludes_attention() -> None:
    # DeepSeek-V3.1-NVFP4: hf_quant_config.json NVFP4, attention projections of every layer
    # excluded (16-bit), FP8 KV cache declared.
    m = get_model("nvidia/DeepSeek-V3.1-NVFP4")
    assert m.checkpoint_dtype == "nvfp4"
    # its exclude list names q_a/q_b/kv_a_proj_with_mqa/kv_b of every layer, not o_proj
    assert "attention" not in m.quantized_parts and "experts" in m.quantized_parts
    assert "attention_out" in m.quantized_parts
    assert m.checkpoint_kv_dtype == "fp8"
    c = param_counts(m)
    w = weight_bytes(m, get_quant_format("nvfp4"), c)
    # input projections at 2 B, o_proj (128 heads x 128 x 7168 per layer) and experts at 4.5
    # bits
    assert c.attention_out == 128 * 128 * 7168 * 61
    assert w.experts == pytest.approx(c.experts * 4.5 / 8)
    nvfp4 = 4.5 / 8
    dense = (
        (c.attention - c.attention_out) * 2.0
        + c.attention_out * nvfp4
        + (c.dense_ffn + c.shared_experts) * nvfp4
        + (c.norms + c.router) * 2.0
    )
    assert w.dense == pytest.approx(dense)


def test_nested_quantization_config_quantizes_only_the_experts() -> None:
    # Kimi-K2.5 (native INT4): compressed-tensors W4A16 nested in text_config; ignore lists
    # attention, shared experts and the dense MLP.
    # compressed-tensors W4A16, symmetric, group 32: 4 + 16/32 = 4.5 bits per weight
    m = get_model("moonshotai/Kimi-K2.5")
    assert m.checkpoint_dtype == "int4-g32"
    assert get_quant_format("int4-g32").bits_per_weight == 4.5
    assert m.quantized_parts == ("experts",)
    c = param_counts(m)
    assert weight_bytes(m, get_quant_format("int4-g32"), c).experts == pytest.approx(
        c.experts * 4.5 / 8
    )
    assert "text_config.quantization_config" in m.quantized_modules_note


def test_gpt_oss_like_quantization_config_per_module() -> None:
    cfg = {
        "model_type": "gpt_oss",
        "num_hidden_layers": 2,
        "hidden_size": 64,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 32,
        "vocab_size": 100,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
        "quantization_config": {
            "quant_method": "mxfp4",
            "modules_to_not_convert": ["model.layers.*.self_attn", "lm_head"],
        },
    }
    m = arch_from_hf_config(cfg, "t/gpt-oss-like", "test", D)
    assert m.quantized_parts == ("dense_ffn", "shared_experts", "experts")
    c = param_counts(m)
    w = weight_bytes(m, get_quant_format("mxfp4"), c)
    # experts at 4.25 bits, attention at 16
    assert w.experts == pytest.approx(c.experts * 4.25 / 8)
    assert w.dense == pytest.approx((c.attention + c.norms + c.router) * 2.0)
    # the flag overrides the checkpoint: every linear layer at fp8
    w8 = weight_bytes(m, get_quant_format("fp8"), c)
    assert w8.dense == pytest.approx(c.attention * 8.002 / 8 + (c.norms + c.router) * 2.0)


def test_defaults_are_applied_with_a_note() -> None:
    # gemma-3-4b's text_config omits the head counts: Gemma3TextConfig defaults 8 / 4 / 256
    m = get_model("google/gemma-3-4b-it")
    assert (m.num_heads, m.num_kv_heads, m.head_dim) == (8, 4, 256)
    notes = " ".join(m.defaults_applied)
    assert "num_key_value_heads = 4" in notes and "Gemma3TextConfig" in notes
    # a llama config without num_key_value_heads: MHA, said so
    cfg = {
        "model_type": "llama",
        "num_hidden_layers": 2,
        "hidden_size": 64,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "vocab_size": 100,
    }
    m2 = arch_from_hf_config(cfg, "t/llama-mha", "test", D)
    assert m2.num_kv_heads == 4
    assert any(n.startswith("num_key_value_heads = 4") for n in m2.defaults_applied)


def test_known_parts_under_a_new_model_type_run() -> None:
    cfg = {
        "model_type": "brand_new_2027",
        "num_hidden_layers": 4,
        "hidden_size": 64,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "vocab_size": 100,
        "layer_types": ["linear_attention", "full_attention"] * 2,
        "linear_num_key_heads": 2,
        "linear_num_value_heads": 4,
        "linear_key_head_dim": 16,
        "linear_value_head_dim": 16,
        "linear_conv_kernel_dim": 4,
    }
    m = arch_from_hf_config(cfg, "t/new", "test", D)
    assert (m.attention_layers, m.num_linear_layers) == (2, 2)
    assert any("no defaults table" in n for n in m.defaults_applied)


def test_unknown_layer_kind_names_the_key() -> None:
    cfg = {
        "model_type": "x",
        "num_hidden_layers": 2,
        "hidden_size": 64,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "vocab_size": 100,
        "layer_types": ["full_attention", "retention"],
    }
    with pytest.raises(InputError, match=r"layer_types has layer kinds \['retention'\]"):
        arch_from_hf_config(cfg, "t/x", "test", D)
    pattern = {**cfg, "layer_types": None, "hybrid_override_pattern": "M*"}
    pattern["hybrid_override_pattern"] = "MR"
    with pytest.raises(InputError, match="hybrid_override_pattern"):
        arch_from_hf_config(pattern, "t/x", "test", D)


@pytest.mark.parametrize(
    "name",
    [
        "deepseek-ai/DeepSeek-V3.2",
        "zai-org/GLM-5-FP8",  # bf16 GLM-5 (1.49 TB) does not fit 8 x 141 GiB: predict says so
        "moonshotai/Kimi-K2-Instruct",
        "MiniMaxAI/MiniMax-M2",
        "Qwen/Qwen3-Next-80B-A3B-Thinking",
        "Qwen/Qwen3.5-397B-A17B",
        "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        "mistralai/Devstral-Small-2-24B-Instruct-2512",
        "nvidia/Nemotron-H-56B-Base-8K",
        "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
        "google/gemma-3-4b-it",
    ],
)
def test_every_current_model_predicts_on_a_layout_where_it_fits(name: str) -> None:
    from infercost.predict import predict

    p = predict(name, "H200", 1000, 200, num_gpus=8, tp=8, concurrency=16, gpu_hour_usd=3.0)
    assert p.fits, p.reason
    assert p.output_tok_s and p.output_tok_s > 0 and p.ttft_s and p.ttft_s > 0


def test_names_resolve_as_people_write_them() -> None:
    # an organisation's old name, and a quantized checkpoint's name to its base model
    assert get_model("zhipuai/GLM-5").id == "zai-org/GLM-5"
    assert get_model("Qwen3-Next-80B-A3B-Instruct").id == "Qwen/Qwen3-Next-80B-A3B-Thinking"
    assert get_model("meta-llama/Llama-3.1-8B-Instruct-AWQ").id.startswith(
        "meta-llama/Llama-3.1-8B"
    )
