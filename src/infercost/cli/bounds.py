"""Every CLI option checked against its domain before the command runs, and every result
checked before it is printed.

:func:`bound_all` wraps each command of the app once (``infercost.cli`` calls it): the wrapper
checks each numeric option against :data:`infercost.domains.DOMAINS` (by its argument name,
with the per-command overrides below), refuses options given without the option they need
(:data:`infercost.domains.NEEDS`, the rule the REST service applies too: they would be
silently ignored), remembers the options the user set, and runs the command. :func:`checked`
is what commands pass their result dict through before printing it: an ``inf``, ``nan`` or
overflowed integer becomes a one-line error naming the options that caused it.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import math
from collections.abc import Callable
from typing import Any

import typer

from infercost.domains import (
    DOMAINS,
    OVERFLOW_ERRORS,
    Domain,
    check_needs,
    check_outputs,
    check_value,
    flag,
    overflow_error,
)
from infercost.errors import InputError

#: Options whose domain differs in one command: {command: {name: domain}}.
OVERRIDES: dict[str, dict[str, Domain]] = {
    "plan fleet": {
        "isl": Domain("float", "tokens", 0, 1e8, reason="0 when unknown"),
        "osl": Domain("float", "tokens", 0, 1e8, lo_open=True),
    },
    "plan scenarios": {"isl": Domain("int", "tokens", 0, 1e8, reason="0 when unknown")},
}


def _weight_dtype(name: str) -> None:
    from infercost.catalog import get_quant_format

    get_quant_format(name)  # UnknownNameError with the known formats


def _kv_dtype(name: str) -> None:
    from infercost.predict import KV_DTYPES

    if name.strip().lower() not in ("auto", *KV_DTYPES):
        raise InputError(f"Unknown --kv-dtype {name!r}; use one of auto, {', '.join(KV_DTYPES)}.")


#: Names checked before commands that store them as given (the importers keep a file's own
#: spelling): {command: {option: check}}; the check raises on an unknown name.
NAMES: dict[str, dict[str, Callable[[str], None]]] = {
    command: {"weight_dtype": _weight_dtype, "kv_dtype": _kv_dtype}
    for command in ("calibrate import", "calibrate run", "calibrate fit")
}

_GIVEN: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "infercost_cli_inputs", default=None
)


def given_inputs() -> dict[str, Any]:
    """The options the user set in the running command (``--name`` -> value)."""
    return dict(_GIVEN.get() or {})


def checked(data: Any) -> Any:
    """``data`` unchanged, after checking it holds no inf, nan or overflowed integer.

    Raises:
        InputError: naming the offending key and the options the user set.
    """
    check_outputs(data, given_inputs())
    return data


def print_json(data: Any) -> None:
    """Check ``data`` (see :func:`checked`) and print it as one JSON object."""
    typer.echo(json.dumps(checked(data), indent=2, default=str, allow_nan=False))


def _differs(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty or default is Ellipsis:
        return True
    if isinstance(value, float) and isinstance(default, float):
        return not (value == default or (math.isnan(value) and math.isnan(default)))
    return bool(value != default)


def check_command(
    command: str,
    values: dict[str, Any],
    defaults: dict[str, Any],
    typed: frozenset[str] = frozenset(),
) -> None:
    """Check one command's option values (argument name -> value).

    ``typed`` names the options set on the command line: one typed at its default value
    (``--peak-hour 14``) is still given, and still refused without the option it needs.

    Raises:
        InputError: the first value outside its domain, or an option given without the
            option it needs.
    """
    overrides = OVERRIDES.get(command, {})
    for name, value in values.items():
        if name in overrides or name in DOMAINS:
            check_value(name, value, overrides.get(name), label=flag(name))
        _check_blank(name, value, defaults.get(name))
        check_name = NAMES.get(command, {}).get(name)
        if check_name is not None and isinstance(value, str):
            check_name(value)

    check_needs(
        command,
        typed | {n for n, v in values.items() if _differs(v, defaults.get(n))},
    )


def _check_blank(name: str, value: Any, default: Any) -> None:
    """Refuse an empty or blank text value (``--weight-dtype ""``): it would silently act as
    if the option were not given."""
    texts = value if isinstance(value, list | tuple) else [value]
    for text in texts:
        if isinstance(text, str) and not text.strip() and text != default:
            raise InputError(
                f"{flag(name)} is empty; give a value (see --help) or drop {flag(name)}."
            )


def _typed(values: dict[str, Any]) -> frozenset[str]:
    """The options of the running command set on its command line (click's parameter
    source); empty outside a click context (a direct call)."""
    from typer._click.core import ParameterSource
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return frozenset()
    return frozenset(
        n for n in values if ctx.get_parameter_source(n) is ParameterSource.COMMANDLINE
    )


def bound(command: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` wrapped to run :func:`check_command` on its arguments first (the signature
    is kept, so typer builds the same options)."""
    sig = inspect.signature(func)
    # typer.Option(default, ...) as a default is an OptionInfo holding the real default
    defaults = {n: getattr(p.default, "default", p.default) for n, p in sig.parameters.items()}

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = dict(sig.bind(*args, **kwargs).arguments)
        check_command(command, values, defaults, _typed(values))
        given = {
            flag(n): v
            for n, v in values.items()
            if _differs(v, defaults.get(n)) and not isinstance(v, bool) and v is not None
        }
        token = _GIVEN.set(given)
        try:
            return func(*args, **kwargs)
        except OVERFLOW_ERRORS as err:
            raise overflow_error(err, given) from err
        finally:
            _GIVEN.reset(token)

    return wrapper


def bound_all(app: typer.Typer, prefix: str = "") -> None:
    """Wrap every command (and group callback) of ``app`` and its sub-apps with :func:`bound`.

    Call once, after every command is registered and before the app runs.
    """
    for cmd in app.registered_commands:
        if cmd.callback is None or getattr(cmd.callback, "__wrapped__", None) is not None:
            continue
        name = cmd.name or cmd.callback.__name__.replace("_", "-")
        cmd.callback = bound(f"{prefix}{name}", cmd.callback)
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is None:
            continue
        gname = group.name or ""
        info = sub.registered_callback
        cb = info.callback if info is not None else None
        if info is not None and cb is not None and getattr(cb, "__wrapped__", None) is None:
            info.callback = bound(f"{prefix}{gname}", cb)
        bound_all(sub, f"{prefix}{gname} ")
