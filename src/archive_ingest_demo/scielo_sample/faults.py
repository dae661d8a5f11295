"""What the sample SciELO server does wrong when a test asks (:class:`Fault`), the log of what
it was asked (:class:`RecordedRequest`), and :func:`gzip_bomb` to make a compressed fault body."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field


@dataclass
class Fault:
    """What to do wrong for requests to one path. Unset fields leave that aspect normal."""

    status: int | None = None  # answer this status with an HTML error page
    times: int | None = None  # apply to this many requests, then behave (None = always)
    delay: float = 0.0  # seconds to wait before answering
    body_delay: float = 0.0  # seconds to wait between the headers and the body
    html_as_pdf: bool = False  # answer 200 with an HTML page labelled application/pdf
    content_length: int | None = None  # declare this Content-Length (then close)
    truncate_to: int | None = None  # send only this many body bytes (then close)
    redirect_to: str | None = None  # answer 302 with this Location
    reset: bool = False  # reset the TCP connection without answering
    encoded_body: bytes | None = None  # answer 200 with these bytes, as they are ...
    content_encoding: str | None = None  # ... labelled with this Content-Encoding
    hits: int = 0  # how many requests it has been applied to

    def _take(self) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        self.hits += 1
        return True


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    fault: bool = False  # whether a fault was applied to it
    at: float = field(default_factory=time.monotonic)  # when it arrived (monotonic clock)

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


def gzip_bomb(decoded_size: int, *, layers: int = 1, head: bytes = b"%PDF-1.7\n") -> bytes:
    """``head`` and zeros up to ``decoded_size`` bytes, gzipped ``layers`` times: a body of a
    few hundred bytes (two layers) that a client decoding it whole holds in memory at full
    size. Built in 1 MiB steps, so making it needs no such memory here."""
    if layers < 1:
        raise ValueError("layers must be at least 1")
    body = _gzip_stream(head, decoded_size - len(head))
    for _ in range(layers - 1):
        body = _gzip_stream(body, 0)
    return body


def _gzip_stream(head: bytes, zeros: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [packer.compress(head)]
    block = bytes(1024 * 1024)
    while zeros > 0:
        parts.append(packer.compress(block[: min(zeros, len(block))]))
        zeros -= len(block)
    parts.append(packer.flush())
    return b"".join(parts)
