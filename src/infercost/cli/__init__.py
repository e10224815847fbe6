"""The ``infercost`` command line: thin wrappers over the library.

Each command group lives in its own module and exposes ``register(app)``. One handler here
turns every :class:`~infercost.errors.InfercostError` into a one-line message on stderr and a
non-zero exit; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from infercost.cli import calibrate as _calibrate
from infercost.cli import catalog as _catalog
from infercost.cli import economics as _economics
from infercost.cli import plan as _plan
from infercost.cli import predict as _predict
from infercost.cli import serve as _serve
from infercost.cli import simulate as _simulate
from infercost.cli import usage as _usage
from infercost.cli.bounds import bound_all
from infercost.errors import InfercostError

app = typer.Typer(
    name="infercost",
    help="What LLM inference really costs: physics, economics and decisions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (_predict, _catalog, _economics, _calibrate, _simulate, _plan, _serve):
    _module.register(app)
bound_all(app)  # every option checked against infercost.domains before a command runs
_usage.register(app)

_stderr = Console(stderr=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``infercost`` script; exits 1 with one line on a user error."""
    try:
        app(args=argv, standalone_mode=True)
    except InfercostError as err:
        _stderr.print(f"[red]error:[/red] {escape(str(err))}", highlight=False, soft_wrap=True)
        sys.exit(1)
