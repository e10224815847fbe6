"""``infercost simulate``: JSON contract, OVERLOADED output, trace quarantine, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infercost.cli import app, main
from infercost.sim import SIM_JSON_KEYS

runner = CliRunner()
BASE = ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "467", "--osl", "256"]


def _json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, [*BASE, *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_sim_json_keys_are_pinned() -> None:
    # The published JSON format is written out, not derived (DESIGN.md contracts).
    assert SIM_JSON_KEYS == (
        "num_requests", "completed", "rejected", "isl_mean_tokens", "osl_mean_tokens",
        "replicas", "router", "duration_s",
        "request_throughput_req_s", "output_tok_s", "total_tok_s", "overloaded",
        "saturation_reliable", "saturation_reason", "offered_rate_req_s",
        "sustainable_rate_req_s", "ttft_s", "tpot_s", "e2e_s", "queue_s", "itl_mean_s",
        "unstable_latency", "slo", "goodput_req_s", "slo_attainment_frac", "slo_met",
        "preemptions", "kv_util_mean_frac", "kv_util_max_frac", "iterations", "closed_loop",
    )  # fmt: skip


def test_json_below_capacity_is_deterministic_for_a_seed() -> None:
    a = _json(["--rate", "5", "--num-requests", "300", "--seed", "4"])
    b = _json(["--rate", "5", "--num-requests", "300", "--seed", "4"])
    assert a == b
    res = a["result"]
    assert list(res) == list(SIM_JSON_KEYS)
    assert res["overloaded"] is False
    assert res["completed"] == 300
    # p50 <= p90 <= p99 and TPOT below TTFT + E2E: basic shape of the percentiles.
    assert res["ttft_s"]["p50"] <= res["ttft_s"]["p90"] <= res["ttft_s"]["p99"]
    assert res["tpot_s"]["mean"] < res["e2e_s"]["mean"]
    assert a["rate_req_s"] == 5.0


def test_overloaded_plain_output_names_the_sustainable_rate() -> None:
    # Far past capacity (1,000 req/s for an 8B model on one H100): OVERLOADED, the
    # sustainable rate printed, no latency table.
    result = runner.invoke(app, [*BASE, "--rate", "1000", "--num-requests", "3000"])
    assert result.exit_code == 0, result.output
    assert "OVERLOADED" in result.output
    assert "Sustainable rate" in result.output
    assert "latency (ms)" not in result.output
    data = _json(["--rate", "1000", "--num-requests", "3000"])["result"]
    assert data["overloaded"] is True
    assert data["ttft_s"] is None
    assert 0 < data["sustainable_rate_req_s"] < 1000


def test_trace_rows_quarantined_and_counted(tmp_path: Path) -> None:
    p = tmp_path / "trace.csv"
    p.write_text("timestamp,input_tokens,output_tokens\n0,100,10\n0.5,bad,10\n1.0,200,20\n")
    result = runner.invoke(
        app,
        ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--trace", str(p), "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["quarantined_rows"] == 1
    assert data["result"]["num_requests"] == 2


def test_find_max_rate_reports_a_rate_below_capacity() -> None:
    data = _json(["--find-max-rate", "--slo-ttft-p99", "0.2", "--num-requests", "400"])
    search = data["max_rate_search"]
    # The search runs over (0, sustainable rate]; at 400 requests the closed-batch probe's
    # sustainable rate (its completion rate) meets this SLO itself.
    assert 0 < search["rate_req_s"] <= search["sustainable_rate_req_s"]
    assert data["result"]["slo_met"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--num-requests", "10"], "Give --rate"),
        (["--rate", "1", "--arrival", "weibull"], "poisson or gamma"),
        (
            ["--rate", "-2"],
            "--rate must be a finite number in [1e-06, 10,000,000] requests/s or inf",
        ),
        (
            ["--rate", "0"],
            "--rate must be a finite number in [1e-06, 10,000,000] requests/s or inf, got 0.",
        ),
        (
            ["--rate", "nan"],
            "--rate must be a finite number in [1e-06, 10,000,000] requests/s or inf, got nan.",
        ),
        (["--rate", "1", "--pp", "2", "--tp", "1"], "one pipeline stage"),
        (["--rate", "1", "--slo-ttft-p99", "0"], "--slo-ttft-p99"),
    ],
)
def test_errors_exit_1_with_a_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*BASE, *args])
    assert exc.value.code != 0
    assert message in capsys.readouterr().err


def test_draft_model_takes_memory_and_lowers_latency_at_low_load() -> None:
    # Llama-3.1-70B TP4 keeps 2 x 80 layers x 8 KV heads x 128 x 2 B / 4 GPUs = 81,920 KV bytes
    # per token per GPU; the Llama-3.2-1B draft adds 2 x 16 x 8 x 64 x 2 B / 4 = 8,192 and
    # its weights leave the KV budget: capacity = (KV bytes - draft weights) / 90,112.
    from infercost.perf.memory import weight_bytes, weight_bytes_per_gpu
    from infercost.predict import resolve

    args = ["--model", "llama-3.1-70b", "--gpu", "H200", "--tp", "4", "--isl", "1000"]
    args += ["--osl", "300", "--rate", "0.5", "--num-requests", "100", "--json"]
    plain = json.loads(runner.invoke(app, ["simulate", *args]).stdout)
    spec_args = ["--spec-tokens", "4", "--spec-acceptance", "0.8", "--draft-model", "llama-3.2-1b"]
    spec = json.loads(runner.invoke(app, ["simulate", *args, *spec_args]).stdout)
    d = resolve("llama-3.2-1b", "H200", tp=4)
    w = float(weight_bytes_per_gpu(weight_bytes(d.model, d.weight_fmt), 4, 1, 1))
    kv_bytes = plain["kv_capacity_tokens"] * 81_920
    assert spec["kv_capacity_tokens"] == pytest.approx((kv_bytes - w) / 90_112, rel=1e-9)
    # At 0.5 req/s decode is memory-bound: 3.36 tokens per verify step for one 70B step plus
    # four 1B steps, so TPOT falls well below the plain figure.
    assert spec["result"]["tpot_s"]["mean"] < 0.7 * plain["result"]["tpot_s"]["mean"]


def test_rate_profile_drives_arrivals() -> None:
    # Rates 1 and 3 req/s over the two halves of a 100 s period, for 400 s: about
    # 4 x (50 + 150) = 800 requests (Poisson sd 28).
    data = _json(["--rate-profile", "1,3", "--profile-period", "100", "--duration", "400"])
    assert data["arrival"] == "profile"
    assert 700 < data["result"]["num_requests"] < 900
    result = runner.invoke(app, [*BASE, "--rate-profile", "1,x", "--duration", "10"])
    assert result.exit_code != 0


@pytest.mark.parametrize("rate", ["inf", "1e6"])
def test_all_at_once_sustainable_rate_is_the_completion_rate(rate: str) -> None:
    # QA: 100 requests of 1000/300 tokens at once ran at 14.67 req/s, yet the quartile span of
    # their bunched completions reported 745.71 req/s sustainable. Bounded by the run's own
    # completion rate (completed / duration), the two agree.
    result = runner.invoke(
        app,
        ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "1000", "--osl",
         "300", "--rate", rate, "--num-requests", "100", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)["result"]
    assert data["overloaded"] is True
    run_rate = data["completed"] / data["duration_s"]
    assert data["request_throughput_req_s"] == pytest.approx(run_rate)
    assert data["sustainable_rate_req_s"] == pytest.approx(run_rate, rel=1e-3)
    assert 5.0 < data["sustainable_rate_req_s"] < 40.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # numpy would raise "expected non-negative integer" with a traceback
        (
            ["--rate", "1", "--seed", "-1"],
            "--seed must be a whole number in [0, 4,294,967,295], got -1.",
        ),
        # variability flags that would be dropped silently
        (
            ["--rate", "1", "--length-cv", "0.5"],
            "--length-cv needs --length-dist normal or lognormal (lengths are fixed by default).",
        ),
        (
            ["--rate", "1", "--burstiness", "0.25"],
            "--burstiness needs --arrival gamma (arrivals are Poisson by default).",
        ),
        (
            ["--rate", "1", "--spec-acceptance", "0.8"],
            "--spec-acceptance needs --spec-tokens K (draft tokens per step; 0 = no speculation).",
        ),
        (["--rate", "1", "--draft-model", "llama-3.2-1b"], "--draft-model needs --spec-tokens K"),
        # a --rate run after the search would be shown as if it were the answer
        (
            ["--rate", "5", "--find-max-rate", "--slo-ttft-p99", "0.2"],
            "--find-max-rate searches for the rate itself; drop --rate",
        ),
    ],
)
def test_flags_that_would_be_ignored_are_refused(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*BASE, *args])
    assert exc.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert message in err and "Traceback" not in err


def test_the_variability_flags_work_with_what_they_need() -> None:
    data = _json(
        [
            "--rate", "2", "--num-requests", "200", "--length-dist", "lognormal",
            "--length-cv", "0.5", "--arrival", "gamma", "--burstiness", "0.5",
        ]
    )  # fmt: skip
    assert data["result"]["completed"] == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--isl", "0", "--osl", "10", "--rate", "1"],
            "--isl must be a whole number in [1, 100,000,000] tokens, got 0.",
        ),
        (
            ["--isl", "10", "--osl", "-3", "--rate", "1"],
            "--osl must be a whole number in [1, 100,000,000] tokens, got -3.",
        ),
        (["--osl", "10", "--rate", "1"], "--isl is required without --trace"),
    ],
)
def test_token_counts_say_at_least_one(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", *args])
    assert exc.value.code == 1
    assert message in capsys.readouterr().err


def test_trace_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--trace"]
    with pytest.raises(SystemExit):
        main([*base, str(tmp_path)])
    assert "is a directory; give a CSV or JSONL file" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"timestamp":0,\n')
    with pytest.raises(SystemExit):
        main([*base, str(bad)])
    assert "invalid JSON on line 1" in capsys.readouterr().err
    good = tmp_path / "t.csv"
    good.write_text("timestamp,input_tokens,output_tokens\n0,100,10\n")
    with pytest.raises(SystemExit):
        main([*base, str(good), "--isl", "100"])
    assert "--trace gives its own arrivals and lengths; drop --isl." in capsys.readouterr().err


def test_data_parallel_gpus_are_replicas_not_one_replica() -> None:
    # --num-gpus 8 --tp 1 means 8 data-parallel ranks (predict); the simulator says to run
    # them as 8 replicas instead of simulating one 8-GPU replica at one GPU's speed (QA).
    from typer.testing import CliRunner

    from infercost.cli import app

    result = CliRunner().invoke(
        app,
        [
            "simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--num-gpus", "8",
            "--tp", "1", "--isl", "1000", "--osl", "300", "--rate", "5",
            "--num-requests", "100",
        ],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "--replicas 8" in str(result.exception) + result.output


def test_realised_mean_lengths_of_a_trace_are_reported(tmp_path: Path) -> None:
    # Three trace rows: input 100 + 200 + 301 = 601 tokens, output 10 + 20 + 31 = 61 tokens,
    # so the run's realised means are 601 / 3 and 61 / 3 tokens, in the JSON result and in
    # the plain output (one decimal: 200.3 and 20.3).
    p = tmp_path / "trace.csv"
    p.write_text("timestamp,input_tokens,output_tokens\n0,100,10\n0.5,200,20\n1.0,301,31\n")
    args = ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--trace", str(p)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    res = json.loads(result.stdout)["result"]
    assert res["isl_mean_tokens"] == 601 / 3
    assert res["osl_mean_tokens"] == 61 / 3
    plain = runner.invoke(app, args)
    assert plain.exit_code == 0, plain.output
    assert "(mean ISL 200.3, OSL 20.3 tokens)" in plain.output


def test_realised_mean_lengths_of_fixed_lengths_are_those_lengths() -> None:
    # --length-dist fixed (the default): every request has 467 input and 256 output tokens.
    res = _json(["--rate", "5", "--num-requests", "50"])["result"]
    assert res["isl_mean_tokens"] == 467.0
    assert res["osl_mean_tokens"] == 256.0
