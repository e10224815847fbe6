"""Ledger speed: ingest synthetic rows (OpenAI JSONL and generic Parquet) and run the
monthly attribution report, beside a plain-Python baseline (json + dict sums) on the same
JSONL file in the same run.

    python benchmarks/ledger_speed.py               # default size, about a minute on 2 cores
    python benchmarks/ledger_speed.py --rows 10000000

Prints rows/s of each ingest, the report's seconds and the process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from infercost.usage import synth
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook
from infercost.usage.report import priced_groups


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
        table = synth.month(args.rows, spike=False)
        jsonl = synth.write_openai_jsonl(table, folder / "month.jsonl")
        parquet = synth.write_parquet(table, folder / "month.parquet")
        base_s, base_n = baseline(jsonl)
        print(f"baseline json + dict sums: {base_n:,} rows in {base_s:.2f} s = "
              f"{base_n / base_s:,.0f} rows/s")  # fmt: skip
        for name, path in (("openai jsonl", jsonl), ("generic parquet", parquet)):
            with Ledger(folder / f"{name.replace(' ', '_')}.duckdb") as led:
                led.add_deployments(synth.FLEET)
                started = time.perf_counter()
                res = ingest(led, [path])
                took = time.perf_counter() - started
                print(f"ingest {name}: {res.ingested:,} rows in {took:.2f} s = "
                      f"{res.read / took:,.0f} rows/s")  # fmt: skip
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
