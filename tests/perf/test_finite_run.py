"""An offline run of a documented number of requests (``perf.serving.finite_run``), worked by
hand from its cycle, admission spread and partial last wave; and the dataset sizes of the
TensorRT-LLM performance overviews that calibration scores that way."""

from __future__ import annotations

import math

import pytest

from infercost.calibrate.dataset_sizes import documented_requests
from infercost.calibrate.measurement import Measurement
from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.serving import closed_loop, finite_run
from infercost.perf.step import decode_step, prefill_step, step_model


def _sm():  # type: ignore[no-untyped-def]
    return step_model(
        get_model("llama-3.1-8b"), get_accelerator("H100"), get_quant_format("bf16"), 2.0,
        get_engine("trtllm"),
    )  # fmt: skip


def _cycle(sm, n: float):  # type: ignore[no-untyped-def]
    return closed_loop(sm, n, 1000.0, 1000.0, 8192.0, 0.03, 0.0, "mixed", math.inf, 1.0)


def _last(sm, batch: float, t_iter: float) -> float:  # type: ignore[no-untyped-def]
    # the request a slot admits last: request overhead 30 ms + its prompt's one iteration
    # (1,000 tokens <= 8,192) + 999 pure decode steps at the batch left, context 1,000 + 500
    return 0.03 + t_iter + 999.0 * float(decode_step(sm, batch, 1500.0).total_s)


def test_3000_requests_on_2048_slots_are_two_waves() -> None:
    # 3,000 = 1 x 2,048 + 952: k = 2 waves, r = 952. 2,048 queued 1,000-token prompts at 8,192
    # tokens an iteration: q = 1000/8192, first = 1 iteration, last = 2048 q = 250 iterations,
    # so the starts spread over S = 249 iterations of an 8,192-token prefill (8.192 prompts).
    sm = _sm()
    t_iter = float(prefill_step(sm, 1000.0, 8.192).total_s)
    spread = 249.0 * t_iter
    c = float(_cycle(sm, 2048.0).e2e_s)
    # makespan = max((k - 1) C + (r / n) S + L_r, (k - 2) C + S + L_n), at least 3000/2048 C
    makespan = max(
        c + 952.0 / 2048.0 * spread + _last(sm, 952.0, t_iter),
        spread + _last(sm, 2048.0, t_iter),
        3000.0 / 2048.0 * c,
    )
    run = finite_run(sm, 2048.0, 3000.0, 1000.0, 1000.0, 8192.0, 0.03)
    assert float(run.output_tok_s) == pytest.approx(3000.0 * 1000.0 / makespan, rel=1e-9)
    assert float(run.request_s) == pytest.approx(3000.0 / makespan, rel=1e-9)
    # never faster than the steady state's 2,048 x 1,000 / C (here only 0.3 % slower: the
    # step at 2,048 x 1,500 tokens of bf16 KV is bound by the KV read, so the 952-request wave
    # steps proportionally faster)
    steady = float(_cycle(sm, 2048.0).output_tok_s)
    assert float(run.output_tok_s) <= steady
    # mean TTFT: 2,048 wait S / 2 on average, 952 wait C + (952 / 2048) S / 2; then request
    # overhead and the prompt's iteration
    waits = (2048.0 * spread / 2.0 + 952.0 * (c + 952.0 / 2048.0 * spread / 2.0)) / 3000.0
    assert float(run.ttft_s) == pytest.approx(waits + 0.03 + t_iter, rel=1e-9)


def test_fewer_requests_than_slots_is_one_wave() -> None:
    # 375 requests (3,000 over 8 ranks) on 384 slots: one wave of n = 375, makespan = S + L_n,
    # S = (375 q - 1) iterations, or the steady state's one cycle if longer
    sm = _sm()
    q = 1000.0 / 8192.0
    t_iter = float(prefill_step(sm, 1000.0, 8.192).total_s)
    makespan = max(
        (375.0 * q - 1.0) * t_iter + _last(sm, 375.0, t_iter), float(_cycle(sm, 375.0).e2e_s)
    )
    run = finite_run(sm, 384.0, 375.0, 1000.0, 1000.0, 8192.0, 0.03)
    assert float(run.output_tok_s) == pytest.approx(375_000.0 / makespan, rel=1e-9)


def test_many_waves_approach_the_steady_state() -> None:
    # 30,000 requests on 100 slots: 300 whole waves; the makespan is 300 C plus one spread at
    # most, within 1 % of the steady state
    sm = _sm()
    run = finite_run(sm, 100.0, 30000.0, 1000.0, 1000.0, 8192.0, 0.03)
    steady = float(_cycle(sm, 100.0).output_tok_s)
    assert float(run.output_tok_s) == pytest.approx(steady, rel=0.01)
    assert float(run.output_tok_s) <= steady


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="slots >= 1"):
        finite_run(_sm(), 0.0, 10.0, 1000.0, 1000.0)


def _row(source: str, isl: int, osl: int, mode: str = "max_throughput") -> Measurement:
    return Measurement(
        id="X-1", source=source, engine="TensorRT-LLM", model="meta-llama/Llama-3.1-8B",
        gpu="H100", num_gpus=1, tp=1, weight_dtype="fp8", kv_dtype="fp8", isl=isl, osl=osl,
        dataset=None, mode=mode, concurrency=None if mode == "max_throughput" else 8,
        request_rate_qps=None, metric="output_throughput_tok_s", value=1.0,
    )  # fmt: skip


def test_documented_dataset_sizes() -> None:
    dev = (
        "https://github.com/NVIDIA/TensorRT-LLM/blob/03e27c7d5ff0c6e89f8328838c0a8e64f1b34f9d/"
        "docs/source/developer-guide/perf-overview.md"
    )
    v017 = (
        "https://github.com/NVIDIA/TensorRT-LLM/blob/258c7540c03517def55d9a5aadfa9288af474e1b/"
        "docs/source/performance/perf-overview.md"
    )
    # the developer guide's dataset table: 1024/1024 3,000; 8192/1024 1,500; 32768/1024 1,000
    assert documented_requests(_row(dev, 1024, 1024)) == 3000
    assert documented_requests(_row(dev, 8192, 1024)) == 1500
    assert documented_requests(_row(dev, 1024, 32768)) == 1000
    # v0.17's: 128/128 30,000; 20000/2000 1,000; no 1000/2000 row
    assert documented_requests(_row(v017, 128, 128)) == 30000
    assert documented_requests(_row(v017, 20000, 2000)) == 1000
    assert documented_requests(_row(v017, 1000, 2000)) is None
    # other sources and online rows are steady states
    assert documented_requests(_row("https://example.org/bench", 128, 128)) is None
    assert documented_requests(_row(v017, 128, 128, mode="closed_loop")) is None
