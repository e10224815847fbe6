"""KV-cache bytes (GQA, MLA, sliding window) and weight bytes, derived by hand."""

from __future__ import annotations

import pytest

from infercost.catalog import get_model, get_quant_format
from infercost.errors import InputError
from infercost.perf.memory import (
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    kv_shard_factor,
    weight_bytes,
)


class TestKvBytesPerToken:
    def test_gqa_llama_3_1_70b_bf16(self) -> None:
        # config.json: 80 layers, 8 KV heads, no head_dim key so 8192 / 64 = 128.
        # 2 (K and V) x 80 x 8 x 128 x 2 bytes = 327,680 B per token.
        assert kv_bytes_per_token(get_model("llama-3.1-70b"), 2.0) == 327_680

    def test_gqa_fp8_halves_it(self) -> None:
        assert kv_bytes_per_token(get_model("llama-3.1-70b"), 1.0) == 163_840

    def test_mha_llama_2_7b(self) -> None:
        # 32 layers x 32 KV heads (MHA) x 128 x 2 x 2 bytes = 524,288 B.
        assert kv_bytes_per_token(get_model("meta-llama/Llama-2-7b-hf"), 2.0) == 524_288

    def test_mla_deepseek_v3(self) -> None:
        # MLA caches kv_lora_rank 512 + qk_rope_head_dim 64 per layer: 576 x 61 x 2 B.
        assert kv_bytes_per_token(get_model("deepseek-v3"), 2.0) == 576 * 61 * 2 == 70_272


class TestSlidingWindow:
    def test_gemma3_caps_52_of_62_layers_at_1024(self) -> None:
        # gemma-3-27b: 62 layers, sliding_window 1024, pattern 6 (every 6th global): 52
        # sliding + 10 global. Per layer per token: 2 x 16 KV heads x 128 x 2 B = 8192 B.
        # At 4096 tokens: 8192 x (10 x 4096 + 52 x 1024) = 771,751,936 B.
        m = get_model("google/gemma-3-27b-it")
        assert (m.num_sliding_layers, m.sliding_window) == (52, 1024)
        assert float(kv_bytes_per_sequence(m, 4096, 2.0)) == 771_751_936

    def test_gpt_oss_alternating_layers(self) -> None:
        # gpt-oss-120b layer_types: 18 sliding (window 128) + 18 full; 8 KV heads x 64 dim.
        # Per layer per token 2 x 8 x 64 x 2 = 2048 B; at 1000 tokens:
        # 2048 x (18 x 1000 + 18 x 128) = 41,582,592 B.
        m = get_model("gpt-oss-120b")
        assert float(kv_bytes_per_sequence(m, 1000, 2.0)) == 41_582_592

    def test_below_the_window_nothing_is_capped(self) -> None:
        m = get_model("google/gemma-3-27b-it")
        assert float(kv_bytes_per_sequence(m, 512, 2.0)) == 8192 * 62 * 512


class TestShardFactor:
    def test_gqa_splits_kv_heads_over_tp(self) -> None:
        assert float(kv_shard_factor(get_model("llama-3.1-70b"), 4, 1)) == pytest.approx(0.25)

    def test_tp_beyond_kv_heads_replicates(self) -> None:
        # 8 KV heads on TP 16: each rank still keeps one head = 1/8 of the cache.
        assert float(kv_shard_factor(get_model("llama-3.1-70b"), 16, 1)) == pytest.approx(1 / 8)

    def test_mla_latent_is_replicated_across_tp(self) -> None:
        assert float(kv_shard_factor(get_model("deepseek-v3"), 8, 1)) == 1.0


class TestWeightsW8:
    """W8: 70 B parameters are 140 GB in BF16, 70 GB in INT8, ~35 GB in INT4 (article)."""

    def test_bf16_is_two_bytes_per_parameter(self) -> None:
        m = get_model("llama-3.1-70b")
        assert weight_bytes(m, get_quant_format("bf16")).total == 2 * 70_553_706_496

    def test_int8_keeps_embeddings_at_16_bit(self) -> None:
        # Linear weights at 1 B + embedding and LM head (2 x 128256 x 8192 = 2,101,346,304
        # parameters) and norms at 2 B: 68,452,352,000 + 2 x 2,101,346,304 + 2 x 1,302,528
        # (norms: 80 x 2 x 8192 + 8192) ... the article's 70 GB ignores the 16-bit tables.
        m = get_model("llama-3.1-70b")
        w = weight_bytes(m, get_quant_format("int8"))
        linear = 70_553_706_496 - 2_101_346_304 - 1_318_912
        assert w.total == pytest.approx(linear * 1.0 + (2_101_346_304 + 1_318_912) * 2.0)
        assert 72e9 < w.total < 73e9

    def test_int4_awq_group_scales_add_4_percent(self) -> None:
        # 4 + 20/128 = 4.15625 bits per linear weight; embeddings/head/norms at 16 bits.
        m = get_model("llama-3.1-70b")
        w = weight_bytes(m, get_quant_format("int4"))
        linear = 70_553_706_496 - 2_101_346_304 - 1_318_912
        assert w.total == pytest.approx(linear * 4.15625 / 8 + (2_101_346_304 + 1_318_912) * 2)
        assert 39e9 < w.total < 40e9  # article: "~35 GB" (4 bits x 70 B, no scales, no tables)

    def test_gpt_oss_mxfp4_quantizes_only_experts(self) -> None:
        m = get_model("gpt-oss-120b")
        w = weight_bytes(m, get_quant_format("mxfp4"))
        # One expert: gate+up+down 3 x 2880 x 2880 = 24,883,200 weights + biases 2 x 2880 + 2880
        # = 24,891,840; x 128 experts x 36 layers = 114,701,598,720 weights at 4.25 bits
        # (MXFP4: 4 + 8/32) = 60,935,224,320 B. Attention, router, embeddings stay 16-bit.
        assert w.experts == pytest.approx(60_935_224_320)
        assert 60e9 < w.total < 66e9  # published checkpoint: ~63 GB (60.8 GiB) on disk


def test_unknown_model_type_is_a_clear_error() -> None:
    from datetime import date

    from infercost.catalog.hf_config import arch_from_hf_config

    # an unknown model_type is read from its keys; what it lacks is named
    with pytest.raises(InputError, match="no 'num_hidden_layers'"):
        arch_from_hf_config({"model_type": "mamba"}, "x/y", "test config", date(2026, 1, 1))


def test_sliding_window_kv_per_engine() -> None:
    # gpt-oss-120b: 36 layers, 18 of them sliding (window 128), 8 KV heads x 64, bf16 KV:
    # 2 x 8 x 64 x 2 B = 2,048 B per token per layer. A sequence of 2,000 tokens:
    # - vLLM (hybrid KV manager: a sliding layer keeps its window): 18 x 2,000 x 2,048 +
    #   18 x 128 x 2,048 = 73,728,000 + 4,718,592 = 78,446,592 B;
    # - TensorRT-LLM (max_attention_window unset: every layer keeps every token):
    #   36 x 2,000 x 2,048 = 147,456,000 B.
    from infercost.predict import kv_bytes_per_seq_per_gpu, resolve

    vllm = resolve("openai/gpt-oss-120b", "H200", engine="vllm", kv_dtype="bf16")
    trt = resolve("openai/gpt-oss-120b", "H200", engine="trtllm", kv_dtype="bf16")
    assert (vllm.engine.sliding_window_kv, trt.engine.sliding_window_kv) == ("window", "full")
    assert kv_bytes_per_seq_per_gpu(vllm, 2000.0) == pytest.approx(78_446_592.0)
    assert kv_bytes_per_seq_per_gpu(trt, 2000.0) == pytest.approx(147_456_000.0)
    # the step model still reads only the window on the sliding layers
    assert trt.engine.cache_model(trt.model).num_sliding_layers == 0
    assert trt.model.num_sliding_layers == 18
    # predict says so, for TensorRT-LLM only
    from infercost.predict import predict

    trt_p = predict("openai/gpt-oss-120b", "H200", 1000, 1000, engine="trtllm", concurrency=8)
    vllm_p = predict("openai/gpt-oss-120b", "H200", 1000, 1000, engine="vllm", concurrency=8)
    assert any("keeps every token's KV on" in n for n in trt_p.notes)
    assert not any("keeps every token's KV on" in n for n in vllm_p.notes)
