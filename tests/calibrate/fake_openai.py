"""A fake OpenAI-compatible streaming server on 127.0.0.1 with a known TTFT and token rate.

Plain asyncio HTTP/1.1 (keep-alive, chunked SSE), run on its own event loop in a background
thread so the code under test can use ``asyncio.run`` in the test's thread. For a request with
``max_tokens`` n it sends the first token ``ttft_s`` after the request arrived and token k
(k = 1 .. n-1) at ``first token sent + k / tokens_per_s``, scheduled on absolute times so sleep
jitter does not accumulate; then a usage chunk (when
``stream_options.include_usage`` is set) and ``data: [DONE]``. So a client should measure
TTFT = ttft_s, TPOT = ITL = 1 / tokens_per_s and E2E = ttft_s + (n - 1) / tokens_per_s.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from types import TracebackType

_STEP_S = 0.005


async def _sleep_until(loop: asyncio.AbstractEventLoop, target: float) -> None:
    """Sleep until ``loop.time() >= target`` in steps of at most 5 ms.

    One long sleep wakes up to 10-15 ms late on an idle virtual machine (the vCPU idles
    deeply); short steps keep the lateness near 1 ms, well inside the tests' 5% bounds.
    """
    while (remaining := target - loop.time()) > 0:
        await asyncio.sleep(min(_STEP_S, remaining))


class FakeOpenAIServer:
    """Context manager: ``with FakeOpenAIServer(0.1, 100.0) as server: server.url``."""

    def __init__(self, ttft_s: float, tokens_per_s: float, *, fail_status: int | None = None):
        self.ttft_s = ttft_s
        self.itl_s = 1.0 / tokens_per_s
        self.fail_status = fail_status
        self.requests: list[tuple[str, dict[str, object]]] = []  # (path, JSON body)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        if not self._started.wait(timeout=5):
            raise RuntimeError("fake server did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()
        self._server.close()
        self._loop.run_until_complete(self._server.wait_closed())
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    break
                _method, path, _version = request_line.decode().split(" ", 2)
                length = 0
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode().partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = json.loads(await reader.readexactly(length)) if length else {}
                self.requests.append((path, body))
                await self._respond(writer, path, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _respond(
        self, writer: asyncio.StreamWriter, path: str, body: dict[str, object]
    ) -> None:
        if path not in ("/v1/completions", "/v1/chat/completions"):
            await self._plain(writer, 404, b'{"error": "not found"}')
            return
        if self.fail_status is not None:
            await self._plain(writer, self.fail_status, b'{"error": "induced failure"}')
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chat = path.endswith("/chat/completions")
        n = int(body.get("max_tokens", 16))  # type: ignore[call-overload]
        loop = asyncio.get_running_loop()
        first = loop.time() + self.ttft_s
        for k in range(n):
            await _sleep_until(loop, first + k * self.itl_s)
            if k == 0:  # decode steps follow the prefill, even when the prefill ran late
                first = loop.time()
            choice = (
                {"index": 0, "delta": {"content": "tok "}}
                if chat
                else {"index": 0, "text": "tok "}
            )
            await self._event(writer, {"id": "x", "choices": [choice]})
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            prompt = body.get("prompt") or body.get("messages")
            prompt_tokens = len(str(prompt).split())
            await self._event(
                writer,
                {
                    "id": "x",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": n,
                        "total_tokens": prompt_tokens + n,
                    },
                },
            )
        await self._chunk(writer, b"data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _event(self, writer: asyncio.StreamWriter, event: dict[str, object]) -> None:
        await self._chunk(writer, f"data: {json.dumps(event)}\n\n".encode())

    @staticmethod
    async def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        await writer.drain()

    @staticmethod
    async def _plain(writer: asyncio.StreamWriter, status: int, data: bytes) -> None:
        writer.write(
            f"HTTP/1.1 {status} Error\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        await writer.drain()
