"""Decode a response body's Content-Encoding ourselves, in bounded steps.

httpx decodes gzip/deflate transparently, but each raw chunk is inflated whole: a body of a
kilobyte gzipped twice ("Content-Encoding: gzip, gzip") becomes hundreds of MiB in memory
before any size limit can look at it. So :mod:`archive_ingest.http` reads the *raw* bytes and
this module decodes them:

* one coding at most (``gzip``, ``x-gzip`` or ``deflate``; ``identity`` is no coding): a stack
  of codings is refused outright, as is a coding we do not know;
* inflated in steps of at most :data:`STEP` bytes, with the decoded total checked against the
  same limit as the raw bytes after every step, so a bomb costs one step of memory;
* a compressed stream that ends early is a (transient) failure, never a short body.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

from archive_ingest.errors import FetchError

#: the most bytes one inflate step may produce
STEP = 256 * 1024
#: the codings we decode (what we also ask for with Accept-Encoding)
ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


def content_coding(header: str | None, url: str) -> str | None:
    """The one coding of a Content-Encoding header (``None``: identity); refuses stacks."""
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1:
        raise FetchError(
            f"{url} is encoded more than once (Content-Encoding: {header}); refused, as a "
            "stack of compressions is how decompression bombs are made"
        )
    if codings and codings[0] not in _WBITS:
        raise FetchError(f"{url} uses an unsupported Content-Encoding ({header})")
    return codings[0] if codings else None


class BoundedBody:
    """The decoded blocks of a raw body; counts raw and decoded bytes, stops at ``limit``."""

    def __init__(self, url: str, coding: str | None, limit: int, *, over: str) -> None:
        self.url = url
        self.coding = coding
        self.limit = limit
        self.raw_bytes = 0
        self.decoded_bytes = 0
        self._over = over  # the message when the limit is passed
        self._inflater = zlib.decompressobj(_WBITS[coding]) if coding else None
        self._first = True

    def blocks(self, raw_chunks: Iterable[bytes]) -> Iterator[bytes]:
        for raw in raw_chunks:
            self.raw_bytes += len(raw)
            if self.raw_bytes > self.limit:
                raise FetchError(self._over)
            for block in self._decode(raw):
                self.decoded_bytes += len(block)
                if self.decoded_bytes > self.limit:
                    raise FetchError(self._over)
                yield block
        self._finish()

    def _decode(self, raw: bytes) -> Iterator[bytes]:
        if self._inflater is None:
            yield raw
            return
        data = raw
        while True:
            block = self._inflate(self._inflater, data)
            if block:
                yield block
            data = self._inflater.unconsumed_tail
            if self._inflater.eof and self._inflater.unused_data and self.coding != "deflate":
                data = self._inflater.unused_data  # the next member of a multi-member gzip
                self._inflater = zlib.decompressobj(_WBITS["gzip"])
            if not data and len(block) < STEP:
                return  # all input used and nothing more pending

    def _inflate(self, inflater: zlib._Decompress, data: bytes) -> bytes:
        try:
            block = inflater.decompress(data, STEP)
        except zlib.error as exc:
            if self._first and self.coding == "deflate":  # raw deflate, without zlib's header
                self._first = False
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._inflate(self._inflater, data)
            raise FetchError(
                f"{self.url}: the {self.coding} body does not decode ({exc})", transient=True
            ) from None
        self._first = False
        return block

    def _finish(self) -> None:
        if self._inflater is not None and not self._inflater.eof and self.raw_bytes:
            raise FetchError(
                f"{self.url}: the {self.coding} body is incomplete (the compressed stream ends "
                f"early after {self.raw_bytes} bytes); truncated in transit?",
                transient=True,
            )
