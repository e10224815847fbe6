"""The same mistake gets the same answer from the CLI and the REST service: a 4xx JSON
``{"error", "type"}`` with the CLI's message, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infercost.api.plan import FleetRequest
from infercost.api.respond import compute
from infercost.cli import main
from infercost.errors import InputError

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
