"""The happy paths of ``benchmarks/ledger_speed.py`` convert no record in Python (issue 13).

OpenAI Chat Completions JSON Lines (``synth.write_openai_jsonl``) go through DuckDB's
``read_json`` and the SQL of ``formats.jsonl_select``; a generic Parquet file through pyarrow
and ``ingest._generic_select``. Neither may fall back to the record-by-record converters on
well-formed rows: these tests spy on every entry point of the Python path and count calls,
not seconds. A file with one broken line still sends that line, and only that one, to Python,
and quarantines it with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infercost.usage import formats as F
from infercost.usage import ingest as ingest_module
from infercost.usage import synth
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger

ROWS = 2_000


def _spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the calls of the per-record Python converters and line re-reads."""
    calls: dict[str, int] = {}

    def counted(owner: Any, name: str) -> None:
        fn: Callable[..., Any] = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] = calls.get(name, 0) + 1
            return fn(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    for name in ("openai_fields", "attribution_of", "jsonl_records", "csv_records"):
        counted(F, name)
    counted(ingest_module._Rows, "add")
    counted(ingest_module._Rows, "add_line")
    counted(ingest_module._Part, "lines")
    counted(ingest_module, "_convert_lines")
    counted(ingest_module, "_attribute")
    return calls


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("month")
    table = synth.month(ROWS, spike=False)
    return (
        synth.write_openai_jsonl(table, folder / "month.jsonl"),
        synth.write_parquet(table, folder / "month.parquet"),
    )


@pytest.mark.parametrize("which", [0, 1], ids=["openai-jsonl", "generic-parquet"])
@pytest.mark.parametrize("batch_rows", [ROWS, 700], ids=["one-batch", "batches"])
def test_happy_path_has_no_row_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      month: tuple[Path, Path], which: int,
                                      batch_rows: int) -> None:  # fmt: skip
    calls = _spy(monkeypatch)
    with Ledger(tmp_path / "l.duckdb") as led:
        led.add_deployments(synth.FLEET)
        res = ingest(led, [month[which]], batch_rows=batch_rows)
    assert (res.read, res.ingested, res.quarantined, res.duplicates) == (ROWS, ROWS, 0, 0)
    assert calls == {}


def _ingest_with(tmp_path: Path, month: tuple[Path, Path], line: str) -> tuple[Any, Any]:
    """Ingest the month's JSON Lines with line 11 replaced by ``line``."""
    lines = month[0].read_text().splitlines(keepends=True)
    src = tmp_path / "edited.jsonl"
    src.write_text("".join([*lines[:10], line, *lines[11:]]))
    with Ledger(tmp_path / "l.duckdb") as led:
        led.add_deployments(synth.FLEET)
        res = ingest(led, [src])
        got = led.raw.execute("SELECT source_line, reason FROM quarantine").fetchall()
    assert (res.read, res.ingested, res.quarantined) == (ROWS, ROWS - 1, 1)
    return res, got


def test_a_broken_count_is_quarantined_in_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              month: tuple[Path, Path]) -> None:  # fmt: skip
    lines = month[0].read_text().splitlines(keepends=True)
    calls = _spy(monkeypatch)
    _, got = _ingest_with(
        tmp_path, month, lines[10].replace('"completion_tokens":', '"completion_tokens":-', 1)
    )
    assert len(got) == 1 and got[0][0] == 11
    assert got[0][1].startswith("negative count: input "), got
    assert calls == {}


def test_a_line_that_is_not_json_alone_goes_to_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, month: tuple[Path, Path]
) -> None:
    calls = _spy(monkeypatch)
    _, got = _ingest_with(tmp_path, month, '{"id": "x", "usage": \n')
    assert got == [(11, "not JSON (Expecting value at column 21)")]
    # read_json refuses the part: it is read as lines (one Arrow array) converted in SQL,
    # and the one line that is not JSON goes to the Python converter
    assert calls == {"lines": 1, "_convert_lines": 1, "add_line": 1, "add": 1}, calls


def test_an_implausible_token_count_is_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, month: tuple[Path, Path]
) -> None:
    # QA: input_tokens 2^63 - 1 was ingested, then anomalies and export died on INT64
    # overflow and the report billed $1.4e12; more than 10^8 tokens a request (no model has a
    # longer context, infercost.domains.MAX_TOKENS_PER_REQUEST) is quarantined
    lines = month[0].read_text().splitlines(keepends=True)
    big = '"prompt_tokens": 9223372036854775807'
    edited = re.sub(r'"prompt_tokens":\s*\d+', big, lines[10], count=1)
    assert edited != lines[10]
    _, got = _ingest_with(tmp_path, month, edited)
    assert len(got) == 1 and got[0][0] == 11
    assert got[0][1].startswith("implausible count: 9223372036854775807 tokens over 1"), got
