"""Layouts and serving rules of issue 12, with hand-derived values: DP and DEP memory and
step time, the all-to-all bytes, the PP cap, KV-capacity queueing, the default KV dtype per
engine, GPU spellings."""

from __future__ import annotations

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.errors import InputError
from infercost.perf.memory import kv_heads_shard
from infercost.perf.offline import finetune
from infercost.perf.step import comm_s, decode_step, step_model, with_expert_parallel
from infercost.plan.layouts import layouts
from infercost.predict import predict, resolve

M = {"isl": 1000, "osl": 300, "gpu_hour_usd": 2.0}


def test_plain_dp_is_replicas_with_throughput_summed() -> None:
    one = predict("llama-3.1-8b", "H100", concurrency=16, **M)
    four = predict("llama-3.1-8b", "H100", num_gpus=4, tp=1, concurrency=64, **M)
    assert (four.dp, four.tp, four.num_gpus) == (4, 1, 4)
    # each of 4 ranks runs 16 sequences: 4x the tokens/s, the same latency and $/M
    assert four.output_tok_s == pytest.approx(4 * one.output_tok_s, rel=1e-12)
    assert four.tpot_s == pytest.approx(one.tpot_s, rel=1e-12)
    assert four.usd_per_m_output == pytest.approx(one.usd_per_m_output, rel=1e-12)
    assert four.max_concurrency == 4 * one.max_concurrency
    assert four.weights_bytes_per_gpu == one.weights_bytes_per_gpu


def test_dep_memory_experts_split_dense_replicated() -> None:
    # Qwen3-235B-A22B NVFP4 on 8 GPUs as DEP8: dense parts whole on each GPU, experts / 8.
    r = resolve("nvidia/Qwen3-235B-A22B-NVFP4", "B200", tp=1, dp=8, ep=8, engine="trtllm")
    assert (r.dp, r.tp, r.ep, r.num_gpus, r.attention_dp) == (8, 1, 8, 8, True)
    tp8 = resolve("nvidia/Qwen3-235B-A22B-NVFP4", "B200", tp=8, ep=8, engine="trtllm")
    from infercost.perf.memory import weight_bytes, weight_bytes_per_gpu

    w = weight_bytes(r.model, r.weight_fmt)
    dep = float(weight_bytes_per_gpu(w, 1, 1, 8))
    tp = float(weight_bytes_per_gpu(w, 8, 1, 8))
    assert dep == pytest.approx(w.dense + w.embedding + w.lm_head + w.experts / 8)
    assert tp == pytest.approx((w.dense + w.embedding + w.lm_head) / 8 + w.experts / 8)
    assert tp8.dp == 1


def test_alltoall_bytes_and_time_of_a_dep_step() -> None:
    # DeepSeek-V3-shaped: k = 8 experts per token, hidden 7,168, 58 MoE layers. DEP8: each
    # token sends k x hidden x 2 B x 7/8 per exchange = 8 x 7168 x 2 x 0.875 = 100,352 B,
    # two exchanges (dispatch, combine) per MoE layer.
    m = get_model("deepseek-ai/DeepSeek-V3")
    acc, eng = get_accelerator("H200"), get_engine("sglang")
    base = step_model(m, acc, get_quant_format("fp8"), 1.0, eng, 1, 1, 8)
    sm = with_expert_parallel(m, base, dp=8, tp=1, ep=8)
    assert sm.alltoall_bytes_per_token == pytest.approx(100_352)
    assert sm.alltoalls_per_step == 2 * 58
    assert sm.moe_token_scale == 8.0
    tokens = 32.0
    # H200's 450 GB/s NVLink x its measured all-reduce share over H100's (achievable.csv:
    # 479.98 against 478.87 GB/s) x the engine's comm efficiency
    link = acc.interconnect_bytes_s * (479.98 / 478.87) * eng.comm_efficiency
    expected = 2 * 58 * (eng.allreduce_latency_s + tokens * 100_352 / link)
    assert float(comm_s(sm, tokens)) == pytest.approx(expected)
    # experts see all 8 ranks' tokens: more distinct experts touched than one rank's tokens
    assert float(decode_step(sm, 32, 2000).read_bytes) > float(
        decode_step(base, 32, 2000).read_bytes
    )


def test_ep_layout_errors_say_what_to_use() -> None:
    with pytest.raises(InputError, match="--dp"):
        resolve("deepseek-ai/DeepSeek-V3", "H200", tp=1, ep=8)
    with pytest.raises(InputError, match="over all ranks"):
        resolve("deepseek-ai/DeepSeek-V3", "H200", tp=2, dp=4, ep=4)
    # EP over pipeline stages: each stage holds only its layers' experts (QA: --tp 1 --pp 3
    # --ep 3 divided DeepSeek-R1's experts by 9 on 3 GPUs)
    with pytest.raises(InputError, match="one pipeline stage"):
        resolve("deepseek-ai/DeepSeek-V3", "H100", num_gpus=3, tp=1, pp=3, ep=3)
    with pytest.raises(InputError, match="one pipeline stage"):
        resolve("deepseek-ai/DeepSeek-V3", "H100", num_gpus=16, tp=8, pp=2, ep=16)
    assert resolve("deepseek-ai/DeepSeek-V3", "H100", num_gpus=16, tp=8, pp=2, ep=8).ep == 8


def test_trtllm_bench_cap_is_per_micro_batch() -> None:
    # tensorrt_llm/bench/build/tuning.py finetune_setting: max batch = min(KV requests, 4096)
    # / PP, rounded up (multiple of 128 from 256 to 1024). KV 3,000 requests at PP 4:
    # 3000 / 4 = 750 -> 768 per micro-batch, 4 micro-batches in flight = 3,072 > KV 3,000.
    assert finetune(3000, 128, 128, 4)[0] == 768
    p = predict(
        "llama-3.1-70b", "H200", num_gpus=8, tp=2, pp=4, max_throughput=True, engine="trtllm",
        weight_dtype="fp8", kv_dtype="fp8", isl=128, osl=128, gpu_hour_usd=2.0,
    )  # fmt: skip
    # the batch is the KV-limited total, not min(KV, cap) / PP again
    assert p.concurrency == min(p.max_concurrency, finetune(p.max_concurrency, 128, 128, 4)[0] * 4)
    # here the KV cache holds > 4,096 sequences: 4096 / 4 = 1,024 per micro-batch, 4,096 in
    # flight (the old rule ran min(KV, 1,024) in total, so deep PP was 4x too slow)
    assert p.max_concurrency > 4096 and p.concurrency == 4096


def test_kv_capacity_queueing_instead_of_refusal() -> None:
    # 32B on GH200-144GB at 16,300-token contexts holds fewer sequences than asked: every
    # engine answers at the KV-limited batch with the wait in TTFT and a note.
    for engine in ("vllm", "llamacpp"):
        p = predict(
            "Qwen/Qwen2.5-32B-Instruct", "gh200-144gb", 16000, 300, concurrency=64,
            engine=engine, gpu_hour_usd=2.0,
        )  # fmt: skip
        assert p.fits and p.concurrency == 64
        running = min(p.max_concurrency, get_engine(engine).max_num_seqs)
        assert running < 64
        assert any("queues the rest" in n for n in p.notes) or engine == "llamacpp"
        alone = predict(
            "Qwen/Qwen2.5-32B-Instruct", "gh200-144gb", 16000, 300, concurrency=running,
            engine=engine, gpu_hour_usd=2.0,
        )  # fmt: skip
        # same tokens/s as the running batch; Little's law: E2E = 64 / request rate
        assert p.output_tok_s == pytest.approx(alone.output_tok_s, rel=1e-9)
        assert p.ttft_s > alone.ttft_s
    # what cannot run at all is still refused: 405B bf16 on one GPU
    assert not predict("llama-3.1-405b", "H100", concurrency=1, **M).fits


def test_default_kv_dtype_per_engine() -> None:
    # nvidia/Llama-3.1-70B-Instruct-FP8 declares kv_cache_quant_algo FP8 (hf_quant_config)
    name = "nvidia/Llama-3.1-70B-Instruct-FP8"
    assert resolve(name, "H100", tp=2, engine="trtllm").kv_dtype == "fp8"
    assert resolve(name, "H100", tp=2, engine="vllm").kv_dtype == "fp8"
    # (llama.cpp runs the checkpoint converted to GGUF, here Q8_0: it has no fp8 weights)
    assert resolve(name, "RTX-4090", tp=1, engine="llamacpp", weight_dtype="q8_0").kv_dtype == (
        "fp16"
    )
    # a checkpoint that declares none: the activation dtype
    assert resolve("llama-3.1-8b", "H100", engine="trtllm").kv_dtype == "bf16"
    p = predict(name, "H100", tp=2, engine="trtllm", concurrency=8, **M)
    assert p.fits and any("kv_cache_quant_algo" in n for n in p.notes)


@pytest.mark.parametrize(
    ("spelling", "gpu_id"),
    [
        ("GB200-192GB", "gb200"),
        ("NVIDIA GB200 NVL72", "gb200"),
        ("B200-SXM-180GB", "b200"),
        ("H100 SXM5 80GB", "h100-sxm"),
        ("h100_pcie_80gb", "h100-pcie"),
        ("NVIDIA H100 NVL 94GB", "h100-nvl"),
        ("AMD Instinct MI300X 192GB OAM", "mi300x"),
        ("NVIDIA A100 80GB PCIe", "a100-80gb-pcie"),
        ("A100 SXM4 40GB", "a100-40gb-sxm"),
        ("GeForce RTX 5090", "rtx-5090"),
        ("GH200 144GB", "gh200-144gb"),
    ],
)
def test_vendor_spellings_resolve(spelling: str, gpu_id: str) -> None:
    assert get_accelerator(spelling).id == gpu_id


def test_a_wrong_memory_size_is_not_guessed() -> None:
    from infercost.errors import UnknownNameError

    with pytest.raises(UnknownNameError):
        get_accelerator("H100 40GB")
    # a form factor the catalog does not hold for that family is not swapped for another
    # (H200 NVL has lower clocks and power than the H200 SXM in the catalog)
    with pytest.raises(UnknownNameError):
        get_accelerator("NVIDIA H200 NVL")


def test_uncalibrated_architecture_is_flagged_extrapolating_with_a_wider_band() -> None:
    # Mamba2 layers (Nemotron-H) are in no calibration file; gated DeltaNet is (Qwen3.5-397B
    # in closed_loop_hopper.csv), so a DeltaNet hybrid is no longer flagged for its layers
    dense = predict("llama-3.1-70b", "H100", tp=4, concurrency=8, **M)
    hybrid = predict("nvidia/Nemotron-H-56B-Base-8K", "H100", tp=4, concurrency=8, **M)
    delta = predict("Qwen/Qwen3-Next-80B-A3B-Thinking", "H100", tp=4, concurrency=8, **M)
    assert dense.error_band is not None and hybrid.error_band is not None
    assert delta.error_band is not None
    assert hybrid.error_band["extrapolating"] is True
    assert "Mamba2" in hybrid.error_band["basis"]["architecture"]
    assert "architecture" not in dense.error_band["basis"]
    assert "architecture" not in delta.error_band["basis"]


def test_an_unmeasured_gpu_generation_doubles_the_band_of_the_regime_it_falls_back_on() -> None:
    import json
    from importlib import resources

    bands = json.loads(
        resources.files("infercost.catalog.data").joinpath("error_bands.json").read_text()
    )
    p = predict("llama-3.1-70b", "B200", tp=2, concurrency=8, engine="vllm", **M)
    band = p.error_band
    assert band is not None and band["extrapolating"] is True
    assert "vllm on blackwell" in band["basis"]["gpu"]
    for metric in ("output_tok_s", "ttft_s", "tpot_s"):
        key = band["basis"]["regime_used"][metric]
        base = bands["pooled"][metric] if key == "pooled" else bands["regimes"][key][metric]
        assert band[metric] == pytest.approx(2.0 * base)


def test_dp_with_fewer_requests_than_ranks_counts_only_requests_in_flight() -> None:
    # 3 requests over 8 ranks: 3/8 sequence per rank on average; tokens/s is then
    # 3 x osl / E2E (Little's law), not 8 ranks x one sequence each.
    p = predict("llama-3.1-8b", "H100", dp=8, concurrency=3, **M)
    assert p.output_tok_s == pytest.approx(3 * 300 / p.e2e_s, rel=0.01)


def test_on_demand_kv_holds_sequences_at_their_mean_context() -> None:
    import math

    from infercost.predict import memory_stage

    # Llama-3.1-70B fp8 on 2 H100, KV bf16: 80 layers x 8 KV heads x 128 x 2 (K, V) x 2 B =
    # 327,680 B a token, 163,840 B per GPU at TP 2. With A bytes of KV per GPU, full-length
    # sequences (922 + 7,373 = 8,295 tokens) fit floor(A / (163,840 x 8,295)); vLLM allocates
    # KV as tokens come, so with lengths varying its running sequences hold 922 + 7,373 / 2 =
    # 4,608.5 tokens on average and floor(A / (163,840 x 4,608.5)) of them run.
    kw = {"tp": 2, "weight_dtype": "fp8", "kv_dtype": "bf16", "gpu_hour_usd": 1.0}
    r = resolve("llama-3.1-70b", "H100", tp=2, weight_dtype="fp8", kv_dtype="bf16")
    avail = memory_stage(r, 8295.0).kv_bytes_available_per_gpu
    full = math.floor(avail / (163_840 * 8295))
    mean = math.floor(avail / (163_840 * 4608.5))
    assert full < 32 <= mean  # 28 and 50 today
    p = predict("llama-3.1-70b", "H100", 922, 7373, concurrency=32, engine="vllm", **kw)
    assert p.max_concurrency == full
    assert any(f"32 sequences run although the KV cache holds {full}" in n for n in p.notes)
    assert not any("queues the rest" in n for n in p.notes)
    # fixed lengths grow together to full length: the full-length capacity runs, the rest
    # queue
    q = predict("llama-3.1-70b", "H100", 922, 7373, concurrency=32, engine="vllm",
                fixed_lengths=True, **kw)  # fmt: skip
    assert any(f"the engine runs {full} at once and queues the rest" in n for n in q.notes)
    assert q.ttft_s > 10 * p.ttft_s
    # TensorRT-LLM reserves each request's whole length (GUARANTEED_NO_EVICT; its own memory
    # policy gives another capacity): 4 clients past it queue, lengths varying or not
    trt = predict("llama-3.1-70b", "H100", 922, 7373, concurrency=1, engine="trtllm", **kw)
    n = trt.max_concurrency + 4
    t = predict("llama-3.1-70b", "H100", 922, 7373, concurrency=n, engine="trtllm", **kw)
    assert any(f"the engine runs {trt.max_concurrency} at once and queues the rest" in x
               for x in t.notes)  # fmt: skip


@pytest.mark.parametrize(("kv_heads", "tp", "ok"), [
    (8, 1, True), (8, 2, True), (8, 8, True), (8, 16, True),  # divides, or replicated x2
    (8, 3, False), (8, 6, False), (4, 8, True), (4, 6, False), (1, 8, True),
])  # fmt: skip
def test_tp_must_split_the_kv_heads(kv_heads: int, tp: int, ok: bool) -> None:
    # vLLM's attention layers assert total_num_kv_heads % tp == 0 when there are at least
    # tp heads, else tp % total_num_kv_heads == 0 (vllm/model_executor/models/llama.py)
    assert kv_heads_shard(kv_heads, tp) is ok


def test_a_tp_that_cannot_split_the_kv_heads_is_refused_and_never_searched() -> None:
    # QA: plan search picked GLM-4.7 (96 heads, 8 KV heads) on 3 MI325X at TP 3
    with pytest.raises(InputError, match="cannot split"):
        resolve("zai-org/GLM-4.7", "MI325X", num_gpus=3, tp=3)
    lay = layouts(get_model("zai-org/GLM-4.7"), 8)
    assert set(lay.tp.tolist()) <= {1, 2, 4, 8}
