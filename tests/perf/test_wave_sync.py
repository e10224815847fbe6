"""The closed loop's arrival synchrony (``wave_sync``): the periodic TTFT term between the
synchronised wave and a request arriving alone, derived from the step model by hand."""

from __future__ import annotations

import math

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.serving import (
    closed_loop_mixed,
    closed_loop_ttft_terms,
    desynchronised_ttft,
    steady_state,
)
from infercost.perf.step import mixed_step, step_model


def _sm():  # type: ignore[no-untyped-def]
    return step_model(
        get_model("llama-3.1-8b"), get_accelerator("H100"), get_quant_format("bf16"), 2.0,
        get_engine("vllm"),
    )  # fmt: skip


def test_a_lone_request_waits_half_an_iteration_then_its_prompt_beside_the_decodes() -> None:
    # N = 8, 1,000-token prompt, budget 8,192: room 8,192 - 7 = 8,185 >= 1,000, one chunk;
    # TTFT = TPOT / 2 + one iteration of the 7 decodes (context 1,000 + 300/2) and the prompt
    sm = _sm()
    tpot = 0.012
    got = float(desynchronised_ttft(sm, 8, 1000, 300, tpot))
    own = float(mixed_step(sm, 7.0, 1150.0, 1000.0, 0.0, 1.0).total_s)
    assert got == pytest.approx(0.5 * tpot + own, rel=1e-12)


def test_a_long_prompt_takes_chunks_of_the_room_the_decodes_leave() -> None:
    # N = 5, 10,000 tokens: room 8,192 - 4 = 8,188, ceil(10,000 / 8,188) = 2 chunks of 5,000;
    # the second chunk attends the first: cached context 5,000 x (2 - 1) / 2 = 2,500 on average
    sm = _sm()
    got = float(desynchronised_ttft(sm, 5, 10_000, 100, 0.0))
    chunks = math.ceil(10_000 / 8188)
    assert chunks == 2
    own = float(mixed_step(sm, 4.0, 10_050.0, 5000.0, 2500.0, 1.0).total_s)
    assert got == pytest.approx(2 * own, rel=1e-12)


def test_wave_sync_weighs_the_periodic_term_between_its_limits() -> None:
    # 16 clients of 1,000/300: the synchronised wave (16,000 tokens > 8,192) takes two full
    # iterations; alone, one chunk beside 15 decodes. With W = 10 waves:
    # TTFT = req + p + (burst - p) / 10, p = s x synced + (1 - s) x min(alone, synced).
    sm = _sm()
    n, isl, osl, req = 16, 1000, 300, 0.01
    synced, burst = (float(x) for x in closed_loop_ttft_terms(sm, n, isl, osl))
    tpot = float(steady_state(sm, n, isl, osl, 8192.0, req).tpot_s)
    alone = min(float(desynchronised_ttft(sm, n, isl, osl, tpot)), synced)
    assert alone < synced
    for s in (1.0, 0.5, 0.0):
        p = s * synced + (1 - s) * alone
        want = req + p + (burst - p) / 10
        got = float(closed_loop_mixed(sm, n, isl, osl, 8192.0, req, wave_sync=s).ttft_s)
        assert got == pytest.approx(want, rel=1e-12)
    # wave_sync 1 is the synchronised model exactly (the default)
    assert float(closed_loop_mixed(sm, n, isl, osl, 8192.0, req).ttft_s) == pytest.approx(
        req + synced + (burst - synced) / 10, rel=1e-12
    )


def test_varied_lengths_arrive_alone_and_fixed_lengths_keep_the_engines_synchrony() -> None:
    from infercost.perf.serving import arrival_wave_sync

    # varied lengths: InferenceMAX's outputs of [0.8, 1] x 1,024 tokens end up to ~200 decode
    # steps apart, so from the second wave on requests arrive alone: synchrony 0 whatever the
    # engine's fitted value; fixed lengths keep the engine's own (fitted) synchrony
    assert arrival_wave_sync(0.8, fixed_lengths=False) == 0.0
    assert arrival_wave_sync(0.8, fixed_lengths=True) == 0.8
    assert arrival_wave_sync(1.0, fixed_lengths=True) == 1.0


def test_predict_defaults_to_requests_arriving_alone() -> None:
    # predict(): the default (varied lengths) is closed_loop_mixed at wave_sync 0, i.e.
    # TTFT = req + alone + (burst - alone) / 10 with alone = min(TPOT / 2 + own iteration,
    # synced wave); --fixed-lengths uses the engine's fitted wave_sync instead.
    from infercost.predict import predict

    e = get_engine("vllm")
    n, isl, osl = 16, 1000, 300
    req = e.request_overhead_s + e.frontend_overhead_s  # online: through the HTTP server
    sm = _sm()
    synced, burst = (float(x) for x in closed_loop_ttft_terms(sm, n, isl, osl))
    tpot = float(steady_state(sm, n, isl, osl, 8192.0, req).tpot_s)
    alone = min(float(desynchronised_ttft(sm, n, isl, osl, tpot)), synced)
    p = predict("llama-3.1-8b", "H100", isl, osl, concurrency=n, weight_dtype="bf16",
                kv_dtype="bf16", gpu_hour_usd=1.0)  # fmt: skip
    assert p.ttft_s == pytest.approx(req + alone + (burst - alone) / 10, rel=1e-9)
    s = e.wave_sync
    fixed = predict("llama-3.1-8b", "H100", isl, osl, concurrency=n, weight_dtype="bf16",
                    kv_dtype="bf16", gpu_hour_usd=1.0, fixed_lengths=True)  # fmt: skip
    periodic = s * synced + (1 - s) * alone
    assert fixed.ttft_s == pytest.approx(req + periodic + (burst - periodic) / 10, rel=1e-9)


def test_fixed_lengths_is_refused_where_it_cannot_act() -> None:
    from infercost.errors import InputError
    from infercost.predict import predict

    with pytest.raises(InputError, match="--fixed-lengths only acts on an online closed loop"):
        predict("llama-3.1-8b", "H100", 1000, 300, max_throughput=True, fixed_lengths=True)
    with pytest.raises(InputError, match="fixed_lengths must be bool"):
        predict("llama-3.1-8b", "H100", 1000, 300, concurrency=4, fixed_lengths="yes")  # type: ignore[arg-type]
