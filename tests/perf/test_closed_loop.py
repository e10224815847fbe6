"""Closed-loop TTFT/TPOT under each engine's scheduling rule (issue 19), derived by hand."""

from __future__ import annotations

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.serving import (
    closed_loop,
    closed_loop_mixed,
    closed_loop_ttft_terms,
    prefill_first_waves,
    steady_state,
)
from infercost.perf.step import decode_step, mixed_step, prefill_step, step_model


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
    assert float(mixed.ttft_s) == float(closed_loop_mixed(sm, 64, 1000, 300, 8192).ttft_s)
    assert float(first.ttft_s) == float(prefill_first_waves(sm, 64, 1000, 300, 8192).ttft_s)
    # prefill-first: the mean request waits for half the burst in every wave, far above the
    # mixed TTFT, where only the first of ten waves has a burst
    assert float(first.ttft_s) > 2 * float(mixed.ttft_s)
    assert get_engine("sglang").prefill_scheduling == "prefill-first"
    assert get_engine("vllm").prefill_scheduling == "mixed"


def test_mixed_wave_that_fits_one_iteration() -> None:
    # 4 clients, 1,000-token prompts, budget 8,192: the wave's 4,000 prompt tokens fit one
    # iteration, so each wave is prefilled together on an idle engine (periodic = one
    # 4-prompt prefill iteration) and the start-up burst is that same single iteration
    # (q = 1000/8192 < 1: first = last = 1 iteration of 4 prompts).
    sm = _sm()
    periodic, burst = closed_loop_ttft_terms(sm, 4, 1000, 300, 8192)
    one_wave = float(mixed_step(sm, 0.0, 1150.0, 4000.0, 0.0, 4.0).total_s)
    assert float(periodic) == pytest.approx(one_wave, rel=1e-12)
    assert float(burst) == pytest.approx(
        max(float(prefill_step(sm, 1000.0, 4.0).total_s), one_wave), rel=1e-12
    )
    # W = 10 waves: TTFT = req + periodic + (burst - periodic) / 10
    sp = closed_loop_mixed(sm, 4, 1000, 300, 8192, request_overhead_s=0.005, waves=10)
    want = 0.005 + float(periodic) + (float(burst) - float(periodic)) / 10
    steady = float(steady_state(sm, 4, 1000, 300, 8192, 0.005).ttft_s)
    assert float(sp.ttft_s) == pytest.approx(max(want, steady), rel=1e-12)
    # the wave is prefilled before the first token, so TPOT is the pure decode step at 4
    # sequences of mean context 1000 + 300/2; E2E = TTFT + 299 TPOT; Little's law: 4 clients
    # complete 4 / E2E requests per second, 300 tokens each
    t_dec = float(decode_step(sm, 4.0, 1150.0).total_s)
    assert float(sp.tpot_s) == pytest.approx(t_dec, rel=1e-12)
    assert float(sp.e2e_s) == pytest.approx(float(sp.ttft_s) + 299 * t_dec, rel=1e-12)
    assert float(sp.output_tok_s) == pytest.approx(4 * 300 / float(sp.e2e_s), rel=1e-12)
    assert float(sp.total_tok_s) == pytest.approx(4 * 1300 / float(sp.e2e_s), rel=1e-12)


def test_mixed_staggered_waves_and_the_burst() -> None:
    # 64 clients, 1,000-token prompts, budget 8,192: 64,000 prompt tokens do not fit one
    # iteration, so the waves stagger; a new prompt lands in an iteration beside the 63 other
    # running decodes with 8,192 - 63 = 8,129 tokens of room: ceil(1000 / 8129) = 1 such
    # iteration (holding 8,129 prompt tokens, 8.129 prompts). The burst: 64 prompts in
    # 8,192-token iterations, q = 0.1220703125, mean (max(q,1) + 64 q) / 2 = (1 + 7.8125) / 2
    # = 4.40625 iterations of 8.192 prompts of 1,000 tokens.
    sm = _sm()
    periodic, burst = closed_loop_ttft_terms(sm, 64, 1000, 300, 8192)
    full = float(mixed_step(sm, 63.0, 1150.0, 8129.0, 0.0, 8.129).total_s)
    assert float(periodic) == pytest.approx(full, rel=1e-12)
    assert float(burst) == pytest.approx(
        4.40625 * float(prefill_step(sm, 1000.0, 8.192).total_s), rel=1e-12
    )
    # a 2-wave run carries half the burst's excess, a 100-wave run a hundredth
    two = float(closed_loop_mixed(sm, 64, 1000, 300, 8192, waves=2).ttft_s)
    many = float(closed_loop_mixed(sm, 64, 1000, 300, 8192, waves=100).ttft_s)
    assert two == pytest.approx(full + (float(burst) - full) / 2, rel=1e-12)
    assert many == pytest.approx(full + (float(burst) - full) / 100, rel=1e-12)
    # staggered waves: the other prompts fall inside each request's decode phase, so TPOT is
    # the steady state's (decode step + their spread share)
    sp = closed_loop_mixed(sm, 64, 1000, 300, 8192)
    assert float(sp.tpot_s) == float(steady_state(sm, 64, 1000, 300, 8192).tpot_s)
    assert float(sp.output_tok_s) == pytest.approx(64 * 300 / float(sp.e2e_s), rel=1e-12)


def test_mixed_long_prompt_takes_several_chunks() -> None:
    # 8 clients, 20,000-token prompts, budget 8,192: 8,192 - 7 = 8,185 tokens of room per
    # iteration beside 7 decodes: ceil(20000 / 8185) = 3 full iterations per new prompt.
    sm = _sm()
    periodic, _ = closed_loop_ttft_terms(sm, 8, 20000, 300, 8192)
    full = float(mixed_step(sm, 7.0, 20150.0, 8185.0, 0.0, 8185.0 / 20000.0).total_s)
    assert float(periodic) == pytest.approx(3 * full, rel=1e-12)
