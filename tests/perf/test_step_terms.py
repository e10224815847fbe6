"""Hand-derived checks of the step-time terms beyond weights and KV (logits traffic,
per-sequence overhead) and of trtllm-bench engine sizing."""

from __future__ import annotations

import dataclasses

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.memory import offline_limits
from infercost.perf.step import decode_step, step_model


def _sm(model: str):  # type: ignore[no-untyped-def]
    return step_model(
        get_model(model), get_accelerator("H100"), get_quant_format("fp8"), 1.0, get_engine("vllm")
    )


def test_logits_are_written_and_read_once_per_sequence_in_fp32() -> None:
    # Llama-3.1-8B vocab 128,256 x 4 bytes x 2 passes = 1,026,048 B per sequence;
    # 100 decoding sequences move 102,604,800 B of logits.
    sm = _sm("llama-3.1-8b")
    assert float(sm.logits_bytes_per_seq) == 1_026_048.0
    without = decode_step(dataclasses.replace(sm, logits_bytes_per_seq=0.0), 100, 500)
    with_logits = decode_step(sm, 100, 500)
    assert float(with_logits.read_bytes - without.read_bytes) == pytest.approx(102_604_800.0)


def test_seq_overhead_adds_per_sequence_time() -> None:
    # 100 sequences x 2 µs = 0.2 ms on top of the fixed per-step overhead.
    sm = dataclasses.replace(_sm("llama-3.1-8b"), seq_overhead_s=2e-6)
    step = decode_step(sm, 100, 500)
    assert float(step.overhead_s) == pytest.approx(float(sm.step_overhead_s) + 200e-6)


@pytest.mark.parametrize(
    ("kv_limited", "pp", "expected"),
    [
        # tensorrt_llm/bench/build/tuning.py finetune_setting:
        (10, 1, 64),  # below 256: 32 x ceil(10 / 32) = 32, at least 64
        (100, 1, 128),  # 32 x ceil(100 / 32) = 128
        (700, 1, 768),  # 256..1023: 128 x ceil(700 / 128) = 768
        (3000, 1, 3072),  # >= 1024: 256 x ceil(3000 / 256) = 3072
        (9000, 1, 4096),  # capped at 4096 requests
        (9000, 2, 2048),  # 4096 / PP 2
    ],
)
def test_trtllm_bench_batch_size(kv_limited: int, pp: int, expected: int) -> None:
    cap, budget = offline_limits(get_engine("trtllm"), kv_limited, pp)
    assert cap == expected
    assert budget == get_engine("trtllm").max_num_batched_tokens


def test_fixed_engines_use_their_configured_cap() -> None:
    vllm = get_engine("vllm")
    cap, budget = offline_limits(vllm, 100_000)
    assert cap == (vllm.max_num_seqs_offline or vllm.max_num_seqs)
    assert budget == vllm.max_num_batched_tokens
