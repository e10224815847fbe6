"""Where a batch's last steps run (ingest._Balance: the preparing or the committing thread,
chosen by the CPU each spent on the last batch) changes nothing in the ledger: the same
requests, quarantine, rollup and counts either way, on first ingests, re-ingests and files
whose keys are partly stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infercost.usage import ingest as ingest_module
from infercost.usage import synth
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook

FIXTURES = Path(__file__).parent / "fixtures"


def _ledger_state(tmp_path: Path, name: str, book: PriceBook) -> list[Any]:
    table = synth.month(3000, seed=5)
    parquet = synth.write_parquet(table, tmp_path / "m.parquet")
    jsonl = synth.write_openai_jsonl(table, tmp_path / "m.jsonl")
    half = tmp_path / "half.jsonl"  # the first half of its keys, then new lines
    lines = jsonl.read_text().splitlines(keepends=True)
    half.write_text("".join(lines[:1500]) + (FIXTURES / "openai_chat.jsonl").read_text())
    counts = []
    with Ledger(tmp_path / name) as led:
        led.add_deployments(synth.FLEET)
        for files in ([half], [parquet], [jsonl], [jsonl, half],
                      [FIXTURES / "openai_stream.jsonl"]):  # fmt: skip
            res = ingest(led, files, prices=book, batch_rows=400)
            counts.append((res.read, res.ingested, res.quarantined, res.duplicates))
        tables = [
            led.raw.execute(f"SELECT * EXCLUDE (source_file) FROM {t} ORDER BY ALL").fetchall()
            for t in ("requests", "quarantine")
        ]
        daily = led.raw.execute(
            'SELECT * EXCLUDE ("rows") FROM requests_daily ORDER BY ALL'
        ).fetchall()
    return [counts, *tables, daily]


def test_where_the_last_steps_run_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, price_dir: tuple[str, ...]
) -> None:
    book = PriceBook(price_dir)
    states = []
    for here in (True, False):
        monkeypatch.setattr(ingest_module._Balance, "prepare_here", lambda self, h=here: h)
        folder = tmp_path / str(here)
        folder.mkdir()
        states.append(_ledger_state(folder, "l.duckdb", book))
    assert states[0] == states[1]
    counts = states[0][0]
    assert all(read == ing + qua + dup for read, ing, qua, dup in counts)
    assert counts[2][3] >= 1500  # the keys of half.jsonl were stored already
    assert counts[3][1] == 0  # everything stored
