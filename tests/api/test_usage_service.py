"""The usage ledger over HTTP and in the browser page: the same answers as the CLI's --json,
the ledger fixed at start-up (never a path from a request), one clear error without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infercost.api.app import create_app
from infercost.api.settings import ServiceSettings
from infercost.api.usage import api_message
from infercost.cli import app as cli_app
from infercost.usage import synth
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger
from infercost.web.app import create_web_app

FIXTURE = Path(__file__).parents[1] / "usage" / "fixtures" / "openai_chat.jsonl"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("usage") / "ledger.duckdb"
    result = CliRunner().invoke(cli_app, ["usage", "ingest", str(FIXTURE), "--ledger", str(path)])
    assert result.exit_code == 0, result.output
    return path


def cli_json(args: list[str]) -> dict[str, object]:
    result = CliRunner().invoke(cli_app, ["usage", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_report_is_the_cli_json(ledger: Path) -> None:
    api = TestClient(create_app(ServiceSettings(ledger=str(ledger))))
    body = api.post("/api/usage/report", json={"by": "model"})
    assert body.status_code == 200, body.text
    assert body.json() == cli_json(["report", "--ledger", str(ledger), "--by", "model"])


def test_period_aliases_and_bad_dimension(ledger: Path) -> None:
    api = TestClient(create_app(ServiceSettings(ledger=str(ledger))))
    ok = api.post("/api/usage/report", json={"from": "2020-01-01", "to": "2030-01-01"})
    assert ok.status_code == 200 and ok.json()["from"].startswith("2020-01-01")
    bad = api.post("/api/usage/report", json={"by": "planet"})
    # the CLI's sentence for the same mistake
    assert bad.status_code == 400 and "'planet' is not a dimension" in bad.json()["error"]
    when = api.post("/api/usage/report", json={"from": "yesterday"})
    # the CLI's sentence, the option named by its JSON field
    assert when.json()["error"] == "\"from\" 'yesterday' is not an ISO date or time (2025-08-01)."
    assert when.status_code == 400


def test_a_request_cannot_name_a_ledger(ledger: Path) -> None:
    api = TestClient(create_app(ServiceSettings(ledger=str(ledger))))
    r = api.post("/api/usage/report", json={"ledger": "/etc/passwd"})
    assert r.status_code == 422 and "ledger" in r.json()["error"]


def test_without_a_ledger_every_usage_endpoint_says_how_to_start_one() -> None:
    api = TestClient(create_app(ServiceSettings()))
    for path in ("report", "anomalies", "forecast"):
        r = api.post(f"/api/usage/{path}", json={})
        assert r.status_code == 400 and "--ledger FILE" in r.json()["error"]
    r = api.post("/api/usage/reprice", json={"as": ["caching:0.5"]})
    assert r.status_code == 400 and "--ledger FILE" in r.json()["error"]


def test_dashboard_page(ledger: Path) -> None:
    web = TestClient(create_web_app(ServiceSettings(ledger=str(ledger))))
    page = web.get("/usage?by=model")
    assert page.status_code == 200 and 'id="chart-usage-report"' in page.text
    data = web.get("/usage?by=model&format=json").json()
    cli = cli_json(["report", "--ledger", str(ledger), "--by", "model"])
    assert data["report"] == cli
    total = json.dumps(float(str(cli["total_usd"])))
    assert f'data-key="total_usd" data-value="{total}"' in page.text
    # a ledger named in the URL is refused (an unknown parameter): only the service's is read
    named = web.get("/usage?__ledger__=/nonexistent&format=json")
    assert named.status_code == 400 and "Unknown parameter '__ledger__'" in named.json()["error"]


def test_dashboard_without_a_ledger() -> None:
    web = TestClient(create_web_app(ServiceSettings()))
    r = web.get("/usage?format=json")
    assert r.status_code == 400 and "--ledger FILE" in r.json()["error"]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic month (enough days for a forecast)."""
    folder = tmp_path_factory.mktemp("month")
    path = folder / "month.duckdb"
    with Ledger(path) as led:
        led.add_deployments(synth.FLEET)
        ingest(led, [synth.write_parquet(synth.month(3000), folder / "m.parquet")])
    return path


def test_forecast_budget_number_string_and_ceiling(month: Path) -> None:
    api = TestClient(create_app(ServiceSettings(ledger=str(month))))
    for budget, text in ((3000, "3000.00"), (3000.5, "3000.50"), ("$3,000", "3000.00")):
        r = api.post("/api/usage/forecast", json={"budget_usd": budget})
        assert r.status_code == 200 and r.json()["budget_usd"] == text, r.text
    for budget in ("1e30", "1e400", 1e30, 10**40):
        r = api.post("/api/usage/forecast", json={"budget_usd": budget})
        assert r.status_code == 400, r.text
        assert r.json()["error"].startswith('"budget_usd" ') and "ceiling" in r.text
        assert "--budget-usd" not in r.text
    web = TestClient(create_web_app(ServiceSettings(ledger=str(month))))
    page = web.get("/usage?budget_usd=1e400&format=json")
    assert page.status_code == 200 and "ceiling" in page.json()["forecast"]["error"]
    assert web.get("/usage?budget_usd=1e400").status_code == 200


def test_api_errors_name_json_fields(month: Path) -> None:
    api = TestClient(create_app(ServiceSettings(ledger=str(month))))
    r = api.post("/api/usage/report", json={"by": "team,team"})
    assert r.status_code == 400 and r.json()["error"].startswith("\"by\" 'team,team' names")
    r = api.post("/api/usage/reprice", json={"as": ["tier:batch"], "where": ["colour=red"]})
    assert r.status_code == 400 and r.json()["error"].startswith("\"where\" 'colour' is not")
    r = api.post("/api/usage/reprice", json={"as": ["model:nope/nothing"]})
    assert r.status_code == 400 and r.json()["type"] == "UnknownNameError"
    assert r.json()["error"].startswith("\"as\" 'model:nope/nothing': unknown API provider")
    # a command line in backticks keeps its flags; only whole option names change
    assert api_message("--to x, --top y, `usage report --by team`") == (
        '"to" x, --top y, `usage report --by team`'
    )


def test_ingest_an_upload_into_the_service_ledger(tmp_path: Path) -> None:
    """An uploaded OpenAI JSONL goes into the service's ledger with the CLI's counts; the
    same upload again adds nothing (read = ingested + quarantined + duplicates)."""
    ledger = tmp_path / "service.duckdb"
    CliRunner().invoke(cli_app, ["usage", "demo", "--out", str(ledger), "--rows", "10"])
    api = TestClient(create_app(ServiceSettings(ledger=str(ledger))))
    upload = {"file": ("openai_chat.jsonl", FIXTURE.read_bytes(), "application/jsonl")}
    first = api.post("/api/usage/ingest", files=upload)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["read"] == body["ingested"] + body["quarantined"] + body["duplicates"]
    assert body["ingested"] > 0 and "openai_chat.jsonl" in json.dumps(body)
    again = api.post("/api/usage/ingest", files=upload).json()
    assert again["ingested"] == 0
    assert again["read"] == again["quarantined"] + again["duplicates"] == body["read"]
    bad = api.post("/api/usage/ingest", files={"file": ("x.exe", b"MZ", "application/x")})
    assert bad.status_code == 400 and "usage file ends in" in bad.json()["error"]


def test_dashboard_draws_spend_over_time(ledger: Path) -> None:
    web = TestClient(create_web_app(ServiceSettings(ledger=str(ledger))))
    page = web.get("/usage?by=model")
    assert 'id="chart-usage-over-time"' in page.text
