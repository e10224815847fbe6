"""CLI JSON contracts and a kill -9 in the middle of an ingest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from infercost.cli import app
from infercost.usage import synth
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger

FIXTURES = Path(__file__).parent / "fixtures"


def test_ingest_and_report_json_contract(tmp_path: Path) -> None:
    runner = CliRunner()
    ledger = tmp_path / "l.duckdb"
    res = runner.invoke(app, ["usage", "ingest", str(FIXTURES / "openai_chat.jsonl"),
                              "--ledger", str(ledger), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert list(got) == ["read", "ingested", "quarantined", "duplicates", "ledger"]
    assert got["read"] == got["ingested"] + got["quarantined"] + got["duplicates"] == 11
    res = runner.invoke(app, ["usage", "report", "--ledger", str(ledger), "--by", "team,model",
                              "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert list(rep) == ["from", "to", "total_usd", "by", "rows", "unpriced"]
    assert rep["by"] == ["team", "model"]
    assert list(rep["rows"][0]) == ["key", "usd", "requests", "input_tokens",
                                    "cached_input_tokens", "cache_write_tokens",
                                    "output_tokens", "reasoning_tokens"]  # fmt: skip
    assert sum(r["requests"] for r in rep["rows"]) == 2


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "infercost", "usage", "report", "--ledger",
         str(tmp_path / "none.duckdb")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert res.returncode == 1
    assert res.stderr.startswith("error: no ledger at") and res.stderr.count("\n") == 1


CHILD = """
import sys
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger
led = Ledger(sys.argv[1])
ingest(led, [sys.argv[2]], batch_rows=2000, on_progress=lambda n: print(n, flush=True))
"""


def test_kill_mid_ingest_loses_and_doubles_nothing(tmp_path: Path) -> None:
    table = synth.month(30_000, seed=3, spike=False)
    src = synth.write_openai_jsonl(table, tmp_path / "month.jsonl")
    ledger = tmp_path / "k.duckdb"
    scratch = tmp_path / "tmp"  # the child's temporary folder
    scratch.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(ledger), str(src)],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(scratch)})  # fmt: skip
    assert proc.stdout is not None
    seen = [proc.stdout.readline() for _ in range(3)]  # three batches committed
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert all(seen)
    if Path("/proc/self/fd").is_dir():  # a part's file is read by descriptor, already removed
        assert list(scratch.iterdir()) == []
    with Ledger(ledger, read_only=True) as led:
        assert led.daily() is not None  # the rollup holds what each committed batch stored
    with Ledger(ledger) as led:
        partial = led.raw.execute("SELECT count(*) FROM requests").fetchone()
        assert partial is not None and 6000 <= partial[0] < 30_000
        again = ingest(led, [src])
        assert again.duplicates == partial[0]
        total = led.raw.execute(
            "SELECT count(*), count(DISTINCT row_key), sum(input_tokens) FROM requests"
        ).fetchone()
        rolled = led.raw.execute(
            'SELECT sum("rows"), sum("rows"), sum(input_tokens) FROM requests_daily'
        ).fetchone()
    assert rolled == total
    expected = pq.read_table(synth.write_parquet(table, tmp_path / "m.parquet"))
    assert total == (30_000, 30_000, sum(expected.column("input_tokens").to_pylist()))


def test_langfuse_spans_keep_the_json_contract_and_are_said_on_stderr(tmp_path: Path) -> None:
    # the LangGraph trace: 2 generations (rows) and 18 spans (not requests)
    runner = CliRunner()
    trace = FIXTURES / "langfuse_langgraph_js.trace.json"
    res = runner.invoke(app, ["usage", "ingest", str(trace),
                              "--ledger", str(tmp_path / "l.duckdb"), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert list(got) == ["read", "ingested", "quarantined", "duplicates", "ledger"]
    assert (got["read"], got["ingested"]) == (2, 2)
    assert "18 records were not requests" in res.stderr


def test_report_names_its_price_sheets(tmp_path: Path) -> None:
    # QA: neither the table nor the JSON said which sheets priced the rows
    ledger = tmp_path / "p.duckdb"
    runner = CliRunner()
    res = runner.invoke(app, ["usage", "ingest", str(FIXTURES / "openai_chat.jsonl"),
                              "--ledger", str(ledger)])  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["usage", "report", "--ledger", str(ledger)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "prices: each API request at the sheet in force on its day" in res.output
    assert "genai-prices " in res.output
