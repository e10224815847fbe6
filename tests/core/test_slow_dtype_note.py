"""A weight format that computes at a dtype the GPU runs far slower gets a note."""

from __future__ import annotations

from infercost.catalog import get_accelerator, get_quant_format
from infercost.predict import slow_dtype_note


def test_int8_on_b300_names_the_fp8_peak() -> None:
    # B300 datasheet (accelerators.csv): int8 153.5 TFLOP/s dense, fp8 4,500: 153.5 < 4,500 x
    # 0.25, so the note; fp8 is the fastest dtype of at least 8 bits.
    note = slow_dtype_note(get_accelerator("B300"), get_quant_format("int8"))
    assert note is not None
    assert "154 TFLOP/s dense, against 4,500 at fp8" in note
    assert "--weight-dtype fp8" in note


def test_no_note_where_the_dtype_runs_at_full_speed() -> None:
    # H100: int8 1,979 = fp8 1,979; bf16 989 on a bf16 checkpoint is the 16-bit peak itself
    assert slow_dtype_note(get_accelerator("H100"), get_quant_format("int8")) is None
    assert slow_dtype_note(get_accelerator("H100"), get_quant_format("bf16")) is None
