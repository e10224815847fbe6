"""Regressions of the issue-16 acceptance run (2026-12-07, docs/limits.md "Acceptance run"):
each input a hostile user typed that crashed, was silently ignored or printed an infinity.
Messages are asserted by hand-written fragments."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infercost.api.app import create_app
from infercost.api.settings import ServiceSettings
from infercost.cli import main

FIX = Path(__file__).parents[1]
CAL = FIX / "calibrate" / "fixtures"
M8 = ["--model", "llama-3.1-8b"]
PREDICT = ["predict", *M8, "--gpu", "H100", "--isl", "1024", "--osl", "128", "--concurrency", "16"]
FLEET = ["plan", "fleet", "--isl", "0", "--osl", "500", "--requests-per-day", "1e7",
         "--replica-output-tok-s", "1000", "--gpu-hour-usd", "2"]  # fmt: skip
PAYBACK = ["plan", "payback", "--training-usd", "1e4", "--teacher", "api:gpt-4o", "--student",
           "0.05", "--tokens-per-month", "1e9"]  # fmt: skip
SCEN = ["plan", "scenarios", "--usd-per-m", "1", "--tokens-per-month", "1e9",
        "--decline-per-year", "0.3"]  # fmt: skip
BREAK = ["plan", "breakeven", "--api-input-usd-per-m", "2.5", "--api-output-usd-per-m", "10",
         "--input-share", "0.5", "--gpu-hour-usd", "2.49", "--tok-s", "1500"]  # fmt: skip
CASCADE = ["plan", "cascade", "--tier", "small:0.6:0.02", "--tier", "big:0.4:0.46"]


def run(args: list[str]) -> tuple[int, str, str]:
    """``infercost ARGS`` through the script's entry point: (status, stdout, stderr)."""
    with CliRunner().isolation() as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        # a blank name acted as no name at all (the default dtype, offer, GPU list)
        ([*PREDICT, "--weight-dtype", ""], "--weight-dtype is empty; give a value"),
        (["offers", "--gpu", "  "], "--gpu is empty"),
        (["calc", "egress", *M8, "--provider", ""], "--provider is empty"),
        (["usage", "report", "--ledger", "x.duckdb", "--from", ""], "--from is empty"),
        # options that only act with another, given alone, were silently ignored
        ([*FLEET, "--engine", "nonsense"], "--engine only applies with --model"),
        ([*FLEET, "--peak-hour", "14"], "--peak-hour only applies with --peak-to-average"),
        ([*FLEET, "--max-spot-share", "0.5"], "--max-spot-share only applies with"),
        ([*PAYBACK, "--gpu", "H100"], "--gpu only applies with --draft-tokens or --cached-share"),
        ([*PAYBACK, "--acceptance", "0.7"], "--acceptance only applies with --draft-tokens"),
        ([*SCEN, "--multipliers", "nonsense"], "only applies with --output-tokens-per-day"),
        ([*SCEN, "--gpu", "H100"], "--gpu only applies with --model"),
        ([*BREAK, "--api-cached-input-usd-per-m", "1"], "only applies with --cached-share"),
        ([*CASCADE, "--isl", "100"], "--isl/--osl only apply to a tier or --baseline cost"),
        ([*PREDICT, "--disagg", "--allow-spot"], "--allow-spot only acts with --offer"),
        (["cost", *PREDICT[1:], "--allow-spot"], "--allow-spot only applies with --offer"),
        (
            [
                "tco",
                "--gpu-price-usd",
                "3e4",
                "--usd-per-kwh",
                "0.1",
                "--power-w",
                "700",
                "--gpu",
                "nonsense",
            ],
            "Give --power-w or --gpu",
        ),
        (
            ["calibrate", "import", str(CAL / "vllm_bench_serve.json"), "--weight-dtype", "fp9"],
            "fp9",
        ),
        (
            ["calibrate", "import", str(CAL / "vllm_bench_serve.json"), "--kv-dtype", "x"],
            "Unknown --kv-dtype 'x'",
        ),
        # numbers past their domains that were accepted
        (
            ["plan", "pareto", *M8, "--isl", "1", "--osl", "1", "--min-tok-s-per-user", "1e308"],
            "--min-tok-s-per-user must be a finite number in (0, 1,000,000]",
        ),
        (
            [*BREAK, "--cache-write-share", "0.1", "--api-cache-write-usd-per-m", "1e308"],
            "--api-cache-write-usd-per-m must be",
        ),
        (
            [
                "calibrate",
                "run",
                "--endpoint",
                "http://127.0.0.1:9",
                "--model",
                "x",
                "--out",
                "o.json",
                "--api-key",
                "sk-ü",
            ],
            "--api-key must be printable ASCII",
        ),
    ],
)
def test_refused_with_one_line(args: list[str], fragment: str) -> None:
    code, _, err = run(args)
    assert code == 1, err
    assert fragment in err and "Traceback" not in err
    assert err.strip().count("\n") == 0 or "error:" in err.splitlines()[0]


def test_anomalies_threshold_beyond_any_hour(tmp_path: Path) -> None:
    led = tmp_path / "l.duckdb"
    assert run(["usage", "demo", "--out", str(led), "--rows", "200"])[0] == 0
    for value, fragment in (("inf", "--threshold must lie in (0, 100]"),
                            ("1e308", "--threshold must lie in (0, 100]")):  # fmt: skip
        code, _, err = run(["usage", "anomalies", "--ledger", str(led), "--threshold", value])
        assert code == 1 and fragment in err


def test_odd_files_are_one_line_errors(tmp_path: Path) -> None:
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00" * 100)
    huge = tmp_path / "h.csv"
    huge.write_text("arrival_s,isl,osl\n" + "9" * 200_000 + ",1,1\n")
    line = tmp_path / "h.jsonl"
    line.write_text('{"a": "' + "x" * 200_000 + '"}\n')
    cases = [
        (["simulate", *M8, "--gpu", "H100", "--trace", str(binary)], "not UTF-8 text (byte 0,"),
        (["simulate", *M8, "--gpu", "H100", "--trace", str(huge)], "cannot be read as CSV"),
        (["calibrate", "import", str(line)], f"{line} (line 1): cannot be read as CSV"),
        (["calibrate", "fit", str(line), "--quiet"], f"{line} (line 1): cannot be read as CSV"),
        (
            [
                "usage",
                "ingest",
                str(CAL.parent.parent / "usage" / "fixtures" / "generic.csv"),
                "--ledger",
                str(tmp_path / "l.duckdb"),
                "--fleet",
                str(binary),
            ],
            "cannot read fleet file",
        ),
        ([*PREDICT, "--profile", "x" * 3000], "cannot open it"),
    ]
    for args, fragment in cases:
        code, _, err = run(args)
        assert code == 1 and fragment in err and "Traceback" not in err, (args, err)


def test_otel_format_on_other_json_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    src = tmp_path / "x.json"
    src.write_text("[1, 2, 3]")
    code, _, err = run(["usage", "ingest", str(src), "--format", "otel",
                        "--ledger", str(tmp_path / "l.duckdb")])  # fmt: skip
    assert code == 1 and "none of its" in err and "rows could be used as --format otel" in err


def test_a_file_of_which_nothing_is_usable_exits_1_also_on_reingest(tmp_path: Path) -> None:
    src = tmp_path / "neg.csv"
    src.write_text(
        "timestamp,provider,model,input_tokens,output_tokens\n"
        "2025-08-01T00:00:00Z,openai,gpt-4o-mini,-10,5\n"
    )
    led = str(tmp_path / "l.duckdb")
    for _ in range(2):  # the second time its row is a duplicate of a quarantined one
        code, out, err = run(["usage", "ingest", str(src), "--ledger", led, "--json"])
        assert code == 1 and "none of its 1 rows could be used" in err
        assert json.loads(out)["type"] == "InputError"


def test_out_of_domain_measurements_are_not_imported(tmp_path: Path) -> None:
    data = json.loads((CAL / "vllm_bench_serve.json").read_text())
    for key in ("total_input_tokens", "total_output_tokens"):
        if key in data:
            data[key] = 10**30
    src = tmp_path / "big.json"
    src.write_text(json.dumps(data))
    code, _, err = run(["calibrate", "import", str(src)])
    assert code == 1 and "no usable measurement" in err and "is outside" in err


def test_rate_inf_prints_no_infinity() -> None:
    code, out, _ = run(["simulate", *M8, "--gpu", "H100", "--isl", "100", "--osl", "10",
                        "--rate", "inf", "--num-requests", "20", "--json"])  # fmt: skip
    assert code == 0 and not re.search(r"\b-?inf\b|NaN|Infinity", out)
    data = json.loads(out)
    assert (data["arrival"], data["rate_req_s"]) == ("all-at-once", None)
    assert data["result"]["offered_rate_req_s"] is None
    code, out, _ = run(["simulate", *M8, "--gpu", "H100", "--isl", "100", "--osl", "10",
                        "--rate", "inf", "--num-requests", "20"])  # fmt: skip
    assert code == 0 and "all 20 requests at t = 0" in out and not re.search(r"\binf\b", out)


def test_rest_refuses_blank_names() -> None:
    client = TestClient(create_app(ServiceSettings()))
    body = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 100, "osl": 10, "concurrency": 4,
            "weight_dtype": ""}  # fmt: skip
    assert client.post("/api/predict", json=body).status_code == 422
