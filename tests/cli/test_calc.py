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


def test_egress_walks_the_volume_bands() -> None:
    """100 TB out of AWS with the month's allowance: 100 GB free + 9,900 x $0.09 + 40,000 x
    $0.085 + 50,000 x $0.07 = 891 + 3,400 + 3,500 = $7,791 (not 100,000 x $0.09 = $9,000)."""
    d = run_json(["egress", "--gb", "100000", "--provider", "aws", "--free-allowance"])
    row = d["providers"][0]
    assert row["usd"] == pytest.approx(7791.0)
    assert [b["usd_per_gb"] for b in row["bands"]] == [0.0, 0.09, 0.085, 0.07]


def test_egress_past_the_snapshot_is_flagged() -> None:
    """Google Cloud's snapshot stops at 1 TiB (1,099.51 GB): 2,000 GB leaves 900.49 GB past
    it, priced at $0.11176 and reported."""
    d = run_json(["egress", "--gb", "2000", "--provider", "gcp"])
    row = d["providers"][0]
    assert row["beyond_snapshot_gb"] == pytest.approx(2000 - 1099.51)
    assert row["usd"] == pytest.approx(2000 * 0.11176)


def test_egress_size_is_bounded() -> None:
    result = runner.invoke(app, ["calc", "egress", "--gb", "1e300"])
    assert result.exit_code != 0 and "at most" in str(result.exception)


def test_token_cost_edges() -> None:
    """A free hour is $0/M with no tokens-per-dollar figure; $1e7/h at 1,000 tok/s is
    1e7 / 3.6 = $2,777,777.78/M, 1e6 / 2,777,777.78 = 0.36 tokens per $; 1e300 is refused."""
    free = run_json(["token-cost", "--usd-per-hour", "0", "--tok-s", "1000"])
    assert free["usd_per_m_tokens"] == 0 and free["tokens_per_usd"] is None
    dear = run_json(["token-cost", "--usd-per-hour", "1e7", "--tok-s", "1000"])
    assert dear["tokens_per_usd"] == pytest.approx(0.36)
    huge = runner.invoke(app, ["calc", "token-cost", "--usd-per-hour", "1e300", "--tok-s", "1"])
    assert huge.exit_code != 0 and "at most" in str(huge.exception)


def test_batch_request_openai_gpt_4_1_keeps_the_standard_cached_rate() -> None:
    """genai-prices 0.2.5 gpt-4.1: $2 in, $0.50 cached, $8 out; Batch table $1/$4 and no
    cached-input rate (cached stays $0.50): 100,000 x 1 + 400,000 x 0.50 + 10,000 x 4
    = 0.10 + 0.20 + 0.04 = $0.34 (the library's figure; halving the cached rate gave $0.24)."""
    d = run_json(["request", "--api-model", "gpt-4.1", "--api-provider", "openai",
                  "--input", "100000", "--cached-input", "400000", "--output", "10000",
                  "--batch"])  # fmt: skip
    assert d["cached_input_usd"] == pytest.approx(0.20)
    assert d["total_usd"] == pytest.approx(0.34)
    assert d["batch_multipliers"] == {"input_output": 0.5, "cached_input": 1.0,
                                      "cache_write": 0.5}  # fmt: skip
    assert d["batch_cache_source"].startswith("genai-prices")


def test_batch_request_anthropic_halves_cache_reads_and_writes() -> None:
    """genai-prices 0.2.5 claude-sonnet-4-5: $3 in, $0.30 cache read, $3.75 cache write, $15
    out, all halved in a Message Batch: 20,000 x 1.50 + 100,000 x 0.15 + 10,000 x 1.875
    + 2,000 x 7.50 = 0.03 + 0.015 + 0.01875 + 0.015 = $0.07875 per request."""
    d = run_json(["request", "--api-model", "claude-sonnet-4-5", "--api-provider", "anthropic",
                  "--input", "20000", "--cached-input", "100000", "--cache-write", "10000",
                  "--output", "2000", "--batch"])  # fmt: skip
    assert d["cached_input_usd"] == pytest.approx(0.015)
    assert d["cache_write_usd"] == pytest.approx(0.01875)
    assert d["total_usd"] == pytest.approx(0.07875)


def test_batch_request_plain_output_names_the_cache_rule() -> None:
    args = ["calc", "request", "--api-model", "gpt-4.1", "--api-provider", "openai",
            "--input", "1", "--output", "1", "--batch"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "batch: 50% off input and output, 0% off cached input" in result.output


def test_request_token_counts_are_bounded() -> None:
    # 10^20 input tokens printed $2 x 10^14 before; one request holds at most 10^8 tokens
    # (domains.MAX_TOKENS_PER_REQUEST).
    args = ["calc", "request", "--api-model", "gpt-4.1", "--api-provider", "openai",
            "--input", "100000000000000000000", "--output", "1"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert "input_tokens must be at most 100,000,000 tokens" in str(result.exception)
