"""Hash a streaming GET body while it is still arriving: a reader thread ahead of the hashers.

Read one chunk, hash it, read the next: the network read and the hashing take turns, and the
audit's re-hash ran at half the speed of a plain GET. Here a reader thread pulls the body into a
bounded queue (:data:`READ_AHEAD_DEPTH` chunks of :data:`READ_AHEAD_CHUNK` bytes, so memory
stays bounded whatever the object's size) while the caller's thread hashes. hashlib releases the
GIL for large updates, so with both digests SHA-512 runs on a second thread beside SHA-256 on
the same chunk (``parallel=True``), the chunk handed over and awaited per chunk.

Errors are the body's own: an exception raised by ``body.read`` in the reader thread (a
truncated body, a read timeout from the S3 client's configuration) is raised again in the
caller's thread, unchanged, so callers map it exactly as when they read in their own thread.
The reader never outlives a caller that stops early: it is told to stop and puts nothing more.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from archive_ingest.errors import StorageError

DigestChoice = Literal["sha256", "both"]

READ_AHEAD_CHUNK = 4 * 1024 * 1024
READ_AHEAD_DEPTH = 3
_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class BodyDigests:
    """What was read: its size, SHA-256 and SHA-512 (``None`` when not computed)."""

    size: int
    sha256: str
    sha512: str | None


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


def read_ahead(
    body: Any, *, chunk_size: int = READ_AHEAD_CHUNK, depth: int = READ_AHEAD_DEPTH
) -> Generator[bytes, None, None]:
    """Yield ``body``'s chunks, read by a thread that keeps up to ``depth`` chunks ahead.

    An exception of ``body.read`` is raised here. The reader's reads are bounded by the
    client's read timeout; should the thread still end without a word, a
    :class:`~archive_ingest.errors.StorageError` is raised instead of waiting forever.
    """
    chunks: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def read() -> None:
        try:
            while not stop.is_set():
                chunk = body.read(chunk_size)
                if not chunk:
                    break
                put(chunk)
        except BaseException as exc:  # handed to the caller's thread
            put(_Failed(exc))
        finally:
            put(_END)

    reader = threading.Thread(target=read, name="body-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            try:
                item = chunks.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if reader.is_alive() or not chunks.empty():
                    continue
                raise StorageError("the body's reader thread ended without a result") from None
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]  # only bytes are put besides the two markers
    finally:
        stop.set()  # a caller that stops early: the reader puts nothing more and ends
        reader.join(timeout=_POLL_SECONDS)


def hash_body(
    body: Any,
    *,
    digests: DigestChoice = "both",
    parallel: bool = True,
    chunk_size: int = READ_AHEAD_CHUNK,
    depth: int = READ_AHEAD_DEPTH,
) -> BodyDigests:
    """Size and digests of a streaming body, read ahead by a thread (see the module doc).

    ``digests="sha256"`` computes SHA-256 alone. With ``"both"`` and ``parallel``, SHA-512 runs
    on a second thread beside SHA-256, per chunk.
    """
    sha256 = hashlib.sha256()
    sha512 = hashlib.sha512() if digests == "both" else None
    size = 0
    pool = ThreadPoolExecutor(max_workers=1) if sha512 is not None and parallel else None
    reading = read_ahead(body, chunk_size=chunk_size, depth=depth)
    try:
        with contextlib.closing(reading):  # the reader is stopped even when hashing raises
            for chunk in reading:
                size += len(chunk)
                if pool is not None and sha512 is not None:
                    other = pool.submit(sha512.update, chunk)
                    sha256.update(chunk)
                    other.result()
                else:
                    sha256.update(chunk)
                    if sha512 is not None:
                        sha512.update(chunk)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return BodyDigests(
        size=size,
        sha256=sha256.hexdigest(),
        sha512=sha512.hexdigest() if sha512 is not None else None,
    )
