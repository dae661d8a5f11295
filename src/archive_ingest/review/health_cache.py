"""What the health page shows, read at most once per :data:`HEALTH_CACHE_SECONDS` per process.

Reading the figures and the charts' history costs a few aggregate queries (about 2.5 s of
database time at 100,000 items, docs/OPERATIONS.md): a page reloaded by several people, or
by one impatient one, must not multiply that. :class:`Cached` keeps the last value for a
while; one read at a time, under a lock: a request arriving during a read waits for it and
takes its result instead of starting another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: seconds the health page's data is reused before it is read again
HEALTH_CACHE_SECONDS = 30.0


class Cached(Generic[T]):
    """``read()``'s value, read again once it is older than ``seconds`` (thread-safe: one read
    at a time, the others wait for it). A read that raises leaves nothing cached."""

    def __init__(
        self,
        read: Callable[[], T],
        seconds: float = HEALTH_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._value: tuple[float, T] | None = None

    def get(self) -> T:
        with self._lock:
            if self._value is not None and self._clock() - self._value[0] < self._seconds:
                return self._value[1]
            value = self._read()
            self._value = (self._clock(), value)
            return value
