"""The one path every JSON endpoint takes: check the domains, call the library on a worker,
turn the result into its ``--json`` object, check that object, answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request as HttpRequest

from infercost.api.schema import Request, check_domains, checked
from infercost.domains import OVERFLOW_ERRORS, Domain, overflow_error

R = TypeVar("R", bound=Request)


def as_dict(result: Any) -> dict[str, Any]:
    """A result's ``--json`` object (a dict as is, else its ``to_dict()``)."""
    data: dict[str, Any] = result if isinstance(result, dict) else result.to_dict()
    return data


def compute(
    fn: Callable[[R], Any], body: R, overrides: Mapping[str, Domain] | None = None
) -> tuple[Any, dict[str, Any]]:
    """``(result, its --json object)`` for ``fn(body)``, with both checks (synchronous; the
    web pages call it on the same worker pool).

    Raises:
        InputError: an input outside its domain, an intermediate result that overflowed
            (the CLI's message for the same options), or an output that is not a finite
            number.
    """
    check_domains(body, overrides)
    try:
        result = fn(body)
    except OVERFLOW_ERRORS as err:
        raise overflow_error(err, body.given()) from err
    return result, checked(as_dict(result), body)


async def respond(
    request: HttpRequest,
    fn: Callable[[R], Any],
    body: R,
    overrides: Mapping[str, Domain] | None = None,
) -> dict[str, Any]:
    """The JSON answer of an endpoint: :func:`compute` on the app's bounded worker pool."""
    _, data = await request.app.state.runner.call(compute, fn, body, overrides)
    out: dict[str, Any] = data
    return out
