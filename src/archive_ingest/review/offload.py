"""Blocking work of the review UI runs in threads, never on the server's event loop.

The review and OAI routers share one event loop per process; anything that blocks it (an
argon2 hash, a database round trip, a deposit, waiting for an item's lock) stalls every
request, OAI harvesters included. Starlette runs ``def`` endpoints and ``run_in_threadpool``
work in anyio's default thread pool (40 threads), which the OAI endpoint uses too; so the two
kinds of work that can pile up get small pools of their own:

- ``hashing`` (password checks and new hashes): a login spray queues here, holding no thread
  of the default pool and no more CPU than its tokens;
- ``decisions`` (approve, reject, edit, licence; they wait for the item's lock and may deposit):
  a slow store cannot take the threads OAI answers with.

Short catalogue reads and writes (a session lookup, a login counter) use the default pool.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

from anyio import CapacityLimiter, to_thread

P = ParamSpec("P")
T = TypeVar("T")

HASHING_THREADS = 2
DECISION_THREADS = 4


class Pools:
    """The thread limits of one review router (created once per application)."""

    def __init__(self, hashing: int = HASHING_THREADS, decisions: int = DECISION_THREADS) -> None:
        self.hashing = CapacityLimiter(hashing)
        self.decisions = CapacityLimiter(decisions)

    async def hash(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self.hashing)

    async def decide(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self.decisions)

    @staticmethod
    async def short(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await to_thread.run_sync(partial(fn, *args, **kwargs))
