"""The ``infercost`` entry point: --version, lazy command loading, completion, exit statuses,
JSON errors (infercost.cli.exits)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infercost.cli import COMMANDS, app, main


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    code, out, _ = run_main(["--version"], capsys)
    assert code == 0 and out.strip() == f"infercost {version('infercost')}"


def test_help_lists_every_command_without_importing_them() -> None:
    """`infercost --help` in a fresh interpreter imports no command module, numpy or plotly."""
    probe = (
        "import sys\n"
        "from infercost.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('numpy', 'plotly', 'ibis', 'infercost.cli.predict',"
        " 'infercost.predict') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        env={"COLUMNS": "200", "PATH": ""},
    ).stdout  # fmt: skip
    assert "HEAVY []" in out
    for name in COMMANDS:
        assert name in out


def test_the_lazy_table_matches_the_full_app() -> None:
    """COMMANDS names exactly the top-level commands the modules register."""
    registered = {c.name for c in app.registered_commands} | {
        g.name for g in app.registered_groups
    }
    assert registered == {*COMMANDS, "completion"}


def test_completion_script(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["completion", "bash"], capsys)
    assert code == 0 and "_INFERCOST_COMPLETE=complete_bash" in out
    code, _, err = run_main(["completion", "tcsh"], capsys)
    assert code == 1 and "Unknown shell 'tcsh'" in err


PREDICT_405B = ["predict", "--model", "llama-3.1-405b", "--gpu", "H100", "--isl", "1000",
                "--osl", "300", "--concurrency", "8"]  # fmt: skip


def test_exit_statuses_follow_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """0 answered (a JSON "no" included), 1 bad input, 2 malformed command line, 3 a plain
    "no" (405B bf16 = 811.7 GB of weights cannot fit one 80 GiB H100)."""
    code, _, err = run_main(PREDICT_405B, capsys)
    assert code == 3 and "does not fit" in err
    code, out, _ = run_main([*PREDICT_405B, "--json"], capsys)
    assert code == 0 and json.loads(out)["fits"] is False
    code, out, err = run_main([*PREDICT_405B[:4], "H1000", *PREDICT_405B[5:], "--json"], capsys)
    assert code == 1 and json.loads(out)["type"] == "UnknownNameError" and "H1000" in err
    code, _, _ = run_main([*PREDICT_405B, "--no-such-flag"], capsys)
    assert code == 2


def test_a_plan_search_with_no_feasible_configuration_exits_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["plan", "search", "--model", "llama-3.1-405b", "--isl", "1000", "--osl", "300",
            "--gpu", "H100", "--max-gpus", "1", "--weight-dtypes", "bf16"]  # fmt: skip
    code, _, _ = run_main(args, capsys)
    assert code == 3
    code, out, _ = run_main([*args, "--json"], capsys)
    assert code == 0 and json.loads(out)["winner"] is None


def test_errors_under_json_come_as_json_for_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_main(["calc", "egress", "--gb", "1", "--provider", "ibm", "--json"], capsys)
    assert code == 1 and json.loads(out)["type"] == "UnknownNameError"
