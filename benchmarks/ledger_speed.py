"""Ledger speed: ingest synthetic rows (OpenAI JSONL and generic Parquet) and run the
monthly attribution report, beside a plain-Python baseline (json + dict sums) on the same
JSONL file in the same run.

    python benchmarks/ledger_speed.py               # default size, about a minute on 2 cores
    python benchmarks/ledger_speed.py --rows 10000000

Prints rows/s of each ingest (and its CPU seconds, all threads: the machine may be shared),
the report's seconds and the process's peak memory (generating the files included). The
synthetic month is written in chunks of 500,000 rows (``synth.month`` with seeds 7, 8, ...;
the default size is one chunk, the same rows as ``synth.month(300_000, spike=False)``), so
memory does not grow with ``--rows``.
"""

from __future__ import annotations

import argparse
import json
import resource
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

# the OpenAI Chat Completions body synth.write_openai_jsonl writes, built by DuckDB
_BODY_SQL = """
SELECT to_json({
  'id': request_id, 'object': 'chat.completion',
  'created': CAST(floor(epoch("timestamp")) AS BIGINT),
  'model': CASE WHEN provider = 'openai' THEN model ELSE 'gpt-4o-mini' END,
  'usage': {
    'prompt_tokens': input_tokens, 'completion_tokens': output_tokens,
    'total_tokens': input_tokens + output_tokens,
    'prompt_tokens_details': {'cached_tokens': cached_input_tokens},
    'completion_tokens_details': {'reasoning_tokens': reasoning_tokens}},
  'metadata': {'team': team, 'app': app, 'user': "user"}}) FROM chunk
"""


def write_sources(rows: int, folder: Path) -> tuple[Path, Path]:
    """The synthetic month as OpenAI JSONL and generic Parquet, written chunk by chunk."""
    jsonl, parquet = folder / "month.jsonl", folder / "month.parquet"
    con = duckdb.connect()
    writer: pq.ParquetWriter | None = None
    with jsonl.open("w", encoding="utf-8") as fh:
        for start in range(0, rows, CHUNK):
            table = synth.month(min(CHUNK, rows - start), seed=7 + start // CHUNK, spike=False)
            writer = writer or pq.ParquetWriter(parquet, table.schema)
            writer.write_table(table)
            con.register("chunk", table)
            lines = con.execute(_BODY_SQL).fetchnumpy()
            fh.write("\n".join(str(x) for x in next(iter(lines.values()))))
            fh.write("\n")
            con.unregister("chunk")
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jsonl, parquet = write_sources(args.rows, folder)
        base_s, base_n = baseline(jsonl)
        print(f"baseline json + dict sums: {base_n:,} rows in {base_s:.2f} s = "
              f"{base_n / base_s:,.0f} rows/s")  # fmt: skip
        for name, path in (("openai jsonl", jsonl), ("generic parquet", parquet)):
            with Ledger(folder / f"{name.replace(' ', '_')}.duckdb") as led:
                led.add_deployments(synth.FLEET)
                started, cpu = time.perf_counter(), time.process_time()
                res = ingest(led, [path])
                took, cpu = time.perf_counter() - started, time.process_time() - cpu
                print(f"ingest {name}: {res.ingested:,} rows in {took:.2f} s = "
                      f"{res.read / took:,.0f} rows/s ({cpu:.2f} CPU s)")  # fmt: skip
                if name == "generic parquet":
                    book = PriceBook()
                    priced_groups(led.requests(), ["team"], book, led.deployments())  # warm
                    started = time.perf_counter()
                    rep = priced_groups(led.requests(), ["team"], book, led.deployments())
                    print(f"monthly report by team: {time.perf_counter() - started:.2f} s, "
                          f"total ${rep.total_usd:,.2f}")  # fmt: skip
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
