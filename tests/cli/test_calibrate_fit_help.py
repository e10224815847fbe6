"""`calibrate fit`: its help says how long the shipped set takes, and progress goes to stderr
(QA, issue 15: a --quiet fit of about 2.5 minutes printed nothing and said nothing of time)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from infercost.cli import app, main

FIXTURE = Path(__file__).parents[1] / "calibrate" / "fixtures" / "vllm_bench_serve.json"


def test_help_names_the_time_on_the_shipped_set_and_stderr() -> None:
    result = CliRunner().invoke(app, ["calibrate", "fit", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.output.split())
    assert "about 2 to 3 minutes on 2 CPU cores" in text
    assert "goes to stderr" in text


def test_progress_goes_to_stderr_and_quiet_silences_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["calibrate", "fit", str(FIXTURE)])
    assert done.value.code == 0
    out, err = capsys.readouterr()
    # one line per stage of the grid search, on stderr only; the results on stdout
    assert "fitting vllm (7 rows): stage 1/" in err
    assert "fitting" not in out and "in-sample median absolute error" in out
    with pytest.raises(SystemExit):
        main(["calibrate", "fit", str(FIXTURE), "--quiet"])
    out, err = capsys.readouterr()
    assert "fitting" not in err and "in-sample median absolute error" in out
