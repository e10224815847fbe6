"""Service-level behaviour: limits, timeouts, authentication, refusing a public bind without a
token, OpenAPI docs, no tracebacks."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infercost.api.app import create_app
from infercost.api.settings import Limits, ServiceSettings, is_loopback
from infercost.cli import app as cli_app

PREDICT = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 1000, "osl": 300, "concurrency": 16}


def test_openapi_lists_every_command(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/predict",
        "/api/simulate",
        "/api/cost",
        "/api/tco",
        "/api/offers",
        "/api/api-prices",
        "/api/api-price",
        "/api/compare-gpus",
        "/api/models",
        "/api/gpus",
        "/api/calibrate/import",
        "/api/calibrate/fit",
        *(
            f"/api/plan/{c}"
            for c in (
                "search",
                "pareto",
                "fleet",
                "breakeven",
                "hybrid",
                "cascade",
                "payback",
                "scenarios",
            )
        ),
    ):
        assert path in paths
    assert client.get("/docs").status_code == 200


def test_body_over_the_limit_is_413_before_parsing(client: TestClient) -> None:
    big = b'{"model": "' + b"x" * 300_000 + b'"}'
    r = client.post("/api/predict", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "262,144 bytes" in r.json()["error"]


def test_chunked_body_over_the_limit_is_413() -> None:
    app = create_app(ServiceSettings(limits=Limits(max_body_bytes=100)))

    def chunks():  # no Content-Length: the limit counts bytes as they arrive
        for _ in range(10):
            yield b"x" * 50

    with TestClient(app) as c:
        r = c.post("/api/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_work_over_the_time_limit_is_504() -> None:
    app = create_app(ServiceSettings(limits=Limits(timeout_s=0.01, workers=1)))
    req = {
        "model": "llama-3.1-8b",
        "gpu": "H100",
        "isl": 500,
        "osl": 100,
        "rate": 4,
        # 20,000 requests (the service's most): about 0.1 s of simulation at 6-8 µs each
        # (docs/simulator.md), far over the 0.01 s limit (2,000 take ~15 ms since the
        # simulator got faster: too close)
        "num_requests": 20000,
    }
    with TestClient(app) as c:
        r = c.post("/api/simulate", json=req)
    assert r.status_code == 504
    assert "0.01 s limit" in r.json()["error"]


class TestToken:
    @pytest.fixture(scope="class")
    def secured(self) -> TestClient:
        return TestClient(create_app(ServiceSettings(token="s3cret-token")))

    def test_api_without_token_is_401(self, secured: TestClient) -> None:
        r = secured.post("/api/predict", json=PREDICT)
        assert r.status_code == 401
        assert "Authorization: Bearer" in r.json()["error"]

    def test_wrong_token_is_401(self, secured: TestClient) -> None:
        r = secured.post("/api/predict", json=PREDICT, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401

    def test_right_token_is_served(self, secured: TestClient) -> None:
        r = secured.post(
            "/api/predict", json=PREDICT, headers={"Authorization": "Bearer s3cret-token"}
        )
        assert r.status_code == 200

    def test_health_is_open(self, secured: TestClient) -> None:
        assert secured.get("/healthz").json()["status"] == "ok"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.8.0.1", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("::", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_refuses_a_public_address_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_TOKEN", raising=False)
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "Refusing to serve on '0.0.0.0' without a token" in str(result.exception)


def test_unhandled_error_is_a_json_500_without_traceback() -> None:
    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert "secret internals" not in r.text
    assert "Traceback" not in r.text


def test_docs_page_works_offline(client: TestClient) -> None:
    """/docs is served from the package with nothing fetched elsewhere (FastAPI's Swagger UI
    loads its scripts from a CDN: a blank page without internet; QA, issue 15)."""
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<script" not in page and "<link" not in page
    assert "src=" not in page and 'href="http' not in page and "url(" not in page
    # every endpoint of the schema, and the predict body's fields with their defaults
    for path in client.get("/openapi.json").json()["paths"]:
        assert f"<code>{path}</code>" in page
    assert "<code>kv_dtype</code>" in page and "<code>auto</code>" in page
    assert 'href="/openapi.json"' in page
    assert client.get("/redoc").status_code == 404  # ReDoc loads from a CDN too
