"""The same mistake gets the same answer from the CLI and the REST service: a 4xx JSON
``{"error", "type"}`` with the CLI's message, never a 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infercost.api.app import create_app
from infercost.api.plan import FleetRequest
from infercost.api.respond import compute
from infercost.api.settings import ServiceSettings
from infercost.cli import main
from infercost.errors import InputError
from infercost.web.app import create_web_app

#: The QA report's body: 11^400 overflowed a float in Traffic.growth_factor (HTTP 500).
OVERGROWN_FLEET: dict[str, Any] = {
    "isl": 1000,
    "osl": 300,
    "requests_per_day": 1000,
    "growth_per_month": 10,
    "months": 400,
    "replica_output_tok_s": 1000,
    "gpu_hour_usd": 2,
}


def cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, str]:
    """The ``{"error", "type"}`` object ``infercost ARGS --json`` prints on a user error."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--json"])
    assert exit_info.value.code == 1
    out: dict[str, str] = json.loads(capsys.readouterr().out)
    return out


def _flags(body: dict[str, Any]) -> list[str]:
    return [a for k, v in body.items() for a in (f"--{k.replace('_', '-')}", str(v))]


class TestOverflow:
    def test_overgrown_fleet_is_a_400_with_the_cli_message(
        self, client: TestClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        r = client.post("/api/plan/fleet", json=OVERGROWN_FLEET)
        assert r.status_code == 400
        body = r.json()
        assert body["type"] == "InputError"
        # 3e5 output tokens/day (1,000 requests x 300) x 11^400: log10 = 5.48 + 416.57.
        assert body["error"] == (
            "--growth-per-month 10 over --months 400 multiplies the volume by 11^400 = "
            "10^416.6, to 10^422.0 output tokens/day at the end of the horizon, beyond 10^18 "
            "(far beyond all traffic in the world); use a smaller --growth-per-month or "
            "--months."
        )
        assert body == cli_error(capsys, "plan", "fleet", *_flags(OVERGROWN_FLEET))

    def test_an_overflow_anywhere_in_a_request_is_the_clis_input_error(self) -> None:
        # The REST path answers OverflowError as the CLI's wrapper does (cli/bounds.py).
        req = FleetRequest(isl=1000, osl=300, output_tokens_per_day=1e9)

        def overflows(_: FleetRequest) -> float:
            return 10.0**400

        with pytest.raises(InputError) as exc:
            compute(overflows, req)
        assert str(exc.value) == (
            "An intermediate result overflowed (OverflowError) for --isl=1000.0, "
            "--osl=300.0, --output-tokens-per-day=1000000000.0; use smaller or more "
            "realistic values."
        )


PREDICT = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 1000, "osl": 300, "concurrency": 16}


class TestStrictTypes:
    """docs/service.md: a wrong type is 422, never coerced (``"tp": true`` was tp=1)."""

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"tp": True}, "tp: Input should be a valid integer, got true (a JSON boolean)"),
            (
                {"isl": "1000"},
                'isl: Input should be a valid integer, got "1000" (a JSON string)',
            ),
            ({"isl": 1000.5}, "isl: Input should be a valid integer, got 1000.5 (a JSON number)"),
            (
                {"gpu_hour_usd": "2"},
                'gpu_hour_usd: Input should be a valid number, got "2" (a JSON string)',
            ),
            (
                {"gpu_hour_usd": False},
                "gpu_hour_usd: Input should be a valid number, got false (a JSON boolean)",
            ),
            ({"explain": 1}, "explain: Input should be a valid boolean, got 1 (a JSON number)"),
            (
                {"explain": "yes"},
                'explain: Input should be a valid boolean, got "yes" (a JSON string)',
            ),
            ({"model": 8}, "model: Input should be a valid string, got 8 (a JSON number)"),
        ],
    )
    def test_a_wrong_type_is_422(
        self, client: TestClient, change: dict[str, Any], message: str
    ) -> None:
        r = client.post("/api/predict", json={**PREDICT, **change})
        assert r.status_code == 422
        assert r.json() == {"error": message, "type": "ValidationError"}

    def test_numbers_as_json_numbers_still_work(self, client: TestClient) -> None:
        # An integer for a float field (gpu_hour_usd 2) and integers for integer fields.
        r = client.post("/api/predict", json={**PREDICT, "gpu_hour_usd": 2, "tp": 1})
        assert r.status_code == 200, r.text
        assert r.json()["usd_per_gpu_hour"] == 2.0
        assert r.json()["tp"] == 1

    def test_fleet_float_fields_take_integers(self, client: TestClient) -> None:
        # 1e9 / 86,400 s = 11,574 output tok/s; x 1.3 headroom / 5,000 -> ceil(3.01) = 4.
        req = {
            "isl": 1000,
            "osl": 300,
            "output_tokens_per_day": 1_000_000_000,
            "replica_output_tok_s": 5000,
            "gpu_hour_usd": 2,
        }
        r = client.post("/api/plan/fleet", json=req)
        assert r.status_code == 200, r.text
        assert r.json()["static_replicas"] == 4

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (
                b'{"model": "x",',
                "The request body is not valid JSON: Expecting property name enclosed in "
                "double quotes at character 14 (counting from 0)",
            ),
            (
                b'{"model": "x" "gpu": "H100"}',
                "The request body is not valid JSON: Expecting ',' delimiter at character 14 "
                "(counting from 0)",
            ),
            (b"isl=1000", "The request body is not valid JSON: Expecting value at character 0"),
            (b"", "The request body is empty"),
        ],
    )
    def test_a_body_that_is_not_json_says_so(
        self, client: TestClient, body: bytes, message: str
    ) -> None:
        r = client.post("/api/predict", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert r.json()["type"] == "ValidationError"
        assert r.json()["error"].startswith(message)
        assert r.json()["error"].endswith('send one JSON object, e.g. {"isl": 1000}.')

    def test_web_pages_still_read_their_url_strings(self) -> None:
        # A page's inputs are URL strings; the page parses them laxly (web/pages.py).
        with TestClient(create_web_app()) as web:
            r = web.get("/predict", params={**PREDICT, "tp": "1", "format": "json"})
        assert r.status_code == 200, r.text
        assert r.json()["isl"] == 1000


class TestOneBoundPerMessage:
    """Each message states one range, the same from the CLI and the REST service."""

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (
                # was "in (0, 10,000] ... (GPU rentals cost under $100/hour)": two bounds
                {"gpu_hour_usd": "inf"},
                "--gpu-hour-usd must be a finite number in (0, 10,000] US$/GPU-hour, got inf "
                "(far above any GPU rental: a typo).",
            ),
            (
                # was "must be a positive integer" while --tp/--ep say this form
                {"dp": "0"},
                "--dp must be a whole number in [1, 4,096] GPUs, got 0.",
            ),
            ({"tp": "0"}, "--tp must be a whole number in [1, 4,096] GPUs, got 0."),
        ],
    )
    def test_predict(
        self,
        client: TestClient,
        capsys: pytest.CaptureFixture[str],
        change: dict[str, str],
        message: str,
    ) -> None:
        expected = {"error": message, "type": "InputError"}
        assert cli_error(capsys, "predict", *_flags({**PREDICT, **change})) == expected
        body = {**PREDICT, **{k: float(v) if k == "gpu_hour_usd" else int(v)
                              for k, v in change.items()}}  # fmt: skip
        if body.get("gpu_hour_usd") == float("inf"):
            return  # JSON has no infinity (422 from the schema); the CLI takes "inf"
        r = client.post("/api/predict", json=body)
        assert (r.status_code, r.json()) == (400, expected)

    def test_fleet_peak_to_average_has_one_range(
        self, client: TestClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # max ÷ mean of 24 hourly loads is below 24; the domain said [1, 1000] and the
        # diurnal curve [1, 24): 100 passed one check and failed the other.
        body = {**OVERGROWN_FLEET, "growth_per_month": 0, "months": 0, "peak_to_average": 100}
        expected = {
            "error": "--peak-to-average must be a finite number in [1, 24) (ratio), got 100 "
            "(the busiest of 24 hours over their mean).",
            "type": "InputError",
        }
        assert cli_error(capsys, "plan", "fleet", *_flags(body)) == expected
        r = client.post("/api/plan/fleet", json=body)
        assert (r.status_code, r.json()) == (400, expected)


class TestEmptyUsageFile:
    """An empty .jsonl said "neither JSON Lines nor one JSON document; fix it"."""

    @pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
    def test_cli_and_rest_say_the_file_is_empty(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
    ) -> None:
        path = tmp_path / "empty.jsonl"
        path.write_bytes(content)
        ledger = str(tmp_path / "l.duckdb")
        tail = (
            " is empty (0 rows): nothing to ingest; give a file with one usage record per "
            "line (JSON Lines), a JSON document or a CSV with a header."
        )
        got = cli_error(
            capsys, "usage", "ingest", str(path), "--format", "openai", "--ledger", ledger
        )
        assert got == {"error": f"{path}{tail}", "type": "InputError"}
        api = TestClient(create_app(ServiceSettings(ledger=ledger)))
        r = api.post(
            "/api/usage/ingest",
            files={"file": ("empty.jsonl", content)},
            data={"format": "openai"},
        )
        assert (r.status_code, r.json()) == (
            400,
            {"error": f"empty.jsonl{tail}", "type": "InputError"},
        )
