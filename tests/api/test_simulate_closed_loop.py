"""``POST /api/simulate`` with ``concurrency``: the closed loop of ``infercost simulate
--concurrency C`` (issue 19), with the CLI's options, defaults and error messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infercost.cli import app, main

BASE: dict[str, Any] = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 500, "osl": 100}
CLI = ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "500", "--osl", "100"]


def _cli_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The CLI's error line for ``args``, whitespace normalised (rich wraps long lines)."""
    with pytest.raises(SystemExit) as exc:
        main([*CLI, *args])
    assert exc.value.code != 0
    return " ".join(capsys.readouterr().err.split())


def test_closed_loop_answers_what_the_cli_prints(client: TestClient) -> None:
    # Same options, same seed (0): the service must return the CLI's --json object key for
    # key. R defaults to 10 x C = 40 requests, so waves = R / C = 10.
    r = client.post("/api/simulate", json={**BASE, "concurrency": 4})
    assert r.status_code == 200, r.text
    api = r.json()
    out = CliRunner().invoke(app, [*CLI, "--concurrency", "4", "--json"])
    assert out.exit_code == 0, out.output
    assert api == json.loads(out.output)
    assert api["arrival"] == "closed-loop"
    assert api["rate_req_s"] is None
    assert api["concurrency"] == 4
    res = api["result"]
    assert res["num_requests"] == 40
    assert res["completed"] == 40
    assert res["closed_loop"] == {"concurrency": 4, "client_overhead_s": 0.0, "waves": 10.0}
    assert res["overloaded"] is False


def test_client_overhead_paces_one_client(client: TestClient) -> None:
    # One client, two requests of fixed lengths, 0.5 s pause between the first's last token
    # and the second's send. Each request meets an empty replica, so both take the same E2E
    # (measured from its send); the run spans E2E + 0.5 + E2E (the pause is in no latency).
    # An API that dropped the pause would give 2 x E2E.
    req = {**BASE, "concurrency": 1, "client_overhead": 0.5, "num_requests": 2}
    res = client.post("/api/simulate", json=req).json()["result"]
    e2e = res["e2e_s"]
    assert e2e["p50"] == pytest.approx(e2e["p99"], rel=1e-12)  # the two requests alike
    assert res["duration_s"] == pytest.approx(2.0 * e2e["mean"] + 0.5, rel=1e-9)
    assert res["closed_loop"] == {"concurrency": 1, "client_overhead_s": 0.5, "waves": 2.0}


@pytest.mark.parametrize(
    ("body", "args"),
    [
        ({"rate": 3}, ["--rate", "3"]),
        ({"rate_profile": [1, 2]}, ["--rate-profile", "1,2"]),
        ({"find_max_rate": True, "slo_ttft_p99": 1.0}, ["--find-max-rate", "--slo-ttft-p99", "1"]),
        ({"duration": 60}, ["--duration", "60"]),
        ({"arrival": "gamma"}, ["--arrival", "gamma"]),
        ({"burstiness": 0.5}, ["--burstiness", "0.5"]),
    ],
)
def test_concurrency_excludes_other_arrivals_with_the_cli_message(
    client: TestClient, capsys: pytest.CaptureFixture[str], body: dict[str, Any], args: list[str]
) -> None:
    r = client.post("/api/simulate", json={**BASE, "concurrency": 4, **body})
    assert r.status_code == 400
    msg = r.json()["error"]
    assert msg.startswith("--concurrency runs a closed loop")
    assert f"drop {args[0]} " in msg
    assert msg in _cli_error(["--concurrency", "4", *args], capsys)


@pytest.mark.parametrize(
    ("body", "args", "start"),
    [
        ({"concurrency": 0}, ["--concurrency", "0"], "--concurrency must be a whole number"),
        (
            {"rate": 3, "client_overhead": 0.1},
            ["--rate", "3", "--client-overhead", "0.1"],
            "--client-overhead needs --concurrency",
        ),
        (
            {"concurrency": 2, "client_overhead": -1.0},
            ["--concurrency", "2", "--client-overhead", "-1"],
            "--client-overhead must be a finite number of seconds in [0, 3,600], got -1.",
        ),
        (
            # 1e9 s between requests reported a 9e9 s run at 0 tok/s; at most an hour
            {"concurrency": 2, "client_overhead": 1e9},
            ["--concurrency", "2", "--client-overhead", "1e9"],
            "--client-overhead must be a finite number of seconds in [0, 3,600], got 1e+09 "
            "(a client that waits over an hour between requests is not a closed loop; give "
            "--rate for sparse traffic).",
        ),
        (
            # fewer requests than clients: some clients would never send
            {"concurrency": 8, "num_requests": 3},
            ["--concurrency", "8", "--num-requests", "3"],
            "--num-requests 3 is below --concurrency 8",
        ),
        ({}, [], "Give --rate (requests/s), --rate-profile, --trace FILE, --concurrency C"),
    ],
)
def test_bad_closed_loop_options_get_the_cli_message(
    client: TestClient,
    capsys: pytest.CaptureFixture[str],
    body: dict[str, Any],
    args: list[str],
    start: str,
) -> None:
    r = client.post("/api/simulate", json={**BASE, **body})
    assert r.status_code == 400
    msg = r.json()["error"]
    assert msg.startswith(start)
    assert msg in _cli_error(args, capsys)


def test_default_requests_stay_within_the_service_limit(client: TestClient) -> None:
    # 10 x 2,001 = 20,010 requests by default, over the service's 20,000 per run; with an
    # explicit num_requests the same concurrency is served.
    r = client.post("/api/simulate", json={**BASE, "concurrency": 2001})
    assert r.status_code == 400
    assert "10 x C = 20,010 requests" in r.json()["error"]
    assert "at most 20,000" in r.json()["error"]
    ok = client.post("/api/simulate", json={**BASE, "concurrency": 2001, "num_requests": 2001})
    assert ok.status_code == 200, ok.text
    # 2,001 requests from 2,001 clients: every request is sent at t = 0, one wave.
    assert ok.json()["result"]["closed_loop"]["waves"] == pytest.approx(1.0, rel=1e-12)
