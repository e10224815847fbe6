"""Run one library call off the event loop, bounded in time and in concurrency.

Library calls are CPU-bound and synchronous. :class:`Runner` runs them on a small thread
pool; a request waits for a free worker and for its result together at most
``Limits.timeout_s``, then gets 504. A call that overran keeps its worker until it ends (a
thread cannot be stopped), so runaway work cannot pile up beyond ``Limits.workers`` threads.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from infercost.api.settings import Limits

T = TypeVar("T")


class ServiceTimeout(Exception):
    """The work did not finish within the request timeout."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(
            f"The computation took longer than the service's {timeout_s:g} s limit; narrow "
            "the request (fewer GPUs, dtypes, concurrency levels or simulated requests) or "
            "run it with the infercost CLI."
        )


class Runner:
    """A bounded pool for library calls (one per app)."""

    def __init__(self, limits: Limits) -> None:
        self._timeout_s = limits.timeout_s
        self._workers = limits.workers
        self._pool: ThreadPoolExecutor | None = None
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _slots_for(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        sem = self._slots.get(loop)
        if sem is None:  # one per event loop (tests may start several)
            sem = self._slots[loop] = asyncio.Semaphore(self._workers)
        return sem

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a worker thread.

        Raises:
            ServiceTimeout: no worker came free, or the call did not end, within the timeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        slots = self._slots_for(loop)
        try:
            await asyncio.wait_for(slots.acquire(), self._timeout_s)
        except TimeoutError:
            raise ServiceTimeout(self._timeout_s) from None
        if self._pool is None:  # first call, or the first after close()
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="infercost-work")
        try:
            future = loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
        except BaseException:
            slots.release()
            raise
        future.add_done_callback(lambda _: slots.release())  # when the work really ends
        try:
            return await asyncio.wait_for(
                asyncio.shield(future), max(deadline - loop.time(), 0.001)
            )
        except TimeoutError:
            raise ServiceTimeout(self._timeout_s) from None

    def close(self) -> None:
        """Let the threads go when their calls end (at shutdown); a later call starts a new
        pool."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
