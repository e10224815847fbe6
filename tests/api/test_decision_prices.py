"""The decision commands name one price per GPU, state it honestly and print it plainly
(QA pass: price rule, compare-gpus factors, cost's nested source, fleet bundling, calc)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infercost.catalog.pricing import default_offer
from infercost.cli import app

runner = CliRunner()


def _json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


COST_ARGS = (
    "cost", "--model", "llama-3.1-70b", "--gpu", "H100", "--tp", "2", "--isl", "1000",
    "--osl", "300", "--concurrency", "16",
)  # fmt: skip


class TestCostNamesItsPriceOnce:
    def test_nested_prediction_names_the_catalog_offer_not_the_user(self) -> None:
        # No price given: both figures come from the default offer (median current on-demand
        # h100-sxm offer), so the nested prediction must name that offer too; before the fix
        # it said "user (--gpu-hour-usd)" because predict ran at the resolved figure.
        offer = default_offer("h100-sxm")
        assert offer is not None
        data = _json(*COST_ARGS)
        assert offer.id in data["price_source"]
        assert data["prediction"]["price_source"] == data["price_source"]
        assert "user" not in data["prediction"]["price_source"]

    def test_typed_price_is_still_the_users(self) -> None:
        data = _json(*COST_ARGS, "--gpu-hour-usd", "2")
        assert data["prediction"]["price_source"] == "user (--gpu-hour-usd)"

    def test_rest_is_the_cli(self, client: TestClient) -> None:
        body = {
            "model": "llama-3.1-70b", "gpu": "H100", "tp": 2, "isl": 1000, "osl": 300,
            "concurrency": 16,
        }  # fmt: skip
        r = client.post("/api/cost", json=body)
        assert r.status_code == 200
        assert r.json() == _json(*COST_ARGS)
