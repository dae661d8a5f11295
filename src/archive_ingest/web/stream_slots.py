"""Bounding the access route's streams: :class:`Slots` (at most N at once, never waiting),
:class:`Relay` (a stream's chunks read in threads under the route's own limiter) and
:class:`SlotResponse` (a streamed response that closes its stream and gives its slot back
however it ends, and ends a client that stops reading)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from anyio import CancelScope, CapacityLimiter, fail_after, to_thread
from fastapi.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class Slots:
    """At most ``size`` streams at once; :meth:`take` never waits (full: None)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.in_use = 0
        self._lock = threading.Lock()

    def take(self) -> Callable[[], None] | None:
        """A release function (calling it again does nothing), or None when all are taken."""
        with self._lock:
            if self.in_use >= self.size:
                return None
            self.in_use += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if not released.is_set():
                    released.set()
                    self.in_use -= 1

        return release


class Relay:
    """A stream's chunks for the response, each read in a thread under the route's own
    limiter (``limiter``); :meth:`close` ends the stream and closes its S3 body, also one
    never read."""

    def __init__(self, chunks: Iterator[bytes], body: Any, limiter: CapacityLimiter) -> None:
        self._chunks = chunks
        self._body = body
        self._limiter = limiter

    def __aiter__(self) -> Relay:
        return self

    async def __anext__(self) -> bytes:
        chunk = await to_thread.run_sync(next, self._chunks, None, limiter=self._limiter)
        if chunk is None:
            raise StopAsyncIteration
        return chunk

    def _close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # a generator: its own body, whichever copy it reached
        self._body.close()  # the first one, when the stream never started (twice is harmless)

    async def close(self) -> None:
        with CancelScope(shield=True):
            await to_thread.run_sync(self._close, limiter=self._limiter)


class SlotResponse(StreamingResponse):
    """A streamed body holding a slot: when the response ends, however it ends (whole, the
    client gone, a client too slow, an error), the stream is closed and the slot given back.

    Each message sent to the client has ``send_timeout`` seconds: a client that stops
    reading (its socket's buffers full) has its response ended there, the connection closed,
    rather than holding the slot for as long as it likes."""

    def __init__(
        self,
        content: Relay,
        release: Callable[[], None],
        send_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(content, **kwargs)
        self._relay = content
        self._release = release
        self._send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_in_time(message: Message) -> None:
            with fail_after(self._send_timeout):
                await send(message)

        try:
            try:
                await super().__call__(scope, receive, send_in_time)
            except* TimeoutError:
                log.warning(
                    "access copy: a client read nothing for %ss; its response is ended",
                    self._send_timeout,
                )
        finally:
            try:
                await self._relay.close()
            finally:
                self._release()
