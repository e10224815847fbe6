"""The caps of an offline max-throughput run (perf.offline): trtllm-bench's own sizing rule.

Sources: TensorRT-LLM tensorrt_llm/bench/build/tuning.py (calc_engine_setting,
finetune_setting), bench/build/build.py (get_benchmark_engine_settings, TUNED_QUANTS),
bench/build/dataclasses.py (param_count = safetensors element count) and
bench/benchmark/utils/general.py (get_settings: chunked prefill off -> max_num_tokens >= max
ISL + max_batch_size).
"""

from __future__ import annotations

import pytest

from infercost import predict
from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.offline import (
    BENCH_DEFAULT_MAX_BATCH_SIZE,
    BENCH_DEFAULT_MAX_NUM_TOKENS,
    bench_requests,
    checkpoint_elements,
    finetune,
    offline_settings,
)
from infercost.perf.params import param_counts
from infercost.predict import resolve


@pytest.mark.parametrize(
    ("requests", "isl", "osl", "pp", "expected"),
    [
        # max batch: below 256 a multiple of 32, at least 64; 256..1023 of 128; else of 256;
        # at most 4096 / PP. max tokens: raw = batch x (1 + isl/osl) <= 32768; below 4096 a
        # multiple of 256, at least 2048; below 8192 of 512; else of 1024.
        (10, 1000, 1000, 1, (64, 2048)),  # 32 x ceil(10/32) = 32 -> 64; 20 tokens -> 2048
        (100, 1000, 1000, 1, (128, 2048)),  # 32 x ceil(100/32) = 128; 200 -> 2048
        (287, 1000, 1000, 1, (384, 2048)),  # 128 x ceil(287/128) = 384; 574 -> 2048
        (700, 1000, 1000, 1, (768, 2048)),  # 128 x 6 = 768; 1400 -> 256 x 6 = 1536 -> 2048
        (2100, 1000, 1000, 1, (2304, 4608)),  # 256 x 9; raw tokens 4200 -> 512 x 9 = 4608
        (3000, 8192, 1024, 1, (3072, 27648)),  # 256 x 12; min(3000 x 9, 32768) -> 1024 x 27
        (9000, 128, 128, 1, (4096, 8192)),  # capped at 4096 requests; 8192 tokens
        (9000, 128, 128, 2, (2048, 4096)),  # 4096 / PP 2 = 2048; 4096 -> 512 x 8
    ],
)
def test_finetune_setting(
    requests: float, isl: int, osl: int, pp: int, expected: tuple[int, int]
) -> None:
    assert finetune(requests, isl, osl, pp) == expected


def test_hybrid_models_round_down_to_even() -> None:
    # enable_optimistic_tuning=False for Mamba hybrids: 2 x floor(raw_bs / 2)
    assert finetune(101.0, 1000, 1000, 1, optimistic=False)[0] == 100


def test_checkpoint_elements_count_packed_fp4_as_half() -> None:
    # NVFP4: two E2M1 values per uint8 element plus one FP8 scale per 16 values = 4.5/8
    # elements per quantized weight; bf16 parts (embeddings, LM head, norms, router) one each.
    m, fmt = get_model("Qwen/Qwen3-235B-A22B"), get_quant_format("nvfp4")
    c = param_counts(m)
    quantized = c.attention + c.dense_ffn + c.shared_experts + c.experts
    expected = c.total - quantized * (1.0 - 4.5 / 8.0)
    assert checkpoint_elements(m, fmt) == pytest.approx(expected, rel=1e-9)
    # a 16-bit checkpoint: every parameter one element
    assert checkpoint_elements(m, get_quant_format("bf16")) == pytest.approx(c.total)


def test_deepseek_dep8_h200_estimate_takes_mla_for_128_heads() -> None:
    # DeepSeek-R1-0528 FP8 on 8 x H200 (141 GiB), kv fp8, 1000/1000, fraction 0.95:
    # engine = (671.026e9 + 11.610e9 MTP) elements (+ block scales) x 1 B = 635.9 GiB;
    # KV per token = 2 x 61 layers x max(8, 128 KV heads) x 56 (7168/128, the config has no
    # head_dim) x 1 B = 874,496 B; requests = (8 x 141 - 635.9) x 0.95 / (874,496 x 2000 /
    # 2^30 = 1.6289 GiB) = 287.0 -> max batch 384 per rank. The real MLA cache is 35 kB a
    # token, so the runtime's KV cache would hold about 650 a rank.
    m, fmt = get_model("deepseek-ai/DeepSeek-R1-0528"), get_quant_format("fp8")
    acc = get_accelerator("H200")
    engine_gib = checkpoint_elements(m, fmt) / 2**30
    assert engine_gib == pytest.approx(635.9, abs=0.1)
    n = bench_requests(m, fmt, "fp8", acc, 8, 1, 1000, 1000, 0.95)
    assert n == pytest.approx((8 * 141.0 - engine_gib) * 0.95 / (874_496 * 2000 / 2**30))
    assert n == pytest.approx(287.0, abs=0.1)
    r = resolve(m.id, "H200", num_gpus=8, dp=8, tp=1, ep=8, kv_dtype="fp8", engine="trtllm")
    s = offline_settings(r.engine, r.model, r.weight_fmt, r.kv_dtype, r.acc, 8, 1, 1000, 1000)
    assert (s.max_batch_size, s.max_num_tokens) == (384, 2048)
    p = predict(
        m.id, "H200", 1000, 1000, num_gpus=8, dp=8, tp=1, ep=8, kv_dtype="fp8",
        engine="trtllm", max_throughput=True, gpu_hour_usd=3.0,
    )  # fmt: skip
    # each of the 8 attention-DP ranks runs at most 384 (its own scheduler's max batch)
    assert p.max_concurrency > 8 * 384
    assert p.concurrency == 8 * 384


def test_untuned_formats_get_buildconfig_defaults() -> None:
    # gpt-oss's MXFP4 (W4A16_MXFP4 on Hopper) is not in TUNED_QUANTS: max batch 2048, max
    # tokens 8192, raised to ISL + batch with chunked prefill off: 32768 + 2048 = 34816.
    r = resolve("openai/gpt-oss-120b", "H200", engine="trtllm")
    s = offline_settings(r.engine, r.model, r.weight_fmt, r.kv_dtype, r.acc, 1, 1, 1000, 1000)
    assert s.estimated_requests is None
    assert (s.max_batch_size, s.max_num_tokens) == (
        BENCH_DEFAULT_MAX_BATCH_SIZE,
        BENCH_DEFAULT_MAX_NUM_TOKENS,
    )
    long = offline_settings(r.engine, r.model, r.weight_fmt, r.kv_dtype, r.acc, 1, 1, 32768, 1024)
    assert long.max_num_tokens == 32768 + 2048


def test_fixed_engines_use_their_configured_caps() -> None:
    r = resolve("llama-3.1-8b", "H100", engine="vllm")
    vllm = get_engine("vllm")
    s = offline_settings(vllm, r.model, r.weight_fmt, r.kv_dtype, r.acc, 1, 1, 1000, 1000)
    assert s.max_batch_size == (vllm.max_num_seqs_offline or vllm.max_num_seqs)
    assert s.max_num_tokens == vllm.max_num_batched_tokens


def test_an_estimate_below_one_request_is_said() -> None:
    # GLM-4.7-Flash (MLA) bf16 on one H100 at 150,000 + 1,000 tokens: trtllm-bench's estimate
    # (MLA counted as multi-head KV) is under one request, and its tuning.py raises "The
    # amount of KV cache memory is insufficient"; the runtime's real (latent) KV holds it, so
    # the prediction runs the smallest cap trtllm-bench builds (64) and says so.
    p = predict(
        "zai-org/GLM-4.7-Flash", "H100", 150_000, 1000, engine="trtllm", max_throughput=True,
        gpu_hour_usd=2.0,
    )  # fmt: skip
    r = resolve("zai-org/GLM-4.7-Flash", "H100", engine="trtllm")
    s = offline_settings(r.engine, r.model, r.weight_fmt, r.kv_dtype, r.acc, 1, 1, 150_000, 1000)
    assert p.fits
    assert s.estimated_requests is not None and s.estimated_requests < 1
    assert s.max_batch_size == 64 and s.max_num_tokens >= 150_000 + 64
    assert any("trtllm-bench would not run this" in n for n in p.notes)
