"""The one path every JSON endpoint takes: check the domains, call the library on a worker,
turn the result into its ``--json`` object, check that object, answer."""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request as HttpRequest

from infercost.api.schema import Request, check_domains, checked
from infercost.catalog.names import closest
from infercost.domains import OVERFLOW_ERRORS, Domain, overflow_error
from infercost.errors import InputError

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


def known_query_only(request: HttpRequest) -> None:
    """Refuse a query parameter the endpoint does not take, or one given twice, as an unknown
    or repeated body key is refused and as the web pages refuse them: ``GET
    /api/offers?gpux=h100`` must not answer every offer, nor ``POST /api/predict?isl=8000``
    the body's isl, in silence. A router dependency of every ``/api/`` endpoint.

    Raises:
        InputError: naming the parameter, the closest known one and what the endpoint takes.
    """
    route = request.scope.get("route")
    params = list(getattr(getattr(route, "dependant", None), "query_params", ()))
    known = [p.alias for p in params]
    many = {p.alias for p in params if typing.get_origin(p.field_info.annotation) is list}
    names = [name for name, _ in request.query_params.multi_items()]
    where = f"{request.method} {request.url.path}"
    for name in names:
        if name in known:
            continue
        if not known:
            raise InputError(
                f"Unknown query parameter {name!r}: {where} takes no query parameters"
                + (" (send its inputs as a JSON body)." if request.method == "POST" else ".")
            )
        near = closest(name, known, 1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise InputError(
            f"Unknown query parameter {name!r}{hint}. {where} takes: {', '.join(known)}."
        )
    twice = sorted({n for n in names if names.count(n) > 1 and n not in many})
    if twice:
        raise InputError(f"Query parameter {twice[0]!r} is given more than once; give it once.")
