"""Ingest usage files into the ledger: read, convert, check invariants, store, in batches.

The common paths are columnar: a JSON Lines file of the openai, anthropic or vllm format is
split into lines (numpy, Arrow) and converted by DuckDB SQL (:func:`.formats.jsonl_select`);
a generic Parquet/CSV file is read by pyarrow and mapped by SQL (:func:`_generic_select`).
Records the SQL cannot convert with certainty, and the sources that need it (JSON documents,
OTLP exports, LiteLLM CSV, generic JSON Lines), go through the Python converters of
:mod:`.formats`, row by row, into the same batch table. The invariants are then checked as
SQL predicates over the whole batch.

Each batch is one DuckDB transaction: its valid rows go to ``requests`` (an anti-join on the
row key against the ledger drops those already stored), its broken rows to ``quarantine``
(file, line, reason, raw text), and the rest are counted as duplicates. A batch is all or
nothing, so a process killed mid-ingest leaves whole batches behind; running the same ingest
again stores the rest and counts the stored ones as duplicates (row keys), so nothing is lost
and nothing doubles.

Row key: the source's request id (OpenAI ``chatcmpl-...``/``resp_...``, Anthropic
``msg_...``, LiteLLM ``request_id``, an OTel span's response id or trace/span id, the
generic ``request_id``); without one, a hash of the record's text (or, for the generic
layout, of its values) plus its occurrence number among identical records of the batch.

Invariants (a row breaking one is quarantined with the reason, never dropped or priced at
$0): counts are whole and non-negative; cache reads + writes <= input; reasoning <= output;
a parseable timestamp from 2015-01-01 to a day after the ingest (:data:`.formats.EARLIEST`,
:data:`.formats.AHEAD`); a model that a price sheet knows, a registered self-hosted
deployment or catalog model, or an explicit ``price_usd``. A CSV row with the wrong number of
fields is quarantined like any other broken row. An empty file (0 bytes or only whitespace)
is refused before any file is read.
After every ingest ``read = ingested + quarantined + duplicates``.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import json
import mmap
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from infercost.catalog import get_model
from infercost.domains import MAX_TOKENS_PER_REQUEST
from infercost.errors import InputError, UnknownNameError
from infercost.usage import formats as F
from infercost.usage.ledger import Ledger, daily_sql
from infercost.usage.prices import PriceBook
from infercost.usage.schema import PARSE_SCHEMA, REQUEST_FIELDS, SELF_HOSTED

BATCH_ROWS = 500_000
"""Rows (JSON Lines: lines) per transaction."""

READ_BYTES = 64 << 20
"""Bytes read at a time from a JSON Lines file."""

REDO_SHARE = 1 / 3
"""JSON Lines: once more than this share of a batch's records read by ``read_json`` needed
their text, the later batches of the file are converted from their lines."""

Progress = Callable[[int], None]


@dataclass
class IngestResult:
    """Counts of one ingest (``read = ingested + quarantined + duplicates``)."""

    ledger: str
    read: int = 0
    ingested: int = 0
    quarantined: int = 0
    duplicates: int = 0
    skipped: int = 0
    """Records that are not requests (Langfuse spans, events, tools, agents): not read."""
    files: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``usage ingest --json`` object, exactly the issue's contract keys (``read``,
        ``ingested``, ``quarantined``, ``duplicates``, ``ledger``); records that are not
        requests are counted in :attr:`skipped` and said by the CLI on stderr."""
        return {
            "read": self.read,
            "ingested": self.ingested,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "ledger": self.ledger,
        }

    def unusable(self, fmt: str) -> str | None:
        """One line naming the first file of which no row could be used (every row
        quarantined, skipped or none at all; duplicates of rows already in the ledger count as
        used unless the ledger holds the file's rows only in its quarantine), or None when
        each file gave at least one row."""
        for f in self.files:
            if f.get("usable", f["ingested"] or f["duplicates"]):
                continue
            how = f"as --format {fmt}" if fmt != "auto" else f"(read as {f['format']})"
            return (
                f"{f['file']}: none of its {f['read']:,} rows could be used {how}: "
                + (f"{f['quarantined']:,} quarantined" if f["quarantined"] else "all already")
                + " in the ledger's quarantine table (with line and reason); fix the file, or "
                "re-run with --format auto if it is another format."
            )
        return None

    def skipped_note(self) -> str | None:
        """One sentence on the records that were not requests, or None when there were none."""
        if not self.skipped:
            return None
        return (
            f"{self.skipped:,} records were not requests (Langfuse spans, events, tools, "
            "agents): skipped, not read"
        )


# --------------------------------------------------------------------------------------------
# format detection


def detect_format(path: Path) -> str:
    """The format of ``path`` from its extension and first record.

    Raises:
        InputError: the format cannot be told; the message says to pass ``--format``.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "generic"
    head = F.read_head(path)
    if suffix == ".csv":
        first = head.splitlines()[0].lower() if head else ""
        return "litellm" if "request_id" in first and "spend" in first else "generic"
    if F.sniff_text(head):
        return "otel"
    for line in head.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            break
        found = F.sniff(obj)
        if found:
            return found
        if isinstance(obj, dict) and "input_tokens" in obj and "model" in obj:
            return "generic"
        break
    doc = F.json_document(path)
    if doc is not None:
        if F.otlp_spans(doc) is not None:
            return "otel"
        if F.langfuse_observations(doc) is not None:
            return "langfuse"
        if F.openai_usage_export(doc) is not None:
            return "openai"
        if F.anthropic_usage_report(doc) is not None:
            return "anthropic"
        if F.litellm_document(doc) is not None:
            return "litellm"
    raise InputError(
        f"cannot tell the format of {path}; pass --format openai|anthropic|litellm|otel|vllm|"
        "langfuse|generic (docs/usage.md describes each)."
    )


# --------------------------------------------------------------------------------------------
# record streams of the JSON sources


def _converter(fmt: str) -> Callable[[Any], F.Fields]:
    table: dict[str, Callable[[Any], F.Fields]] = {
        "openai": F.openai_fields,
        "anthropic": F.anthropic_fields,
        "litellm": F.litellm_fields,
        "vllm": F.vllm_fields,
        "langfuse": _not_langfuse,
        "otel": _not_otel,
    }
    return table[fmt]


def _expand(rec: F.Record, fmt: str) -> Iterator[tuple[F.Record, Callable[[Any], F.Fields]]]:
    """A record, or the records inside it when it is a container: an OpenAI Usage API page,
    an Anthropic usage report, an OTLP export, a Langfuse trace, a JSON array of records."""
    obj = rec.obj
    if rec.error is None:
        inner: Iterator[F.Record] | None = None
        conv: Callable[[Any], F.Fields] = F.otel_fields
        if fmt == "otel":
            inner = F.otlp_spans(obj)
        elif fmt == "langfuse":
            inner, conv = F.langfuse_observations(obj), F.langfuse_fields
            if inner is None:
                yield rec, _not_langfuse
                return
        elif fmt == "openai":
            inner, conv = F.openai_usage_export(obj), F.openai_usage_result_fields
        elif fmt == "anthropic":
            inner, conv = F.anthropic_usage_report(obj), F.anthropic_report_fields
        if inner is None and isinstance(obj, list):
            inner, conv = F.litellm_document(obj), _converter(fmt)
        if inner is not None:
            for sub in inner:
                yield F.Record(rec.line, sub.raw, sub.obj, sub.error), conv
            return
    yield rec, (F.otel_fields if fmt == "otel" else _converter(fmt))


def _not_langfuse(obj: Any) -> F.Fields:
    raise F.RowError(
        "not a Langfuse export (a trace with observations, an observations page or one "
        "observation with usageDetails, type and traceId)"
    )


def _not_otel(obj: Any) -> F.Fields:
    raise F.RowError(
        "not an OpenTelemetry export (an OTLP resourceSpans document, or GenAI spans with "
        "attributes)"
    )


def _records(path: Path, fmt: str) -> Iterator[tuple[F.Record, Callable[[Any], F.Fields]]]:
    """(record, converter) pairs of a JSON Lines, JSON document or CSV source file; a record
    inside a container (export page, OTLP export) carries the container's line."""
    if path.suffix.lower() == ".csv":
        for rec in F.csv_records(path):
            yield rec, _converter(fmt) if fmt != "otel" else F.otel_fields
        return
    head = F.read_head(path, 1 << 20).lstrip()
    first_line = head.split("\n", 1)[0]
    whole = False
    if head[:1] and head[:1] in "{[":
        try:
            json.loads(first_line)
        except json.JSONDecodeError:
            whole = True
    if whole:  # a pretty-printed JSON document
        doc = F.json_document(path)
        if doc is None:
            raise InputError(f"{path} is neither JSON Lines nor one JSON document; fix it.")
        yield from _expand(F.Record(1, "", doc), fmt)
        return
    for rec in F.jsonl_records(path):
        yield from _expand(rec, fmt)


_PARSE_NAMES = PARSE_SCHEMA.names


def _row(fields: F.Fields, rec: F.Record, fmt: str, file: str) -> dict[str, Any]:
    out = {name: fields.get(name) for name, _ in REQUEST_FIELDS}
    out["source_format"] = fmt
    out["source_file"] = file
    out["source_line"] = rec.line
    out["raw"] = rec.raw if fields.get("row_key") is None else None
    out["reason"] = None
    return out


def _bad(rec: F.Record, fmt: str, file: str, reason: str) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(_PARSE_NAMES)
    out.update(source_format=fmt, source_file=file, source_line=rec.line, raw=rec.raw,
               reason=reason)  # fmt: skip
    return out


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=PARSE_SCHEMA)


class _Rows:
    """Records converted one by one (the Python path): canonical rows and broken ones, and
    the streamed chunks of the file so far (a chunk without usage is a fragment of the
    request its stream's final chunk records; a stream without one is quarantined)."""

    def __init__(self, fmt: str, file: str) -> None:
        self.fmt = fmt
        self.file = file
        self.rows: list[dict[str, Any]] = []
        self.fragments: dict[str, tuple[int, str]] = {}  # stream id -> first (line, raw)
        self.fragment_count = 0
        self.finals: set[str] = set()
        self.skipped = 0  # records that are not requests (F.NotRequest)

    def add(self, rec: F.Record, convert: Callable[[Any], F.Fields]) -> None:
        if rec.error is not None:
            self.rows.append(_bad(rec, self.fmt, self.file, rec.error))
        elif F.is_stream_fragment(rec.obj):
            self.fragment_count += 1
            self.fragments.setdefault(str(rec.obj.get("id")), (rec.line, rec.raw))
        else:
            try:
                fields = convert(rec.obj)
            except F.RowError as err:
                self.rows.append(_bad(rec, self.fmt, self.file, str(err)))
            except F.NotRequest:
                self.skipped += 1
            else:
                if isinstance(rec.obj, dict) and rec.obj.get("object") == "chat.completion.chunk":
                    self.finals.add(str(rec.obj.get("id")))
                self.rows.append(_row(fields, rec, self.fmt, self.file))

    def add_line(self, number: int, line: str) -> None:
        """One line of a JSON Lines file, as :func:`.formats.jsonl_records` reads it."""
        text = line.strip()
        if not text:
            return
        try:
            rec = F.Record(number, text, json.loads(text))
        except json.JSONDecodeError as err:
            rec = F.Record(number, text, None, f"not JSON ({err.msg} at column {err.colno})")
        for sub, convert in _expand(rec, self.fmt):
            self.add(sub, convert)

    def take(self) -> list[dict[str, Any]]:
        out, self.rows = self.rows, []
        return out

    def finish(self) -> int:
        """Quarantine the first fragment of each stream without a final chunk; the reads
        that are not rows (the other fragments: duplicates of their request)."""
        orphans = [(sid, where) for sid, where in self.fragments.items() if sid not in self.finals]
        for sid, (line, raw) in orphans:
            self.rows.append(_bad(F.Record(line, raw, None), self.fmt, self.file,
                                  f"stream {sid} has no chunk with usage; request it with "
                                  "stream_options.include_usage"))  # fmt: skip
        return self.fragment_count - len(orphans)


# --------------------------------------------------------------------------------------------
# JSON Lines, in parts of whole lines (numpy finds the newlines)


def _split_lines(chunk: bytes | memoryview) -> pa.Array:
    """The lines of ``chunk`` (each with its newline) as an Arrow string array over the same
    bytes; invalid UTF-8 is replaced as ``bytes.decode(errors="replace")`` does per line."""
    buf = np.frombuffer(chunk, np.uint8)
    ends = np.flatnonzero(buf == 10) + 1
    if buf.size and buf[-1] != 10:
        ends = np.append(ends, buf.size)
    offsets = np.concatenate((np.zeros(1, np.int64), ends.astype(np.int64)))
    lines = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(chunk)]
    )
    try:
        return lines.cast(pa.large_string())
    except pa.ArrowInvalid:  # a newline is never part of a multi-byte sequence: same lines
        return _split_lines(bytes(chunk).decode("utf-8", errors="replace").encode("utf-8"))


_BLANK_FIRST = np.zeros(256, dtype=bool)
_BLANK_FIRST[[9, 10, 11, 12, 13, 32]] = True
_BLANK_BYTES = b" \t\n\r\x0b\x0c"


@dataclass
class _Part:
    """``count`` lines of a JSON Lines file from line ``first``, copied to a temporary file
    of their own, open as ``fd``; ``path`` is the name DuckDB's ``read_json`` reads it by
    (``/proc/self/fd/N`` where the system has it: the file is then already removed, and a
    killed process leaves nothing behind). ``ends`` holds the end of each line in it (a byte
    offset) and ``blank`` the numbers of its blank lines (only ASCII whitespace, which
    :func:`.formats.jsonl_records` skips)."""

    path: Path
    fd: int
    first: int
    count: int
    ends: np.ndarray
    blank: np.ndarray
    name: str = ""  # the file's name while it has one

    def lines(self, numbers: np.ndarray | None = None) -> pa.Table:
        """``(ln, line)`` of the lines ``numbers`` (all when None), each with its newline;
        invalid UTF-8 replaced as :func:`_split_lines` does."""
        size = int(self.ends[-1]) if self.count else 0
        if numbers is None:
            numbers = np.arange(self.first, self.first + self.count, dtype=np.int64)
            return pa.table({"ln": numbers, "line": _split_lines(_pread(self.fd, size, 0))})
        at = numbers - self.first
        starts = np.concatenate((np.zeros(1, np.int64), self.ends[:-1]))[at]
        pairs = zip(starts.tolist(), self.ends[at].tolist(), strict=True)
        if len(at) * 64 < self.count:  # a few lines: read them alone
            chunks = [_pread(self.fd, b - a, a) for a, b in pairs]
        else:
            data = _pread(self.fd, size, 0)
            chunks = [data[a:b] for a, b in pairs]
        text = [_split_lines(chunk)[0].as_py() for chunk in chunks]
        return pa.table({"ln": numbers, "line": pa.array(text, pa.large_string())})


_PROC_FD = Path("/proc/self/fd")


def _pread(fd: int, size: int, offset: int) -> bytes:
    """``size`` bytes of file ``fd`` from ``offset`` (fewer at its end)."""
    out = []
    while size > 0:
        if hasattr(os, "pread"):
            data = os.pread(fd, size, offset)
        else:  # pragma: no cover - systems without pread
            os.lseek(fd, offset, os.SEEK_SET)
            data = os.read(fd, size)
        if not data:
            break
        out.append(data)
        size -= len(data)
        offset += len(data)
    return b"".join(out) if len(out) != 1 else out[0]


def _copy_range(src: int, dst: int, offset: int, size: int) -> None:
    """Append ``size`` bytes of file ``src`` from ``offset`` to file ``dst`` (in the kernel
    where the system can: ``copy_file_range``)."""
    while size > 0:
        done = 0
        if hasattr(os, "copy_file_range"):
            try:
                done = os.copy_file_range(src, dst, size, offset)
            except OSError:  # another file system on an older kernel, ...
                done = 0
        if done <= 0:
            data = _pread(src, min(size, READ_BYTES), offset)
            if not data:
                raise InputError("the file shrank while it was being read; ingest it again.")
            done = os.write(dst, data)
        offset += done
        size -= done


_WILLNEED: int | None = getattr(mmap, "MADV_WILLNEED", None)
"""Where the system has it, each mapped window of a JSON Lines file is asked for ahead
(``madvise``): a file the page cache no longer holds is then read in large requests rather
than faulted in page by page (on a 660 MB file just evicted from the cache: 0.5 s instead
of 0.9-1.9 s, a fifth of the CPU)."""


_SCAN_BYTES = 1 << 20
"""Bytes compared at a time when looking for newlines: the comparison's mask is reused and
stays in the cache (a mask of the whole window costs its page faults; 0.11 against
0.19-0.35 CPU s on 330 MB)."""


def _newline_ends(buf: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """The offset after each newline of ``buf`` (bytes), ``scratch`` a boolean work array."""
    out = []
    for at in range(0, len(buf), len(scratch)):
        block = buf[at : at + len(scratch)]
        mask = scratch[: len(block)]
        np.equal(block, 10, out=mask)
        found = np.flatnonzero(mask)
        found += at + 1
        out.append(found)
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def _newlines(fd: int, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per window of about :data:`READ_BYTES` of the file ``fd`` (mapped, not copied): the
    end of each line that ends in it (the offset after its newline, or the file's size for a
    last line without one) and the first byte of each of those lines (10 for an empty one)."""
    step = max(READ_BYTES // mmap.ALLOCATIONGRANULARITY, 1) * mmap.ALLOCATIONGRANULARITY
    scratch = np.empty(min(_SCAN_BYTES, step), dtype=bool)
    start = 0  # of the line not ended yet
    first = 0  # its first byte
    for at in range(0, size, step):
        length = min(step, size - at)
        with mmap.mmap(fd, length, offset=at, access=mmap.ACCESS_READ) as window:
            if _WILLNEED is not None:  # read the window ahead, not one page fault at a time
                window.madvise(_WILLNEED)
            buf = np.frombuffer(window, np.uint8)
            ends = _newline_ends(buf, scratch)
            if at + length == size and (not len(ends) or ends[-1] != length):
                ends = np.append(ends, length)
            if start == at:  # the line starts with this window
                first = int(buf[0])
            heads = np.empty(len(ends), np.uint8)
            if len(ends):
                heads[0] = first
                heads[1:] = buf[ends[:-1]]
                last = int(ends[-1])
                start = at + last
                if last < length:
                    first = int(buf[last])
            del buf
        yield ends + at, heads


def _new_part_file(folder: Path) -> tuple[int, str]:
    """A file for one part: unnamed (``O_TMPFILE``) where the system can read it back by
    descriptor, so a process killed at any moment leaves nothing behind; else a named
    temporary file (its name, to remove)."""
    if _PROC_FD.is_dir() and hasattr(os, "O_TMPFILE"):
        try:
            return os.open(folder, os.O_TMPFILE | os.O_RDWR, 0o600), ""
        except OSError:  # a file system without unnamed files
            pass
    return tempfile.mkstemp(".jsonl", "infercost-part-", folder)


def _jsonl_parts(path: Path, rows: int, folder: Path) -> Iterator[_Part]:
    """The lines of a JSON Lines file in parts of ``rows`` lines (the last one shorter), each
    copied to a temporary file in ``folder``, numbered from 1 as
    :func:`.formats.jsonl_records` numbers them. A part's file is closed (and removed) when
    the next one is asked for."""
    number = 1  # of the part's first line
    count = 0  # lines in the part
    begin = 0  # offset of the part's first line
    out = -1  # the part being written
    name = ""
    ends: list[np.ndarray] = []
    blank: list[np.ndarray] = []
    done_part: _Part | None = None

    def release() -> None:
        nonlocal done_part
        if done_part is not None:
            os.close(done_part.fd)
            if done_part.name:
                Path(done_part.name).unlink(missing_ok=True)
            done_part = None

    def close(end: int) -> _Part:
        nonlocal out, count, ends, blank, number, begin, name, done_part
        _copy_range(fd, out, begin, end - begin)
        if not name:  # an unnamed file (O_TMPFILE): read by descriptor, nothing to remove
            read, out = out, -1
            where, kept = _PROC_FD / str(read), ""
        else:
            os.close(out)
            out = -1
            read = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            where, kept = Path(name), name
            if _PROC_FD.is_dir():  # read by descriptor: the name can go now
                os.unlink(name)
                where, kept = _PROC_FD / str(read), ""
        name = ""
        part = _Part(where, read, number, count,
                     np.concatenate(ends) - begin if ends else np.zeros(0, np.int64),
                     np.concatenate(blank) if blank else np.zeros(0, np.int64), kept)  # fmt: skip
        done_part = part
        number += count
        begin = end
        count = 0
        ends, blank = [], []
        return part

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        line_start = 0
        for line_ends, heads in _newlines(fd, size):
            starts = np.concatenate((np.array([line_start], np.int64), line_ends[:-1]))
            if len(line_ends):
                line_start = int(line_ends[-1])
            maybe = np.flatnonzero(_BLANK_FIRST[heads])
            blanks = np.array(
                [i for i in maybe
                 if not _pread(fd, int(line_ends[i] - starts[i]), int(starts[i])).strip(
                     _BLANK_BYTES)],
                dtype=np.int64,
            )  # fmt: skip
            done = 0
            while done < len(line_ends):
                if out < 0:
                    release()
                    out, name = _new_part_file(folder)
                take = min(rows - count, len(line_ends) - done)
                ends.append(line_ends[done : done + take])
                inside = blanks[(blanks >= done) & (blanks < done + take)]
                blank.append(inside - done + number + count)
                count += take
                done += take
                if count >= rows:
                    yield close(int(line_ends[done - 1]))
        if out >= 0 and count:
            yield close(line_start)
    finally:
        if out >= 0:
            os.close(out)
        if name:
            Path(name).unlink(missing_ok=True)
        release()
        os.close(fd)


# --------------------------------------------------------------------------------------------
# the generic layout, normalised in SQL


_GENERIC_ALIASES = {
    "ts": ("timestamp", "ts", "time", "created_at"),
    "row_key": ("request_id", "row_key", "id"),
    "input_tokens": ("input_tokens", "prompt_tokens"),
    "cached_input_tokens": ("cached_input_tokens", "cache_read_tokens", "cached_tokens"),
    "cache_write_tokens": ("cache_write_tokens", "cache_creation_tokens"),
    "output_tokens": ("output_tokens", "completion_tokens"),
}


def _generic_select(schema: pa.Schema, fmt: str) -> str:
    """SQL mapping a generic-layout relation ``g`` onto the parse schema (one parameter: the
    file name). Its ``_line`` column gives line numbers; ``_error`` and ``_raw`` columns (JSON
    Lines) carry parse errors and the line's text."""
    internal = {"_line", "_error", "_raw"}
    names = set(schema.names) - internal

    def pick(name: str) -> str | None:
        for alias in _GENERIC_ALIASES.get(name, (name,)):
            if alias in names:
                return f'g."{alias}"'
        return None

    def text(name: str) -> str:
        col = pick(name)
        return f"CAST({col} AS VARCHAR)" if col else "CAST(NULL AS VARCHAR)"

    ts = pick("ts")
    if ts is None:
        ts_sql = "CAST(NULL AS TIMESTAMP)"
    else:  # a Unix time in s, ms, µs or ns by its size, exact (F.epoch_sql), or ISO 8601
        kind = schema.field(ts[3:-1]).type
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            ts_sql = f"CAST({ts} AS TIMESTAMP)"
        elif pa.types.is_integer(kind):  # beyond BIGINT (uint64): past any plausible time
            ts_sql = F.epoch_int_sql(f"TRY_CAST({ts} AS BIGINT)")
        elif pa.types.is_floating(kind):  # by its shortest text: DOUBLE -> DECIMAL rounds
            ts_sql = F.epoch_sql(f"TRY_CAST(CAST({ts} AS VARCHAR) AS DECIMAL(30, 9))")
        else:
            iso = f"TRY_CAST(TRY_CAST({ts} AS TIMESTAMPTZ) AS TIMESTAMP)"
            ts_text = f"trim(CAST({ts} AS VARCHAR))"
            whole = F.epoch_int_sql(f"TRY_CAST({ts_text} AS BIGINT)")
            other = F.epoch_sql(f"TRY_CAST({ts_text} AS DECIMAL(30, 9))")
            # CASE, not coalesce: each reading only for the rows the earlier ones left
            ts_sql = (
                f"CASE WHEN {iso} IS NOT NULL THEN {iso} "
                f"WHEN regexp_full_match({ts_text}, '-?[0-9]{{1,18}}') THEN {whole} "
                f"ELSE {other} END"
            )
    counts = {}
    checks = []
    for name in ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
                 "reasoning_tokens", "requests"):  # fmt: skip
        col = pick(name)
        if col is None:
            counts[name] = "CAST(NULL AS BIGINT)"
            continue
        kind = schema.field(col[3:-1]).type
        if pa.types.is_signed_integer(kind) or kind in (pa.uint8(), pa.uint16(), pa.uint32()):
            counts[name] = f"CAST({col} AS BIGINT)"
            continue
        # as :func:`.formats.count` reads a count: a whole number (text: optional sign and
        # digits; DuckDB's own cast would round "1.5" and read "1e3" or "0x10"), within
        # 64 bits; the reasons are its reasons
        if pa.types.is_integer(kind):  # uint64
            whole, value = "true", f"TRY_CAST({col} AS BIGINT)"
        elif pa.types.is_floating(kind):
            whole = f"(isfinite({col}) AND {col} = floor({col}))"
            value = f"CASE WHEN {whole} THEN TRY_CAST({col} AS BIGINT) END"
        else:
            trimmed = f"trim(CAST({col} AS VARCHAR))"
            whole = f"regexp_full_match({trimmed}, '[-+]?[0-9]+')"
            value = f"CASE WHEN {whole} THEN TRY_CAST({trimmed} AS BIGINT) END"
        counts[name] = value
        shown = f"'{name} is ' || CAST({col} AS VARCHAR)"
        checks.append(
            f"WHEN {col} IS NOT NULL AND NOT {whole} "
            f"THEN {shown} || ', not a whole number of tokens' "
            f"WHEN {col} IS NOT NULL AND {value} IS NULL "
            f"THEN {shown} || ', too large a number of tokens'"
        )
    price = pick("price_usd")
    if price is not None:
        checks.append(
            f"WHEN {price} IS NOT NULL AND TRY_CAST({price} AS DECIMAL(38, 12)) IS NULL "
            f"THEN 'price_usd ' || CAST({price} AS VARCHAR) || ' is not a number'"
        )
    ts_check = (
        f"WHEN {ts} IS NOT NULL AND ({ts_sql}) IS NULL THEN 'timestamp ' || CAST({ts} AS VARCHAR) "
        f"|| CASE WHEN TRY_CAST(CAST({ts} AS VARCHAR) AS DOUBLE) IS NOT NULL "
        "THEN ' is out of range: not a plausible request time' "
        "ELSE ' is not ISO 8601 or Unix seconds' END"
        if ts
        else ""
    )
    batch = pick("batch")
    tier = text("service_tier")
    tier_sql = f"lower(coalesce({tier}, 'standard'))"
    tier_sql = (
        f"CASE WHEN list_contains(['default', 'auto', 'standard_only', 'on_demand'], "
        f"{tier_sql}) THEN 'standard' ELSE {tier_sql} END"
    )
    if batch is not None:
        tier_sql = (
            f"CASE WHEN lower(CAST({batch} AS VARCHAR)) = 'true' THEN 'batch' ELSE {tier_sql} END"
        )
    parse_error = "WHEN g._error IS NOT NULL THEN g._error" if "_error" in schema.names else ""
    reason = f"""CASE {parse_error} {ts_check} {" ".join(checks)}
        WHEN {text("model")} IS NULL THEN 'no model'
        WHEN {counts["input_tokens"]} IS NULL THEN 'no input_tokens'
        WHEN {counts["output_tokens"]} IS NULL THEN 'no output_tokens'
        END"""
    # the row as the file has it, for quarantine (the internal columns left out)
    row = ", ".join(
        f"'{n.replace(chr(39), chr(39) * 2)}': _row.\"{n.replace(chr(34), chr(34) * 2)}\""
        for n in schema.names
        if n not in internal
    )
    raw_sql = f"CAST(to_json({{{row}}}) AS VARCHAR)" if row else "'{}'"
    if "_raw" in schema.names:
        raw_sql = f"coalesce(_row._raw, {raw_sql})"
    provider = pick("provider")
    provider_sql = f"coalesce(lower({text('provider')}), 'unknown')" if provider else "'unknown'"
    deployment = text("deployment")
    return f"""
      SELECT * EXCLUDE (_row), CASE WHEN reason IS NOT NULL THEN {raw_sql} END AS raw
      FROM (SELECT {text("row_key")} AS row_key, {ts_sql} AS ts, {provider_sql} AS provider,
        {text("model")} AS model, coalesce({counts["requests"]}, 1) AS requests,
        {counts["input_tokens"]} AS input_tokens,
        coalesce({counts["cached_input_tokens"]}, 0) AS cached_input_tokens,
        coalesce({counts["cache_write_tokens"]}, 0) AS cache_write_tokens,
        {counts["output_tokens"]} AS output_tokens,
        coalesce({counts["reasoning_tokens"]}, 0) AS reasoning_tokens,
        {tier_sql} AS service_tier, {text("context_tier")} AS context_tier,
        TRY_CAST({pick("latency_s") or "NULL"} AS DOUBLE) AS latency_s,
        coalesce({text("status")}, 'ok') AS status, {text("team")} AS team, {text("app")} AS app,
        {text("user")} AS "user", {text("api_key")} AS api_key, {text("tags")} AS tags,
        CASE WHEN {provider_sql} = '{SELF_HOSTED}' THEN coalesce({deployment}, {text("model")})
             ELSE {deployment} END AS deployment,
        {text("price_usd")} AS price_usd, CAST(NULL AS VARCHAR) AS reported_usd,
        '{fmt}' AS source_format, CAST(? AS VARCHAR) AS source_file,
        CAST(g._line AS BIGINT) AS source_line,
        {reason} AS reason, g AS _row
      FROM g)"""


def _numbered(batch: pa.RecordBatch, before: int) -> pa.Table:
    """``batch`` with a ``_line`` column: the line number of each row (``before`` + 1, ...)."""
    table = pa.Table.from_batches([batch])
    if "_line" in table.schema.names:
        return table
    lines = np.arange(before + 1, before + 1 + table.num_rows, dtype=np.int64)
    return table.append_column("_line", pa.array(lines))


def _wrong_columns(actual: int, expected: int) -> str:
    """The quarantine reason of a CSV row with ``actual`` fields under a header of
    ``expected`` columns (the same for every CSV reader)."""
    return f"wrong number of columns ({actual}, header has {expected})"


class _CsvSkips:
    """The lines pyarrow's CSV reader left out (its ``invalid_row_handler``): a row with the
    wrong number of fields becomes a quarantined row (line, text, reason); a line of only
    spaces is only counted, so the rows after it keep their line numbers."""

    def __init__(self) -> None:
        self.bad: list[tuple[int | None, str, str]] = []  # not yet put in a batch
        self.lines: list[int] = []  # left-out line numbers not yet passed by the numbering

    def __call__(self, row: pacsv.InvalidRow) -> str:
        if row.number is not None:
            self.lines.append(int(row.number))
        if row.text.strip():
            reason = _wrong_columns(row.actual_columns, row.expected_columns)
            self.bad.append((row.number, row.text, reason))
        return "skip"

    def numbers(self, first: int, count: int) -> np.ndarray:
        """Line numbers of ``count`` rows read from line ``first`` on, the left-out lines
        skipped."""
        skipped = np.array(sorted(n for n in self.lines if n >= first), dtype=np.int64)
        span = np.arange(first, first + count + len(skipped), dtype=np.int64)
        return span[~np.isin(span, skipped)][:count]

    def passed(self, line: int) -> None:
        """Forget the left-out lines before ``line``."""
        self.lines = [n for n in self.lines if n >= line]

    def table(self, names: list[str]) -> pa.Table | None:
        """The rows with the wrong number of fields reported so far (each column NULL, with
        ``_line``, ``_raw`` and ``_error``), or None."""
        if not self.bad:
            return None
        bad, self.bad = self.bad, []
        cols: dict[str, pa.Array] = {n: pa.nulls(len(bad), pa.string()) for n in names}
        cols["_line"] = pa.array([b[0] for b in bad], pa.int64())
        cols["_raw"] = pa.array([b[1] for b in bad], pa.string())
        cols["_error"] = pa.array([b[2] for b in bad], pa.string())
        return pa.table(cols)


def _without_blank_rows(table: pa.Table, names: list[str]) -> pa.Table:
    """``table`` less its rows whose every cell is empty (a blank line, which the reader
    keeps as such a row so that the rows after it keep their line numbers)."""
    if not names:
        return table
    blank = functools.reduce(pc.and_, (pc.is_null(table[n]) for n in names))
    if not pc.any(blank).as_py():
        return table
    return table.filter(pc.invert(blank))


def _is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8 (an incremental decoder over 16 MB chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 24):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _utf8_lines_only(path: Path) -> tuple[IO[bytes], list[tuple[int | None, str, str]]]:
    """A copy of a CSV whose lines that are not UTF-8 are left empty (so every other row keeps
    its line number; the reader counts an empty line and moves on), and those lines as
    quarantine rows (line, text with the bad bytes replaced, reason). The header must be
    UTF-8.

    Raises:
        InputError: the header line is not UTF-8.
    """
    # unnamed where the system allows (nothing left behind); the caller closes it
    copy = tempfile.TemporaryFile()  # noqa: SIM115
    bad: list[tuple[int | None, str, str]] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as err:
                if number == 1:
                    copy.close()
                    raise InputError(
                        f"cannot read {path} as CSV: the header line is not UTF-8 (byte "
                        f"0x{raw[err.start]:02x} at column {err.start + 1}); re-save the file "
                        "as UTF-8."
                    ) from None
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                reason = (
                    f"not UTF-8: byte 0x{raw[err.start]:02x} at column {err.start + 1}; "
                    "re-save the file as UTF-8"
                )
                bad.append((number, text, reason))
                copy.write(b"\n")
                continue
            copy.write(raw)
    copy.seek(0)
    return copy, bad


def _csv_batches(path: Path) -> Iterator[pa.Table]:
    """Arrow tables of a generic CSV file (every column read as text), with ``_line``; a row
    with too few or too many fields is quarantined with its line, not an error of the file.

    Read without threads (as fast here, 2M rows), so that pyarrow knows each left-out row's
    line number, and with blank lines kept as rows of empty cells (dropped once numbered), so
    that the rows after them keep theirs. A line of only empty cells is skipped like a blank
    line, as :func:`.formats.csv_records` does."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline().strip().split(",")
    if not header or header == [""]:
        raise InputError(
            f"cannot read {path} as CSV (no rows: the file is empty); give a CSV file with a "
            "header row (see docs/usage.md, the generic layout)."
        )
    opts = pacsv.ConvertOptions(
        column_types={h: pa.string() for h in header}, strings_can_be_null=True
    )
    skips = _CsvSkips()
    source: Path | IO[bytes] = path
    if not _is_utf8(path):
        source, not_utf8 = _utf8_lines_only(path)
        skips.bad.extend(not_utf8)
    try:
        try:
            reader = pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(block_size=64 << 20, use_threads=False),
                parse_options=pacsv.ParseOptions(
                    ignore_empty_lines=False, invalid_row_handler=skips
                ),
                convert_options=opts,
            )
        except (pa.ArrowInvalid, OSError) as err:
            raise InputError(
                f"cannot read {path} as CSV ({str(err).splitlines()[0]}); give a CSV file "
                "with a header row (see docs/usage.md, the generic layout)."
            ) from None
        names = reader.schema.names
        line = 2  # of the next row: the header is line 1
        try:
            for batch in reader:
                table = pa.Table.from_batches([batch])
                numbers = skips.numbers(line, table.num_rows)
                table = table.append_column("_line", pa.array(numbers))
                if len(numbers):
                    line = int(numbers[-1]) + 1
                    skips.passed(line)
                    table = _without_blank_rows(table, names)
                bad = skips.table(names)
                if bad is not None:
                    table = pa.concat_tables([table, bad], promote_options="default")
                if table.num_rows:
                    yield table
        except pa.ArrowInvalid as err:
            raise InputError(
                f"cannot read {path} as CSV after line {line - 1} ({str(err).splitlines()[0]}); "
                "fix the file or convert it to JSONL, whose bad lines are quarantined."
            ) from None
        bad = skips.table(names)
        if bad is not None:
            yield bad
    finally:
        if not isinstance(source, Path):
            source.close()  # the UTF-8-only copy


def _generic_batches(path: Path, rows: int) -> Iterator[pa.Table]:
    """Arrow tables of a generic Parquet/CSV/JSONL file, with a ``_line`` column."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            pfile = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as err:
            raise InputError(f"cannot read {path} as Parquet: {err}") from None
        done = 0
        for batch in pfile.iter_batches(batch_size=rows):
            yield _numbered(batch, done)
            done += batch.num_rows
    elif suffix == ".csv":
        yield from _csv_batches(path)
    else:
        buf: list[dict[str, Any]] = []
        for rec in F.jsonl_records(path):
            obj = rec.obj if isinstance(rec.obj, dict) else {}
            row = {
                k: None if v is None else json.dumps(v) if isinstance(v, dict | list) else str(v)
                for k, v in obj.items()
            }
            row["_line"] = str(rec.line)
            row["_raw"] = rec.raw
            row["_error"] = rec.error or (None if obj else "not a JSON object")
            buf.append(row)
            if len(buf) >= rows:
                yield pa.Table.from_pylist(buf)
                buf = []
        if buf:
            yield pa.Table.from_pylist(buf)


# --------------------------------------------------------------------------------------------
# validation and storage

_KEY_VALUES = (
    "p.ts, p.provider, p.model, p.requests, p.input_tokens, p.cached_input_tokens, "
    "p.cache_write_tokens, p.output_tokens, p.reasoning_tokens, p.service_tier, p.team, p.app, "
    'p."user", p.api_key, p.tags, p.price_usd'
)


def _checked(parse_sql: str) -> str:
    """SQL over a parse-schema relation adding the invariant checks (``reason``: the parse
    reason, else the first invariant broken; a model no price sheet knows is marked later,
    by :meth:`_Store.store`), the row key (``row_key``; a hashed one ends in ``#1``, see
    :meth:`_Store._renumber`), ``hashed`` and ``first_seen``."""
    return f"""
SELECT p.* EXCLUDE (reason, row_key),
  coalesce(p.reason, CASE
    WHEN p.ts IS NULL THEN 'no timestamp; every row needs a time to be priced at'
    WHEN p.ts < TIMESTAMP '{F.EARLIEST:%Y-%m-%d %H:%M:%S}'
      THEN 'time read as ' || CAST(p.ts AS VARCHAR) || ' UTC is before {F.EARLIEST:%Y-%m-%d}: '
           || 'not a plausible request time'
    WHEN p.ts > CAST(timezone('UTC', now()) AS TIMESTAMP)
                + INTERVAL {int(F.AHEAD.total_seconds())} SECOND
      THEN 'time read as ' || CAST(p.ts AS VARCHAR) || ' UTC is more than a day after the '
           || 'ingest: not a plausible request time'
    WHEN p.model IS NULL THEN 'no model'
    WHEN p.input_tokens IS NULL OR p.output_tokens IS NULL THEN 'no input or output tokens'
    WHEN least(p.input_tokens, p.cached_input_tokens, p.cache_write_tokens, p.output_tokens,
               p.reasoning_tokens, p.requests) < 0
      THEN 'negative count: input ' || p.input_tokens || ', cached ' || p.cached_input_tokens
           || ', cache write ' || p.cache_write_tokens || ', output ' || p.output_tokens
           || ', reasoning ' || p.reasoning_tokens || ', requests ' || p.requests
    WHEN CAST(greatest(p.input_tokens, p.output_tokens) AS DOUBLE)
         > CAST(greatest(p.requests, 1) AS DOUBLE) * {MAX_TOKENS_PER_REQUEST}
      THEN 'implausible count: ' || greatest(p.input_tokens, p.output_tokens)
           || ' tokens over ' || greatest(p.requests, 1) || ' request(s), more than '
           || '{MAX_TOKENS_PER_REQUEST:,} a request (no model has a longer context)'
    WHEN p.cached_input_tokens + p.cache_write_tokens > p.input_tokens
      THEN 'cache reads (' || p.cached_input_tokens || ') + writes ('
           || p.cache_write_tokens || ') exceed input tokens (' || p.input_tokens || ')'
    WHEN p.reasoning_tokens > p.output_tokens
      THEN 'reasoning tokens (' || p.reasoning_tokens || ') exceed output tokens ('
           || p.output_tokens || ')'
    WHEN p.price_usd IS NOT NULL AND TRY_CAST(p.price_usd AS DECIMAL(38, 12)) IS NULL
      THEN 'price_usd ' || p.price_usd || ' is not a number'
    WHEN TRY_CAST(p.price_usd AS DECIMAL(38, 12)) < 0
      THEN 'price_usd ' || p.price_usd || ' is negative'
  END) AS reason,
  coalesce(p.row_key, 'h:' || md5(coalesce(p.raw, concat_ws('|', {_KEY_VALUES}))) || '#1')
    AS row_key,
  p.row_key IS NULL AS hashed,
  true AS first_seen
FROM ({parse_sql}) p"""


_UNKNOWN_REASON = (
    "CASE WHEN _p.provider = 'self-hosted' "
    "THEN 'self-hosted model ''' || coalesce(_p.deployment, _p.model) || ''' is neither a "
    "registered deployment nor a catalog model; register it with --fleet' "
    "ELSE 'unknown model ''' || _p.model || ''' at provider ''' || _p.provider || ''' and "
    "no explicit price_usd; add a price row under $INFERCOST_CATALOG_DIR/api_prices/ or a "
    "price_usd column' END"
)

_REQUEST_COLUMNS = ", ".join(f'"{name}"' for name, _ in REQUEST_FIELDS)

_INSERT_SQL = f"""
INSERT INTO requests ({_REQUEST_COLUMNS})
SELECT {", ".join(f'v."{n}"' for n, _ in REQUEST_FIELDS)} FROM _p v
WHERE v.reason IS NULL AND v.first_seen
"""

_STORED_SQL = """
CREATE OR REPLACE TEMP TABLE _stored AS SELECT r.row_key FROM requests r
WHERE r.row_key IN (SELECT row_key FROM _p WHERE reason IS NULL AND first_seen)
"""
"""Keys of the batch already in the ledger (a semi-join built on the batch: the ledger's
row groups whose key range misses the batch's are skipped)."""

_QUARANTINE_SQL = """
INSERT INTO quarantine
SELECT v.row_key, v.source_format, v.source_file, v.source_line, v.reason, v.raw FROM _p v
WHERE v.reason IS NOT NULL AND v.first_seen
  AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.row_key = v.row_key)
  AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.row_key = v.row_key)
"""


class _Known:
    """Which (provider, model, deployment) a price sheet or the fleet knows, cached; and the
    rows this ingest added to ``requests_daily``."""

    def __init__(self, ledger: Ledger, prices: PriceBook) -> None:
        self.prices = prices
        self.cache: dict[tuple[str, str, str | None], bool] = {}
        self.deployments = {d.name for d in ledger.deployments()}
        self.daily_rows = 0  # rows this ingest added to requests_daily

    def __call__(self, provider: str, model: str, deployment: str | None) -> bool:
        key = (provider, model, deployment)
        if key not in self.cache:
            self.cache[key] = self._check(provider, model, deployment)
        return self.cache[key]

    def _check(self, provider: str, model: str, deployment: str | None) -> bool:
        if provider == SELF_HOSTED:
            if deployment in self.deployments or model in self.deployments:
                return True
            try:
                get_model(model)
            except UnknownNameError:
                return False
            return True
        return self.prices.knows(provider, model)


class _Balance:
    """Where the batch's last steps (:meth:`_Store.prepare`, its rollup rows) run: on the
    preparing thread when, on the last batch, it spent less CPU than the committing thread
    (each without those steps), else on the committing thread. The two threads then finish
    their batches about together (generic Parquet: reading is cheap, storing dear; OpenAI
    JSON Lines: parsing is the dearer), so two cores take the file in less time."""

    def __init__(self) -> None:
        self.preparing = 0.0
        self.committing = 0.0

    def prepare_here(self) -> bool:
        return self.preparing < self.committing


class _Store:
    """One batch table ``_p`` (parse schema, checked) on its own DuckDB connection:
    :meth:`prepare` finishes the checks, :meth:`commit` stores it in one transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, known: _Known,
                 balance: _Balance | None = None) -> None:  # fmt: skip
        self.raw = con
        self.known = known
        self.balance = balance or _Balance()
        self.read = self.bad = 0
        self.prepared = False
        self.daily = False  # ``_p_daily``: the batch's rollup rows, if none of its keys is stored
        self.moved = 0.0  # thread CPU seconds of those steps, on the thread that took them

    def ready(self) -> None:
        """The batch is loaded: :meth:`prepare` it and aggregate its rollup rows now, on the
        preparing thread, when that thread had less to do than the committing one on the
        last batch; else :meth:`commit` does both (see :class:`_Balance`)."""
        if not self.balance.prepare_here():
            return
        started = time.thread_time()
        self.prepare()
        self.raw.execute(
            "CREATE OR REPLACE TEMP TABLE _p_daily AS "
            f"{daily_sql('_p', 'r.reason IS NULL AND r.first_seen')}"
        )
        self.daily = True
        self.moved = time.thread_time() - started

    def load(self, parse_sql: str, params: list[Any] | None = None, table: str = "_p") -> None:
        """Make ``_p`` (or ``table``) from a parse-schema SELECT over registered relations."""
        self.raw.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {_checked(parse_sql)}", params)

    def load_rows(self, rows: list[dict[str, Any]]) -> None:
        """Make ``_p`` from rows of the Python converters."""
        self.raw.register("_rows", _table(rows))
        try:
            self.load("SELECT * FROM _rows")
        finally:
            self.raw.unregister("_rows")

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        """Append rows of the Python converters to ``_p``."""
        self.raw.register("_rows", _table(rows))
        try:
            self.raw.execute(f"INSERT INTO _p BY NAME {_checked('SELECT * FROM _rows')}")
        finally:
            self.raw.unregister("_rows")

    def _mark_unknown(self) -> None:
        """A model no price sheet knows, without an explicit price, is a reason."""
        triples = self.raw.execute(
            "SELECT DISTINCT provider, model, deployment FROM _p WHERE reason IS NULL AND "
            "price_usd IS NULL"
        ).fetchall()
        unknown = [key for key in triples if not self.known(*key)]
        if not unknown:
            return
        table = pa.table({
            "provider": pa.array([k[0] for k in unknown], pa.string()),
            "model": pa.array([k[1] for k in unknown], pa.string()),
            "deployment": pa.array([k[2] for k in unknown], pa.string()),
        })  # fmt: skip
        self.raw.register("_unknown", table)
        try:
            self.raw.execute(
                f"UPDATE _p SET reason = {_UNKNOWN_REASON} FROM _unknown u WHERE _p.reason IS "
                "NULL AND _p.price_usd IS NULL AND _p.provider = u.provider AND _p.model = "
                "u.model AND _p.deployment IS NOT DISTINCT FROM u.deployment"
            )
        finally:
            self.raw.unregister("_unknown")

    def _renumber(self) -> None:
        """Keys that occur more than once in the batch: a hashed key gets the occurrence
        number of its record among identical ones (``#2``, ...); of the records sharing a
        source id, the first valid one (by line) is stored, or if none is valid the first is
        quarantined, and the others count as duplicates (so the ledger does not depend on
        where batches end: across batches, too, a valid record is stored unless its id is)."""
        self.raw.execute(
            "CREATE OR REPLACE TEMP TABLE _d AS SELECT rowid AS rid, hashed, row_number() "
            "OVER (PARTITION BY row_key ORDER BY CASE WHEN hashed THEN 0 ELSE "
            "(reason IS NOT NULL)::INTEGER END, source_line, rowid) AS n FROM _p WHERE "
            "row_key IN (SELECT row_key FROM _p GROUP BY row_key HAVING count(*) > 1)"
        )
        self.raw.execute(
            "UPDATE _p SET row_key = substr(_p.row_key, 1, length(_p.row_key) - 1) || _d.n "
            "FROM _d WHERE _p.rowid = _d.rid AND _d.hashed AND _d.n > 1"
        )
        self.raw.execute(
            "UPDATE _p SET first_seen = false FROM _d WHERE _p.rowid = _d.rid AND NOT "
            "_d.hashed AND _d.n > 1"
        )
        self.raw.execute("DROP TABLE _d")

    def prepare(self) -> None:
        """Mark unknown models, number repeated keys, count the batch."""
        self.prepared = True
        self._mark_unknown()
        read, bad, keys = self.raw.execute(
            "SELECT count(*), count(reason), count(DISTINCT row_key) FROM _p"
        ).fetchone() or (0, 0, 0)
        if keys < read:
            self._renumber()
        self.read, self.bad = int(read), int(bad)

    def commit(self) -> tuple[int, int, int]:
        """Store the prepared ``_p`` in one transaction; (read, ingested, quarantined)."""
        raw = self.raw
        started = time.thread_time()
        if not self.prepared:
            self.prepare()
        self.moved = time.thread_time() - started  # now: the steps this thread took on
        held = raw.execute("SELECT count(*) FROM quarantine").fetchone() != (0,)
        raw.begin()
        try:
            raw.execute(_STORED_SQL)
            insert = _INSERT_SQL
            fresh = "r.reason IS NULL AND r.first_seen"
            rollup = "SELECT * FROM _p_daily" if self.daily else daily_sql("_p", fresh)
            if raw.execute("SELECT count(*) FROM _stored").fetchone() != (0,):
                insert += " AND v.row_key NOT IN (SELECT row_key FROM _stored)"
                fresh += " AND r.row_key NOT IN (SELECT row_key FROM _stored)"
                rollup = daily_sql("_p", fresh)
            inserted = raw.execute(insert).fetchone()
            started = time.thread_time()
            (added,) = raw.execute(f"INSERT INTO requests_daily {rollup}").fetchone() or (0,)
            if not self.daily:
                self.moved += time.thread_time() - started
            self.known.daily_rows += int(added)
            quarantined = raw.execute(_QUARANTINE_SQL).fetchone() if self.bad else (0,)
            if held:
                raw.execute(
                    "DELETE FROM quarantine WHERE row_key IN "
                    "(SELECT row_key FROM _p WHERE reason IS NULL AND first_seen)"
                )
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        raw.execute(  # free memory
            "DROP TABLE IF EXISTS _p; DROP TABLE IF EXISTS _stored; DROP TABLE IF EXISTS _p_daily"
        )
        self.prepared = self.daily = False
        return (
            self.read,
            int(inserted[0] if inserted else 0),
            int(quarantined[0] if quarantined else 0),
        )


# --------------------------------------------------------------------------------------------
# the entry point


class _Counts:
    """Running counts of one file; reports progress after each batch."""

    def __init__(self, before: int, on_progress: Progress | None) -> None:
        self.before = before
        self.on_progress = on_progress
        self.read = self.ingested = self.quarantined = self.duplicates = 0

    def __call__(self, read: int, ingested: int, quarantined: int) -> None:
        self.read += read
        self.ingested += ingested
        self.quarantined += quarantined
        self.duplicates += read - ingested - quarantined
        if self.on_progress is not None:
            self.on_progress(self.before + self.read)


Take = Callable[[], _Store]
"""Waits for a batch table that is free (its previous batch committed)."""

Batches = Iterator[tuple[_Store | None, int]]
"""Prepared batches in file order, each with the reads that are not rows of it."""


@contextlib.contextmanager
def _one_thread_per_query(raw: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's ``threads`` at 1 while the block runs (then as it was): ingest's own
    pipeline runs two queries at a time (preparing one batch, committing the one before), so
    the two cores are used without DuckDB's workers, whose hand-offs cost a fifth more CPU
    per row (5.1 against 6.4 us/row on 1M OpenAI JSON Lines rows, 2 cores)."""
    (threads,) = raw.execute("SELECT current_setting('threads')").fetchone() or (1,)
    raw.execute("SET threads = 1")
    try:
        yield
    finally:
        raw.execute(f"SET threads = {int(threads)}")


class _Stopped(Exception):
    """The committing side stopped; the preparing side ends."""


def _pipeline(ledger: Ledger, known: _Known, produce: Callable[[Take], Batches],
              add: _Counts) -> None:  # fmt: skip
    """Prepare batch N+1 (read, convert, check: DuckDB and Python, in a thread, on its own
    connection and batch table) while batch N is inserted and committed; commits stay in
    file order, one transaction each, so a kill leaves whole batches."""
    cons = [ledger.raw.cursor() for _ in range(2)]
    for con in cons:
        con.execute("SET TimeZone = 'UTC'")
    free: queue.Queue[_Store | None] = queue.Queue()
    balance = _Balance()
    for con in cons:
        free.put(_Store(con, known, balance))
    ready: queue.Queue[tuple[_Store | None, int] | BaseException | None] = queue.Queue()
    stop = threading.Event()

    def take() -> _Store:
        store = free.get()
        if store is None or stop.is_set():
            raise _Stopped
        return store

    def work() -> None:
        try:
            started = time.thread_time()
            for item in produce(take):
                if item[0] is not None:
                    balance.preparing = time.thread_time() - started - item[0].moved
                ready.put(item)
                started = time.thread_time()
            ready.put(None)
        except _Stopped:
            pass
        except BaseException as err:  # handed to the committing thread
            ready.put(err)

    thread = threading.Thread(target=work, name="infercost-ingest", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            store, extra = item
            read = ingested = quarantined = 0
            if store is not None:
                started = time.thread_time()
                read, ingested, quarantined = store.commit()
                balance.committing = time.thread_time() - started - store.moved
                store.moved = 0.0
                free.put(store)
            add(read + extra, ingested, quarantined)
    finally:
        stop.set()
        free.put(None)
        thread.join()
        for con in cons:
            con.close()


def ingest(
    ledger: Ledger,
    paths: Iterable[str | Path],
    fmt: str = "auto",
    *,
    prices: PriceBook | None = None,
    batch_rows: int = BATCH_ROWS,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Ingest files into ``ledger``; see the module docstring for keys and invariants.

    Args:
        fmt: ``auto`` (by extension and first record) or one of
            :data:`infercost.usage.formats.FORMATS`.
        batch_rows: rows (JSON Lines: lines) per transaction.
        on_progress: called with the number of records read so far, after each batch.

    Raises:
        InputError: a missing or empty file (0 bytes or only whitespace: "is empty (0
            rows)"; checked for every file before any is read), an unknown format or one that
            cannot be told.
    """
    if fmt != "auto" and fmt not in F.FORMATS:
        raise InputError(f"--format {fmt!r} is unknown; use auto or {', '.join(F.FORMATS)}.")
    files = [Path(p).expanduser() for p in paths]
    for file in files:
        if not file.is_file():
            raise InputError(f"no such file: {file}")
        packed = _compression(file)
        if packed:
            raise InputError(
                f"{file} is {packed}-compressed: ingest reads plain JSON Lines, JSON, CSV or "
                f"Parquet; decompress it first ({_UNPACK[packed]} {file.name})."
            )
        if _is_empty(file):  # the sentence of report.files.refuse_empty_input (CLI, REST)
            raise InputError(
                f"{file} is empty (0 rows): nothing to ingest; give a file with one usage "
                "record per line (JSON Lines), a JSON document or a CSV with a header."
            )
    known = _Known(ledger, prices or PriceBook())
    (daily_before,) = ledger.raw.execute("SELECT count(*) FROM requests_daily").fetchone() or (0,)
    total = IngestResult(ledger=str(ledger.path))
    with _one_thread_per_query(ledger.raw):
        for file in files:
            kind = detect_format(file) if fmt == "auto" else fmt
            add = _Counts(total.read, on_progress)
            produce: Callable[[Take], Batches]
            skipped = [0]  # records that are not requests (Langfuse spans, events, ...)
            if kind == "generic":
                produce = functools.partial(_generic, file, batch_rows)
            elif kind in F.COLUMNAR_FORMATS and _is_json_lines(file):
                produce = functools.partial(_jsonl, file, kind, batch_rows)
            else:
                produce = functools.partial(_records_batches, file, kind, batch_rows,
                                            skipped=skipped)  # fmt: skip
            try:
                _pipeline(ledger, known, produce, add)
            except InputError as err:
                # the files before this one (and this one's committed batches) are in the
                # ledger: say so, so that a rerun is known to be safe (duplicates are skipped)
                done = [f["file"] for f in total.files]
                if not done and not add.read:
                    raise
                kept = (
                    f"{', '.join(done)} ingested before it" if done else "nothing before it"
                ) + (f"; {add.read:,} of its records committed" if add.read else "")
                raise InputError(
                    f"{err} ({kept}; rerunning the same command skips what is already in the "
                    "ledger as duplicates)"
                ) from None
            read, ing, qua, dup = add.read, add.ingested, add.quarantined, add.duplicates
            ledger.raw.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?)",
                [datetime.now(UTC).replace(tzinfo=None), str(file), kind, read, ing, qua, dup],
            )
            total.read += read
            total.ingested += ing
            total.quarantined += qua
            total.duplicates += dup
            total.skipped += skipped[0]
            total.files.append({"file": str(file), "format": kind, "read": read, "ingested": ing,
                                "quarantined": qua, "duplicates": dup,
                                "usable": ing > 0 or (dup > 0 and not _all_quarantined(
                                    ledger, file))})  # fmt: skip
            if skipped[0]:
                total.files[-1]["skipped"] = skipped[0]
    # merge the rollup's rows of one group once this ingest grew it by a tenth or more
    if known.daily_rows and known.daily_rows * 10 >= daily_before:
        ledger.compact_daily()
    return total


#: Leading bytes of compressed files (RFC 1952 gzip, RFC 8878 zstd, bzip2, xz, zip) and the
#: command that unpacks each.
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"BZh", "bzip2"),
          (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"))  # fmt: skip
_UNPACK = {"gzip": "gunzip", "zstd": "unzstd", "bzip2": "bunzip2", "xz": "unxz", "zip": "unzip"}


def _compression(file: Path) -> str:
    """The compression a file's first bytes announce, or ""."""
    with file.open("rb") as fh:
        head = fh.read(6)
    return next((name for magic, name in _MAGIC if head.startswith(magic)), "")


def _all_quarantined(ledger: Ledger, file: Path) -> bool:
    """Whether the ledger holds rows of ``file`` only in its quarantine (so a re-ingest whose
    rows are all duplicates still gave nothing usable)."""
    (kept,) = ledger.raw.execute(
        "SELECT count(*) FROM requests WHERE source_file = ?", [str(file)]
    ).fetchone() or (0,)
    (bad,) = ledger.raw.execute(
        "SELECT count(*) FROM quarantine WHERE source_file = ?", [str(file)]
    ).fetchone() or (0,)
    return bool(kept == 0 and bad > 0)


def _generic(file: Path, batch_rows: int, take: Take) -> Batches:
    """Batches of a generic Parquet/CSV/JSONL file, mapped in SQL."""
    for batch in _generic_batches(file, batch_rows):
        store = take()
        store.raw.register("g", batch)
        try:
            store.load(_generic_select(batch.schema, "generic"), [str(file)])
        finally:
            store.raw.unregister("g")
        store.ready()
        yield store, 0


def _jsonl(file: Path, fmt: str, batch_rows: int, take: Take) -> Batches:
    """Batches of a JSON Lines file converted in SQL (:func:`.formats.jsonl_select`); the
    lines and the attributions the SQL leaves are converted in Python, into the same batch.

    Each batch's lines are copied to a file that DuckDB's ``read_json`` reads (in parallel,
    in file order) into the struct the SQL converts; the records that need their text (see
    ``jsonl_select(lines=False)``) are converted again from their lines. A batch that
    ``read_json`` refuses (a line that is not one JSON object, invalid UTF-8, a repeated
    key) or whose records do not match its lines one for one is converted from its lines,
    as is every later batch once more than :data:`REDO_SHARE` of a batch needed its lines.
    The struct read leaves out wrapped bodies while they are rare (a line with one is read
    again)."""
    name = str(file)
    py = _Rows(fmt, name)
    state = _JsonlState(fmt, name)
    for part in _jsonl_parts(file, batch_rows, Path(tempfile.gettempdir())):
        store = take()
        raw = store.raw
        redo: np.ndarray | None = None
        if state.read_json and _read_part(store, part, state):
            numbers = raw.execute(
                "SELECT source_line FROM _p WHERE NOT _fast ORDER BY source_line"
            ).fetchnumpy()["source_line"]
            if len(numbers):
                raw.execute("DELETE FROM _p WHERE NOT _fast")
                redo = np.asarray(numbers, dtype=np.int64)
                state.read_json = len(redo) <= part.count * REDO_SHARE
                _convert_lines(store, part.lines(redo), state, into="_p", of=part.count)
        else:
            _convert_lines(store, part.lines(), state)
        slow = raw.execute(
            "SELECT source_line, _line FROM _p WHERE NOT _fast ORDER BY source_line"
        ).fetchall()
        if slow:
            raw.execute("DELETE FROM _p WHERE NOT _fast")
            for number, line in slow:
                py.add_line(number, line)
        keys = raw.execute("SELECT DISTINCT _attr FROM _p WHERE _attr IS NOT NULL").fetchall()
        if keys:
            _attribute(raw, [k for (k,) in keys])
        rows = py.take()
        if rows:
            store.add_rows(rows)
        store.ready()
        yield store, 0
    # streams without a chunk that has usage: their first fragment, in a last small batch
    extra = py.finish()
    rows = py.take()
    if rows:
        store = take()
        store.load_rows(rows)
        store.ready()
        yield store, extra
    elif extra:
        yield None, extra


class _JsonlState:
    """The SQL of one JSON Lines file and what its earlier batches decided: the wide struct
    once wrapped bodies are common, the lines instead of ``read_json`` once many records
    needed their text."""

    def __init__(self, fmt: str, name: str) -> None:
        self.fmt = fmt
        self.name = name
        self.wrapped = False
        self.read_json = True
        self.tail = f", '{fmt}' AS source_format, CAST(? AS VARCHAR) AS source_file"

    def lines_sql(self, wrapped: bool) -> str:
        """The conversion of ``_lines``."""
        return f"SELECT *{self.tail} FROM ({F.jsonl_select(self.fmt, wrapped=wrapped)})"

    def file_sql(self, path: Path) -> str:
        """The conversion of the records ``read_json`` reads from ``path``."""
        where = str(path).replace("'", "''")
        source = (
            f"(SELECT t AS j FROM read_json('{where}', format='newline_delimited', "
            f"records=true, compression='uncompressed', "
            f"columns={F.jsonl_columns(self.fmt, self.wrapped)}) t)"
        )
        select = F.jsonl_select(self.fmt, wrapped=self.wrapped, source=source, lines=False)
        return f"SELECT *{self.tail} FROM ({select})"


def _read_part(store: _Store, part: _Part, state: _JsonlState) -> bool:
    """Make ``_p`` from ``part`` read by ``read_json``, with line numbers; False (and no
    ``_p``) when ``read_json`` refuses the part or its records do not match the lines that
    are not blank one for one (each line is at most one record, so equal counts align)."""
    raw = store.raw
    try:
        store.load(state.file_sql(part.path), [state.name])
    except (duckdb.InvalidInputException, duckdb.ConversionException):  # not for read_json
        raw.execute("DROP TABLE IF EXISTS _p")
        return False
    (got,) = raw.execute("SELECT count(*) FROM _p").fetchone() or (0,)
    if got != part.count - len(part.blank):
        raw.execute("DROP TABLE _p")
        return False
    # CREATE TABLE AS keeps the order it read (preserve_insertion_order): row i is the i-th
    # line that is not blank
    if len(part.blank):
        numbers = np.setdiff1d(
            np.arange(part.first, part.first + part.count, dtype=np.int64), part.blank
        )
        raw.register("_numbers", pa.table({"i": np.arange(len(numbers)), "ln": numbers}))
        try:
            raw.execute("UPDATE _p SET source_line = n.ln FROM _numbers n WHERE _p.rowid = n.i")
        finally:
            raw.unregister("_numbers")
    else:
        raw.execute("UPDATE _p SET source_line = rowid + ?", [part.first])
    return True


def _convert_lines(store: _Store, lines: pa.Table, state: _JsonlState,
                   into: str | None = None, of: int = 0) -> None:  # fmt: skip
    """Make ``_p`` (or add to table ``into``) from lines converted by the SQL: lean, then
    the lines with a wrapped body again with the wide struct (from then on the first read
    once they are more than a twentieth of the batch, of ``of`` lines)."""
    raw = store.raw
    target = "_q" if into else "_p"
    raw.register("_lines", lines)
    try:
        store.load(state.lines_sql(state.wrapped), [state.name], table=target)
        if not state.wrapped:
            retry = state.lines_sql(True).replace(
                "FROM _lines",
                f"FROM (SELECT l.* FROM _lines l SEMI JOIN (SELECT source_line FROM {target} "
                "WHERE _retry) r ON l.ln = r.source_line)",
            )
            (again,) = raw.execute(f"SELECT count(*) FROM {target} WHERE _retry").fetchone() or (
                0,
            )
            if again:
                raw.execute(f"CREATE OR REPLACE TEMP TABLE _p2 AS {_checked(retry)}",
                            [state.name])  # fmt: skip
                raw.execute(f"DELETE FROM {target} WHERE _retry")
                raw.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _p2")
                raw.execute("DROP TABLE _p2")
                state.wrapped = again > max(of, len(lines)) // 20
    finally:
        raw.unregister("_lines")
    if into:
        raw.execute(f"INSERT INTO {into} BY NAME SELECT * FROM _q")
        raw.execute("DROP TABLE _q")


def _attribute(raw: duckdb.DuckDBPyConnection, keys: list[str]) -> None:
    """Fill team/app/user/api_key/tags of the ``_p`` rows whose attribution the SQL left to
    :func:`.formats.attribution_of`, once per distinct key."""
    got = [F.attribution_of(k) for k in keys]
    cols = {c: pa.array([g[c] for g in got], pa.string()) for c in (*F.ATTRIBUTION_KEYS, "tags")}
    raw.register("_attrs", pa.table({"k": pa.array(keys, pa.string()), **cols}))
    try:
        raw.execute(
            'UPDATE _p SET team = a.team, app = a.app, "user" = a."user", api_key = a.api_key, '
            "tags = a.tags FROM _attrs a WHERE _p._attr = a.k"
        )
    finally:
        raw.unregister("_attrs")


def _is_empty(path: Path) -> bool:
    """The file holds nothing but ASCII whitespace (0 bytes included); read until the first
    other byte, so a file with records costs one small read."""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 16):
            if chunk.strip(_BLANK_BYTES):
                return False
    return True


def _is_json_lines(path: Path) -> bool:
    """Not CSV, and not one pretty-printed JSON document (as :func:`_records` decides)."""
    if path.suffix.lower() == ".csv":
        return False
    head = F.read_head(path, 1 << 20).lstrip()
    if head[:1] and head[:1] in "{[":
        try:
            json.loads(head.split("\n", 1)[0])
        except json.JSONDecodeError:
            return False
    return True


def _records_batches(file: Path, fmt: str, batch_rows: int, take: Take,
                     skipped: list[int] | None = None) -> Batches:  # fmt: skip
    """Batches of records converted one by one in Python (JSON documents, OTLP exports,
    Langfuse traces, LiteLLM CSV, JSON Lines of the other formats); ``skipped[0]`` gets the
    records that are not requests."""
    py = _Rows(fmt, str(file))

    def batch(extra_read: int = 0) -> tuple[_Store | None, int]:
        rows = py.take()
        if not rows:
            return None, extra_read
        store = take()
        store.load_rows(rows)
        store.ready()
        return store, extra_read

    for rec, convert in _records(file, fmt):
        py.add(rec, convert)
        if len(py.rows) >= batch_rows:
            yield batch()
    # fragments of a recorded stream are the request its final chunk records: duplicates;
    # each orphan stream's first fragment is in the batch (quarantined), the rest duplicates
    extra = py.finish()
    if skipped is not None:
        skipped[0] = py.skipped
    yield batch(extra)
