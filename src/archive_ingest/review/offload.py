"""Blocking work of the review UI runs in threads, never on the server's event loop.

The review and OAI routers share one event loop per process; anything that blocks it (an
argon2 hash, a database round trip, a deposit, waiting for an item's lock) stalls every
request, OAI harvesters included. Starlette runs ``def`` endpoints and ``run_in_threadpool``
work in anyio's default thread pool (40 threads), which the OAI endpoint uses too; so the two
kinds of work that can pile up get limits of their own:

- ``hashing`` (password checks and new hashes): threads of their own (``HASHING_THREADS``),
  started at the lowest CPU priority (Linux: nice 19 per thread, which argon2's lane threads
  inherit). A login spray queues here: it holds no thread of the default pool and, when the
  machine is busy, gets the CPU only after request handling does. An idle machine hashes at
  full speed, so a lone login is not slower.
- ``decisions`` (approve, reject, edit, licence; they wait for the item's lock and may deposit):
  at most ``DECISION_THREADS`` at once (an anyio CapacityLimiter), so a slow store cannot take
  the threads OAI answers with.

Short catalogue reads and writes (a session lookup, a login counter) use the default pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from anyio import CapacityLimiter, to_thread

P = ParamSpec("P")
T = TypeVar("T")

HASHING_THREADS = 2
HASHING_NICE = 19
DECISION_THREADS = 4


def _lowest_priority() -> None:
    """Initialiser of a hashing thread: nice it (per thread on Linux; elsewhere a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)


class Pools:
    """The thread limits of one review router (created once per application). The hashing
    threads start with the first hash and end at :meth:`close` (the application's shutdown);
    a hash after that starts them again."""

    def __init__(self, hashing: int = HASHING_THREADS, decisions: int = DECISION_THREADS) -> None:
        self._hashing_threads = hashing
        self._hashing: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.decisions = CapacityLimiter(decisions)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._hashing is None:
                self._hashing = ThreadPoolExecutor(
                    max_workers=self._hashing_threads,
                    thread_name_prefix="review-hash",
                    initializer=_lowest_priority,
                )
            return self._hashing

    def close(self) -> None:
        """End the hashing threads (after any hash in progress; queued ones are cancelled)."""
        with self._lock:
            executor, self._hashing = self._hashing, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    async def hash(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.wrap_future(self._executor().submit(partial(fn, *args, **kwargs)))

    async def decide(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self.decisions)

    @staticmethod
    async def short(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await to_thread.run_sync(partial(fn, *args, **kwargs))
