"""Issue 16's reproducers: each exits 1 with one line saying what was wrong (no traceback, no
hang, no allocation before the check)."""

from __future__ import annotations

import json

import pytest

from infercost.cli import main

M = ["--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "1000", "--osl", "300"]
P = ["--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300"]
BIG = "9999999999999999999999999999999999999999"

CASES: list[tuple[list[str], str]] = [
    # work sized by the user: refused before allocation, with the estimate and --max-work
    (["simulate", *M, "--rate", "5", "--num-requests", "100000000000"], "--num-requests"),
    (["simulate", *M, "--rate", "1000", "--duration", "1000000000"], "--max-work"),
    (["simulate", *M, "--rate", "5", "--num-requests", "10000000"], "--max-work"),
    (["simulate", *M, "--rate", "5", "--replicas", "100000000000"], "--replicas"),
    (["simulate", *M, "--rate", "5", "--replicas", "100000"], "--max-work"),
    (["plan", "search", *P, "--max-gpus", "100000000000"], "--max-gpus"),
    (["plan", "pareto", *P, "--max-gpus", "100000000000"], "--max-gpus"),
    (
        [
            "plan",
            "search",
            *P,
            "--max-gpus",
            "1024",
            "--concurrency-levels",
            "10000",
            "--max-concurrency",
            "1000000",
        ],
        "GiB of memory",
    ),
    (
        [
            "plan",
            "search",
            *P,
            "--ttft-p99-s",
            "1",
            "--num-requests",
            "10000000",
            "--shortlist",
            "100",
        ],
        "--max-work",
    ),
    (
        [
            "plan",
            "breakeven",
            "--api-input-usd-per-m",
            "3",
            "--api-output-usd-per-m",
            "15",
            "--input-share",
            "0.7",
            "--gpu-hour-usd",
            "2",
            "--tok-s",
            "5000",
            "--spare-replicas",
            "100000000000",
        ],
        "--spare-replicas",
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
            "unused.json",
            "--isl",
            "100000000000",
        ],
        "--isl",
    ),
    # integers and floats without a range
    (["simulate", *M[:4], "--isl", BIG, "--osl", "300", "--rate", "5"], "--isl"),
    (
        [
            "calibrate",
            "run",
            "--endpoint",
            "http://127.0.0.1:9",
            "--model",
            "x",
            "--out",
            "unused.json",
            "--isl",
            BIG,
        ],
        "--isl",
    ),
    (
        [
            "plan",
            "breakeven",
            "--api-input-usd-per-m",
            "3",
            "--api-output-usd-per-m",
            "15",
            "--input-share",
            "0.7",
            "--gpu-hour-usd",
            "2",
            "--tok-s",
            "5000",
            "--ops-usd-per-month",
            "1e308",
        ],
        "--ops-usd-per-month",
    ),
    (
        [
            "plan",
            "hybrid",
            "--tokens-per-day",
            "1e308",
            "--tok-s",
            "1000",
            "--replica-usd-per-hour",
            "2",
            "--api-usd-per-m",
            "5",
            "--json",
        ],
        "--tokens-per-day",
    ),
    (["tco", "--gpu-price-usd", "30000", "--usd-per-kwh", "1e308", "--gpu", "H100"], "kWh"),
    # options silently ignored
    (["cost", *M, "--concurrency", "32", "--pue", "nan"], "--pue"),
    (["cost", *M, "--concurrency", "32", "--years", "-1"], "--years"),
    (["cost", *M, "--concurrency", "32", "--usd-per-kwh", "-1"], "--usd-per-kwh"),
    (["cost", *M, "--concurrency", "32", "--pue", "1.2"], "only applies with --gpu-price-usd"),
    (["plan", "search", *P, "--load", "nan"], "--load"),
    (["plan", "search", *P, "--num-requests", "-1"], "--num-requests"),
    (["plan", "search", *P, "--shortlist", "0"], "--shortlist"),
    (["plan", "search", *P, "--shortlist", "3"], "only applies with --ttft-p99-s"),
    (["simulate", *M, "--rate", "5", "--profile-period", "-1"], "--profile-period"),
    (["simulate", *M, "--rate", "5", "--profile-period", "0"], "--profile-period"),
    (["simulate", *M, "--rate", "5", "--profile-period", "nan"], "--profile-period"),
    (["simulate", *M, "--rate", "5", "--profile-period", "inf"], "--profile-period"),
    (["simulate", *M, "--rate", "5", "--profile-period", "3600"], "--rate-profile"),
    (["simulate", *M, "--rate", "5", "--trace-time-scale", "nan"], "--trace-time-scale"),
    (["simulate", *M, "--rate", "5", "--num-prefixes", "0"], "--num-prefixes"),
    (["simulate", *M, "--rate", "5", "--prefix-tokens", "-1"], "--prefix-tokens"),
    (
        [
            "plan",
            "fleet",
            "--isl",
            "nan",
            "--osl",
            "100",
            "--tokens-per-day",
            "1e9",
            "--replica-output-tok-s",
            "1000",
            "--gpu-hour-usd",
            "2",
        ],
        "--isl",
    ),
    (
        [
            "plan",
            "scenarios",
            "--usd-per-m",
            "1",
            "--tokens-per-month",
            "1e9",
            "--decline-per-year",
            "0.3",
            "--output-expansion",
            "nan",
        ],
        "--output-expansion",
    ),
    (
        [
            "plan",
            "scenarios",
            "--usd-per-m",
            "1",
            "--tokens-per-month",
            "1e9",
            "--decline-per-year",
            "0.3",
            "--headroom",
            "-1",
        ],
        "--headroom",
    ),
    (["compare-gpus", *P, "--max-tpot-ms", "inf", "--json"], "--max-tpot-ms"),
]


@pytest.mark.parametrize(("args", "names"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_reproducer_is_one_clean_error(
    args: list[str], names: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 1
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert err.startswith("error:") and err.count("error:") == 1, captured.err
    assert names in err
    assert "Traceback" not in captured.err
    if "--json" in args:  # cli/exits.py: under --json the error is also one JSON object
        data = json.loads(captured.out)
        assert set(data) == {"error", "type"} and data["type"] == "InputError"
        assert names in data["error"]
    else:
        assert captured.out == ""
