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
from infercost.errors import InputError
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


# --------------------------------------------------------------------------------------------
# 2. implausible timestamps (before 2015-01-01, more than a day after the ingest), exactly

LATE = "UTC is more than a day after the ingest: not a plausible request time"
EARLY = "UTC is before 2015-01-01: not a plausible request time"


def times(ledger: Ledger) -> dict[str, str]:
    got = ledger.raw.execute("SELECT row_key, CAST(ts AS VARCHAR) FROM requests").fetchall()
    return dict(got)


def test_openai_times(ledger: Ledger) -> None:
    res = ingest(ledger, [EDGE / "openai_times.jsonl"])
    assert (res.read, res.ingested, res.quarantined) == (12, 6, 6)
    assert reasons(ledger) == {
        1: f"time read as 5138-11-16 09:46:39.999 {LATE}",  # ms by its size, exactly
        3: f"time read as 1970-01-01 00:00:01 {EARLY}",
        7: "created 1e+30 is out of range: not a plausible request time",
        8: f"time read as 5138-11-16 09:46:39.999 {LATE}",  # the same without an id (Python)
        9: f"time read as 2014-12-31 23:59:59 {EARLY}",
        12: f"time read as 1915-05-28 00:00:00 {EARLY}",
    }
    assert times(ledger) == {
        "chatcmpl-T2": "2024-08-07 00:00:00",
        "chatcmpl-T4": "2024-08-07 00:00:00.123",  # ms
        "chatcmpl-T5": "2024-08-07 00:00:00.123456",  # ns as text: the µs below it kept
        "chatcmpl-T6": "2024-08-07 00:00:00.125",
        "chatcmpl-T10": "2015-01-01 00:00:00",  # the first plausible instant
        "chatcmpl-T11": "2024-08-07 00:00:00.123457",  # µs
    }
    assert "5138" not in json.dumps(
        ledger.raw.execute("SELECT min(ts), max(ts) FROM requests").fetchall(), default=str
    )


def test_anthropic_and_claude_code_times(ledger: Ledger) -> None:
    ingest(ledger, [EDGE / "anthropic_times.jsonl"])
    assert reasons(ledger) == {
        1: f"time read as 2099-01-01 00:00:00 {LATE}",
        2: f"time read as 2014-06-01 10:00:00 {EARLY}",  # a Claude Code transcript line
    }
    assert times(ledger) == {"msg_T3": "2025-08-01 11:00:00", "msg_T4": "2025-08-01 09:00:00"}


def test_otel_times_are_nanoseconds(ledger: Ledger) -> None:
    ingest(ledger, [EDGE / "otel_times.json"])
    trace = "otel:7c1e0d3a5b8efff798038103d269b633:"
    got = ledger.raw.execute("SELECT row_key, reason FROM quarantine").fetchall()
    assert dict(got) == {
        # 1e9 ns is one second after 1970 (not 2001, as a number of seconds would be)
        f"{trace}0000000000000001": f"time read as 1970-01-01 00:00:01 {EARLY}",
        f"{trace}0000000000000002": f"time read as 2100-01-01 00:00:00 {LATE}",
    }
    assert times(ledger) == {f"{trace}0000000000000003": "2025-08-01 09:00:00"}


def test_litellm_times(ledger: Ledger) -> None:
    ingest(ledger, [EDGE / "litellm_times.csv"])
    assert reasons(ledger) == {
        2: f"time read as 2014-12-31 23:00:00 {EARLY}",
        3: f"time read as 2099-08-01 09:00:00 {LATE}",
    }
    got = ledger.raw.execute("SELECT CAST(ts AS VARCHAR), latency_s FROM requests").fetchall()
    assert got == [("2025-08-01 09:00:00.123", 1.5)]  # ms start and end, exactly


def test_generic_csv_times(ledger: Ledger) -> None:
    ingest(ledger, [EDGE / "generic_times.csv"])
    assert reasons(ledger) == {
        7: f"time read as 5138-11-16 09:46:39.999 {LATE}",
        8: "timestamp 1e30 is out of range: not a plausible request time",
        9: f"time read as 1970-01-01 00:16:40 {EARLY}",
        10: f"time read as 2014-12-31 23:59:59 {EARLY}",
        11: f"time read as 2098-12-31 22:00:00 {LATE}",
    }
    assert times(ledger) == {
        "gt-s": "2025-08-01 09:00:00",
        "gt-ms": "2025-08-01 09:00:00.123",
        "gt-us": "2025-08-01 09:00:00.123456",
        "gt-ns": "2025-08-01 09:00:00.123456",
        "gt-frac": "2025-08-01 09:00:00.5",
    }


def test_usage_export_and_vllm_times(ledger: Ledger) -> None:
    ingest(ledger, [EDGE / "openai_usage_export_times.json"])
    assert list(reasons(ledger).values()) == [f"time read as 1970-01-01 00:00:01 {EARLY}"]
    ingest(ledger, [EDGE / "vllm_times.jsonl"])
    got = ledger.raw.execute("SELECT row_key, reason FROM quarantine WHERE row_key = 'sg-T1'")
    assert got.fetchall() == [("sg-T1", f"time read as 2099-08-01 12:00:05 {LATE}")]


def test_generic_parquet_integer_and_float_times(ledger: Ledger, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "timestamp": pa.array([1754038800, 1754038800123, 1754038800123456, 99999999999999, 5]),
        "seconds": pa.array([1754038800.25, 1.0, 2e30, 1754038800.0, 1754038800.0]),
        "model": ["gpt-4o-mini"] * 5, "provider": ["openai"] * 5,
        "input_tokens": [1, 2, 3, 4, 5], "output_tokens": [1] * 5,
    })  # fmt: skip
    pq.write_table(table, tmp_path / "t.parquet")
    ingest(ledger, [tmp_path / "t.parquet"])
    assert reasons(ledger) == {
        4: f"time read as 5138-11-16 09:46:39.999 {LATE}",
        5: f"time read as 1970-01-01 00:00:05 {EARLY}",
    }
    got = ledger.raw.execute(
        "SELECT CAST(ts AS VARCHAR) FROM requests ORDER BY source_line"
    ).fetchall()
    assert got == [("2025-08-01 09:00:00",), ("2025-08-01 09:00:00.123",),
                   ("2025-08-01 09:00:00.123456",)]  # fmt: skip
    pq.write_table(table.drop(["timestamp"]).rename_columns(
        ["timestamp", "model", "provider", "input_tokens", "output_tokens"]
    ), tmp_path / "f.parquet")  # fmt: skip
    with Ledger(tmp_path / "f.duckdb") as other:
        ingest(other, [tmp_path / "f.parquet"])
        assert sorted(times(other).values()) == [
            "2025-08-01 09:00:00", "2025-08-01 09:00:00", "2025-08-01 09:00:00.25"
        ]  # fmt: skip
        assert sorted(reasons(other).values()) == [
            f"time read as 1970-01-01 00:00:01 {EARLY}",
            "timestamp 2e+30 is out of range: not a plausible request time",
        ]


def test_a_day_after_the_ingest_is_the_limit(ledger: Ledger, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    soon, late = now + timedelta(hours=23), now + timedelta(hours=25)
    src = tmp_path / "ahead.jsonl"
    lines = []
    for i, t in enumerate((soon, late)):
        created = int((t - datetime(1970, 1, 1)).total_seconds())
        body = {
            "id": f"chatcmpl-{i}",
            "object": "chat.completion",
            "created": created,
            "model": "gpt-4o-mini",
            "usage": {"prompt_tokens": 1, "completion_tokens": 1},
        }
        lines.append(json.dumps(body) + "\n")
    src.write_text("".join(lines))
    ingest(ledger, [src])
    assert list(times(ledger)) == ["chatcmpl-0"]
    assert reasons(ledger) == {2: f"time read as {late:%Y-%m-%d %H:%M:%S} {LATE}"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1722988800, "2024-08-07 00:00:00"),
        ("1722988800", "2024-08-07 00:00:00"),
        (1722988800123, "2024-08-07 00:00:00.123000"),
        (1722988800123457, "2024-08-07 00:00:00.123457"),
        (1722988800123456789, "2024-08-07 00:00:00.123456"),  # sub-µs dropped, not rounded
        (99999999999999, "5138-11-16 09:46:39.999000"),
        (1722988800.1, "2024-08-07 00:00:00.100000"),
        ("1722988800.0000019", "2024-08-07 00:00:00.000001"),
        (-1, "1969-12-31 23:59:59"),
    ],
)
def test_unix_times_convert_exactly(value: Any, expected: str) -> None:
    """Python and SQL (the columnar and generic paths) read a Unix time alike, exactly."""
    import duckdb

    from infercost.usage import formats as F

    assert str(F.timestamp(value)) == expected.removesuffix(".000000")
    sql = F.epoch_sql(f"CAST('{value}' AS DECIMAL(30, 9))")
    (got,) = duckdb.sql(f"SELECT {sql}").fetchone() or (None,)
    assert str(got) == expected.removesuffix(".000000")
    if isinstance(value, int):  # the integer reading of integer columns and digit texts
        (got,) = duckdb.sql(
            f"SELECT {F.epoch_int_sql(f'CAST({value} AS BIGINT)')}"
        ).fetchone() or (None,)
        assert str(got) == expected.removesuffix(".000000")


def test_out_of_range_numbers_are_a_reason_not_a_crash() -> None:
    from infercost.usage import formats as F

    for value in (1e30, "1e999999999", float("inf"), "NaN", -(10**19)):
        with pytest.raises(F.RowError, match="is out of range: not a plausible request time"):
            F.timestamp(value, "created")
    assert str(F.timestamp("1000000000", nanoseconds=True)) == "1970-01-01 00:00:01"


# --------------------------------------------------------------------------------------------
# 3. an empty file is said to be empty (the sentence the CLI and REST entry points use too)

EMPTY = (
    " is empty (0 rows): nothing to ingest; give a file with one usage record per line "
    "(JSON Lines), a JSON document or a CSV with a header."
)


@pytest.mark.parametrize("name", ["empty.jsonl", "blank.jsonl"])
@pytest.mark.parametrize("fmt", ["auto", "openai", "anthropic", "vllm", "otel", "litellm",
                                 "generic"])  # fmt: skip
def test_empty_file_is_said_to_be_empty(ledger: Ledger, name: str, fmt: str) -> None:
    from infercost.errors import InputError

    with pytest.raises(InputError) as err:
        ingest(ledger, [EDGE / name], fmt)
    assert str(err.value) == f"{EDGE / name}{EMPTY}"


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet", ".ndjson"])
def test_empty_file_of_any_suffix(ledger: Ledger, tmp_path: Path, suffix: str) -> None:
    from infercost.errors import InputError

    path = tmp_path / f"nothing{suffix}"
    path.write_bytes(b" \n")
    with pytest.raises(InputError, match=r"is empty \(0 rows\): nothing to ingest"):
        ingest(ledger, [path])


def test_empty_file_among_others_is_refused_before_any_is_read(ledger: Ledger) -> None:
    from infercost.errors import InputError

    with pytest.raises(InputError, match=r"empty\.jsonl is empty"):
        ingest(ledger, [EDGE / "openai_times.jsonl", EDGE / "empty.jsonl"])
    assert ledger.raw.execute("SELECT count(*) FROM requests").fetchone() == (0,)
    assert ledger.raw.execute("SELECT count(*) FROM ingests").fetchone() == (0,)


def test_empty_file_exit_status_is_1(tmp_path: Path) -> None:
    """The installed command: one line on stderr, exit status 1 (an input that cannot be
    used, docs/cli.md), nothing written."""
    import subprocess
    import sys

    args = ["usage", "ingest", str(EDGE / "empty.jsonl"), "--format", "openai", "--ledger",
            str(tmp_path / "l.duckdb")]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "infercost", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {EDGE / 'empty.jsonl'}{EMPTY}"
    assert done.stdout == ""


# --------------------------------------------------------------------------------------------
# 4. one wording: "not JSON (...)" once; a count beyond 64 bits is "too large" everywhere

TOO_LARGE = "is 99999999999999999999999, too large a number of tokens"


def test_generic_jsonl_reasons_are_not_doubled(ledger: Ledger) -> None:
    res = ingest(ledger, [EDGE / "generic_counts.jsonl"])
    assert (res.read, res.ingested, res.quarantined) == (4, 1, 3)
    assert reasons(ledger) == {
        1: f"input_tokens {TOO_LARGE}",
        2: "not JSON (Expecting value at column 1)",
        3: "not a JSON object",
    }
    assert stored(ledger) == [("j-4", 4)]


def test_too_large_count_reads_the_same_in_csv_and_json(ledger: Ledger, tmp_path: Path) -> None:
    ingest(ledger, [EDGE / "openai_counts.jsonl"])
    assert reasons(ledger) == {1: f"usage.prompt_tokens {TOO_LARGE}"}
    with Ledger(tmp_path / "csv.duckdb") as other:
        res = ingest(other, [EDGE / "generic_counts.csv"])
        assert (res.read, res.ingested, res.quarantined) == (8, 1, 7)
        assert reasons(other) == {
            2: f"input_tokens {TOO_LARGE}",
            3: "input_tokens is 1.5, not a whole number of tokens",  # not rounded to 2
            4: "input_tokens is 1e3, not a whole number of tokens",
            5: "input_tokens is 0x10, not a whole number of tokens",
            7: "output_tokens is -9223372036854775809, too large a number of tokens",
            # 2^63 - 1 is a whole number but no request's count: quarantined by value
            8: "implausible count: 9223372036854775807 tokens over 1 request(s), more than "
            "100,000,000 a request (no model has a longer context)",
            9: "input_tokens is many, not a whole number of tokens",
        }
        got = other.raw.execute(
            "SELECT row_key, input_tokens, output_tokens FROM requests ORDER BY row_key"
        ).fetchall()
        assert got == [("c-5", 12, 1)]


def test_parquet_float_and_uint64_counts(ledger: Ledger, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "timestamp": ["2025-08-01T08:00:00Z"] * 4, "model": ["gpt-4o-mini"] * 4,
        "provider": ["openai"] * 4, "request_id": ["p-1", "p-2", "p-3", "p-4"],
        "input_tokens": pa.array([10.0, 1.5, 1e30, float("nan")]),
        "output_tokens": pa.array([1, 1, 1, 2**64 - 1], pa.uint64()),
    })  # fmt: skip
    pq.write_table(table, tmp_path / "c.parquet")
    ingest(ledger, [tmp_path / "c.parquet"])
    assert reasons(ledger) == {
        2: "input_tokens is 1.5, not a whole number of tokens",
        3: "input_tokens is 1e+30, too large a number of tokens",
        4: "input_tokens is nan, not a whole number of tokens",
    }
    assert stored(ledger, "row_key, input_tokens") == [("p-1", 10)]


def test_a_header_alone_is_not_empty(ledger: Ledger, tmp_path: Path) -> None:
    """A CSV with only its header reads 0 rows (status 0), not the empty-file error."""
    path = tmp_path / "header.csv"
    path.write_text("timestamp,provider,model,input_tokens,output_tokens\n")
    res = ingest(ledger, [path])
    assert (res.read, res.ingested, res.quarantined) == (0, 0, 0)


def test_a_file_that_fails_after_others_says_what_is_already_in(
    ledger: Ledger, tmp_path: Path
) -> None:
    # QA: `ingest good.csv bad.csv` committed good.csv, then failed on bad.csv without saying
    # so; the message now names what went in, and a rerun only adds duplicates
    head = "timestamp,provider,model,input_tokens,output_tokens,team,request_id\n"
    good = tmp_path / "good.csv"
    good.write_text(head + "2025-08-01T08:00:00Z,openai,gpt-4o-mini,100,10,a,g1\n")
    bad = tmp_path / "bad.csv"  # a header that is not UTF-8: the file cannot be read
    bad.write_bytes(b"tim\xe9" + head.encode()[3:] + b"2025-08-01T08:00:00Z,openai,a,1,1,a,b1\n")
    with pytest.raises(InputError, match=r"good\.csv ingested before it"):
        ingest(ledger, [good, bad])
    (rows,) = ledger.raw.execute("SELECT count(*) FROM requests").fetchone() or (0,)
    assert rows == 1


def test_a_csv_line_that_is_not_utf8_is_quarantined_not_the_file(
    ledger: Ledger, tmp_path: Path
) -> None:
    # QA: one latin-1 byte in a team cell rejected the whole CSV; now that line is quarantined
    # with its byte and column, and the other rows keep their line numbers
    head = "timestamp,provider,model,input_tokens,output_tokens,team,request_id\n"
    src = tmp_path / "latin1.csv"
    src.write_bytes(
        head.encode()
        + b"2025-08-01T08:00:00Z,openai,gpt-4o-mini,100,10,caf\xe9,l1\n"
        + b"2025-08-01T08:00:00Z,openai,gpt-4o-mini,100,10,ok,l2\n"
    )
    res = ingest(ledger, [src])
    assert (res.read, res.ingested, res.quarantined) == (2, 1, 1)
    assert reasons(ledger) == {2: "not UTF-8: byte 0xe9 at column 51; re-save the file as UTF-8"}
    (line,) = ledger.raw.execute("SELECT source_line FROM requests").fetchone() or (0,)
    assert line == 3


def test_a_compressed_file_is_named_as_such(ledger: Ledger, tmp_path: Path) -> None:
    # QA: a .jsonl.gz was "cannot tell the format", and with --format its bytes were
    # quarantined as "not JSON"; gzip's magic bytes (RFC 1952: 1f 8b) say what it is
    import gzip

    packed = tmp_path / "o.jsonl.gz"
    packed.write_bytes(gzip.compress((EDGE / "openai_counts.jsonl").read_bytes()))
    with pytest.raises(InputError, match=r"gzip-compressed.*gunzip o\.jsonl\.gz"):
        ingest(ledger, [packed], "openai")
