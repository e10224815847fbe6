"""ASGI middleware: request body size and bearer-token authentication.

Both are plain ASGI wrappers (no buffering): the body limit counts bytes as they arrive and
refuses with 413 as soon as a request passes it, whether or not it declared a
``Content-Length``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

from infercost.api.errors import error_body
from infercost.api.settings import Limits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Cookie the web app's sign-in form sets (HttpOnly, SameSite=Strict).
TOKEN_COOKIE = "infercost_token"
#: Paths served without a token: liveness, the sign-in form and static files.
OPEN_PATHS = ("/healthz", "/login", "/static/")


async def _reply(send: Send, status: int, message: str, kind: str, **headers: str) -> None:
    body = json.dumps(error_body(message, kind)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies over the limit: ``Limits.max_body_bytes`` for JSON and forms,
    ``max_upload_bytes x max_uploads`` for multipart uploads.

    The body is read (counting, up to the limit) before the app sees it, so an oversized
    body is 413 whether or not it declared a ``Content-Length``, and never reaches a parser.
    """

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    def _limit(self, scope: Scope) -> int:
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        if ctype.startswith("multipart/form-data"):
            return self.limits.max_upload_bytes * self.limits.max_uploads + 64 * 1024
        return self.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        too_large = f"Request body is larger than the service's limit of {limit:,} bytes."
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reply(send, 413, too_large, "TooLarge")
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await _reply(send, 413, too_large, "TooLarge")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class TokenAuth:
    """Require ``Authorization: Bearer <token>`` (or the sign-in cookie) on every path but
    :data:`OPEN_PATHS`. Compared in constant time."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def _presented(self, scope: Scope) -> bytes | None:
        headers = dict(scope.get("headers") or [])
        auth: bytes = headers.get(b"authorization", b"")
        if auth[:7].lower() == b"bearer ":
            return auth[7:].strip()
        cookie = headers.get(b"cookie")
        if cookie:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(cookie.decode("latin-1"))
            except Exception:  # a malformed cookie header is no token
                return None
            if TOKEN_COOKIE in jar:
                return jar[TOKEN_COOKIE].value.encode("latin-1")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or any(
            path == p or (p.endswith("/") and path.startswith(p)) for p in OPEN_PATHS
        ):
            await self.app(scope, receive, send)
            return
        given = self._presented(scope)
        if given is None or not hmac.compare_digest(given, self.token):
            if path.startswith("/api/") or path in ("/openapi.json", "/docs"):
                await _reply(
                    send, 401,
                    "This service needs a token: send 'Authorization: Bearer <token>' (the "
                    "token given to infercost serve with --token or INFERCOST_TOKEN).",
                    "Unauthorized", **{"www-authenticate": "Bearer"},
                )  # fmt: skip
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", b"/login")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)
