"""Models NVIDIA's aiconfigurator supports (its ``model_configs`` @ 095f58a5, 2026-08-21) that
the catalog now holds: every models.csv row loads and is byte-identical to the blob its source
names, hand-derived shapes for one model of each new family, the configs the reader refuses
(parts infercost does not model), and the same-shape aliases.

Expected values are derived by hand from the config numbers in the comments; the code under
test derives them independently (``perf.params``, ``perf.memory``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import date
from importlib import resources
from typing import Any

import pytest

from infercost.catalog import get_model, load_models
from infercost.catalog.hf_config import arch_from_hf_config
from infercost.errors import InputError
from infercost.perf.memory import (
    indexer_bytes_per_token_per_layer,
    kv_bytes_per_token,
    state_bytes_per_sequence,
)
from infercost.perf.params import param_counts

DATA = resources.files("infercost.catalog.data")
AIC_COMMIT = "095f58a51c4ca8e61b66ec108d86f223f8d559ce"


def _rows() -> list[dict[str, str]]:
    text = DATA.joinpath("models.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _config(file_name: str) -> dict[str, Any]:
    cfg: dict[str, Any] = json.loads(DATA.joinpath("models", file_name).read_text("utf-8"))
    return cfg


def _git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# --- every row loads, with its provenance ---------------------------------------------------


def test_every_models_csv_row_loads_under_its_id() -> None:
    rows = _rows()
    loaded = {m.id for m in load_models()}
    # 56 before + 30 copied from aiconfigurator 095f58a5 (25 it lacked, 5 NVFP4 checkpoints
    # whose names resolved only through the family key) + 6 more in the ninth session
    # (Mistral-Nemo, Phi-3 mini 4k/128k and medium 4k, gemma-2-9b-it, granite-3.3-8b)
    assert len(rows) == len(loaded) == 92
    for row in rows:
        assert get_model(row["id"]).id == row["id"]
        assert "config.json" in row["source"]


def test_each_file_is_the_blob_its_source_names() -> None:
    """A row that names git blobs: the config (and its hf_quant_config) hash to one of them
    (the git blob hash of the bytes, so the copy is byte-identical)."""
    checked = 0
    for row in _rows():
        source = row["source"]
        if "blob" not in source:
            continue
        blobs = [b for b in re.findall(r"`([0-9a-f]{8,40})`", source) if len(b) < 40]
        files = [row["file"], row["file"].removesuffix(".json") + ".hf_quant_config.json"]
        for name in files:
            ref = DATA.joinpath("models", name)
            if not ref.is_file():
                continue
            digest = _git_blob(ref.read_bytes())
            assert any(digest.startswith(b) for b in blobs), (row["id"], name, digest, blobs)
            checked += 1
    assert checked >= 60


def test_new_rows_name_the_aiconfigurator_commit_and_path() -> None:
    new = [r for r in _rows() if AIC_COMMIT in r["source"]]
    assert len(new) == 30
    for row in new:
        assert row["as_of"] == "2026-08-21"
        org, name = row["id"].split("/")
        assert f"model_configs/{org}--{name}_config.json" in row["source"], row["id"]
        assert row["file"] == f"{org}__{name}.json"
        quant = DATA.joinpath("models", f"{org}__{name}.hf_quant_config.json")
        assert quant.is_file() == ("_hf_quant_config.json" in row["source"]), row["id"]


# --- hand-derived shapes, one model per new family ------------------------------------------


def test_qwen3_0_6b_dense_tied() -> None:
    # Qwen3-0.6B: h 1024, 28 layers, 16 heads / 8 KV heads of head_dim 128, FFN 3072,
    # vocab 151,936, tied embeddings.
    # attention per layer: q 1024x2048 + k,v 2x1024x1024 + o 2048x1024 = 6,291,456
    #   + q_norm/k_norm 2x128 = 6,291,712; FFN 3x1024x3072 = 9,437,184; 2 norms 2,048
    #   -> 15,730,944 per layer x 28 = 440,466,432 (the card's "0.44B non-embedding")
    # + embedding 151,936 x 1,024 = 155,582,464 (tied: once) + final norm 1,024
    # = 596,049,920 (card: 0.6B)
    m = get_model("Qwen/Qwen3-0.6B")
    assert m.tie_word_embeddings and m.qk_norm == "per_head"
    assert param_counts(m).total == 596_049_920
    # KV per token, bf16: 28 layers x 2 (K, V) x 8 heads x 128 x 2 bytes = 114,688
    assert kv_bytes_per_token(m, 2.0) == 114_688


def test_qwen3_vl_text_reads_the_qwen3_vl_defaults() -> None:
    # Qwen3-VL-8B-Instruct text_config (qwen3_vl_text): h 4096, 36 layers, 32/8 heads of 128,
    # FFN 12288, vocab 151,936; no tie key in text_config, top-level false.
    # attention: q 4096x4096 + k,v 2x4096x1024 + o 4096x4096 = 41,943,040 + q/k norm 256
    #   (transformers Qwen3VLTextAttention has q_norm/k_norm over head_dim) = 41,943,296
    # FFN 3x4096x12288 = 150,994,944; norms 8,192 -> 192,946,432 x 36 = 6,946,071,552
    # + embedding and LM head 2 x 151,936 x 4,096 = 1,244,659,712 + final norm 4,096
    # = 8,190,735,360 (the vision encoder is not counted)
    m = get_model("Qwen/Qwen3-VL-8B-Instruct")
    assert m.model_type == "qwen3_vl_text" and m.qk_norm == "per_head"
    assert not m.tie_word_embeddings and m.vision_note
    assert param_counts(m).total == 8_190_735_360
    assert not any("no defaults table" in d for d in m.defaults_applied)


def test_qwen3_vl_moe() -> None:
    # Qwen3-VL-30B-A3B-Instruct (qwen3_vl_moe_text): h 2048, 48 layers, 32/4 heads of 128,
    # 128 experts x 8 of width 768, vocab 151,936, untied.
    # attention: q 2048x4096 + k,v 2x2048x512 + o 4096x2048 = 18,874,368 + q/k norm 256
    # router 2048x128 = 262,144; norms 4,096; experts 128 x 3x2048x768 = 603,979,776
    # -> 623,120,640 per layer x 48 = 29,909,790,720
    # + 2 x 151,936 x 2,048 = 622,329,856 + 2,048 = 30,532,122,624
    m = get_model("Qwen/Qwen3-VL-30B-A3B-Instruct")
    assert param_counts(m).total == 30_532_122_624
    # KV: 48 x 2 x 4 x 128 x 2 bytes = 98,304 per token
    assert kv_bytes_per_token(m, 2.0) == 98_304


def test_mimo_7b_qwen2_style_with_bias_and_mtp() -> None:
    # MiMo-7B-Base (mimo): h 4096, 36 layers, 32/8 heads of 128, FFN 11008, vocab 151,680,
    # attention_bias true, untied, num_nextn_predict_layers 1.
    # attention: 41,943,040 weights + biases q 4096 + k,v 2x1024 = 41,949,184
    # FFN 3x4096x11008 = 135,266,304; norms 8,192 -> 177,223,680 x 36 = 6,380,052,480
    # + 2 x 151,680 x 4,096 = 1,242,562,560 + 4,096 = 7,622,619,136 (MTP layer apart)
    m = get_model("XiaomiMiMo/MiMo-7B-Base")
    assert m.attention_bias and m.num_mtp_layers == 1
    assert param_counts(m).total == 7_622_619_136


def test_step_3_7_flash_sliding_window_moe_with_shared_expert() -> None:
    # Step-3.7-Flash: 45 layers, layer_types 12 full + 33 sliding (window 512), 8 KV heads of
    # 128; first_k_dense_replace 3, then 42 MoE layers of 288 experts x 8 (width 1280) and
    # one shared expert of share_expert_dim 1280.
    m = get_model("stepfun-ai/Step-3.7-Flash")
    assert (m.num_sliding_layers, m.sliding_window, m.num_full_attention_layers) == (33, 512, 12)
    assert (m.num_shared_experts, m.shared_expert_intermediate_size) == (1, 1280)
    assert m.num_moe_layers == 42 and m.num_mtp_layers == 3
    # routed experts: 42 x 288 x 3 x 4096 x 1280 = 190,253,629,440
    assert param_counts(m).experts == 190_253_629_440
    # KV per token (no window cap): 45 x 2 x 8 x 128 x 2 bytes = 184,320
    assert kv_bytes_per_token(m, 2.0) == 184_320
    assert get_model("stepfun-ai/Step-3.7-Flash-FP8").checkpoint_dtype == "fp8"


def test_glm_5_2_nvfp4_layer_types_read_as_dsa() -> None:
    # nvidia/GLM-5.2-NVFP4: layer_types "deepseek_sparse_attention" on all 78 layers; MLA
    # kv_lora_rank 512 + rope 64, indexer head_dim 128; FP8 KV (kv_cache_quant_algo).
    # KV per token: 78 x ((512 + 64) x 1 byte + indexer 128 fp8 + one fp32 scale 4) = 55,224
    m = get_model("nvidia/GLM-5.2-NVFP4")
    assert m.uses_dsa and m.attention_layers == 78
    assert indexer_bytes_per_token_per_layer(m) == 132
    assert m.checkpoint_kv_dtype == "fp8" and m.checkpoint_dtype == "nvfp4"
    assert kv_bytes_per_token(m, 1.0) == 55_224
    assert set(m.quantized_parts) == {"dense_ffn", "experts"}  # attention, shared 16-bit
    # same shapes as the BF16 release: GLM-5 counts
    assert param_counts(m).total == param_counts(get_model("zai-org/GLM-5.2")).total
    assert param_counts(m).total == param_counts(get_model("zai-org/GLM-5")).total


def test_qwen3_5_27b_dense_deltanet_hybrid_state() -> None:
    # Qwen3.5-27B (qwen3_5_text): 64 layers, full_attention_interval 4 -> 16 attention layers
    # (4 KV heads of 256) and 48 gated-DeltaNet layers (16 key / 48 value heads of 128, conv
    # kernel 4), recurrent state fp32 (mamba_ssm_dtype).
    m = get_model("Qwen/Qwen3.5-27B")
    assert (m.attention_layers, m.num_linear_layers) == (16, 48)
    # KV: 16 x 2 x 4 x 256 x 2 bytes = 65,536 per token
    assert kv_bytes_per_token(m, 2.0) == 65_536
    # state per sequence: 48 x (48 x 128 x 128 x 4 bytes + (2 x 2048 + 6144) x 3 x 2 bytes)
    #   = 48 x (3,145,728 + 61,440) = 153,944,064
    assert state_bytes_per_sequence(m, 2.0) == 153_944_064


def test_nvidia_deepseek_v3_2_nvfp4_is_itself_not_v3() -> None:
    # before its row, the family key (which strips "-v3-2" as a release number) sent this name
    # to deepseek-ai/DeepSeek-V3, which has no sparse attention
    m = get_model("nvidia/DeepSeek-V3.2-NVFP4")
    assert m.id == "nvidia/DeepSeek-V3.2-NVFP4" and m.uses_dsa
    # MLA input projections 16-bit, o_proj NVFP4 (exclude_modules names q_a/q_b/kv_a/kv_b)
    assert "attention" not in m.quantized_parts and "attention_out" in m.quantized_parts
    # KV per token at fp8: 61 x (576 + 132) = 43,188
    assert kv_bytes_per_token(m, 1.0) == 43_188


def test_same_text_decoder_as_an_earlier_release() -> None:
    pc = param_counts
    # Kimi-K2.6/K2.7-Code NVFP4: text_config equal to Kimi-K2.5-NVFP4's but eos_token_id
    k25 = pc(get_model("nvidia/Kimi-K2.5-NVFP4")).total
    assert pc(get_model("nvidia/Kimi-K2.6-NVFP4")).total == k25
    assert pc(get_model("nvidia/Kimi-K2.7-Code-NVFP4")).total == k25
    # MiniMax-M2.7: MiniMax-M2 shapes; KV 62 x 2 x 8 x 128 x 2 bytes = 253,952 per token
    m27 = get_model("MiniMaxAI/MiniMax-M2.7")
    assert pc(m27).total == pc(get_model("MiniMaxAI/MiniMax-M2.5")).total
    assert kv_bytes_per_token(m27, 2.0) == 253_952
    # GLM-5.1 differs from GLM-5 only in transformers_version
    assert pc(get_model("zai-org/GLM-5.1")).total == pc(get_model("zai-org/GLM-5")).total


@pytest.mark.parametrize(
    ("model_id", "total", "tolerance"),
    [
        # Qwen3.5 model cards (text decoder; the cards' totals include a vision encoder of
        # ~0.4-0.9B that infercost does not count)
        ("Qwen/Qwen3.5-122B-A10B", 122e9, 0.01),
        ("Qwen/Qwen3.5-35B-A3B", 35e9, 0.02),
        ("Qwen/Qwen3.5-27B", 27e9, 0.02),
        # Qwen3-1.7B card: 1.7B
        ("Qwen/Qwen3-1.7B", 1.7e9, 0.02),
    ],
)
def test_totals_near_the_published_figure(model_id: str, total: float, tolerance: float) -> None:
    assert param_counts(get_model(model_id)).total == pytest.approx(total, rel=tolerance)


# --- aliases ----------------------------------------------------------------------------------


def test_qwq_32b_is_qwen2_5_32b() -> None:
    # the QwQ-32B model report the alias cites counts 32,763,876,352 weights in the safetensors
    m = get_model("Qwen/QwQ-32B")
    assert m.id == "Qwen/Qwen2.5-32B"
    assert param_counts(m).total == 32_763_876_352


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("Qwen/Qwen3-VL-32B-Thinking", "Qwen/Qwen3-VL-32B-Instruct"),
        ("Qwen/Qwen3.6-27B", "Qwen/Qwen3.5-27B"),
        ("Qwen/Qwen3.6-35B-A3B", "Qwen/Qwen3.5-35B-A3B"),
        # the MIXED_PRECISION NVIDIA checkpoints resolve through their -NVFP4 suffix
        ("nvidia/Qwen3.6-35B-A3B-NVFP4", "Qwen/Qwen3.5-35B-A3B"),
    ],
)
def test_alias_resolves(name: str, target: str) -> None:
    assert get_model(name).id == target


# --- the reader: new spellings, and parts it refuses -------------------------------------------


def _qwen3_0_6b() -> dict[str, Any]:
    return _config("Qwen__Qwen3-0.6B.json")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("moe_latent_size", 1024),  # Nemotron-3 Super/Ultra LatentMoE
        ("compress_ratios", [0, 0, 4, 128]),  # DeepSeek-V4
        ("global_head_dim", 512),  # Gemma 4
        ("num_global_key_value_heads", 4),  # Gemma 4
        ("swa_num_key_value_heads", 8),  # MiMo-V2-Flash
        ("swa_head_dim", 192),  # MiMo-V2-Flash
        ("sparse_attention_config", {"use_sparse_attention": True}),  # MiniMax-M3
        ("linear_attn_config", {"kda_layers": [1, 2, 3]}),  # Kimi-K3 (Kimi Linear)
        ("block_configs", [{"attention": {}, "ffn": {}}]),  # Llama-Nemotron Super 49B
    ],
)
def test_unmodelled_parts_are_refused_with_the_key_named(key: str, value: Any) -> None:
    cfg = {**_qwen3_0_6b(), key: value}
    with pytest.raises(InputError, match=re.escape(repr(key))):
        arch_from_hf_config(cfg, "x/y", "test config.json", date(2026, 8, 21))
    # nested in a multimodal wrapper's text_config too
    wrapped = {"model_type": "wrapper", "text_config": cfg, "vision_config": {}}
    with pytest.raises(InputError, match=re.escape(repr(key))):
        arch_from_hf_config(wrapped, "x/y", "test config.json", date(2026, 8, 21))


def test_a_null_latent_size_is_no_latent_moe() -> None:
    # Nemotron-3.5-Lightning states moe_latent_size null: experts at hidden_size, read as usual
    cfg = {**_qwen3_0_6b(), "moe_latent_size": None}
    assert arch_from_hf_config(cfg, "x/y", "test config.json", date(2026, 8, 21)).num_layers == 28


def test_modelopt_mixed_precision_is_refused() -> None:
    # nvidia/Qwen3.6-27B-NVFP4: quant_algo MIXED_PRECISION (FP8 attention, NVFP4 MLP)
    quant = {"quantization": {"quant_algo": "MIXED_PRECISION", "kv_cache_quant_algo": "FP8"}}
    with pytest.raises(InputError, match="MIXED_PRECISION"):
        arch_from_hf_config(_qwen3_0_6b(), "x/y", "test config.json", date(2026, 8, 21), quant)


def test_layers_block_type_reads_as_hybrid_override_pattern() -> None:
    # transformers 5 NemotronHConfig lists the blocks (mamba / moe / attention / mlp) and
    # derives num_hidden_layers from the list: the same model as the pattern string.
    base = _config("nvidia__NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.json")
    names = {"M": "mamba", "E": "moe", "*": "attention", "-": "mlp"}
    listed = {k: v for k, v in base.items() if k not in ("hybrid_override_pattern",)}
    listed["layers_block_type"] = [names[c] for c in base["hybrid_override_pattern"]]
    del listed["num_hidden_layers"]
    a = arch_from_hf_config(base, "x/y", "a config.json", date(2026, 8, 21))
    b = arch_from_hf_config(listed, "x/y", "a config.json", date(2026, 8, 21))
    # Nano: 52 blocks = 23 Mamba2 + 23 MoE + 6 attention
    assert (b.num_layers, b.num_mamba_layers, b.attention_layers, b.num_moe_layers) == (
        52,
        23,
        6,
        23,
    )
    skip = {"defaults_applied"}
    assert b.model_dump(exclude=skip) == a.model_dump(exclude=skip)
    assert any("layers_block_type" in d for d in b.defaults_applied)
    with pytest.raises(InputError, match="layers_block_type"):
        arch_from_hf_config(
            {**listed, "layers_block_type": ["mamba", "kda"]}, "x/y", "a", date(2026, 8, 21)
        )
