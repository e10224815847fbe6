"""Run one library call off the event loop, bounded in time and in concurrency.

Library calls are CPU-bound and synchronous. :class:`Runner` runs them on a small thread
pool; a request waits for a free worker and for its result together at most
``Limits.timeout_s``, then gets 504. A call that overran keeps its worker until it ends, so
runaway work cannot pile up beyond ``Limits.workers`` threads.
"""

from __future__ import annotations

import asyncio
import functools
import threading
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
        self._pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="work")
        self._slots = threading.BoundedSemaphore(limits.workers)

    def _run(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        finally:
            self._slots.release()

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a worker thread.

        Raises:
            ServiceTimeout: no worker came free, or the call did not end, within the timeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        while not self._slots.acquire(blocking=False):
            if loop.time() >= deadline:
                raise ServiceTimeout(self._timeout_s)
            await asyncio.sleep(0.002)
        job = functools.partial(fn, *args, **kwargs)
        future = loop.run_in_executor(self._pool, self._run, job)
        try:
            return await asyncio.wait_for(
                asyncio.shield(future), max(deadline - loop.time(), 0.001)
            )
        except TimeoutError:
            raise ServiceTimeout(self._timeout_s) from None

    def close(self) -> None:
        """Stop accepting work; running calls finish in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)
