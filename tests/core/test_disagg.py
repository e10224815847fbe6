"""Disaggregated prefill/decode (``predict --disagg``, ``infercost.disagg``): KV-transfer bytes
and seconds, the overlapped transfer, the TTFT terms, decode-only TPOT, the closed loop, the
P:D balance, saturation, prices, the CLI and the REST endpoint. Values derived by hand in the
comments."""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infercost.api.app import create_app
from infercost.catalog import get_engine
from infercost.cli import app as cli_app
from infercost.cli import main
from infercost.disagg import (
    DISAGG_JSON_KEYS,
    KV_LINKS,
    Pool,
    exposed_transfer_s,
    get_kv_link,
    predict_disagg,
)
from infercost.errors import InputError
from infercost.perf.step import decode_step, prefill_step, step_model
from infercost.predict import predict, resolve

M70 = "llama-3.1-70b"
M8 = "llama-3.1-8b"
TP4 = Pool(tp=4)

#: Llama-3.1-70B KV bytes per token at bf16: 80 layers x 8 KV heads x 128 head dim x 2 (K and
#: V) x 2 bytes = 327,680 B (config.json: num_hidden_layers 80, num_key_value_heads 8,
#: hidden 8192 / 64 heads = 128).
KV_70B_TOKEN = 80 * 8 * 128 * 2 * 2


def _d(**kw: object) -> object:
    args: dict[str, object] = {"prefill": TP4, "decode": TP4, "concurrency": 16}
    args.update(kw)
    return predict_disagg(M70, "H100", 1000, 300, **args)  # type: ignore[arg-type]


def test_json_keys_are_pinned() -> None:
    """The --json object's keys, written out (a contract like PREDICT_JSON_KEYS)."""
    d = predict_disagg(M70, "H100", 1000, 300, prefill=TP4, decode=TP4, concurrency=16)
    assert tuple(d.to_dict()) == DISAGG_JSON_KEYS
    assert DISAGG_JSON_KEYS[:10] == (
        "model", "gpu", "engine", "weight_dtype", "kv_dtype", "isl", "osl", "concurrency",
        "fits", "reason",
    )  # fmt: skip
    for key in ("ttft_s", "tpot_s", "e2e_s", "output_tok_s", "output_tok_s_per_gpu",
                "usd_per_m_input", "usd_per_m_output", "num_gpus", "prefill_workers",
                "decode_workers", "prefill_gpus", "decode_gpus", "kv_transfer_bytes",
                "kv_transfer_s", "prefill_utilization", "decode_batch",
                "balanced_prefill_to_decode_ratio", "bottleneck"):  # fmt: skip
        assert key in DISAGG_JSON_KEYS, key


def test_kv_transfer_bytes_of_llama_70b_are_327680_per_prompt_token() -> None:
    d = predict_disagg(M70, "H100", 1000, 300, prefill=TP4, decode=TP4, concurrency=16)
    assert KV_70B_TOKEN == 327_680
    assert d.kv_bytes_per_token == KV_70B_TOKEN
    assert d.kv_transfer_bytes == 327_680_000  # x ISL 1,000
    fp8 = predict_disagg(
        M70, "H100", 4000, 300, prefill=TP4, decode=TP4, concurrency=16, kv_dtype="fp8"
    )
    assert fp8.kv_transfer_bytes == 80 * 8 * 128 * 2 * 1 * 4000  # 1 byte, 4k tokens


@pytest.mark.parametrize(
    ("p_tp", "d_tp", "link", "expected_s"),
    [
        # 400 Gb/s = 50e9 B/s per GPU; each TP4 decode GPU holds 2 of the 8 KV heads:
        # 327.68 MB / 4 = 81.92 MB, received in parallel -> 81.92e6 / 50e9 = 1.6384 ms
        (4, 4, "ib", 1.6384e-3),
        # TP2 prefill: 2 GPUs send the 327.68 MB -> 163.84 MB each / 50e9 = 3.2768 ms,
        # = bytes / (BW x min(2, 4))
        (2, 4, "ib", 3.2768e-3),
        # TP8 both: 1 KV head per GPU, 40.96 MB / 50e9 = 0.8192 ms
        (8, 8, "ib", 0.8192e-3),
        # Ethernet 100 Gb/s = 12.5e9 B/s: 81.92e6 / 12.5e9 = 6.5536 ms
        (4, 4, "ethernet", 6.5536e-3),
        # NVLink: the H100's 450 GB/s per direction (catalog): 81.92e6 / 450e9
        (4, 4, "nvlink", 81.92e6 / 450e9),
    ],
)
def test_kv_transfer_seconds_move_the_shards_in_parallel(
    p_tp: int, d_tp: int, link: str, expected_s: float
) -> None:
    d = predict_disagg(
        M70, "H100", 1000, 300, prefill=Pool(tp=p_tp), decode=Pool(tp=d_tp), concurrency=8,
        link=link,
    )  # fmt: skip
    assert d.kv_transfer_s == pytest.approx(expected_s, rel=1e-12)
    assert d.kv_link_bytes_s * d.kv_transfer_s == pytest.approx(
        d.kv_transfer_bytes / min(p_tp, d_tp), rel=1e-12
    )


def test_link_bandwidth_override_and_names() -> None:
    # 200 Gb/s = 25e9 B/s: 81.92e6 / 25e9 = 3.2768 ms
    d = _d(link="roce", link_gbps=200.0)
    assert d.kv_link == "ib" and d.kv_transfer_s == pytest.approx(3.2768e-3, rel=1e-12)
    assert get_kv_link("InfiniBand") is KV_LINKS["ib"]
    for link in KV_LINKS.values():
        assert link.source and link.as_of and link.latency_s > 0
    with pytest.raises(InputError, match="Unknown --kv-link 'pcie'"):
        _d(link="pcie")
    with pytest.raises(InputError, match="--kv-link-gbps must be"):
        _d(link_gbps=0.0)


def _pipeline_finish(transfer: float, prefill: float, layers: int) -> float:
    """Brute force: layer l is ready at l x prefill / L and takes transfer / L on the link,
    one layer after another."""
    a, b, done = prefill / layers, transfer / layers, 0.0
    for layer in range(1, layers + 1):
        done = max(done, layer * a) + b
    return done


@pytest.mark.parametrize(("transfer", "prefill"), [(0.01, 0.08), (0.1, 0.08), (0.08, 0.08)])
def test_overlapped_transfer_exposes_the_last_layer_or_the_link_bound_rest(
    transfer: float, prefill: float
) -> None:
    # exposed = latency + T / L + (L - 1) / L x max(0, T - prefill), e.g. T = 10 ms,
    # prefill 80 ms, 80 layers, 2 µs: 2e-6 + 0.01 / 80 = 0.127 ms; T = 100 ms:
    # 2e-6 + 1.25e-3 + 79 / 80 x 0.02 = 21.002 ms
    got = exposed_transfer_s(transfer, prefill, 80, 2e-6, True)
    assert got == pytest.approx(2e-6 + _pipeline_finish(transfer, prefill, 80) - prefill)
    if transfer == 0.01:
        assert got == pytest.approx(0.127e-3)
    if transfer == 0.1:
        assert got == pytest.approx(21.002e-3)
    assert exposed_transfer_s(transfer, prefill, 80, 2e-6, False) == 2e-6 + transfer


def test_ttft_terms_add_up() -> None:
    for c in (1, 16, 64, 256):
        d = _d(concurrency=c)
        terms = (
            d.request_overhead_s + d.prefill_queue_s + d.decode_queue_s + d.prefill_s
            + d.kv_transfer_exposed_s + d.first_decode_step_s
        )  # fmt: skip
        assert d.ttft_s == pytest.approx(terms, rel=1e-12)
        assert d.e2e_s == pytest.approx(d.ttft_s + (d.osl - 1) * d.tpot_s, rel=1e-12)


def test_one_client_waits_in_no_queue_and_its_prefill_is_one_prompt() -> None:
    d = _d(concurrency=1)
    assert d.prefill_queue_s == 0.0 and d.decode_queue_s == 0.0 and d.prefill_batch == 1.0
    r = resolve(M70, "H100", tp=4)
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, 4)
    assert d.prefill_s == pytest.approx(float(prefill_step(sm, 1000.0, 1.0).total_s))
    # overlapped, the transfer (1.64 ms) is shorter than the prefill: only the last of 80
    # layers is exposed, 2 µs + 1.6384 ms / 80
    assert d.kv_transfer_exposed_s == pytest.approx(2e-6 + 1.6384e-3 / 80)


def test_overlap_hides_all_but_the_last_layer() -> None:
    # One client (batch 1, no queue): the TTFT difference is the transfer less its last
    # layer, T x 79 / 80; over Ethernet 6.5536 ms x 79 / 80 = 6.47168 ms.
    on = _d(concurrency=1, link="ethernet")
    off = _d(concurrency=1, link="ethernet", overlap=False)
    assert off.kv_transfer_exposed_s == pytest.approx(10e-6 + 6.5536e-3)
    assert off.ttft_s - on.ttft_s == pytest.approx(6.5536e-3 * 79 / 80, rel=1e-9)
    assert on.tpot_s == off.tpot_s


def test_tpot_is_the_decode_only_step_at_the_decode_batch() -> None:
    r = resolve(M70, "H100", tp=4)
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, 4)
    for c in (1, 32, 128):
        d = _d(concurrency=c)
        batch = max(d.decode_batch, 1.0)
        step = float(decode_step(sm, batch, 1000 + 300 / 2).total_s)  # mean context
        assert d.tpot_s == pytest.approx(step, rel=1e-12)
        assert d.first_decode_step_s == d.tpot_s
    # no prefill interleaves: below the aggregated TPOT of one TP4 replica at that batch
    d = _d(concurrency=32)
    agg = predict(M70, "H100", 1000, 300, tp=4, concurrency=round(d.decode_batch))
    assert agg.tpot_s is not None and d.tpot_s < agg.tpot_s


def test_closed_loop_throughput_is_rate_times_osl() -> None:
    for c in (8, 64, 256):
        d = _d(concurrency=c)
        assert d.output_tok_s == pytest.approx(d.request_rate_s * 300, rel=1e-12)
        assert d.total_tok_s == pytest.approx(d.request_rate_s * 1300, rel=1e-12)
        assert d.num_gpus == 8 == d.prefill_gpus + d.decode_gpus
        assert d.output_tok_s_per_gpu == pytest.approx(d.output_tok_s / 8, rel=1e-12)
        # Little's law: C = rate x E2E, and in the decode pool B = rate / y x osl x TPOT
        assert d.request_rate_s * d.e2e_s == pytest.approx(c, rel=1e-9)
        if not d.saturated:
            assert d.decode_batch == pytest.approx(d.request_rate_s * 300 * d.tpot_s, rel=1e-9)


def test_pd_balance_on_a_small_case() -> None:
    """Llama-3.1-8B on single H100s, 1,000-token prompts with a 1,000-token prefill budget
    (one prompt per iteration): a prefill worker does 1 / t_prefill(1,000) requests/s; a
    decode worker at the batch the concurrency gives it (64) does 64 / (300 x t_decode(64))
    requests/s; balanced x / y is their quotient."""
    r = resolve(M8, "H100")
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine)
    prefill_rate = 1.0 / float(prefill_step(sm, 1000.0, 1.0).total_s)
    decode_rate = 64.0 / (300 * float(decode_step(sm, 64.0, 1150.0).total_s))
    p = Pool(max_batch_tokens=1000)
    d = predict_disagg(M8, "H100", 1000, 300, prefill=p, decode=Pool(), concurrency=64)
    assert d.prefill_max_batch == 1
    assert d.prefill_req_s_per_worker == pytest.approx(prefill_rate, rel=1e-12)
    assert d.decode_req_s_per_worker == pytest.approx(decode_rate, rel=1e-12)
    ratio = decode_rate / prefill_rate
    assert d.balanced_prefill_to_decode_ratio == pytest.approx(ratio, rel=1e-12)
    assert 0.3 < ratio < 1.0  # one prefill worker feeds one decode worker with room to spare
    assert d.bottleneck == "decode"
    # Three decode workers at the same per-worker batch (C = 192) need 3 x ratio > 1 prefill
    # workers: one is the bottleneck, two are not.
    d3 = predict_disagg(M8, "H100", 1000, 300, prefill=p, decode=Pool(workers=3), concurrency=192)
    assert d3.balanced_prefill_to_decode_ratio == pytest.approx(ratio, rel=1e-12)
    assert 3 * ratio > 1 and d3.bottleneck == "prefill"
    d23 = predict_disagg(
        M8, "H100", 1000, 300, prefill=Pool(max_batch_tokens=1000, workers=2),
        decode=Pool(workers=3), concurrency=192,
    )  # fmt: skip
    assert 3 * ratio < 2 and d23.bottleneck == "decode"


def test_saturated_prefill_pool_is_flagged() -> None:
    d = _d(concurrency=512)
    assert d.saturated == "prefill" and d.bottleneck == "prefill"
    assert d.prefill_utilization is not None and 0.95 <= d.prefill_utilization < 1.0
    assert d.request_rate_s <= d.prefill_req_s_per_worker
    assert any("prefill pool saturated" in n for n in d.notes)
    # nearly all of TTFT is the queue
    assert d.prefill_queue_s > 0.9 * d.ttft_s
    light = _d(concurrency=8)
    assert light.saturated is None and light.prefill_utilization < 0.5


def test_a_full_decode_pool_queues_the_rest() -> None:
    # 16 sequences per decode worker at most, 64 clients: the decode pool runs 16 and the
    # rate is 16 / (osl x TPOT(16)); the other clients wait before their first token.
    d = _d(concurrency=64, decode=Pool(tp=4, max_batch=16), prefill=Pool(tp=4, workers=2))
    assert d.saturated == "decode" and d.decode_batch == 16 and d.decode_max_batch == 16
    assert d.request_rate_s == pytest.approx(16 / (300 * d.tpot_s), rel=1e-12)
    assert d.decode_queue_s > 0
    assert d.request_rate_s * d.e2e_s == pytest.approx(64, rel=1e-9)


def test_pools_are_priced_input_to_prefill_output_to_decode() -> None:
    # $2/GPU-h: the prefill pool's 4 GPUs ($8/h) over input tokens/h, the decode pool's
    # 4 GPUs over output tokens/h.
    d = _d(concurrency=64, gpu_hour_usd=2.0)
    assert d.usd_per_gpu_hour == 2.0
    per_in = 8.0 / (d.request_rate_s * 1000 * 3600 / 1e6)
    per_out = 8.0 / (d.request_rate_s * 300 * 3600 / 1e6)
    assert d.usd_per_m_input == pytest.approx(per_in, rel=1e-12)
    assert d.usd_per_m_output == pytest.approx(per_out, rel=1e-12)
    assert d.usd_per_m_blended == pytest.approx(16.0 / (d.total_tok_s * 3600 / 1e6))
    assert "prefill pool's 4 GPU-hours are charged to input" in (d.price_source or "")


def test_a_worker_that_does_not_fit_says_which() -> None:
    d = predict_disagg(M70, "H100", 1000, 300, prefill=Pool(), decode=TP4, concurrency=8)
    assert d.fits is False and (d.reason or "").startswith("prefill worker (1x h100-sxm)")
    assert d.ttft_s is None and d.output_tok_s is None and d.usd_per_m_input is None
    assert d.kv_transfer_bytes == 327_680_000  # known without a fit
    assert tuple(d.to_dict()) == DISAGG_JSON_KEYS


def test_bad_input_is_refused() -> None:
    with pytest.raises(InputError, match="--concurrency"):
        _d(concurrency=None)
    with pytest.raises(InputError, match="--prefill-workers must be a whole number"):
        _d(prefill=Pool(tp=4, workers=0))
    with pytest.raises(InputError, match="--decode-tp"):
        _d(decode=Pool(tp=10**9))
    with pytest.raises(InputError, match="decode pool: --decode-tp 3 does not divide"):
        _d(decode=Pool(tp=3))


def test_moe_attention_dp_decode_pool_runs() -> None:
    d = predict_disagg(
        "mixtral-8x7b", "H100", 2000, 500, prefill=Pool(tp=2), decode=Pool(tp=1, dp=4, ep=4),
        concurrency=128, weight_dtype="fp8",
    )  # fmt: skip
    assert d.fits and d.decode_gpus == 4 and d.num_gpus == 6
    assert d.decode_layout == {"tp": 1, "pp": 1, "ep": 4, "dp": 4, "gpus": 4}
    assert all(math.isfinite(v) for v in (d.ttft_s, d.tpot_s, d.output_tok_s))


# ------------------------------------------------------------------------------ CLI and API

BASE = ["predict", "--model", M70, "--gpu", "H100", "--isl", "1000", "--osl", "300",
        "--concurrency", "64"]  # fmt: skip
DISAGG = [*BASE, "--disagg", "--prefill-tp", "4", "--decode-tp", "4"]


def test_cli_json_is_the_library_object() -> None:
    result = CliRunner().invoke(cli_app, [*DISAGG, "--no-kv-overlap", "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    want = _d(concurrency=64, overlap=False).to_dict()
    assert got == json.loads(json.dumps(want))


def test_cli_pools_default_to_the_shared_layout_and_plain_output_prints_the_terms() -> None:
    result = CliRunner().invoke(cli_app, [*BASE, "--tp", "4", "--disagg", "--kv-link", "nvlink"])
    assert result.exit_code == 0, result.output
    for text in ("1P1D", "TTFT", "TPOT", "KV transfer", "balanced P:D", "nvlink"):
        assert text in result.stdout, text


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``infercost ARGS`` through the entry point (its error handling and exit statuses)."""
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_disagg_options_need_disagg_and_a_concurrency(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _main([*BASE, "--tp", "4", "--prefill-workers", "2"], capsys)
    assert code == 1 and "--prefill-workers applies only with --disagg" in err
    no_c = [a for a in DISAGG if a not in ("--concurrency", "64")] + ["--max-throughput"]
    code, _, err = _main(no_c, capsys)
    assert code == 1 and "--disagg needs --concurrency" in err
    # the lockstep waves of fixed lengths belong to the aggregated closed loop
    code, _, err = _main([*DISAGG, "--fixed-lengths"], capsys)
    assert code == 1 and "--fixed-lengths applies to aggregated predictions" in err


def test_cli_fixed_lengths_reaches_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    # --fixed-lengths is predict(fixed_lengths=True), in the CLI and the REST service alike
    args = [*BASE, "--tp", "4", "--json"]
    code, out, _ = _main([*args, "--fixed-lengths"], capsys)
    want = predict(M70, "H100", 1000, 300, tp=4, concurrency=64, fixed_lengths=True)
    assert code == 0 and json.loads(out)["ttft_s"] == pytest.approx(want.ttft_s, rel=1e-12)
    body = {"model": M70, "gpu": "H100", "isl": 1000, "osl": 300, "tp": 4, "concurrency": 64,
            "fixed_lengths": True}  # fmt: skip
    got = TestClient(create_app()).post("/api/predict", json=body).json()
    assert got["ttft_s"] == pytest.approx(want.ttft_s, rel=1e-12)


def test_cli_a_worker_that_does_not_fit_exits_3_in_plain_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [*BASE, "--disagg", "--decode-tp", "4"]  # prefill TP1: 70B bf16 on one H100
    code, _, err = _main(args, capsys)
    assert code == 3 and "prefill worker" in err
    code, out, _ = _main([*args, "--json"], capsys)
    assert code == 0 and json.loads(out)["fits"] is False


def test_cli_without_disagg_is_unchanged() -> None:
    result = CliRunner().invoke(cli_app, [*BASE, "--tp", "4", "--json"])
    assert result.exit_code == 0, result.output
    want = predict(M70, "H100", 1000, 300, tp=4, concurrency=64).to_dict()
    assert json.loads(result.stdout) == json.loads(json.dumps(want))


def test_api_endpoint_returns_the_library_object() -> None:
    body = {"model": M70, "gpu": "H100", "isl": 1000, "osl": 300, "concurrency": 64,
            "prefill_tp": 4, "decode_tp": 4, "kv_link": "ethernet"}  # fmt: skip
    with TestClient(create_app()) as client:
        resp = client.post("/api/predict/disagg", json=body)
        assert resp.status_code == 200, resp.text
        want = _d(concurrency=64, link="ethernet").to_dict()
        assert resp.json() == json.loads(json.dumps(want))
        bad = client.post("/api/predict/disagg", json={**body, "kv_link": "pcie"})
        assert 400 <= bad.status_code < 500 and "Unknown --kv-link" in bad.text


def test_an_implausibly_slow_kv_link_is_refused() -> None:
    """QA: 1e-6 Gb/s was accepted and gave 0 tok/s and a 41.9 M s E2E; below 1 Gb/s per GPU
    is not a serving fabric."""
    with pytest.raises(InputError, match=r"--kv-link-gbps must be a finite number in \[1, "):
        predict_disagg(
            "llama-3.1-8b", "H100", 100, 10, concurrency=4, link_gbps=1e-6,
            prefill=Pool(tp=1), decode=Pool(tp=1),
        )  # fmt: skip


def test_decode_pool_holds_on_demand_kv_at_the_mean_context() -> None:
    # Llama-3.1-8B on H100, 8,000/1,000: the decode worker's cap is the KV-limited count at
    # the mean context 8,000 + 1,000 / 2 = 8,500 tokens on vLLM (KV allocated as tokens come,
    # requests arriving spread out from the prefill pool), at the full 9,000 on TensorRT-LLM
    # (whole length reserved), each with its engine's own memory budget
    from infercost.disagg import Pool, predict_disagg
    from infercost.predict import max_concurrency_at

    for engine, context in (("vllm", 8500.0), ("trtllm", 9000.0)):
        r = resolve("llama-3.1-8b", "H100", engine=engine)
        want = min(max_concurrency_at(r, context), r.engine.max_num_seqs)
        d = predict_disagg("llama-3.1-8b", "H100", 8000, 1000, prefill=Pool(), decode=Pool(),
                           concurrency=60, engine=engine, gpu_hour_usd=1.0)  # fmt: skip
        assert d.decode_max_batch == want, engine
    assert max_concurrency_at(resolve("llama-3.1-8b", "H100"), 8500.0) > max_concurrency_at(
        resolve("llama-3.1-8b", "H100"), 9000.0
    )


def test_requests_pay_the_http_front_end_as_aggregated_online_serving_does() -> None:
    # clients reach the prefill pool through the engine's OpenAI-compatible server, so each
    # request pays request_overhead_s + frontend_overhead_s (the same as predict --concurrency)
    d = _d(concurrency=16)
    eng = get_engine(d.engine)
    assert eng.frontend_overhead_s > 0
    assert d.request_overhead_s == pytest.approx(eng.request_overhead_s + eng.frontend_overhead_s)
