"""A trace that is not UTF-8 text or not CSV is one InputError naming the file, the byte
offset and the line of the first bad byte, and the file is closed (no ResourceWarning)."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import pytest

from infercost.errors import InputError
from infercost.sim.trace import load_trace


def _load_closing(path: Path) -> InputError:
    """The error of ``load_trace(path)``; fails on any unclosed-file warning."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(InputError) as err:
            load_trace(path)
        gc.collect()
    leaks = [w for w in seen if issubclass(w.category, ResourceWarning)]
    assert not leaks, leaks
    return err.value


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_bad_byte_names_the_file_its_offset_and_line(tmp_path: Path, suffix: str) -> None:
    head = (
        b"timestamp,input_tokens,output_tokens\n0,10,5\n"
        if suffix == ".csv"
        else b'{"timestamp": 0, "input_tokens": 10, "output_tokens": 5}\n'
    )
    path = tmp_path / f"t{suffix}"
    path.write_bytes(head + b"1,1\xff0,5\n")  # 0xff is never UTF-8
    msg = str(_load_closing(path))
    offset = len(head) + 3  # "1,1" before it
    line = 3 if suffix == ".csv" else 2
    assert msg == (
        f"Trace {path} is not UTF-8 text (byte {offset}, line {line}); "
        "save it as UTF-8 (CSV or JSON lines)."
    )


def test_a_bad_byte_past_the_first_mebibyte_is_located(tmp_path: Path) -> None:
    rows = b"".join(b"%d,100,10\n" % i for i in range(200_000))  # ~2.2 MB
    path = tmp_path / "big.csv"
    path.write_bytes(b"timestamp,input_tokens,output_tokens\n" + rows + b"\xc3(\n")
    msg = str(_load_closing(path))
    size = path.stat().st_size
    assert f"(byte {size - 3:,}, line 200,002)" in msg


def test_a_truncated_character_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"timestamp,input_tokens,output_tokens\n0,1,1\xe2\x82")
    assert "(it ends mid-character)" in str(_load_closing(path))


def test_an_oversized_csv_field_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("timestamp,input_tokens,output_tokens\n0,1,1\n" + "9" * 200_000 + ",1,1\n")
    msg = str(_load_closing(path))
    assert msg.startswith(f"Trace {path}: line 3 cannot be read as CSV (field larger than")
