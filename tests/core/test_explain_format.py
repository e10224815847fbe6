"""Explain trails read without scientific notation and wrap to the terminal (QA, issue 15)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from infercost.cli import app
from infercost.explain import readable


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        # Llama-3.1-8B: 8,030,261,248 parameters; / 1e9 = 8.03 billion
        (8_030_261_248, "params", "8,030,261,248 params (8.03 billion)"),
        # its bf16 weights: 2 bytes x 8,030,261,248 = 16,060,522,496 B; / 1e9 = 16.06 GB (SI)
        (16_060_522_496.0, "B", "16,060,522,496 B (16.06 GB)"),
        # KV per token: 2 x 32 layers x 8 heads x 128 x 2 B = 131,072 B = 131.07 kB
        (131_072, "B", "131,072 B (131.07 kB)"),
        # seconds below one in ms (x 1e3) or µs (x 1e6), six significant figures
        (0.00832086, "s", "8.32086 ms"),
        (1.2e-05, "s", "12 µs"),
        (3.5, "s", "3.5 s"),
        (1647.97, "tok/s", "1,647.97 tok/s"),
        # 1.2e12 FLOP: whole, so every digit with separators, then 1.2e12 / 1e12 = 1.2 T
        (1.2e12, "FLOP", "1,200,000,000,000 FLOP (1.2 T)"),
        # small non-time values in fixed notation, never 1.2e-05
        (1.2e-05, "x", "0.000012 x"),
        (0.0182271, "USD/M tok", "0.0182271 USD/M tok"),
        (345, "seqs", "345 seqs"),
        ("bf16", "", "bf16"),
        (None, "s", "— s"),
    ],
)
def test_readable_values(value: float | str | None, unit: str, text: str) -> None:
    assert readable(value, unit) == text


def test_explain_at_80_columns_has_no_exponent_and_no_overlong_line() -> None:
    result = CliRunner().invoke(
        app,
        ["predict", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "1000", "--osl",
         "300", "--concurrency", "16", "--explain"],
        env={"COLUMNS": "80"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    trail = result.output[result.output.index("explain (formula trail") :]
    # no value printed as 8.03026e+09 or 1.2e-05 (a formula may say "/ 1e6": a constant)
    assert not re.search(r"= [0-9.,]+e[+-]\d", trail)
    assert "total_params = 8,030,261,248 params (8.03 billion)" in trail
    assert all(len(line) < 80 for line in trail.splitlines()), max(trail.splitlines(), key=len)
    # notes wrap under their first word
    notes = [line for line in trail.splitlines() if line.startswith("note: ")]
    assert notes and all(len(line) < 80 for line in notes)
