"""Exit statuses: one rule for every ``infercost`` command.

=====  =====================================================================================
0      The command answered. Under ``--json`` an answer of "no" is still an answer: the
       object says it (``fits: false``, ``winner: null``) and the status is 0, so a script
       reads one JSON object whatever the outcome (the predict contract in DESIGN.md).
1      The input cannot be used: an unknown name, a value outside its domain, a file that
       fails to parse, work past a limit. One line on stderr; under ``--json`` also
       ``{"error": ..., "type": ...}`` on stdout.
2      The command line is malformed: an unknown option, a value of the wrong type or a
       missing required option (typer's usage error, with its help hint).
3      Plain output whose answer is "no": the configuration does not fit, or no
       configuration meets the targets. The reason is printed.
=====  =====================================================================================

docs/cli.md states the same rule for users.
"""

from __future__ import annotations

from typing import NoReturn

import typer

EXIT_OK = 0
EXIT_INPUT_ERROR = 1
EXIT_USAGE_ERROR = 2
EXIT_NO_ANSWER = 3


def exit_no_answer(as_json: bool) -> None:
    """Exit 3 after plain output whose answer is "no"; return under ``--json`` (status 0)."""
    if not as_json:
        _raise_no_answer()


def _raise_no_answer() -> NoReturn:
    raise typer.Exit(code=EXIT_NO_ANSWER)
