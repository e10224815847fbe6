"""``usage report`` prints money below $1 to three significant figures (docs/cli.md), as its
--json carries it; it printed "0.00" for $0.0009."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infercost.cli import app
from infercost.report.text import amount_sig

HEADER = (
    "timestamp,provider,model,input_tokens,cached_input_tokens,cache_write_tokens,"
    "output_tokens,reasoning_tokens,service_tier,team,app,user,api_key,tags,request_id,price_usd"
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0009, "0.000900"),
        (Decimal("0.0000125"), "0.0000125"),
        (0.127, "0.127"),
        (3.494, "3.49"),
        (12290, "12,290.00"),
        (0, "0"),
        (-0.00045, "-0.000450"),
    ],
)
def test_amount_to_three_significant_figures_below_a_dollar(value: float, text: str) -> None:
    assert amount_sig(value) == text


def test_a_change_is_signed() -> None:
    assert amount_sig(0.00045, plus=True) == "+0.000450"
    assert amount_sig(-12.5, plus=True) == "-12.50"


def test_report_table_shows_what_json_carries(tmp_path: Path) -> None:
    # Two requests billed $0.0009 and $0.0000125 (price_usd given, so no price sheet is
    # involved); total $0.0009125, to three figures 0.000912 (half-even, as the JSON).
    csv = tmp_path / "small.csv"
    csv.write_text(
        f"{HEADER}\n"
        "2025-08-01T08:00:00Z,openai,gpt-4o-mini,1000,0,0,1000,0,standard,search,qa,ana,k1,,"
        "g-1,0.0009\n"
        "2025-08-01T09:00:00Z,openai,gpt-4o-mini,1000,0,0,1000,0,standard,ads,qa,ana,k1,,"
        "g-2,0.0000125\n"
    )
    ledger = str(tmp_path / "l.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["usage", "ingest", str(csv), "--ledger", ledger]).exit_code == 0
    as_json = json.loads(
        runner.invoke(app, ["usage", "report", "--ledger", ledger, "--json"]).stdout
    )
    assert as_json["total_usd"] == "0.000912"
    assert [r["usd"] for r in as_json["rows"]] == ["0.000900", "0.000012"]
    text = runner.invoke(
        app, ["usage", "report", "--ledger", ledger], env={"COLUMNS": "120"}
    ).stdout
    assert "│ 0.000900 " in text
    assert "│ 0.0000125 " in text
    assert "total US$ 0.000912" in text
    assert "0.00 " not in text
