"""CUDA-graph padding of decode-only steps (perf.step.graph_padded; issue 12).

TensorRT-LLM's performance overviews run trtllm-bench with ``cuda_graph_config:
enable_padding: true`` and batch sizes 1, 2, 4, ..., 256, 384, 512, 1024, 2048, 4096, 8192
(docs/source/performance/perf-overview.md @ 00f3768 and the developer-guide version @ 03e27c7):
a generation-only iteration of b sequences runs the smallest captured size >= b, so its GEMMs,
MoE, LM head and collectives see the padded rows while the KV cache holds b sequences.
"""

from __future__ import annotations

import numpy as np
import pytest

from infercost.calibrate.evaluate import graph_padded_run
from infercost.calibrate.measurement import Measurement
from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.step import graph_padded, mixed_step, step_model, with_graph_padding

SIZES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 384.0, 512.0, 1024.0, 2048.0)


@pytest.mark.parametrize(
    ("b", "p", "want"),
    [
        (531.0, 0.0, 1024.0),  # between 512 and 1024: the 1024 graph
        (512.0, 0.0, 512.0),  # a captured size runs as is
        (223.0, 0.0, 256.0),
        (300.0, 0.0, 384.0),
        (531.0, 1024.0, 531.0),  # a step with a prefill runs eagerly, unpadded
        (3000.0, 0.0, 3000.0),  # above the largest size: eager, unpadded
        (0.0, 0.0, 0.0),
    ],
)
def test_graph_padded_rule(b: float, p: float, want: float) -> None:
    assert graph_padded(SIZES, b, p) == want


def test_no_sizes_no_padding() -> None:
    assert graph_padded((), 531.0, 0.0) == 531.0


def _llama8b_trtllm():  # type: ignore[no-untyped-def]
    m = get_model("meta-llama/Llama-3.1-8B")
    acc = get_accelerator("h100-sxm")
    eng = get_engine("trtllm")
    plain = step_model(m, acc, get_quant_format("bf16"), 2.0, eng)
    return with_graph_padding(plain, eng, 8192, 16384), plain


def test_step_models_are_unpadded_unless_asked() -> None:
    # online serving (trtllm-serve: CudaGraphConfig padding off by default) runs unpadded
    _, plain = _llama8b_trtllm()
    assert plain.graph_batch_sizes == ()


def test_only_the_sizes_under_the_run_caps_are_captured() -> None:
    # TensorRT-LLM keeps the sizes <= max_batch_size and <= max_num_tokens
    # (_torch/pyexecutor/model_engine.py): a run whose max batch size is 640 keeps the sizes
    # up to 512, so 607 running sequences exceed the largest kept size and run eagerly,
    # unpadded; a token budget of 300 keeps the sizes up to 256
    _, plain = _llama8b_trtllm()
    sm = with_graph_padding(plain, get_engine("trtllm"), 640, 8192)
    assert sm.graph_batch_sizes[-3:] == (256.0, 384.0, 512.0)
    assert graph_padded(sm.graph_batch_sizes, 607.0, 0.0) == 607.0
    assert (
        with_graph_padding(plain, get_engine("trtllm"), 4096, 300).graph_batch_sizes[-1] == 256.0
    )


def test_trtllm_profile_carries_the_published_sizes() -> None:
    sm, _ = _llama8b_trtllm()
    # engines.toml [trtllm] cuda_graph_batch_sizes, as the perf-overview yaml lists them
    assert sm.graph_batch_sizes == (
        1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 384.0, 512.0, 1024.0, 2048.0,
        4096.0, 8192.0,
    )  # fmt: skip


def test_padded_decode_step_computes_the_padded_rows() -> None:
    padded, plain = _llama8b_trtllm()
    got = mixed_step(padded, 531.0, 1500.0)
    ref = mixed_step(plain, 531.0, 1500.0)
    # Llama-3.1-8B (config.json: 32 layers, hidden 4096, 32 heads / 8 KV heads of 128, FFN
    # 14336, vocab 128256): linear FLOP per row = 2 x 32 x (2 x 4096^2 + 2 x 4096 x 1024
    # + 3 x 4096 x 14336) = 13,958,643,712; LM head per row = 2 x 128256 x 4096 =
    # 1,050,673,152. Padding 531 -> 1024 adds 493 rows of both; attention (KV of the 531
    # real sequences) is unchanged.
    per_row = 13_958_643_712 + 1_050_673_152
    assert float(got.flop) - float(ref.flop) == pytest.approx(493 * per_row, rel=1e-9)
    # slower than the 531-row step, faster than 1024 real sequences (their KV is not read)
    assert (
        float(ref.total_s) < float(got.total_s) < float(mixed_step(plain, 1024.0, 1500.0).total_s)
    )


def test_steps_with_a_prefill_are_not_padded() -> None:
    padded, plain = _llama8b_trtllm()
    a = mixed_step(padded, 531.0, 1500.0, 1024.0, 0.0, 1.0)
    b = mixed_step(plain, 531.0, 1500.0, 1024.0, 0.0, 1.0)
    assert float(a.total_s) == float(b.total_s)


def test_array_path_pads_as_the_scalar_path() -> None:
    padded, _ = _llama8b_trtllm()
    batches = np.array([1.0, 3.0, 200.0, 223.0, 531.0, 5000.0])
    arr = mixed_step(padded, batches, 1500.0).total_s
    for i, b in enumerate(batches):
        assert float(arr[i]) == float(mixed_step(padded, float(b), 1500.0).total_s)


def _row(engine: str) -> Measurement:
    return Measurement(
        id="X-1",
        source="X",
        engine=engine,
        model="meta-llama/Llama-3.1-8B",
        gpu="H100-SXM-80GB",
        num_gpus=1,
        tp=1,
        pp=1,
        weight_dtype="bf16",
        kv_dtype="not stated",
        isl=128,
        osl=128,
        dataset=None,
        mode="max_throughput",
        concurrency=None,
        request_rate_qps=None,
        metric="output_throughput_tok_s",
        value=1.0,
    )


def test_only_pytorch_backend_rows_are_scored_padded() -> None:
    # the 1.0 / developer-guide overviews (PyTorch backend) publish the padded graph config;
    # the TensorRT-engine rows (v0.17) and the closed-loop sources do not state one
    assert graph_padded_run(_row("TensorRT-LLM (PyTorch backend)"))
    assert not graph_padded_run(_row("TensorRT-LLM"))


def test_eager_share_packs_prompts_into_the_token_budget() -> None:
    from infercost.perf.serving import eager_share

    # 531 sequences at 1k/1k under trtllm-bench's 8,192-token budget: the 530 others'
    # 1,024-token prompts pack floor((8192 - 530) / 1024) = 7 to an iteration, so
    # 530 / (7 x (1 + 1023)) = 0.07394 of a request's decode iterations carry prompts
    assert float(eager_share(530.0, 1.0, 1024.0, 1024.0, 8192.0)) == pytest.approx(
        530.0 / (7.0 * 1024.0), rel=1e-12
    )
    # a prompt in two chunks takes an iteration's whole budget each: 530 x 2 / 1025 > 1
    assert float(eager_share(530.0, 2.0, 1024.0, 16384.0, 8192.0)) == 1.0
    # a budget the running decodes fill still lets one prompt in an iteration
    assert float(eager_share(9000.0, 1.0, 4096.0, 1024.0, 8192.0)) == 1.0


def test_predict_pads_trtllm_offline_runs_only() -> None:
    from infercost import predict

    # gpt-oss-120b on one H200: trtllm-bench does not tune MXFP4, so its max batch is
    # BuildConfig's 2,048 and the 1,024 graph is captured; the KV-limited batch at 1k/1k is
    # between 512 and 1,024 (docs/physics.md, "Serving caps")
    off = predict(
        "openai/gpt-oss-120b",
        "H200",
        1024,
        1024,
        engine="trtllm",
        max_throughput=True,
        explain=True,
    )
    trail = " ".join(str(step) for step in off.explain)
    assert 512 < off.concurrency < 1024
    assert "decode-only iterations run the 1024-row CUDA graph" in trail
    # online serving (trtllm-serve: padding off by default) is not padded
    on = predict(
        "openai/gpt-oss-120b", "H200", 1024, 1024, engine="trtllm", concurrency=600, explain=True
    )
    assert "CUDA graph" not in " ".join(str(step) for step in on.explain)
