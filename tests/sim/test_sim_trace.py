"""Trace replay: columns, aliases, sorting, and quarantine of bad rows with reasons."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from infercost.errors import InputError
from infercost.sim import load_trace


def test_csv_with_bad_rows_quarantined(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text(
        "timestamp,input_tokens,output_tokens,prefix_id,prefix_tokens\n"
        "100.5,200,50,sys,64\n"  # line 2: ok, prefix 'sys'
        "100.0,300,20,,\n"  # line 3: ok, earlier: sorted first
        "101.0,abc,20,,\n"  # line 4: non-numeric
        "102.0,0,20,,\n"  # line 5: zero input tokens
        "103.0,100,20,sys,200\n"  # line 6: prefix longer than the prompt
        "104.0,100,2.5,,\n"  # line 7: fractional output
        "104.5,150,30,sys,64\n"  # line 8: ok, same prefix
    )
    load = load_trace(p)
    wl = load.workload
    assert wl.arrival_s.tolist() == [0.0, 0.5, 4.5]
    assert wl.input_tokens.tolist() == [300, 200, 150]
    assert wl.prefix_id.tolist() == [-1, 0, 0]
    assert wl.prefix_tokens.tolist() == [0, 64, 64]
    assert [q.line for q in load.quarantined] == [4, 5, 6, 7]
    reasons = [q.reason for q in load.quarantined]
    assert reasons[0] == "input_tokens = 'abc' is not a number"
    assert "below 1" in reasons[1]
    assert "exceeds input_tokens" in reasons[2]
    assert "not a whole number" in reasons[3]


def test_jsonl_aliases_iso_times_and_time_scale(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    rows = [
        {"time": "2025-01-01T00:00:00Z", "isl": 10, "osl": 5},
        {"time": "2025-01-01T00:00:02Z", "isl": 20, "osl": 6},
        "not an object",
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    load = load_trace(p, time_scale=0.5)  # replay twice as fast: 2 s gap -> 1 s
    np.testing.assert_allclose(load.workload.arrival_s, [0.0, 1.0])
    assert [(q.line, q.reason) for q in load.quarantined] == [
        (3, "not a JSON object"),
        (4, "not valid JSON (Expecting property name enclosed in double quotes)"),
    ]


def test_missing_columns_say_what_to_name_them(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("when,isl\n1,2\n")
    with pytest.raises(InputError, match="timestamp, output_tokens"):
        load_trace(p)


def test_prefix_id_needs_prefix_tokens(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("timestamp,isl,osl,prefix_id\n1,2,3,a\n")
    with pytest.raises(InputError, match="prefix_tokens"):
        load_trace(p)


def test_no_usable_row(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("timestamp,isl,osl\nx,1,1\n")
    with pytest.raises(InputError, match="no usable row"):
        load_trace(p)


def test_missing_file_and_bad_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_trace(tmp_path / "none.csv")
    q = tmp_path / "t.parquet"
    q.write_text("")
    with pytest.raises(InputError, match=r"\.csv or \.jsonl"):
        load_trace(q)


def test_a_directory_is_not_called_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        load_trace(tmp_path)
    assert str(exc.value) == f"Trace {tmp_path} is a directory; give a CSV or JSONL file."


def test_malformed_jsonl_names_the_line(tmp_path: Path) -> None:
    # A file in which no line is a JSON object: the error is the broken JSON on line 1, not
    # "has no column for timestamp".
    p = tmp_path / "t.jsonl"
    p.write_text('{"timestamp":0,\n')
    with pytest.raises(InputError) as exc:
        load_trace(p)
    assert str(exc.value).startswith(
        f"Trace {p}: invalid JSON on line 1 (Expecting property name enclosed in double "
        "quotes); write one JSON object per line"
    )
    q = tmp_path / "list.jsonl"
    q.write_text("\n[1, 2]\n")
    with pytest.raises(InputError, match=r"line 2 is not a JSON object; write one JSON object"):
        load_trace(q)
