"""Ledger speed: ingest synthetic rows (OpenAI JSONL and generic Parquet) and run the
monthly attribution report, beside a plain-Python baseline (json + dict sums) on the same
JSONL file in the same run.

    python benchmarks/ledger_speed.py               # default size, about a minute on 2 cores
    python benchmarks/ledger_speed.py --rows 10000000

Prints rows/s of each ingest, checkpoint and rollup upkeep included, its ratio to the
baseline's rows/s, and its CPU seconds and microseconds of CPU per row (all threads: on a
shared machine wall-clock rates follow the other load, CPU per row much less; the load
average is printed before and after), the seconds of the monthly report by team grouped
from ``requests`` and read from the ``requests_daily`` rollup (what ``usage report`` reads),
and the peak memory of the process that runs the baseline, the ingests and the reports.
The synthetic month is written by a child process in chunks of 500,000 rows (``synth.month``
with seeds 7, 8, ...; the default size is one chunk, the same rows as
``synth.month(300_000, spike=False)``), so its memory does not grow with ``--rows``.

Last figures (commit 2b8a8b8, ``--rows 10000000``, shared 2-core machine, load 3.0-3.4
before and after, so about 1.3 cores for this run): baseline 300k rows/s; OpenAI JSONL
246k rows/s, 5.05 us CPU/row (50.5 CPU s); generic Parquet 357k rows/s, 3.62 us CPU/row;
report 0.65 s from ``requests``, 0.09 s from ``requests_daily``; peak 1,468 MB. Before
(the issue's run, load 1-2.5): JSONL 291k rows/s at 6.36 us CPU/row, Parquet 361k rows/s
at 4.16 us. At the default size a file is one batch, its steps run one after the other on
one DuckDB thread: JSONL 1.7 s, 5.6 us CPU/row (load 2.4). docs/usage.md has the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from infercost.usage import synth
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook
from infercost.usage.report import priced_groups

CHUNK = 500_000

# the OpenAI Chat Completions body synth.write_openai_jsonl writes, written by DuckDB
_BODY_SQL = """
COPY (SELECT request_id AS id, 'chat.completion' AS object,
  CAST(floor(epoch("timestamp")) AS BIGINT) AS created,
  CASE WHEN provider = 'openai' THEN model ELSE 'gpt-4o-mini' END AS model,
  {'prompt_tokens': input_tokens, 'completion_tokens': output_tokens,
   'total_tokens': input_tokens + output_tokens,
   'prompt_tokens_details': {'cached_tokens': cached_input_tokens},
   'completion_tokens_details': {'reasoning_tokens': reasoning_tokens}} AS usage,
  {'team': team, 'app': app, 'user': "user"} AS metadata FROM chunk) TO '{path}' (FORMAT json)
"""


def write_sources(rows: int, folder: Path) -> tuple[Path, Path]:
    """The synthetic month as OpenAI JSONL and generic Parquet, written chunk by chunk."""
    jsonl, parquet, part = folder / "month.jsonl", folder / "month.parquet", folder / "part"
    con = duckdb.connect()
    writer: pq.ParquetWriter | None = None
    with jsonl.open("wb") as out:
        for start in range(0, rows, CHUNK):
            table = synth.month(min(CHUNK, rows - start), seed=7 + start // CHUNK, spike=False)
            writer = writer or pq.ParquetWriter(parquet, table.schema)
            writer.write_table(table)
            con.register("chunk", table)
            con.execute(_BODY_SQL.replace("{path}", str(part)))
            con.unregister("chunk")
            del table
            with part.open("rb") as fh:
                shutil.copyfileobj(fh, out, 16 << 20)
    part.unlink(missing_ok=True)
    if writer is not None:
        writer.close()
    con.close()
    return jsonl, parquet


def baseline(path: Path) -> tuple[float, int]:
    """Plain Python: json.loads each line and sum tokens per team in dicts."""
    started = time.perf_counter()
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    n = 0
    with path.open() as fh:
        for line in fh:
            body = json.loads(line)
            usage = body["usage"]
            acc = sums[body["metadata"]["team"]]
            acc[0] += usage["prompt_tokens"]
            acc[1] += usage["prompt_tokens_details"]["cached_tokens"]
            acc[2] += usage["completion_tokens"]
            n += 1
    return time.perf_counter() - started, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--write-to", type=Path, help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args()
    if args.write_to is not None:
        write_sources(args.rows, args.write_to)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # the files are written by a child process: the peak memory printed is the ledger's
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--write-to", tmp],
                       check=True)  # fmt: skip
        jsonl, parquet = folder / "month.jsonl", folder / "month.parquet"
        print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        base_s, base_n = baseline(jsonl)
        base_rate = base_n / base_s
        print(f"baseline json + dict sums: {base_n:,} rows in {base_s:.2f} s = "
              f"{base_rate:,.0f} rows/s")  # fmt: skip
        for name, path in (("openai jsonl", jsonl), ("generic parquet", parquet)):
            with Ledger(folder / f"{name.replace(' ', '_')}.duckdb") as led:
                led.add_deployments(synth.FLEET)
                started, cpu = time.perf_counter(), time.process_time()
                res = ingest(led, [path])
                led.raw.execute("CHECKPOINT")  # what closing the ledger would do
                took, cpu = time.perf_counter() - started, time.process_time() - cpu
                rate = res.read / took
                print(f"ingest {name}: {res.ingested:,} rows in {took:.2f} s = {rate:,.0f} "
                      f"rows/s, {rate / base_rate:.2f}x baseline ({cpu:.2f} CPU s, "
                      f"{cpu / res.read * 1e6:.2f} us CPU/row)")  # fmt: skip
                if name == "generic parquet":
                    book = PriceBook()
                    fleet = led.deployments()
                    priced_groups(led.requests(), ["team"], book, fleet)  # warm
                    for how, daily in (("requests", None), ("requests_daily", led.daily())):
                        started = time.perf_counter()
                        rep = priced_groups(led.requests(), ["team"], book, fleet, daily=daily)
                        print(f"monthly report by team from {how}: "
                              f"{time.perf_counter() - started:.2f} s, "
                              f"total ${rep.total_usd:,.2f}")  # fmt: skip
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mb:,.0f} MB")
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
