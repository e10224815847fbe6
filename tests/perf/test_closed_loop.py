"""Closed-loop TTFT/TPOT under each engine's scheduling rule (issue 19), derived by hand."""

from __future__ import annotations

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.serving import closed_loop, prefill_first_waves, steady_state
from infercost.perf.step import decode_step, prefill_step, step_model


def _sm():  # type: ignore[no-untyped-def]
    return step_model(
        get_model("llama-3.1-8b"), get_accelerator("H100"), get_quant_format("bf16"), 2.0,
        get_engine("sglang"),
    )  # fmt: skip


def test_prefill_first_burst_of_64_prompts() -> None:
    # 64 clients start at once, 1,000-token prompts, 8,192-token prefill iterations: each
    # prompt takes q = 1000/8192 of an iteration, prompt i is done after ceil(i q) iterations;
    # the continuous mean is (1 + 64 q) / 2 = (1 + 7.8125) / 2 = 4.40625 iterations (whole
    # 8-prompt iterations give 4.5), the batch's prefill lasts 64 q = 7.8125 iterations.
    sm = _sm()
    req = 0.005
    t_iter = float(prefill_step(sm, 1000.0, 8.192).total_s)
    t_dec = float(decode_step(sm, 64.0, 1000.0 + 300.0 / 2.0).total_s)
    sp = prefill_first_waves(sm, 64, 1000, 300, 8192, req)
    assert float(sp.ttft_s) == pytest.approx(req + 4.40625 * t_iter, rel=1e-12)
    # TPOT = decode step + the prefill a request waits after its first token, over 299 steps
    assert float(sp.tpot_s) == pytest.approx(
        t_dec + (7.8125 - 4.40625) * t_iter / 299.0, rel=1e-12
    )
    # the waves persist: every cycle is prefill (7.8125 iterations) + 299 decode steps
    e2e = req + 7.8125 * t_iter + 299.0 * t_dec
    assert float(sp.output_tok_s) == pytest.approx(64 * 300 / e2e, rel=1e-12)
    # E2E = TTFT + (osl - 1) TPOT for the mean request
    assert float(sp.e2e_s) == pytest.approx(float(sp.ttft_s) + 299.0 * float(sp.tpot_s))


def test_one_client_is_one_prompt_then_decodes() -> None:
    sm = _sm()
    sp = prefill_first_waves(sm, 1, 1000, 300, 8192, 0.0)
    assert float(sp.ttft_s) == pytest.approx(float(prefill_step(sm, 1000.0, 1.0).total_s))
    assert float(sp.tpot_s) == pytest.approx(float(decode_step(sm, 1.0, 1150.0).total_s))


def test_engine_rule_selects_the_model() -> None:
    sm = _sm()
    mixed = closed_loop(sm, 64, 1000, 300, 8192, 0.0, 0.0, "mixed")
    first = closed_loop(sm, 64, 1000, 300, 8192, 0.0, 0.0, "prefill-first")
    assert float(mixed.ttft_s) == float(steady_state(sm, 64, 1000, 300, 8192).ttft_s)
    # prefill-first: the mean request waits for half the burst, far above the mixed TTFT
    assert float(first.ttft_s) > 3 * float(mixed.ttft_s)
    assert get_engine("sglang").prefill_scheduling == "prefill-first"
    assert get_engine("vllm").prefill_scheduling == "mixed"
