"""plan search --disagg: xPyD layouts searched and priced beside the aggregated winner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from infercost.cli import app
from infercost.errors import InputError
from infercost.plan.disagg_search import search_disagg

ARGS = ("llama-3.1-8b", "H100", 1000, 300)


@pytest.fixture(scope="module")
def found():  # type: ignore[no-untyped-def]
    return search_disagg(
        *ARGS, max_ttft_s=1.0, max_tpot_s=0.030, max_gpus=4, gpu_hour_usd=2.0,
        max_concurrency=256,
    )  # fmt: skip


def test_winner_meets_the_targets_within_the_gpu_budget(found) -> None:  # type: ignore[no-untyped-def]
    w = found.winner
    assert w is not None
    p = w.prediction
    assert p.ttft_s <= 1.0 and p.tpot_s <= 0.030 and p.saturated is None
    assert p.num_gpus == p.prefill_gpus + p.decode_gpus <= 4


def test_cost_is_the_deployment_hour_over_its_output_tokens(found) -> None:  # type: ignore[no-untyped-def]
    """$/M output (all GPU time) = $2 x GPUs / (output tok/s x 3600 / 1e6)."""
    p = found.winner.prediction
    assert found.winner.usd_per_m_output_incl_input == pytest.approx(
        2.0 * p.num_gpus / (p.output_tok_s * 3600 / 1e6)
    )
    assert all(
        c.usd_per_m_output_incl_input >= found.winner.usd_per_m_output_incl_input
        for c in found.runners_up
    )


def test_needs_two_gpus() -> None:
    with pytest.raises(InputError, match="at least 2"):
        search_disagg(*ARGS, max_gpus=1, gpu_hour_usd=2.0)


def test_cli_adds_the_disaggregated_key_and_needs_one_gpu() -> None:
    base = ["plan", "search", "--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300",
            "--max-tpot-ms", "30", "--max-ttft-s", "1", "--gpu-hour-usd", "2", "--max-gpus",
            "4", "--max-concurrency", "256", "--disagg"]  # fmt: skip
    r = CliRunner().invoke(app, [*base, "--gpu", "H100", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["disaggregated"]["winner"]["layout"].count("TP") == 2
    two = CliRunner().invoke(app, [*base, "--gpu", "H100", "--gpu", "H200"])
    assert two.exit_code == 1 and "exactly one --gpu" in str(two.exception)
