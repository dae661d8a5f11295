"""Decode a response body's Content-Encoding ourselves, in bounded steps.

httpx decodes gzip/deflate transparently, but each raw chunk is inflated whole: a body of a
kilobyte gzipped twice ("Content-Encoding: gzip, gzip") becomes hundreds of MiB in memory
before any size limit can look at it. So :mod:`archive_ingest.http` reads the *raw* bytes and
this module decodes them:

* one coding at most (``gzip``, ``x-gzip`` or ``deflate``; ``identity`` is no coding): a stack
  of codings is refused outright, as is a coding we do not know;
* inflated in steps of at most :data:`STEP` bytes, with the decoded total checked against the
  same limit as the raw bytes after every step, so a bomb costs one step of memory;
* a compressed stream that ends early is a (transient) failure, never a short body;
* after a complete gzip member, bytes that do not begin another member (zero padding, a
  garbage trailer: what some servers send, and what urllib3 ignores too) end the body; they
  are logged (debug) and still count against the raw limit. A further member that decodes is
  part of the body, bounded like the first, and one cut short is still an incomplete body.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator

from archive_ingest.errors import FetchError

log = logging.getLogger(__name__)

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
        self._member_at: int | None = None  # raw offset where a later gzip member begins
        self._member_out = 0  # the bytes that member has decoded
        self._ended = False  # the body ended at _member_at: the rest is a trailer

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
        if self._ended:
            return  # a trailer after the body: counted as raw bytes, not decoded
        data = raw
        while True:
            try:
                block = self._inflate(self._inflater, data)
            except FetchError:
                if not self._in_trailer():
                    raise
                self._ended = True  # no further member: the body ended with the last one
                return
            if block:
                self._member_out += len(block)
                yield block
            data = self._inflater.unconsumed_tail
            if self._inflater.eof and self._inflater.unused_data and self.coding != "deflate":
                data = self._inflater.unused_data  # the next member of a multi-member gzip?
                self._member_at = self.raw_bytes - len(data)  # data: the end of this chunk
                self._member_out = 0
                self._inflater = zlib.decompressobj(_WBITS["gzip"])
            if not data and len(block) < STEP:
                return  # all input used and nothing more pending

    def _in_trailer(self) -> bool:
        """Whether what follows the last complete gzip member has decoded nothing so far."""
        return self._member_at is not None and not self._member_out

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
        if self._inflater is None or not self.raw_bytes:
            return
        if self._ended or (not self._inflater.eof and self._in_trailer()):
            log.debug(
                "%s: %d byte(s) after the end of the gzip body ignored (padding or a trailer)",
                self.url,
                self.raw_bytes - (self._member_at or 0),
            )
            return
        if not self._inflater.eof:
            raise FetchError(
                f"{self.url}: the {self.coding} body is incomplete (the compressed stream ends "
                f"early after {self.raw_bytes} bytes); truncated in transit?",
                transient=True,
            )
