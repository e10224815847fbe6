"""The ``infercost`` command line: thin wrappers over the library.

Each command group lives in its own module and exposes ``register(app)``. :data:`COMMANDS`
names every top-level command, the module that registers it and its one-line help. The
script's entry point, :func:`main`, runs a group that imports a command's module only when
that command runs, so ``infercost --help``, ``--version`` and ``completion`` start without
numpy, plotly or ibis (``benchmarks/cli_startup.py``). :data:`app` (built on first use) is the
whole typer application with every module imported, for tests and documentation.

One handler turns every :class:`~infercost.errors.InfercostError` into a one-line message on
stderr and a non-zero exit; any other exception is a bug and keeps its traceback. Exit
statuses follow one rule: :mod:`infercost.cli.exits`.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import typer
from typer import _click  # typer >= 0.24 ships its own copy of click; its classes are these
from typer._completion_classes import completion_init
from typer._completion_shared import get_completion_script
from typer.core import TyperCommand, TyperGroup

from infercost.cli.exits import EXIT_INPUT_ERROR
from infercost.errors import InfercostError

HELP = "What LLM inference really costs: physics, economics and decisions."

#: Top-level command -> (module under infercost.cli that registers it, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "predict": ("predict", "Predict fit, throughput, latency and $/M tokens."),
    "models": ("catalog", "List catalogued models with parameter counts and sources."),
    "gpus": ("catalog", "List catalogued accelerators with figures and sources."),
    "engines": ("catalog", "List engine efficiency profiles."),
    "dtypes": ("catalog", "List weight/KV storage formats (bits per weight, sources)."),
    "tco": ("economics", "Owned-hardware total cost of ownership and the $/GPU-hour it implies."),
    "api-price": (
        "economics",
        "An API price sheet: $/M input, output, cached input, cache write, batch, tiers.",
    ),
    "api-prices": (
        "economics",
        "List API price sheets: genai-prices' current sheet where it has the model, else our "
        "dated history.",
    ),
    "cost": (
        "economics",
        "All-in $/M input, output, blended, per request and per useful token of a deployment.",
    ),
    "compare-gpus": (
        "economics",
        "Rank every GPU offer by $/M output at its best configuration, and say why each lost.",
    ),
    "calc": (
        "calc",
        "Everyday arithmetic: $/token from $/hour, a request, a prompt change, egress, weights.",
    ),
    "simulate": (
        "simulate",
        "Simulate serving under an arrival process: tail latency, goodput, saturation.",
    ),
    "serve": ("serve", "Serve the REST API (/api, /docs) and the web app (/)."),
    "offers": ("economics", "Cloud GPU offers (dated snapshot), sorted by $/GPU-hour."),
    "calibrate": (
        "calibrate",
        "Import benchmark results, measure an OpenAI-compatible endpoint, fit efficiencies.",
    ),
    "plan": (
        "plan",
        "Decisions: cheapest configuration, frontier, fleet, self-host vs API, routing, "
        "payback, scenarios.",
    ),
    "usage": ("usage", "Usage ledger: what real traffic cost, who spent it."),
}

#: Modules whose options are not wrapped by :func:`infercost.cli.bounds.bound_all` (they
#: check their own inputs).
_UNBOUNDED = frozenset({"usage"})

_MODULE_ORDER = ("predict", "catalog", "economics", "calc", "calibrate", "simulate", "plan",
                 "serve", "usage")  # fmt: skip


def _new_typer(**extra: Any) -> typer.Typer:
    return typer.Typer(add_completion=False, pretty_exceptions_enable=False, **extra)


def _register(target: typer.Typer, module_name: str) -> None:
    """Import ``infercost.cli.<module_name>`` and add its commands to ``target``."""
    from infercost.cli.bounds import bound_all

    module = importlib.import_module(f"infercost.cli.{module_name}")
    scratch = _new_typer()
    module.register(scratch)
    if module_name not in _UNBOUNDED:
        bound_all(scratch)  # every option checked against infercost.domains before it runs
    target.registered_commands.extend(scratch.registered_commands)
    target.registered_groups.extend(scratch.registered_groups)


def build_app() -> typer.Typer:
    """The whole application, every command module imported (tests, docs)."""
    full = _top()
    for module_name in _MODULE_ORDER:
        _register(full, module_name)
    return full


_loaded: dict[str, TyperGroup] = {}


def _module_group(module_name: str) -> TyperGroup:
    """The click group of one command module's commands (imported once)."""
    if module_name not in _loaded:
        sub = _new_typer()
        sub.callback()(_no_op)  # a callback keeps a one-command module a group
        _register(sub, module_name)
        group = typer.main.get_command(sub)
        assert isinstance(group, TyperGroup)
        _loaded[module_name] = group
    return _loaded[module_name]


def _no_op() -> None:
    """(group callback)"""


_COMPLETION_HELP = (
    'Print a shell completion script; enable it with eval "$(infercost completion bash)" '
    "(or zsh, fish, powershell) in your shell's start-up file."
)
_COMPLETION_SHORT = "Print a shell completion script."


def completion(
    shell: str = typer.Argument("bash", help="bash, zsh, fish or powershell."),
) -> None:
    """Print the completion script for ``shell``."""
    shells = ("bash", "zsh", "fish", "powershell", "pwsh")
    if shell not in shells:
        raise InfercostError(f"Unknown shell {shell!r}: use one of {', '.join(shells)}.")
    script = get_completion_script(
        prog_name="infercost", complete_var="_INFERCOST_COMPLETE", shell=shell
    )
    sys.stdout.write(script + "\n")


class LazyGroup(TyperGroup):
    """The top-level group: commands listed from :data:`COMMANDS`, modules imported on use."""

    _listing = False

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [*COMMANDS, "completion"]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name in self.commands:  # completion
            return self.commands[cmd_name]
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, short = entry
        if self._listing:  # the top-level help needs names and one-liners only
            return TyperCommand(cmd_name, help=short, short_help=short)
        return _module_group(module_name).get_command(ctx, cmd_name)

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def _print_version(value: bool) -> None:
    if value:
        from infercost import _version

        sys.stdout.write(f"infercost {_version()}\n")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version,
        help="Print infercost's version and exit.",
    ),
) -> None:  # fmt: skip
    """What LLM inference really costs: physics, economics and decisions."""


def _top(cls: type[TyperGroup] | None = None) -> typer.Typer:
    # The lazy top level formats its own help and errors plainly (click's formatter): rich's
    # help renderer alone costs ~0.1 s of start-up; each command keeps typer's rich help.
    plain: dict[str, Any] = {"rich_markup_mode": None} if cls is not None else {}
    top = _new_typer(name="infercost", help=HELP, no_args_is_help=True, cls=cls, **plain)
    top.callback()(_root)
    top.command("completion", help=_COMPLETION_HELP, short_help=_COMPLETION_SHORT)(completion)
    return top


def lazy_group() -> TyperGroup:
    """The group :func:`main` runs (:class:`LazyGroup`)."""
    completion_init()
    group = typer.main.get_command(_top(LazyGroup))
    assert isinstance(group, LazyGroup)
    return group


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``infercost`` script; exits 1 with one line on a user error (and a
    JSON ``{"error", "type"}`` object on stdout under ``--json``): :mod:`infercost.cli.exits`."""
    args = sys.argv[1:] if argv is None else argv
    try:
        lazy_group().main(args=args, prog_name="infercost", standalone_mode=True)
    except InfercostError as err:
        if "--json" in args:  # a script parsing --json gets one JSON object on stdout too
            sys.stdout.write(json.dumps({"error": str(err), "type": type(err).__name__}) + "\n")
        from rich.console import Console
        from rich.markup import escape

        Console(stderr=True).print(
            f"[red]error:[/red] {escape(str(err))}", highlight=False, soft_wrap=True
        )
        sys.exit(EXIT_INPUT_ERROR)


def __getattr__(name: str) -> Any:
    """``app``: the whole typer application, built on first use (PEP 562)."""
    if name == "app":
        value = build_app()
        globals()["app"] = value
        return value
    raise AttributeError(f"module 'infercost.cli' has no attribute {name!r}")
