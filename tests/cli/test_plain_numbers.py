"""docs/cli.md: the terminal never prints a number in scientific notation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infercost.cli import app
from infercost.cli.numbers import plain

CLI_DIR = Path(__file__).parents[2] / "src" / "infercost" / "cli"
#: a format spec that can switch to scientific notation: {x:g}, {x:.3g}, {x:,.6g}, {x:.2e}
SCIENTIFIC_SPEC = re.compile(r"\{[^{}:]+:[-+ #0-9_,.]*[eEgG]\}")


def test_token_cost_prints_tokens_per_dollar_in_full() -> None:
    # $2/h ÷ (1,000 tok/s x 0.5 x 3600 ÷ 1e6 = 1.8 M tokens/h) = $1.11/M; tokens per $ =
    # 1e6 ÷ 1.111 = 900,000 (QA: it printed "9e+05 tokens per $").
    result = CliRunner().invoke(
        app,
        ["calc", "token-cost", "--usd-per-hour", "2", "--tok-s", "1000", "--utilization", "0.5"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "900,000 tokens per $" in result.output
    assert "e+" not in result.output


@pytest.mark.parametrize(
    ("value", "sig", "text"),
    [
        (900_000.0, 3, "900,000"),  # .3g would print 9e+05
        (1_234_567.0, 6, "1,234,570"),  # .6g would print 1.23457e+06
        (0.0000123, 6, "0.0000123"),  # g would print 1.23e-05
        (2.0, 4, "2"),
        (2.4642, 4, "2.464"),
        (-0.00000035, 3, "-0.00000035"),
    ],
)
def test_plain_never_uses_an_exponent(value: float, sig: int, text: str) -> None:
    assert plain(value, sig) == text


def test_no_command_module_formats_with_g_or_e() -> None:
    # every figure goes through plain(), in every command module
    offenders = [
        f"{path.name}:{i}: {line.strip()}"
        for path in sorted(CLI_DIR.glob("*.py"))
        for i, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if SCIENTIFIC_SPEC.search(line)
    ]
    assert offenders == []
