"""``--png FILE``: a static image of the chart, written by kaleido through the system's
Chromium (Debian's ``chromium``; ``.ci/run`` installs it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infercost.cli import app

pytestmark = pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="--png needs Chrome or Chromium (.ci/run installs Debian's chromium)",
)


def test_breakeven_png(tmp_path: Path) -> None:
    out = tmp_path / "breakeven.png"
    result = CliRunner().invoke(
        app,
        ["plan", "breakeven", "--api-input-usd-per-m", "0.88", "--api-output-usd-per-m", "0.88",
         "--input-share", "0.5", "--gpu-hour-usd", "2", "--tok-s", "1000", "--png", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert f"chart written to {out}" in result.output


def test_png_into_a_missing_folder_is_refused_before_work(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["plan", "breakeven", "--api-input-usd-per-m", "1", "--api-output-usd-per-m", "1",
         "--input-share", "0.5", "--gpu-hour-usd", "2", "--tok-s", "1000",
         "--png", str(tmp_path / "nope" / "x.png")],
    )  # fmt: skip
    assert result.exit_code != 0 and "does not exist" in str(result.exception)
