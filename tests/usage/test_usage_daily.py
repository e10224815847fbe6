"""The ``requests_daily`` rollup: kept with ``requests`` by every ingest, and the report read
from it gives what the report read from ``requests`` gives, line for line."""

from __future__ import annotations

from pathlib import Path

import pytest

from infercost.usage import synth
from infercost.usage.ingest import ingest
from infercost.usage.ledger import DAILY_KEYS, Ledger
from infercost.usage.prices import PriceBook
from infercost.usage.report import Report, priced_groups

HEADER = (
    "timestamp,provider,model,input_tokens,cached_input_tokens,cache_write_tokens,"
    "output_tokens,reasoning_tokens,service_tier,team,app,tags,context_tier,price_usd,"
    "request_id\n"
)
ENV = '"{""env"": ""%s""}"'  # a CSV cell holding {"env": "..."}
# acme-1's long-context tier starts above 100,000 prompt tokens (conftest.PRICES_CSV): rows
# at, just above and far above it, an aggregated row (3 requests) whose mean prompt is above
# it, explicit prices, tags, a reported context tier, batch rows
ROWS = [
    "2025-08-01T10:00:00Z,acme,acme-1,100000,0,0,1000,0,standard,legal,a,,,,r1",
    "2025-08-01T11:00:00Z,acme,acme-1,100001,5000,0,1000,0,standard,legal,a,,,,r2",
    "2025-08-01T12:00:00Z,acme,acme-1,250000,0,1000,9000,100,batch,search,b,,,,r3",
    f"2025-08-02T00:00:00Z,acme,acme-2,40000,0,0,100,0,standard,search,b,{ENV % 'prod'},,,r4",
    "2025-08-02T23:59:59Z,acme,acme-2,10,0,0,100,0,standard,,,,,0.25,r5",
    "2025-08-03T05:00:00Z,acme,acme-1,33000,0,0,10,0,standard,legal,a,,,0.125,r6",
    "2025-08-03T06:00:00Z,acme,acme-1,10,0,0,10,0,standard,legal,a,,200k,,r7",
    f"2025-08-15T06:00:00Z,acme,acme-1,10,0,0,10,0,standard,legal,a,{ENV % 'dev'},,,r8",
]


def _ledger(tmp_path: Path, book: PriceBook, name: str = "d.duckdb") -> Ledger:
    led = Ledger(tmp_path / name)
    led.add_deployments(synth.FLEET)
    src = synth.write_parquet(synth.month(4000, seed=3), tmp_path / "m.parquet")
    ingest(led, [src], prices=book, batch_rows=1500)
    csv = tmp_path / "acme.csv"
    csv.write_text(HEADER + "".join(r + "\n" for r in ROWS))
    ingest(led, [csv], prices=book)
    return led


def _lines(rep: Report) -> list[tuple[object, ...]]:
    return [(r.key, r.usd, r.list_usd, r.parts, r.to_dict()) for r in rep.rows]


@pytest.fixture
def both_books(price_dir: tuple[str, ...]) -> PriceBook:
    """The acme sheets and genai-prices (the synthetic month's OpenAI and Anthropic models)."""
    return PriceBook(price_dir)


@pytest.mark.parametrize(
    "by", [["team"], ["model", "app"], ["day", "provider"], ["tag:env"], ["service_tier"], []]
)
def test_report_from_rollup_matches_requests(tmp_path: Path, both_books: PriceBook,
                                             by: list[str]) -> None:  # fmt: skip
    with _ledger(tmp_path, both_books) as led:
        daily = led.daily()
        assert daily is not None
        raw = priced_groups(led.requests(), by, both_books, led.deployments())
        rolled = priced_groups(led.requests(), by, both_books, led.deployments(), daily=daily)
        (days, rows) = led.raw.execute(
            'SELECT count(*), sum("rows") FROM requests_daily'
        ).fetchone() or (0, 0)
        (groups,) = led.raw.execute(
            f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(DAILY_KEYS)} FROM requests_daily)"
        ).fetchone() or (0,)
        (requests,) = led.raw.execute("SELECT count(*) FROM requests").fetchone() or (0,)
    assert rows == requests > 4000 + len(ROWS)  # the month has a spike
    assert groups == days < requests  # one row per group (compacted after the ingests)
    assert raw.total_usd > 0
    assert _lines(rolled) == _lines(raw)
    assert rolled.unpriced == raw.unpriced
    assert rolled.notes == raw.notes


def test_report_reads_the_rollup_only_where_it_can(tmp_path: Path, both_books: PriceBook) -> None:
    """Given another ledger's rollup, the report follows it for whole days; for an hour
    dimension, a period that is not whole days, or a long-context threshold below the
    rollup's prompt floor it reads ``requests``."""
    with _ledger(tmp_path, both_books) as full, Ledger(tmp_path / "empty.duckdb") as empty:
        daily = full.daily()
        fleet = full.deployments()
        want = priced_groups(full.requests(), ["team"], both_books, fleet)
        start, end = want.start, want.end

        def report(by: list[str], book: PriceBook, lo: object = start) -> Report:
            return priced_groups(empty.requests(), by, book, fleet, lo, end, daily=daily)  # type: ignore[arg-type]

        assert _lines(report(["team"], both_books)) == _lines(want)
        assert report(["hour"], both_books).total_usd == 0
        assert report(["team"], both_books, start.replace(hour=1)).total_usd == 0
    folder = tmp_path / "low"
    (folder / "api_prices").mkdir(parents=True)
    (folder / "api_prices" / "acme.csv").write_text(
        "provider,model,usd_per_m_input,usd_per_m_output,context_tiers,as_of,source\n"
        "Acme,acme-1,1.00,4.00,1000:3.00:12.00,2025-01-01,test sheet\n"
    )
    low = PriceBook((str(folder),), use_genai_prices=False)
    with Ledger(tmp_path / "d.duckdb") as full, Ledger(tmp_path / "empty.duckdb") as empty:
        rep = priced_groups(empty.requests(), ["team"], low, [], start, end, daily=full.daily())
    assert rep.total_usd == 0  # read from the (empty) requests


def test_rollup_follows_reingest_and_is_rebuilt_for_older_ledgers(
    tmp_path: Path, both_books: PriceBook
) -> None:
    path = tmp_path / "d.duckdb"
    with _ledger(tmp_path, both_books) as led:
        before = led.raw.execute("SELECT * FROM requests_daily ORDER BY ALL").fetchall()
        again = ingest(led, [tmp_path / "acme.csv"], prices=both_books)
        assert again.duplicates == len(ROWS)
        assert led.raw.execute("SELECT * FROM requests_daily ORDER BY ALL").fetchall() == before
        led.raw.execute("DROP TABLE requests_daily")  # a ledger from before the rollup
    with Ledger(path, read_only=True) as old:
        assert old.daily() is None
    with Ledger(path) as led:  # opened for writing: built from requests
        assert led.daily() is not None
        assert led.raw.execute("SELECT * FROM requests_daily ORDER BY ALL").fetchall() == before
        led.raw.execute("DELETE FROM requests WHERE row_key = 'r1'")  # written around it
    with Ledger(path, read_only=True) as led:
        assert led.daily() is None
    with Ledger(path) as led:
        assert led.raw.execute('SELECT sum("rows") FROM requests_daily').fetchone() == (
            len(before and led.raw.execute("SELECT * FROM requests").fetchall()),
        )
