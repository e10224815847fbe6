"""Every endpoint returns what the library returns for the same inputs, and a user's mistake
is a 4xx carrying the library's (the CLI's) message."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infercost.catalog import load_accelerators, load_models
from infercost.cli import app as cli_app
from infercost.cost.tco import owned_hardware, tco
from infercost.errors import InfercostError
from infercost.plan.breakeven import breakeven, inputs_from_names
from infercost.plan.compare import compare_gpus
from infercost.plan.routing import cascade, parse_tier
from infercost.plan.search import search
from infercost.predict import PREDICT_JSON_KEYS, predict

CALIBRATION_CSV = Path(__file__).parents[3] / "shared" / "validation" / "calibration.csv"
needs_shared = pytest.mark.skipif(
    not CALIBRATION_CSV.is_file(), reason="shared/validation not beside the repository"
)
PREDICT = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 1000, "osl": 300, "concurrency": 16}


def _cli_json(*args: str) -> Any:
    """The ``--json`` output of an ``infercost`` command run in process."""
    result = CliRunner().invoke(cli_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _vllm_rows_csv() -> bytes:
    """The vLLM rows of the shared calibration CSV (a fit in well under a second)."""
    lines = CALIBRATION_CSV.read_text(encoding="utf-8").splitlines()
    return ("\n".join([lines[0], *(ln for ln in lines[1:] if ",vLLM," in ln)]) + "\n").encode()


def _library_error(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(InfercostError) as info:
        fn(*args, **kwargs)
    return str(info.value)


class TestPredict:
    def test_keys_are_the_predict_json_keys_and_values_the_library(
        self, client: TestClient
    ) -> None:
        r = client.post("/api/predict", json=PREDICT)
        assert r.status_code == 200
        body = r.json()
        assert tuple(body) == PREDICT_JSON_KEYS
        assert body == json.loads(json.dumps(predict(**PREDICT).to_dict()))

    def test_explain_trail_is_returned_when_asked(self, client: TestClient) -> None:
        body = client.post("/api/predict", json={**PREDICT, "explain": True}).json()
        assert body["explain"] == predict(**PREDICT, explain=True).to_dict()["explain"]
        assert len(body["explain"]) > 3

    def test_configuration_that_does_not_fit_is_200_with_reason(self, client: TestClient) -> None:
        req = {"model": "llama-3.1-70b", "gpu": "H100", "isl": 1000, "osl": 300, "concurrency": 1}
        body = client.post("/api/predict", json=req).json()
        assert body["fits"] is False
        assert body["reason"] == predict(**req).reason
        assert body["output_tok_s"] is None

    def test_unknown_gpu_is_400_with_the_library_message(self, client: TestClient) -> None:
        r = client.post("/api/predict", json={**PREDICT, "gpu": "H1000"})
        assert r.status_code == 400
        message = _library_error(predict, **{**PREDICT, "gpu": "H1000"})
        assert r.json() == {"error": message, "type": "UnknownNameError"}

    def test_out_of_domain_isl_gets_the_cli_sentence(self, client: TestClient) -> None:
        r = client.post("/api/predict", json={**PREDICT, "isl": 0})
        assert r.status_code == 400
        assert r.json()["error"].startswith("--isl must be")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({**PREDICT, "isl": "many"}, "isl"),
            ({**PREDICT, "colour": "red"}, "colour"),
            ({k: v for k, v in PREDICT.items() if k != "gpu"}, "gpu"),
            ({**PREDICT, "gpu_hour_usd": "NaN"}, "gpu_hour_usd"),
            ({**PREDICT, "tp": 10**30}, "tp"),
        ],
    )
    def test_malformed_body_is_422_naming_the_field(
        self, client: TestClient, body: dict[str, Any], field: str
    ) -> None:
        r = client.post("/api/predict", json=body)
        assert r.status_code == 422
        assert r.json()["type"] == "ValidationError"
        assert field in r.json()["error"]

    def test_body_that_is_not_json_is_422(self, client: TestClient) -> None:
        r = client.post(
            "/api/predict", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 422


class TestCatalog:
    def test_models_and_gpus_list_every_catalogue_entry(self, client: TestClient) -> None:
        assert [m["id"] for m in client.get("/api/models").json()] == [m.id for m in load_models()]
        assert [g["id"] for g in client.get("/api/gpus").json()] == [
            a.id for a in load_accelerators()
        ]

    @pytest.mark.parametrize("path", ["/api/engines", "/api/dtypes", "/api/api-prices"])
    def test_listing_is_not_empty(self, client: TestClient, path: str) -> None:
        r = client.get(path)
        assert r.status_code == 200
        assert r.json()

    def test_offers_filter_by_gpu(self, client: TestClient) -> None:
        body = client.get("/api/offers", params={"gpu": "H100"}).json()
        assert body["offers"]
        assert {o["gpu"] for o in body["offers"]} == {"h100-sxm"}
        assert body["today"] == date.today().isoformat()

    def test_offers_hide_superseded_rows_unless_all(self, client: TestClient) -> None:
        # H100 spot: one row of 2026-09-20 and three dated 2025-12-08 or 2025-01-01, more than
        # 180 days before it (tests/cli/test_economics_cli.py derives the same).
        params = {"gpu": "H100", "kind": "spot"}
        current = client.get("/api/offers", params=params).json()
        assert len(current["offers"]) == 1 and current["hidden_count"] == 3
        every = client.get("/api/offers", params={**params, "all": "true"}).json()
        assert len(every["offers"]) == 4 and every["hidden_count"] == 0

    def test_api_prices_history_keeps_our_dated_rows(self, client: TestClient) -> None:
        # articles_2025.csv: OpenAI gpt-4o 2.50 / 10.00 as of 2025-01; by default genai-prices'
        # newer sheet replaces it, with history=true it is listed as recorded.
        def gpt4o(body: dict[str, Any]) -> dict[str, Any]:
            return next(s for s in body["api_prices"] if s["model"] == "gpt-4o")

        assert gpt4o(client.get("/api/api-prices").json())["replaces"]["as_of"] == "2025-01-01"
        old = gpt4o(client.get("/api/api-prices", params={"history": "true"}).json())
        assert old["as_of"] == "2025-01-01" and old["replaces"] is None

    def test_unknown_pricing_kind_is_400(self, client: TestClient) -> None:
        r = client.get("/api/offers", params={"kind": "free"})
        assert r.status_code == 400
        assert "--kind must be one of" in r.json()["error"]

    def test_api_price_names_why_it_was_chosen(self, client: TestClient) -> None:
        body = client.get("/api/api-price", params={"model": "gpt-4o-mini"}).json()
        assert body["usd_per_m_input"] > 0
        assert body["chosen_because"]


class TestEconomics:
    def test_tco_equals_the_cli_json(self, client: TestClient) -> None:
        req = {"gpu_price_usd": 30000, "usd_per_kwh": 0.1, "power_w": 700}
        body = client.post("/api/tco", json=req).json()
        args = ["tco", "--gpu-price-usd", "30000", "--usd-per-kwh", "0.1", "--power-w", "700"]
        assert body == _cli_json(*args)
        assert body["usd_per_gpu_hour"] == pytest.approx(
            tco(
                owned_hardware(gpu_price_usd=30000, usd_per_kwh=0.1, power_w=700, years=3.0)
            ).to_dict()["usd_per_gpu_hour"]
        )

    def test_tco_without_power_names_the_flags(self, client: TestClient) -> None:
        r = client.post("/api/tco", json={"gpu_price_usd": 30000, "usd_per_kwh": 0.1})
        assert r.status_code == 400
        assert "--power-w" in r.json()["error"]

    def test_cost_fits_and_prices(self, client: TestClient) -> None:
        body = client.post("/api/cost", json={**PREDICT, "gpu_hour_usd": 2.0}).json()
        assert body["fits"] is True

    def test_compare_gpus_ranks_like_the_library(self, client: TestClient) -> None:
        req = {"model": "llama-3.1-8b", "isl": 1000, "osl": 300, "max_tpot_ms": 50}
        body = client.post("/api/compare-gpus", json=req).json()
        expected = compare_gpus("llama-3.1-8b", 1000, 300, max_tpot_s=0.05).to_dict()
        assert [r["offer"] for r in body["results"]] == [r["offer"] for r in expected["results"]]


class TestPlan:
    def test_search_winner_equals_the_library(self, client: TestClient) -> None:
        req = {
            "model": "llama-3.1-8b",
            "isl": 1000,
            "osl": 300,
            "max_tpot_ms": 50,
            "gpu": ["H100", "A100"],
        }
        body = client.post("/api/plan/search", json=req).json()
        lib = search("llama-3.1-8b", 1000, 300, max_tpot_s=0.05, gpus=["H100", "A100"]).to_dict()
        assert body["winner"] == json.loads(json.dumps(lib["winner"]))
        assert body["p99"] is None

    def test_search_sweep_size_is_bounded(self, client: TestClient) -> None:
        req = {"model": "llama-3.1-8b", "isl": 1000, "osl": 300, "max_gpus": 1024}
        r = client.post("/api/plan/search", json=req)
        assert r.status_code == 422
        assert "max_gpus" in r.json()["error"]

    def test_empty_dtype_list_gets_the_cli_message(self, client: TestClient) -> None:
        req = {"model": "llama-3.1-8b", "isl": 1000, "osl": 300, "weight_dtypes": []}
        r = client.post("/api/plan/pareto", json=req)
        assert r.status_code == 400
        assert r.json()["error"].startswith("--weight-dtypes is empty")

    def test_pareto_has_a_frontier(self, client: TestClient) -> None:
        req = {"model": "llama-3.1-8b", "isl": 1000, "osl": 300, "gpu": ["H100"]}
        assert client.post("/api/plan/pareto", json=req).status_code == 200

    def test_breakeven_from_names_equals_the_library(self, client: TestClient) -> None:
        req = {
            "model": "llama-3.1-8b",
            "gpu": "H100",
            "api_model": "gpt-4o-mini",
            "ops_usd_per_month": 5000,
        }
        body = client.post("/api/plan/breakeven", json=req).json()
        inp = inputs_from_names(
            "llama-3.1-8b", "H100", 1000, 300, "gpt-4o-mini", ops_usd_per_month=5000
        )
        assert body["breakeven_tokens_per_day"] == pytest.approx(
            breakeven(inp).breakeven_tokens_per_day, rel=1e-12
        )

    def test_breakeven_simple_flags_missing_are_named(self, client: TestClient) -> None:
        r = client.post("/api/plan/breakeven", json={"tok_s": 1000})
        assert r.status_code == 400
        assert r.json()["error"].startswith("Missing --api-input-usd-per-m")

    def test_breakeven_volumes_tabulated(self, client: TestClient) -> None:
        req = {
            "api_input_usd_per_m": 1,
            "api_output_usd_per_m": 4,
            "input_share": 0.75,
            "gpu_hour_usd": 2,
            "tok_s": 5000,
            "volumes": [1e6, 1e9],
        }
        body = client.post("/api/plan/breakeven", json=req).json()
        assert [p["tokens_per_day"] for p in body["curve"]] == [1e6, 1e9]
        assert np.isfinite(body["breakeven_tokens_per_day"])

    def test_fleet_given_replica(self, client: TestClient) -> None:
        req = {
            "isl": 1000,
            "osl": 300,
            "output_tokens_per_day": 1e9,
            "replica_output_tok_s": 5000,
            "gpu_hour_usd": 2,
            "peak_to_average": 2,
        }
        body = client.post("/api/plan/fleet", json=req).json()
        # peak 2 x 1e9 / 86,400 s = 23,148 output tok/s; x 1.3 headroom / 5,000 -> 7 replicas
        assert body["peak_output_tok_s"] == pytest.approx(2e9 / 86_400)
        assert body["static_replicas"] == 7

    def test_fleet_model_without_gpu(self, client: TestClient) -> None:
        req = {"isl": 1000, "osl": 300, "output_tokens_per_day": 1e9, "model": "llama-3.1-8b"}
        r = client.post("/api/plan/fleet", json=req)
        assert r.status_code == 400
        assert r.json()["error"].startswith("--model needs --gpu")

    def test_hybrid(self, client: TestClient) -> None:
        req = {
            "tokens_per_day": 5e9,
            "tok_s": 40000,
            "replica_usd_per_hour": 3,
            "api_usd_per_m": 0.5,
            "peak_to_average": 3,
        }
        assert client.post("/api/plan/hybrid", json=req).status_code == 200

    def test_cascade_equals_the_library(self, client: TestClient) -> None:
        tiers = ["small:0.7:0.2", "large:0.3:2.0"]
        body = client.post("/api/plan/cascade", json={"tier": tiers}).json()
        lib = cascade([parse_tier(t) for t in tiers]).to_dict()
        assert body == json.loads(json.dumps(lib))

    def test_cascade_bad_tier_is_400(self, client: TestClient) -> None:
        r = client.post("/api/plan/cascade", json={"tier": ["nonsense"]})
        assert r.status_code == 400
        assert r.json()["error"] == _library_error(parse_tier, "nonsense")

    def test_payback_needs_something(self, client: TestClient) -> None:
        r = client.post("/api/plan/payback", json={})
        assert r.status_code == 400
        assert r.json()["error"].startswith("Nothing to compute")

    def test_payback_distillation(self, client: TestClient) -> None:
        req = {"training_usd": 50000, "teacher": "2.0", "student": "0.2", "tokens_per_month": 1e10}
        body = client.post("/api/plan/payback", json=req).json()
        assert body["distillation"]

    def test_scenarios_projection(self, client: TestClient) -> None:
        req = {"usd_per_m": 1.0, "tokens_per_month": 1e9, "decline_per_year": 0.3}
        body = client.post("/api/plan/scenarios", json=req).json()
        assert body["projection"]
        assert body["growth"] is None


class TestSimulate:
    def test_simulation_matches_a_second_identical_run(self, client: TestClient) -> None:
        req = {
            "model": "llama-3.1-8b",
            "gpu": "H100",
            "isl": 500,
            "osl": 100,
            "rate": 4,
            "num_requests": 200,
        }
        a = client.post("/api/simulate", json=req).json()
        assert a["result"]["completed"] == 200
        assert a == client.post("/api/simulate", json=req).json()  # seeded: deterministic

    def test_simulation_length_is_bounded(self, client: TestClient) -> None:
        req = {
            "model": "llama-3.1-8b",
            "gpu": "H100",
            "isl": 500,
            "osl": 100,
            "rate": 4,
            "num_requests": 10**7,
        }
        r = client.post("/api/simulate", json=req)
        assert r.status_code == 422
        assert "num_requests" in r.json()["error"]

    def test_rate_times_duration_is_bounded(self, client: TestClient) -> None:
        req = {
            "model": "llama-3.1-8b",
            "gpu": "H100",
            "isl": 500,
            "osl": 100,
            "rate": 1000,
            "duration": 3000,
        }
        r = client.post("/api/simulate", json=req)
        assert r.status_code == 400
        assert "at most 20,000" in r.json()["error"]

    def test_missing_rate_gets_the_cli_message(self, client: TestClient) -> None:
        req = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 500, "osl": 100}
        r = client.post("/api/simulate", json=req)
        assert r.status_code == 400
        assert r.json()["error"].startswith("Give --rate")


class TestCalibrate:
    @needs_shared
    def test_import_uploaded_calibration_csv(self, client: TestClient) -> None:
        data = CALIBRATION_CSV.read_bytes()
        r = client.post(
            "/api/calibrate/import", files={"file": ("calibration.csv", data, "text/csv")}
        )
        assert r.status_code == 200
        body = r.json()
        assert body["format"] == "calibration-csv"
        assert body["file"] == "calibration.csv"
        assert body["count"] > 100

    def test_import_garbage_names_the_upload_not_a_temporary_path(
        self, client: TestClient
    ) -> None:
        r = client.post(
            "/api/calibrate/import", files={"file": ("bench.json", b"hello", "text/plain")}
        )
        assert r.status_code == 400
        assert "infercost-upload" not in r.json()["error"]

    def test_upload_over_the_limit_is_413(self, client: TestClient) -> None:
        big = b"x" * (8 * 1024 * 1024 + 10)
        r = client.post("/api/calibrate/import", files={"file": ("big.csv", big, "text/csv")})
        assert r.status_code in (400, 413)
        assert "limit" in r.json()["error"]

    @needs_shared
    def test_fit_returns_a_profile_to_save(self, client: TestClient) -> None:
        data = _vllm_rows_csv()
        r = client.post(
            "/api/calibrate/fit", files=[("file", ("calibration.csv", data, "text/csv"))]
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert list(body["fits"]) == ["vllm"]
        assert "vllm" in body["profile_toml"]
        assert body["saved_to"] is None
        # the same keys as `calibrate fit --json` (QA: the worst row was missing here)
        assert body["in_sample_max_ape"] >= body["in_sample_median_ape"] >= 0
        assert body["worst_id"].startswith("VLLMCI-")


def test_api_index_lists_the_endpoints(client: TestClient) -> None:
    # GET /api (the README's "REST API at /api") was a 404 (QA); it lists the endpoints
    got = client.get("/api").json()
    assert "POST /api/predict" in got["endpoints"]
    assert got["docs"] == "/docs"
    assert all(e.split(" ", 1)[1].startswith("/api/") for e in got["endpoints"])
