"""The same report on DuckDB and on Apache Spark (pyspark, local[1]) through ibis."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from infercost.usage import synth
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook
from infercost.usage.report import priced_groups

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a JRE")


def test_report_identical_on_duckdb_and_spark(tmp_path: Path) -> None:
    import ibis
    from pyspark.sql import SparkSession

    with Ledger(tmp_path / "s.duckdb") as led:
        led.add_deployments(synth.FLEET)
        src = synth.write_parquet(synth.month(3000, seed=5), tmp_path / "m.parquet")
        ingest(led, [src])
        book = PriceBook()
        on_duck = priced_groups(led.requests(), ["team", "model"], book, led.deployments())
        arrow = led.requests().to_pyarrow()
        fleet = led.deployments()
    started = time.perf_counter()
    session = (
        SparkSession.builder.master("local[1]").appName("infercost-usage-test")
        .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1").getOrCreate()
    )  # fmt: skip
    try:
        con = ibis.pyspark.connect(session)
        # the ledger's rows as Parquet, as a cluster would read them from object storage
        table = con.read_parquet(str(synth.write_parquet(arrow, tmp_path / "requests.parquet")))
        on_spark = priced_groups(table, ["team", "model"], book, fleet)
    finally:
        session.stop()
    print(f"spark report: {time.perf_counter() - started:.1f} s")
    assert on_spark.total_usd == on_duck.total_usd
    assert [r.to_dict() for r in on_spark.rows] == [r.to_dict() for r in on_duck.rows]
    assert (on_spark.start, on_spark.end) == (on_duck.start, on_duck.end)
