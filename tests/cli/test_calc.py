"""``infercost calc``: each figure derived by hand from the inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from infercost.cli import app

runner = CliRunner()


def run_json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, ["calc", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_token_cost() -> None:
    """$2/hour at 1,000 tok/s used half the time: 2 ÷ (1,000 x 0.5 x 3600 ÷ 1e6) = $1.111/M,
    900,000 tokens per dollar."""
    d = run_json(["token-cost", "--usd-per-hour", "2", "--tok-s", "1000", "--utilization", "0.5"])
    assert d["usd_per_m_tokens"] == pytest.approx(2 / 1.8)
    assert d["tokens_per_usd"] == pytest.approx(900_000)


def test_token_cost_refuses_a_utilisation_above_one() -> None:
    result = runner.invoke(app, ["calc", "token-cost", "--usd-per-hour", "2", "--tok-s", "1",
                                 "--utilization", "1.5"])  # fmt: skip
    assert result.exit_code != 0


def test_one_api_request_bills_cached_tokens_once_at_the_cached_rate() -> None:
    """gpt-4o-mini (catalog/genai-prices: $0.15/M input, $0.075/M cached, $0.60/M output):
    1,000 x 0.15 + 2,000 x 0.075 + 300 x 0.60 = 150 + 150 + 180 = $480 per 1e6 requests."""
    d = run_json(["request", "--api-model", "gpt-4o-mini", "--input", "1000",
                  "--cached-input", "2000", "--output", "300"])  # fmt: skip
    assert d["input_usd"] == pytest.approx(150e-6)
    assert d["cached_input_usd"] == pytest.approx(150e-6)
    assert d["output_usd"] == pytest.approx(180e-6)
    assert d["total_usd"] == pytest.approx(480e-6)


def test_prompt_change() -> None:
    """500 -> 5,000 prompt tokens at 10,000 requests/day on $0.15/M input:
    4,500 x 0.15 ÷ 1e6 = $0.000675 per request; x 10,000 = $6.75/day; x 730/24 days =
    $205.31/month. Half of it cached at $0.075/M: 2,250 x 0.15 + 2,250 x 0.075 = $0.00050625."""
    d = run_json(["prompt-change", "--api-model", "gpt-4o-mini", "--from-tokens", "500",
                  "--to-tokens", "5000", "--requests-per-day", "10000"])  # fmt: skip
    assert d["usd_per_request"] == pytest.approx(0.000675)
    assert d["usd_per_day"] == pytest.approx(6.75)
    assert d["usd_per_month"] == pytest.approx(6.75 * 730 / 24)
    half = run_json(["prompt-change", "--api-model", "gpt-4o-mini", "--from-tokens", "500",
                     "--to-tokens", "5000", "--requests-per-day", "10000",
                     "--cached-share", "0.5"])  # fmt: skip
    assert half["usd_per_request"] == pytest.approx(2250 * 0.15e-6 + 2250 * 0.075e-6)


def test_weights_in_fp32() -> None:
    """Llama-3.1-8B has 8,030,261,248 parameters: fp32 = 4 bytes each = 32.12 GB; bf16 half."""
    d = run_json(["weights", "--model", "llama-3.1-8b", "--weight-dtype", "fp32",
                  "--weight-dtype", "bf16"])  # fmt: skip
    fp32, bf16 = d["weights"]
    assert fp32["bytes"] == pytest.approx(8_030_261_248 * 4)
    assert bf16["bytes"] == pytest.approx(8_030_261_248 * 2)


def test_egress_of_weights() -> None:
    """Llama-3.1-8B bf16 = 16.06 GB out of AWS at $0.09/GB = $1.445; out of Google Cloud at
    $0.12/GiB = 0.12 ÷ 1.073741824 = $0.11176/GB."""
    d = run_json(["egress", "--model", "llama-3.1-8b", "--provider", "aws"])
    gb = 8_030_261_248 * 2 / 1e9
    assert d["gb"] == pytest.approx(gb)
    assert d["providers"][0]["usd"] == pytest.approx(gb * 0.09)
    g = run_json(["egress", "--gb", "100", "--provider", "gcp"])
    assert g["providers"][0]["usd"] == pytest.approx(100 * 0.11176)


def test_egress_free_allowance() -> None:
    """150 GB out of Azure with the month's 100 free GB: 50 x $0.087 = $4.35."""
    d = run_json(["egress", "--gb", "150", "--provider", "azure", "--free-allowance"])
    assert d["providers"][0]["usd"] == pytest.approx(4.35)


def test_egress_needs_one_size() -> None:
    result = runner.invoke(app, ["calc", "egress", "--provider", "aws"])
    assert result.exit_code != 0
