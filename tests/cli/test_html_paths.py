"""``--html FILE`` in all nine commands that take it: a path that cannot be written is one
error (exit 1, no traceback), found while the options are parsed, before any computation."""

from __future__ import annotations

from pathlib import Path

import pytest

import infercost.cli.economics as economics_cli
import infercost.cli.plan as plan_cli
from infercost.cli import main
from infercost.errors import InputError
from infercost.report.files import checked_output_path

COMMANDS: dict[str, list[str]] = {
    "search": ["plan", "search", "--model", "llama-3.1-8b", "--isl", "100", "--osl", "10"],
    "pareto": ["plan", "pareto", "--model", "llama-3.1-8b", "--isl", "100", "--osl", "10"],
    "fleet": [
        "plan", "fleet", "--isl", "0", "--osl", "500", "--output-tokens-per-day", "1e9",
        "--replica-output-tok-s", "1000", "--gpu-hour-usd", "2",
    ],
    "breakeven": [
        "plan", "breakeven", "--api-input-usd-per-m", "2.5", "--api-output-usd-per-m", "10",
        "--input-share", "0.5", "--gpu-hour-usd", "2.49", "--tok-s", "1500",
    ],
    "hybrid": [
        "plan", "hybrid", "--tokens-per-day", "1e9", "--tok-s", "1000",
        "--replica-usd-per-hour", "2", "--api-usd-per-m", "5",
    ],
    "cascade": ["plan", "cascade", "--tier", "a:0.6:0.02", "--tier", "b:0.4:0.46"],
    "payback": [
        "plan", "payback", "--training-usd", "5e4", "--teacher", "0.46", "--student", "0.02",
        "--tokens-per-month", "1e9",
    ],
    "scenarios": ["plan", "scenarios", "--usd-per-m", "1", "--decline-per-year", "0.3"],
    "compare-gpus": ["compare-gpus", "--model", "llama-3.1-8b", "--isl", "100", "--osl", "10"],
}  # fmt: skip


def _fail(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("computed before the --html path was checked")


@pytest.fixture(autouse=True)
def _nothing_is_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("search", "pareto", "size_fleet", "breakeven", "hybrid", "cascade", "project"):
        monkeypatch.setattr(plan_cli, name, _fail)
    monkeypatch.setattr(plan_cli, "distillation_payback", _fail)
    monkeypatch.setattr(economics_cli, "compare_gpus", _fail)


def _error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_missing_folder_is_refused_before_computing(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-folder" / "chart.html"
    err = _error([*COMMANDS[command], "--html", str(target)], capsys)
    assert (
        f"--html {target}: the folder {tmp_path / 'no-such-folder'} does not exist; create it "
        "or choose another path." in err
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_directory_is_refused_before_computing(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _error([*COMMANDS[command], "--html", str(tmp_path)], capsys)
    assert f"--html {tmp_path} is a directory; give a file name" in err


def test_a_file_as_folder_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        checked_output_path(plain / "chart.html")


def test_a_good_path_passes_unchanged(tmp_path: Path) -> None:
    assert checked_output_path(tmp_path / "chart.html") == tmp_path / "chart.html"
    assert checked_output_path(None) is None


def test_chart_files_are_named_for_what_they_hold(tmp_path: Path) -> None:
    """--png writes PNG into a .png file and --html HTML into a .html/.htm one, so the two can
    never overwrite each other (QA: --png out.jpg wrote PNG bytes, --html x.png HTML)."""
    from infercost.report.files import checked_output_path

    with pytest.raises(
        InputError, match=r"--png .*x\.jpg: --png writes PNG; name the file x\.png"
    ):
        checked_output_path(tmp_path / "x.jpg", "--png")
    with pytest.raises(InputError, match=r"--html writes HTML; name the file x\.html"):
        checked_output_path(tmp_path / "x.png", "--html")
    assert checked_output_path(tmp_path / "X.PNG", "--png") == tmp_path / "X.PNG"
    assert checked_output_path(tmp_path / "c.htm", "--html") == tmp_path / "c.htm"
    with pytest.raises(InputError, match="needs a file name"):
        checked_output_path(Path(""), "--png")
