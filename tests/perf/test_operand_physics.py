"""Per-operand compute peaks, MoE activation traffic, grouped expert GEMMs, MLA prefill FLOP
and the calibration rows' precision-label rule, each against figures derived by hand.

Datasheet figures used (accelerators.csv): H100/H200 SXM 989 TFLOP/s bf16 and 1,979 fp8
dense; B200 2,250 bf16 and 9,000 fp4 dense.
"""

from __future__ import annotations

import dataclasses

import pytest

from infercost.calibrate.evaluate import served_weight_dtype
from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.catalog.schema import ModelArch
from infercost.perf.moe import expected_experts_touched
from infercost.perf.step import (
    StepModel,
    dense_activation_bytes_per_token,
    expert_activation_bytes,
    mixed_step,
    mla_prefill_attn_flop_per_ctx,
    operand_peaks,
    step_model,
)

BF16_H100 = 989e12
FP8_H100 = 1979e12


def test_mxfp4_experts_on_hopper_run_at_bf16() -> None:
    # gpt-oss: MXFP4 experts, bf16 attention/router/embeddings. Hopper has no FP4 tensor
    # cores, so the experts dequantise to bf16 (W4A16): every GEMM at 989 TFLOP/s.
    peaks = operand_peaks(
        get_model("openai/gpt-oss-20b"), get_accelerator("H100"), get_quant_format("mxfp4")
    )
    assert (peaks.dense, peaks.expert, peaks.lm_head, peaks.attention) == (BF16_H100,) * 4
    assert dict(peaks.dtypes)["experts"] == "bf16"


def test_mxfp4_experts_on_blackwell_run_at_fp8_and_the_rest_at_bf16() -> None:
    # Blackwell serves gpt-oss W4A8: MXFP4 weights x MXFP8 activations (TensorRT-LLM's gpt-oss
    # MoE support matrix), the mixed FP4 x FP8 MMA at the FP8 rate, not FP4's
    peaks = operand_peaks(
        get_model("openai/gpt-oss-20b"), get_accelerator("B200"), get_quant_format("mxfp4")
    )
    # datasheet peaks x B200's measured reachable share over H100 SXM's (achievable.csv):
    # fp8: (3,432.5 / 4,500) / (1,402.6 / 1,979) = 1.07624; bf16: (1,745 / 2,250) / (794.5 / 989).
    fp8_factor = (3432.5 / 4500) / (1402.6 / 1979)
    bf16_factor = (1745.0 / 2250) / (794.5 / 989)
    assert peaks.expert == pytest.approx(4500e12 * fp8_factor, rel=1e-12)
    assert dict(peaks.dtypes)["experts"] == "fp8"
    # attention projections and router stay bf16
    assert peaks.dense == pytest.approx(2250e12 * bf16_factor, rel=1e-12)
    assert peaks.lm_head == peaks.attention == pytest.approx(2250e12 * bf16_factor, rel=1e-12)


def test_weight_only_expert_gemms_run_at_the_dequant_efficiency() -> None:
    # gpt-oss-20b on H100: MXFP4 experts dequantised to bf16 (weight-only grouped GEMM); an
    # 8,192-token prefill is compute-bound in the experts, so their compute time scales with
    # 1 / efficiency: at 0.5 it doubles. Dense weight-only GEMMs (AWQ INT4 Llama) and W8A8
    # FP8 experts are not counted as such.
    import dataclasses

    from infercost.perf.step import prefill_step

    acc = get_accelerator("H100")
    llama = get_model("llama-3.1-8b")
    assert not operand_peaks(llama, acc, get_quant_format("int4")).expert_dequant
    assert not operand_peaks(
        get_model("Qwen/Qwen3-235B-A22B"), acc, get_quant_format("fp8")
    ).expert_dequant
    m = get_model("openai/gpt-oss-20b")
    assert operand_peaks(m, acc, get_quant_format("mxfp4")).expert_dequant
    sm = step_model(m, acc, get_quant_format("mxfp4"), 2.0, get_engine("vllm"))
    full = prefill_step(dataclasses.replace(sm, expert_dequant_efficiency=1.0), 8192.0)
    half = prefill_step(dataclasses.replace(sm, expert_dequant_efficiency=0.5), 8192.0)
    # 8,192 tokens x 4 experts x 1,194,808,320 FLOP per pair (test below) at bf16 x MFU
    expert_flop = 8192.0 * 4.0 * 2 * 24_891_840 * 24
    peak = float(sm.peak_flop_s) * float(sm.mfu)
    assert float(half.compute_s - full.compute_s) == pytest.approx(expert_flop / peak, rel=1e-9)


def test_the_native_mxfp4_path_needs_fp4_tensor_cores() -> None:
    # H100 has FP8 tensor cores but no FP4 ones: MXFP4 stays W4A16 (bf16); NVFP4 (W4A4) needs
    # nothing beyond FP4 and runs at FP4 on B200
    from infercost.perf.step import compute_dtype

    mx = get_quant_format("mxfp4")
    assert (mx.compute_dtype, mx.compute_requires, mx.fallback_compute_dtype) == (
        "fp8",
        "fp4",
        "bf16",
    )
    assert compute_dtype(get_accelerator("H100"), mx) == "bf16"
    assert compute_dtype(get_accelerator("B200"), mx) == "fp8"
    assert compute_dtype(get_accelerator("B200"), get_quant_format("nvfp4")) == "fp4"


def test_fp8_checkpoint_dense_gemms_at_fp8_lm_head_and_attention_math_at_bf16() -> None:
    peaks = operand_peaks(
        get_model("llama-3.1-8b"), get_accelerator("H100"), get_quant_format("fp8")
    )
    assert peaks.dense == FP8_H100
    assert peaks.lm_head == BF16_H100
    assert peaks.attention == BF16_H100


def _tiny(**kw: object) -> ModelArch:
    base: dict[str, object] = {
        "id": "tiny",
        "model_type": "llama",
        "num_layers": 1,
        "hidden_size": 1024,
        "num_heads": 8,
        "num_kv_heads": 8,
        "head_dim": 128,
        "intermediate_size": 4096,
        "vocab_size": 1000,
        "checkpoint_dtype": "fp8",
        "norms_per_layer": 0,
        "source": "test",
        "as_of": "2026-12-01",
    }
    base.update(kw)
    return ModelArch(**base)  # type: ignore[arg-type]


def test_mixed_precision_dense_peak_is_the_flop_weighted_harmonic_mean() -> None:
    # One layer: attention q/k/v/o 4 x 1024 x 1024 = 4,194,304 params kept bf16, FFN
    # 3 x 1024 x 4096 = 12,582,912 params at fp8. Time per FLOP pair:
    # 4,194,304 / 989e12 + 12,582,912 / 1979e12; the dense peak is 16,777,216 over that.
    m = _tiny(quantized_parts=("dense_ffn",))
    peaks = operand_peaks(m, get_accelerator("H100"), get_quant_format("fp8"))
    want = 16_777_216 / (4_194_304 / 989e12 + 12_582_912 / 1979e12)
    assert peaks.dense == pytest.approx(want, rel=1e-12)
    assert 1400e12 < peaks.dense < 1600e12  # about 1,508 TFLOP/s


def test_expected_experts_touched_saturates_at_large_batch() -> None:
    # E (1 - (1 - k/E)^T): 128 experts, top-8. T = 1: 8; T = 16: 128 (1 - 0.9375^16) =
    # 128 x (1 - 0.35607...) = 82.42; T = 4096: all 128.
    got = expected_experts_touched(128, 8, [1.0, 16.0, 4096.0])
    assert got[0] == pytest.approx(8.0)
    assert got[1] == pytest.approx(82.4225113, rel=1e-8)
    assert got[2] == pytest.approx(128.0)


def test_moe_activation_bytes_of_a_fine_grained_moe() -> None:
    # Qwen3-30B-A3B: h = 2048, expert I = 768 (gated), 48 MoE layers, bf16 activations.
    # Per (token, expert) pair: permute write h + GEMM1 read h + GEMM1 write 2I + GEMM2 read I
    # + GEMM2 write h + combine read h = 4 x 2048 + 3 x 768 = 10,496 values x 2 B x 48 =
    # 1,007,616 B. Per token: permute read + combine write = 2 x 2048 x 2 B x 48 = 393,216 B.
    pair, token = expert_activation_bytes(get_model("Qwen/Qwen3-30B-A3B"), 1.0)
    assert pair == 1_007_616
    assert token == 393_216
    # experts split 4 ways within each expert (moe_tp 4): the I-wide rows shrink
    pair4, _ = expert_activation_bytes(get_model("Qwen/Qwen3-30B-A3B"), 4.0)
    assert pair4 == (4 * 2048 + 3 * 768 / 4) * 2 * 48


def test_dense_gemm_activation_bytes_llama_8b() -> None:
    # Llama-3.1-8B, per layer per token: qkv reads h = 4096 and writes q + 2 kv = 4096 + 2048;
    # o reads 4096, writes h; gate_up reads h, writes 2 x 14,336; down reads 14,336, writes h.
    # Replicated (h-sized) rows: 4 x 4096 = 16,384; TP-split rows: 6144 + 4096 + 43,008 =
    # 53,248. TP1: 69,632 x 32 layers x 2 B = 4,456,448 B; TP2: (16,384 + 26,624) x 64 B.
    m = get_model("llama-3.1-8b")
    assert dense_activation_bytes_per_token(m, 1.0) == 4_456_448
    assert dense_activation_bytes_per_token(m, 2.0) == (16_384 + 26_624) * 32 * 2


def _moe_step(**kw: object) -> StepModel:
    fields: dict[str, object] = {
        "dense_bytes": 0.0,
        "expert_bytes": 0.0,
        "num_experts": 4,
        "experts_per_token": 2,
        "kv_layer_token_bytes": 0.0,
        "full_layers": 1.0,
        "sliding_layers": 0.0,
        "sliding_window": 0.0,
        "linear_flop_per_token": 0.0,
        "lm_head_flop_per_seq": 0.0,
        "attn_flop_per_ctx": 0.0,
        "hidden_size": 1,
        "mem_bw_bytes_s": 1e12,
        "peak_flop_s": 1e15,
        "mbu": 1.0,
        "mfu": 1.0,
        "step_overhead_s": 0.0,
        "allreduce_latency_s": 0.0,
        "tp": 1,
        "pp": 1,
        "link_bytes_s": 1e11,
        "expert_flop_per_pair": 1e9,
        "expert_pairs_per_token": 2.0,
        "expert_tile_rows": 64.0,
    }
    fields.update(kw)
    return StepModel(**fields)  # type: ignore[arg-type]


def test_an_expert_gemm_with_few_tokens_still_computes_a_whole_tile() -> None:
    # One token, 4 experts, top-2: 4 (1 - (1/2)^1) = 2 experts touched, 2 pairs; each touched
    # expert computes a 64-row tile: 128 rows x 1e9 FLOP = 1.28e11 FLOP at 1e15 = 128 us.
    t = mixed_step(_moe_step(), 1.0, 0.0)
    assert float(t.total_s) == pytest.approx(128e-6)
    # 1,000 tokens: 2,000 pairs over 4 experts (500 rows each, above the tile): 2e12 FLOP = 2 ms
    t = mixed_step(_moe_step(), 1000.0, 0.0)
    assert float(t.total_s) == pytest.approx(2e-3)


def test_expert_gemms_have_their_own_roofline_and_peak() -> None:
    # 1,000 tokens. Dense GEMMs compute-bound: 1,000 x 2e9 FLOP at 1e15 = 2 ms (1 MB of
    # weights: 1 us). Experts memory-bound: 4 experts touched x 2e9 B at 1e12 B/s = 8 ms;
    # their FLOP, 2,000 pairs x 1e9 at half the peak (ratio 0.5: bf16 beside fp8) = 4 ms.
    # Separate rooflines add: 2 + 8 = 10 ms (one roofline over the sums would say
    # max(8.001, 6) = 8 ms).
    sm = _moe_step(
        dense_bytes=1e6, linear_flop_per_token=2e9, expert_bytes=2e9, expert_peak_ratio=0.5
    )
    t = mixed_step(sm, 1000.0, 0.0)
    assert float(t.total_s) == pytest.approx(2e-3 + 8e-3, rel=1e-9)
    assert float(t.compute_s) == pytest.approx(2e-3 + 4e-3, rel=1e-9)


def test_lm_head_runs_at_its_own_peak() -> None:
    # 8 sequences x 1e11 LM-head FLOP at a peak ratio of 0.5 (bf16 beside fp8): 1.6 ms
    sm = _moe_step(
        num_experts=0,
        experts_per_token=0,
        expert_pairs_per_token=0.0,
        expert_tile_rows=0.0,
        lm_head_flop_per_seq=1e11,
        lm_head_peak_ratio=0.5,
    )
    assert float(mixed_step(sm, 8.0, 0.0).total_s) == pytest.approx(8 * 1e11 / 0.5e15)


def test_mla_prefill_runs_unabsorbed_and_decode_absorbed() -> None:
    # DeepSeek-V3: 128 heads, qk_nope 128 + rope 64, v 128, kv_lora_rank 512.
    # Prefill: 2 x 128 x (192 + 128) = 81,920 FLOP per pair; decode (absorbed, over the latent):
    # 2 x 128 x (2 x 512 + 64) = 278,528.
    m = get_model("deepseek-v3")
    assert mla_prefill_attn_flop_per_ctx(m) == 81_920
    sm = step_model(
        m, get_accelerator("H200"), get_quant_format("fp8"), 1.0, get_engine("vllm"), 8
    )
    assert float(sm.attn_flop_per_ctx) == 278_528 / 8
    assert float(sm.attn_flop_per_ctx_prefill) == 81_920 / 8
    assert mla_prefill_attn_flop_per_ctx(get_model("llama-3.1-8b")) == 0.0


def test_gpt_oss_step_model_counts_experts_apart_at_bf16_on_hopper() -> None:
    # gpt-oss-20b: expert 3 x 2880 x 2880 + biases 2 x 2880 + 2880 = 24,891,840 params,
    # 24 MoE layers: 2 x that x 24 = 1,194,808,320 FLOP per (token, expert) pair; top-4.
    m = get_model("openai/gpt-oss-20b")
    sm = step_model(
        m, get_accelerator("H100"), get_quant_format("mxfp4"), 2.0, get_engine("trtllm")
    )
    assert float(sm.expert_flop_per_pair) == 2 * 24_891_840 * 24
    assert float(sm.expert_pairs_per_token) == 4.0
    # weight-only (MXFP4 dequantised to bf16) grouped GEMM: mma.sync m16 tiles, not wgmma m64
    assert float(sm.expert_tile_rows) == 16.0
    assert float(sm.expert_peak_ratio) == 1.0
    assert float(sm.expert_dequant) == 1.0
    # EP 4 (moe_ep 4, moe_tp 1): a GPU computes 1 pair per token, each at the whole expert
    sm4 = step_model(
        m, get_accelerator("H100"), get_quant_format("mxfp4"), 2.0, get_engine("trtllm"), 4, 1, 4
    )
    assert float(sm4.expert_pairs_per_token) == 1.0
    assert float(sm4.expert_flop_per_pair) == 2 * 24_891_840 * 24


GPT_OSS_NOTES = (
    "GPT-OSS checkpoints are not in the doc's FP4/FP8 model lists; precision is the doc's "
    "column label only"
)


@pytest.mark.parametrize(
    ("model", "label", "notes", "want"),
    [
        # quantized published checkpoint, label names no checkpoint: the checkpoint ran
        ("openai/gpt-oss-20b", "fp8", GPT_OSS_NOTES, "mxfp4"),
        ("openai/gpt-oss-120b", "fp4", GPT_OSS_NOTES, "mxfp4"),
        # label equals the checkpoint's format
        ("deepseek-ai/DeepSeek-R1", "fp8", "", "fp8"),
        # 16-bit model under an FP8 label: the ModelOpt FP8 checkpoint the notes name
        ("meta-llama/Llama-3.1-8B-Instruct", "fp8", "Checkpoint nvidia/Llama-3.1-8B-FP8", "fp8"),
        # a row that names a checkpoint in the label's format keeps the label
        ("openai/gpt-oss-20b", "fp8", "Checkpoint someone/gpt-oss-20b-FP8 (requantized)", "fp8"),
        (
            "meta-llama/Llama-3.1-8B-Instruct",
            None,
            "",
            None,
        ),
    ],
)
def test_precision_label_rule(model: str, label: str | None, notes: str, want: str) -> None:
    got, note = served_weight_dtype(model, label, notes)
    assert got == want
    assert bool(note) == (want != label)


def test_gpt_oss_attention_head_dim_64_sliding_layers_and_sinks() -> None:
    # gpt-oss-20b: 64 query heads x head_dim 64, 8 KV heads, 24 layers alternating sliding
    # (window 128) and full. Attention FLOP per (query, context) pair per layer:
    # 4 x 64 x 64 = 16,384 (QK^T and PV); the sink is one extra logit per head per query
    # (64 FLOP-sized terms against 16,384 x context: not counted). KV per token per layer at
    # bf16: 2 x 8 x 64 x 2 B = 2,048 B. A decode step at context 10,000 attends
    # 12 x 10,000 + 12 x 128 = 121,536 token-layers: 1,991,245,824 FLOP and 248,905,728 B read.
    m = get_model("openai/gpt-oss-20b")
    sm = step_model(
        m, get_accelerator("H100"), get_quant_format("mxfp4"), 2.0, get_engine("trtllm")
    )
    assert float(sm.attn_flop_per_ctx) == 16_384
    assert float(sm.attn_flop_per_ctx_prefill) == 0.0  # GQA: prefill as decode
    assert (float(sm.full_layers), float(sm.sliding_layers), sm.sliding_window) == (12, 12, 128)
    assert float(sm.kv_layer_token_bytes) == 2_048
    attended = 12 * 10_000 + 12 * 128
    bare = dataclasses.replace(
        sm,
        dense_bytes=0.0,
        expert_bytes=0.0,
        num_experts=0,
        linear_flop_per_token=0.0,
        lm_head_flop_per_seq=0.0,
        logits_bytes_per_seq=0.0,
        dense_act_bytes_per_token=0.0,
        expert_act_bytes_per_token=0.0,
        expert_pairs_per_token=0.0,
    )
    t = mixed_step(bare, 1.0, 10_000.0)
    assert float(t.flop) == 16_384 * attended
    # KV read over the attended tokens, plus the new token's KV written in all 24 layers
    assert float(t.read_bytes) == 2_048 * attended + 2_048 * 24


def test_dense_activations_reach_hbm_only_past_the_l2_prior() -> None:
    # Llama-3.1-8B TP1: the widest dense activation row is gate_up's 2 x 14,336 x 2 B =
    # 57,344 B; the 40 MB L2 prior holds 40e6 / 57,344 = 697.5 tokens of it. TP2 halves the
    # row: 1,395 tokens.
    m = get_model("llama-3.1-8b")
    acc, fmt, eng = get_accelerator("H100"), get_quant_format("bf16"), get_engine("vllm")
    assert float(step_model(m, acc, fmt, 2.0, eng).act_cached_tokens) == pytest.approx(
        40e6 / 57_344
    )
    assert float(step_model(m, acc, fmt, 2.0, eng, 2).act_cached_tokens) == pytest.approx(
        2 * 40e6 / 57_344
    )
    # a synthetic step: 1,000 tokens, 100 of them cached, 1 MB each past it at 1e12 B/s
    sm = _moe_step(
        num_experts=0,
        experts_per_token=0,
        expert_pairs_per_token=0.0,
        dense_act_bytes_per_token=1e6,
        act_cached_tokens=100.0,
    )
    assert float(mixed_step(sm, 1000.0, 0.0).total_s) == pytest.approx(900 * 1e6 / 1e12)
    assert float(mixed_step(sm, 50.0, 0.0).total_s) == 0.0
