"""Trace replay: read request arrivals and lengths from a CSV or JSON-lines file.

Columns (CSV header or JSON keys; the first spelling is canonical):

- ``timestamp`` (``arrival_s``, ``time``, ``ts``): seconds (a number) or an ISO-8601 date-time;
  made relative to the earliest row.
- ``input_tokens`` (``isl``, ``prompt_tokens``, ``input_length``): prompt tokens, whole >= 1.
- ``output_tokens`` (``osl``, ``completion_tokens``, ``output_length``): output tokens, >= 1.
- optional ``prefix_id`` (``session_id``, ``conversation_id``): requests sharing an id share
  a cached prompt prefix; with it, ``prefix_tokens`` (how long that prefix is, <= input_tokens)
  must also be present.

A row that cannot be used (missing or non-numeric field, a length < 1, a prefix longer than
the prompt, a bad time) is quarantined with its line number and the reason, never silently
dropped; :class:`TraceLoad` carries both the workload and the quarantined rows, and the CLI
prints the count. Rows are sorted by time (stable), so an unsorted trace is replayed in time
order. I/O lives here and nowhere else in ``sim``.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from infercost.errors import InputError
from infercost.sim.workload import Workload

_ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "arrival_s", "time", "ts", "arrival_time"),
    "input_tokens": ("input_tokens", "isl", "prompt_tokens", "input_length"),
    "output_tokens": ("output_tokens", "osl", "completion_tokens", "output_length"),
    "prefix_id": ("prefix_id", "session_id", "conversation_id"),
    "prefix_tokens": ("prefix_tokens", "prefix_length"),
}


@dataclass(frozen=True, slots=True)
class QuarantinedRow:
    """A trace row that was not replayed.

    Attributes:
        line: 1-based line number in the file (the CSV header is line 1).
        reason: what was wrong with it.
    """

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class TraceLoad:
    """A loaded trace.

    Attributes:
        workload: the usable rows, sorted by time, times relative to the first.
        quarantined: the rows left out, with reasons.
        path: the file read.
    """

    workload: Workload
    quarantined: tuple[QuarantinedRow, ...]
    path: str


def _columns(keys: Iterable[str], path: str) -> dict[str, str]:
    """Canonical name -> the file's spelling; raises if a required column is absent."""
    lower = {k.strip().lower(): k for k in keys}
    found: dict[str, str] = {}
    for canon, spellings in _ALIASES.items():
        for s in spellings:
            if s in lower:
                found[canon] = lower[s]
                break
    missing = [c for c in ("timestamp", "input_tokens", "output_tokens") if c not in found]
    if missing:
        raise InputError(
            f"Trace {path} has no column for {', '.join(missing)} (found: "
            f"{', '.join(sorted(lower)) or 'none'}). Name them timestamp, input_tokens, "
            "output_tokens (optional prefix_id with prefix_tokens)."
        )
    if "prefix_id" in found and "prefix_tokens" not in found:
        raise InputError(
            f"Trace {path} has a prefix_id column but no prefix_tokens column; add "
            "prefix_tokens (the length of the shared prefix) or drop prefix_id."
        )
    return found


def _time_s(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float):
        t = float(value)
    else:
        text = str(value).strip()
        try:
            t = float(text)
        except ValueError:
            t = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    if not math.isfinite(t):
        raise ValueError(f"time {value!r} is not finite")
    return t


def _tokens(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or value is None or str(value).strip() == "":
        raise ValueError(f"{name} is missing")
    try:
        x = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except ValueError:
        raise ValueError(f"{name} = {value!r} is not a number") from None
    if not math.isfinite(x) or x != math.floor(x):
        raise ValueError(f"{name} = {value!r} is not a whole number")
    if x < minimum:
        raise ValueError(f"{name} = {int(x)} is below {minimum}")
    return int(x)


def _rows_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """The header and ``(line, row)`` of every row; the file is closed whatever happens."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        try:
            header = list(reader.fieldnames or [])
            return header, [(reader.line_num, row) for row in reader]
        except csv.Error as err:
            raise InputError(
                f"Trace {path}: line {reader.reader.line_num} cannot be read as CSV ({err}); "
                "give a CSV or JSON-lines trace."
            ) from err


def _not_utf8(path: Path) -> InputError:
    """The error for a trace that is not UTF-8 text: the offset of its first bad byte and its
    line (the file is read again in 1 MiB chunks to find them)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, lines = 0, 0
    where = "it ends mid-character"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                bad = offset + err.start
                line = lines + chunk.count(b"\n", 0, err.start) + 1
                where = f"byte {bad:,}, line {line:,}"
                break
            offset += len(chunk)
            lines += chunk.count(b"\n")
    return InputError(
        f"Trace {path} is not UTF-8 text ({where}); save it as UTF-8 (CSV or JSON lines)."
    )


def _rows_jsonl(
    path: Path,
) -> tuple[list[str], list[tuple[int, dict[str, Any] | None, str]]]:
    out: list[tuple[int, dict[str, Any] | None, str]] = []
    keys: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                out.append((line_no, None, f"not valid JSON ({err.msg})"))
                continue
            if not isinstance(obj, dict):
                out.append((line_no, None, "not a JSON object"))
                continue
            for k in obj:
                if k not in keys:
                    keys.append(k)
            out.append((line_no, obj, ""))
    return keys, out


def load_trace(path: str | Path, time_scale: float = 1.0) -> TraceLoad:
    """Read a CSV (``.csv``) or JSON-lines (``.jsonl``/``.json``) trace.

    Args:
        path: the file.
        time_scale: multiply inter-arrival times by this (0.5 replays twice as fast).

    Returns:
        A :class:`TraceLoad`.

    Raises:
        InputError: a missing or unreadable file, an unknown extension, absent required
            columns, a non-positive ``time_scale``, or no usable row at all.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"Trace {p} is a directory; give a CSV or JSONL file.")
    if not p.is_file():
        raise InputError(f"Trace file {p} does not exist; give a CSV or JSONL path.")
    if not math.isfinite(time_scale) or time_scale <= 0:
        raise InputError(f"--trace-time-scale must be positive, got {time_scale}.")
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".json", ".ndjson"):
        raise InputError(f"Trace {p} has extension {suffix!r}; use .csv or .jsonl.")
    parsed: list[tuple[int, dict[str, Any] | None, str]]
    try:
        if suffix == ".csv":
            header, rows = _rows_csv(p)
            parsed = [(ln, row, "") for ln, row in rows]
        else:
            header, parsed = _rows_jsonl(p)
    except UnicodeDecodeError:
        raise _not_utf8(p) from None
    except OSError as err:
        raise InputError(f"Trace {p} cannot be read ({err.strerror or err}).") from err
    if suffix != ".csv" and not header and parsed:  # no JSON object: say why, not "no columns"
        line_no, _, why = parsed[0]
        what = (
            f"invalid JSON on line {line_no} {why.removeprefix('not valid JSON ')}"
            if why.startswith("not valid JSON")
            else f"line {line_no} is {why}"
        )
        raise InputError(
            f"Trace {p}: {what}; write one JSON object per line, e.g. "
            '{"timestamp": 0, "input_tokens": 512, "output_tokens": 128}.'
        )
    cols = _columns(header, str(p))
    quarantined: list[QuarantinedRow] = []
    times: list[float] = []
    isl: list[int] = []
    osl: list[int] = []
    pids: list[int] = []
    ptoks: list[int] = []
    pid_codes: dict[str, int] = {}
    for line_no, row, early in parsed:
        if row is None:
            quarantined.append(QuarantinedRow(line_no, early))
            continue
        try:
            t = _time_s(row.get(cols["timestamp"]))
            i = _tokens(row.get(cols["input_tokens"]), "input_tokens", 1)
            o = _tokens(row.get(cols["output_tokens"]), "output_tokens", 1)
            pid, ptok = -1, 0
            raw_pid = row.get(cols["prefix_id"]) if "prefix_id" in cols else None
            if raw_pid is not None and str(raw_pid).strip() != "":
                ptok = _tokens(row.get(cols["prefix_tokens"]), "prefix_tokens", 0)
                if ptok > i:
                    raise ValueError(f"prefix_tokens = {ptok} exceeds input_tokens = {i}")
                pid = pid_codes.setdefault(str(raw_pid).strip(), len(pid_codes))
        except (ValueError, TypeError, OverflowError) as err:
            quarantined.append(QuarantinedRow(line_no, str(err)))
            continue
        times.append(t)
        isl.append(i)
        osl.append(o)
        pids.append(pid)
        ptoks.append(ptok)
    if not times:
        reasons = "; ".join(f"line {q.line}: {q.reason}" for q in quarantined[:3])
        raise InputError(
            f"Trace {p} has no usable row ({len(quarantined)} quarantined: {reasons})."
        )
    t_arr = np.asarray(times, dtype=np.float64)
    order = np.argsort(t_arr, kind="stable")
    rel = (t_arr[order] - t_arr[order][0]) * time_scale
    wl = Workload(
        rel,
        np.asarray(isl, dtype=np.int64)[order],
        np.asarray(osl, dtype=np.int64)[order],
        np.asarray(pids, dtype=np.int64)[order],
        np.asarray(ptoks, dtype=np.int64)[order],
    )
    return TraceLoad(wl, tuple(quarantined), str(p))
