"""``infercost serve``: the REST service and the web app in one process (uvicorn)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from infercost.api.settings import TOKEN_ENV, Limits, ServiceSettings, is_loopback
from infercost.cli.numbers import plain
from infercost.errors import InputError

#: uvicorn's log levels.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command("serve", help="Serve the REST API (/api, /docs) and the web app (/).")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port (0: any free port).")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(help=f"Bearer token every request must send (or ${TOKEN_ENV})."),
    ] = None,
    timeout_s: Annotated[float, typer.Option(help="Longest computation per request, s.")] = 30.0,
    workers: Annotated[int, typer.Option(help="Computations running at once.")] = 4,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    ledger: Annotated[
        Path | None,
        typer.Option(
            help="Usage ledger (DuckDB) for /usage and /api/usage: reports read it, "
            "POST /api/usage/ingest appends to it (set --token to limit who can)."
        ),
    ] = None,
) -> None:
    """Start the service. A non-loopback --host needs a token: without one it refuses to
    start, so the catalog and the planners are never open to a network by accident."""
    token = token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host) and not token:
        raise InputError(
            f"Refusing to serve on {host!r} without a token: anyone who can reach it could "
            f"use it. Give --token (or set {TOKEN_ENV}), or bind 127.0.0.1."
        )
    if not 0 <= port <= 65_535:
        raise InputError(f"--port must be in [0, 65535], got {port}.")
    if not 0 < timeout_s <= 3_600:
        raise InputError(f"--timeout-s must be in (0, 3600] seconds, got {plain(timeout_s)}.")
    if not 1 <= workers <= 64:
        raise InputError(f"--workers must be in [1, 64], got {workers}.")
    if log_level.lower() not in LOG_LEVELS:
        raise InputError(f"--log-level {log_level!r} is not one of {', '.join(LOG_LEVELS)}.")
    check_bindable(host, port)
    import uvicorn

    from infercost.web.app import create_web_app  # fastapi loads only for this command

    if ledger is not None and not ledger.is_file():
        raise InputError(
            f"--ledger {str(ledger)!r} is not a file; write one with `infercost usage ingest` "
            "or `infercost usage demo --out FILE`."
        )
    settings = ServiceSettings(
        token=token, limits=Limits(timeout_s=timeout_s, workers=workers),
        ledger=str(ledger) if ledger is not None else None,
    )  # fmt: skip
    uvicorn.run(
        create_web_app(settings),
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=log_level.lower() == "debug",
        timeout_graceful_shutdown=5,
    )


def check_bindable(host: str, port: int) -> None:
    """Refuse a --host that is not an address of this machine, or a --port it cannot bind,
    before uvicorn starts (uvicorn logs a bind error over several lines and exits).

    The address is bound once and released at once (``SO_REUSEADDR``, as uvicorn binds), so
    a port taken by another process is found here.

    Raises:
        InputError: the host or port, why, and what to give instead.
    """
    shown = host if len(host) <= 100 else host[:100] + "..."
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, UnicodeError, ValueError) as err:
        why = (getattr(err, "strerror", None) or str(err) or type(err).__name__)[:120]
        raise InputError(
            f"--host {shown!r} is not an address to serve on ({why}); give an IP address "
            "(127.0.0.1, 0.0.0.0, ::1) or a host name that resolves."
        ) from None
    family, kind, proto, _, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as err:
        raise InputError(
            f"Cannot serve on {shown}:{port} ({err.strerror or err}); give another --port "
            "(0: any free port) or --host."
        ) from None
