"""Edge cases of the QA pass on ingest: CSV rows with the wrong number of fields, implausible
and inexact timestamps, empty files, and the wording of two quarantine reasons.

The fixtures are hand-written, in ``fixtures/edge/`` (README there names each)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infercost.api.app import create_app
from infercost.api.settings import ServiceSettings
from infercost.cli import app as cli_app
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger

EDGE = Path(__file__).parent / "fixtures" / "edge"


def quarantined(ledger: Ledger) -> dict[int, tuple[str, str | None]]:
    """source_line -> (reason, raw) of the quarantine."""
    got = ledger.raw.execute("SELECT source_line, reason, raw FROM quarantine").fetchall()
    return {line: (reason, raw) for line, reason, raw in got}


def reasons(ledger: Ledger) -> dict[int, str]:
    return {line: reason for line, (reason, _) in quarantined(ledger).items()}


def stored(ledger: Ledger, cols: str = "row_key, source_line") -> list[tuple[Any, ...]]:
    return ledger.raw.execute(f"SELECT {cols} FROM requests ORDER BY source_line").fetchall()


# --------------------------------------------------------------------------------------------
# 1. CSV rows with too few or too many fields


def test_generic_csv_row_with_wrong_number_of_fields_is_quarantined(ledger: Ledger) -> None:
    res = ingest(ledger, [EDGE / "generic_wrong_columns.csv"])
    # lines 2, 7, 8 good; 3 (4 fields), 5 (8 fields), 9 (5 fields) bad; 4 blank, 6 spaces
    assert res.to_dict() == {"read": 6, "ingested": 3, "quarantined": 3, "duplicates": 0,
                             "ledger": str(ledger.path)}  # fmt: skip
    assert stored(ledger) == [("w-1", 2), ("w-4", 7), ("w-5", 8)]
    assert quarantined(ledger) == {
        3: ("wrong number of columns (4, header has 6)",
            "2025-08-01T08:01:00Z,openai,gpt-4o-mini,100"),
        5: ("wrong number of columns (8, header has 6)",
            "2025-08-01T08:02:00Z,openai,gpt-4o-mini,100,10,w-3,extra,more"),
        9: ("wrong number of columns (5, header has 6)",
            "2025-08-01T08:05:00Z,openai,gpt-4o-mini,300,30"),
    }  # fmt: skip


def test_litellm_csv_row_with_wrong_number_of_fields_is_quarantined(ledger: Ledger) -> None:
    res = ingest(ledger, [EDGE / "litellm_wrong_columns.csv"])
    assert (res.read, res.ingested, res.quarantined, res.duplicates) == (4, 2, 2, 0)
    assert stored(ledger) == [("lw-1", 2), ("lw-4", 6)]
    assert reasons(ledger) == {
        3: "wrong number of columns (8, header has 17)",
        4: "wrong number of columns (18, header has 17)",
    }


def test_wrong_fields_in_a_later_block_keep_line_numbers(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several reader blocks (a tiny block size): the bad rows and the rows after them keep
    their own line numbers whichever block they fall in."""
    import pyarrow.csv as pacsv

    real = pacsv.ReadOptions

    def small(**kw: Any) -> pacsv.ReadOptions:
        return real(**{**kw, "block_size": 200})

    monkeypatch.setattr(pacsv, "ReadOptions", small)
    lines = ["timestamp,provider,model,input_tokens,output_tokens,request_id"]
    for i in range(2, 41):
        row = f"2025-08-01T08:00:{i:02d}Z,openai,gpt-4o-mini,{i},1,b-{i}"
        if i % 7 == 0:
            row = row.rsplit(",", 2)[0]  # two fields short
        elif i % 11 == 0:
            row = ""
        lines.append(row)
    src = tmp_path / "blocks.csv"
    src.write_text("\n".join(lines) + "\n")
    ingest(ledger, [src])
    keys = stored(ledger)
    assert keys == [(f"b-{i}", i) for i in range(2, 41) if i % 7 and i % 11]
    short = "wrong number of columns (4, header has 6)"
    assert reasons(ledger) == dict.fromkeys(range(7, 41, 7), short)


def test_cli_and_api_ingest_a_csv_with_a_short_row(tmp_path: Path) -> None:
    src = EDGE / "generic_wrong_columns.csv"
    path = tmp_path / "cli.duckdb"
    out = CliRunner().invoke(
        cli_app, ["usage", "ingest", str(src), "--ledger", str(path), "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["quarantined"] == 3
    service = tmp_path / "api.duckdb"
    Ledger(service).close()
    api = TestClient(create_app(ServiceSettings(ledger=str(service))))
    upload = {"file": ("generic_bad.csv", src.read_bytes(), "text/csv")}
    body = api.post("/api/usage/ingest", files=upload)
    assert body.status_code == 200, body.text
    got = body.json()
    assert (got["read"], got["ingested"], got["quarantined"]) == (6, 3, 3)
