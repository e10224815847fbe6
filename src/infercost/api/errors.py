"""One error shape for every endpoint: ``{"error": message, "type": kind}``.

An :class:`~infercost.errors.InfercostError` becomes 400 with ``str(err)``, exactly the line
the CLI prints (``predict --json`` prints the same object). A body that does not match the
request model becomes 422 naming each field. Anything else is a bug: 500 with a generic
message, never a traceback (the traceback goes to the server log).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from infercost.api.runner import ServiceTimeout
from infercost.errors import InfercostError

log = logging.getLogger("infercost.api")


def error_body(message: str, kind: str) -> dict[str, str]:
    """The JSON object of every error response (the CLI's ``--json`` error shape)."""
    return {"error": message, "type": kind}


#: pydantic error types where the value's JSON type was wrong: the message shows what came.
WRONG_TYPE = frozenset({"int_type", "float_type", "bool_type", "string_type", "list_type"})
#: pydantic error types of a text that does not read as the number or boolean asked for (the
#: web pages' URL strings, read laxly): the message quotes the text.
UNREADABLE = frozenset({"int_parsing", "float_parsing", "bool_parsing", "int_from_float"})


def _shown(value: Any) -> str:
    """``true (a JSON boolean)``, ``"1000" (a JSON string)``: what a wrong-typed value was."""
    kind = {bool: "boolean", str: "string", int: "number", float: "number", list: "array"}
    what = kind.get(type(value), "object" if isinstance(value, dict) else "value")
    text = json.dumps(value, default=str)
    return f"{text if len(text) <= 40 else text[:37] + '...'} (a JSON {what})"


def _not_an_object(body: Any) -> str:
    """Why a body that parsed is not the one JSON object every POST takes: raw bytes mean it
    was not sent as JSON (``curl -d`` without a header sends a form), else which JSON value
    it was."""
    if isinstance(body, bytes | bytearray):
        return (
            "The request body was not sent as JSON (read as raw bytes): send it with the "
            'header Content-Type: application/json, as one JSON object, e.g. {"isl": 1000}.'
        )
    kind = {bool: "a boolean", str: "a string", int: "a number", float: "a number"}
    what = "an array" if isinstance(body, list) else "null" if body is None else "a value"
    return (
        f"The request body is {kind.get(type(body), what)}, not a JSON object; send one JSON "
        'object, e.g. {"isl": 1000}.'
    )


def validation_message(errors: Sequence[Any]) -> str:
    """``isl: Input should be a valid integer, got "1000" (a JSON string); gpu: Field
    required`` from pydantic errors; a body that is not JSON says so, with the position."""
    parts = []
    for e in errors:
        loc = list(e.get("loc", ()))
        if e.get("type") == "json_invalid":
            at = next((p for p in loc if isinstance(p, int)), None)
            where = f" at character {at} (counting from 0)" if at is not None else ""
            why = (e.get("ctx") or {}).get("error", "")
            return (
                f"The request body is not valid JSON: {why or 'JSON decode error'}{where}; "
                'send one JSON object, e.g. {"isl": 1000}.'
            )
        if loc == ["body"] and e.get("type") == "missing":
            return 'The request body is empty; send one JSON object, e.g. {"isl": 1000}.'
        if loc == ["body"] and e.get("type") in ("model_attributes_type", "dict_type"):
            return _not_an_object(e.get("input"))
        names = [str(p) for p in loc if p not in ("body", "query")]
        where = ".".join(names) or "body"
        msg = e.get("msg", "invalid")
        if e.get("type") in WRONG_TYPE:
            msg = f"{msg}, got {_shown(e.get('input'))}"
        elif e.get("type") in UNREADABLE:
            text = json.dumps(e.get("input"), default=str)
            msg = f"{msg}, got {text if len(text) <= 40 else text[:37] + '...'}"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts) or "The request does not match the schema."


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(InfercostError)
    async def _user_error(_: Request, err: InfercostError) -> JSONResponse:
        return JSONResponse(error_body(str(err), type(err).__name__), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            error_body(validation_message(err.errors()), "ValidationError"), status_code=422
        )

    @app.exception_handler(ServiceTimeout)
    async def _timeout(_: Request, err: ServiceTimeout) -> JSONResponse:
        return JSONResponse(error_body(str(err), "Timeout"), status_code=504)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(str(err.detail), "HTTPError"),
            status_code=err.status_code,
            headers=err.headers,
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body(
                "Internal error: this is a bug in infercost, not in your request; please "
                "report it with the request body.",
                "InternalError",
            ),
            status_code=500,
        )
