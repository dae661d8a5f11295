"""How many bytes a PDF stream decodes to, counted before any parser is given the stream.

qpdf (under pikepdf) decodes a stream whole before it parses it, with no limit of its own: a
content stream of 64 KiB of Flate data can hold a gigabyte of operators. So the size a content
stream decodes to is counted here first, in the way :mod:`archive_ingest.http_decoding`
bounds a response body:

* Flate data (nearly every content stream) is inflated in steps of at most :data:`STEP` bytes
  and the total checked after each step, so a bomb costs one step of memory; data that stops
  decoding part-way counts what decoded, which is also all that qpdf makes of it;
* the other filters a content stream may use (LZW, RunLength, ASCIIHex, ASCII85) are decoded
  with pypdf's decoders, which stop at pypdf's own output limit; data they cannot decode counts
  as its worst case (its raw size times the filters' greatest expansion);
* a stream with a filter qpdf does not decode when it parses content (an image codec such as
  DCT, a misspelt name) is not decoded at all (qpdf reports the content as undecodable): it
  counts 0 bytes;
* more than :data:`MAX_FILTERS` filters, or a predictor anywhere but on the last filter,
  counts as over the limit.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import pikepdf
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.filters import ASCII85Decode, ASCIIHexDecode, LZWDecode, RunLengthDecode

#: the most bytes one inflate step may produce
STEP = 256 * 1024
#: the most filters one stream may stack
MAX_FILTERS = 4

_FLATE = frozenset({"/FlateDecode", "/Fl"})
_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "/LZWDecode": LZWDecode.decode,
    "/LZW": LZWDecode.decode,
    "/RunLengthDecode": RunLengthDecode.decode,
    "/RL": RunLengthDecode.decode,
    "/ASCIIHexDecode": ASCIIHexDecode.decode,
    "/AHx": ASCIIHexDecode.decode,
    "/ASCII85Decode": ASCII85Decode.decode,
    "/A85": ASCII85Decode.decode,
}
# the most bytes one raw byte can decode to, per filter
_EXPANSION = {
    "/FlateDecode": 1032,
    "/Fl": 1032,
    "/LZWDecode": 4096,
    "/LZW": 4096,
    "/RunLengthDecode": 64,
    "/RL": 64,
    "/ASCIIHexDecode": 1,
    "/AHx": 1,
    "/ASCII85Decode": 4,
    "/A85": 4,
}


class _Over(Exception):
    """The decoded data passed the limit."""


def decoded_size(stream: pikepdf.Stream, limit: int) -> int:
    """The number of bytes ``stream`` decodes to; ``limit + 1`` when that is more than
    ``limit`` or cannot be bounded (see the module docstring). Only the raw data (itself at
    most ``limit`` bytes) and at most ``limit`` decoded bytes are ever held."""
    over = limit + 1
    filters = _names(stream.get("/Filter"))
    if filters is None or len(filters) > MAX_FILTERS:
        return over
    if any(name not in _EXPANSION for name in filters):
        return 0  # qpdf will not decode it for parsing, so nothing of it is read
    parameters = _parameters(stream.get("/DecodeParms"), len(filters))
    if any(_has_predictor(p) for p in parameters[:-1]):
        return over
    raw = stream.read_raw_bytes()
    if len(raw) > limit:
        return over
    data = raw
    size = len(raw)
    for position, name in enumerate(filters):
        last = position == len(filters) - 1
        try:
            if name in _FLATE:
                size, kept = _inflate(data, limit, keep=not last)
                data = kept if kept is not None else b""
            else:
                data = _DECODERS[name](data)
                size = len(data)
        except (_Over, LimitReachedError):
            return over
        except (PyPdfError, ValueError, TypeError, IndexError, KeyError):
            worst = len(raw) * math.prod(_EXPANSION[n] for n in filters)
            return min(worst, over)
        if size > limit:
            return over
    return size


def _inflate(data: bytes, limit: int, *, keep: bool) -> tuple[int, bytes | None]:
    """Inflate ``data`` in steps of ``STEP``: the decoded size, and the decoded bytes when
    ``keep``. Raises ``_Over`` past ``limit``; stops quietly where the data stops decoding."""
    inflater = zlib.decompressobj()
    kept = bytearray() if keep else None
    size = 0
    pending = data
    try:
        while True:
            block = inflater.decompress(pending, STEP)
            pending = inflater.unconsumed_tail
            size += len(block)
            if size > limit:
                raise _Over
            if kept is not None:
                kept += block
            if inflater.eof or not block:
                break
    except zlib.error:
        pass  # damaged data: qpdf keeps what decoded before the damage, and so do we
    return size, bytes(kept) if kept is not None else None


def _names(value: object) -> list[str] | None:
    """The filter names of a ``/Filter`` entry (``[]`` for none); ``None`` if malformed."""
    if value is None:
        return []
    if isinstance(value, pikepdf.Name):
        return [str(value)]
    if isinstance(value, pikepdf.Array):
        names = [str(item) for item in value if isinstance(item, pikepdf.Name)]
        return names if len(names) == len(value) else None
    return None


def _parameters(value: object, count: int) -> list[object]:
    """One ``/DecodeParms`` entry per filter (``None`` where there is none)."""
    if isinstance(value, pikepdf.Array):
        items: list[object] = list(value)
    else:
        items = [value]
    return (items + [None] * count)[:count] if count else []


def _has_predictor(value: object) -> bool:
    if not isinstance(value, pikepdf.Dictionary):
        return False
    try:
        return int(value.get("/Predictor", 1)) > 1
    except (TypeError, ValueError):
        return True
