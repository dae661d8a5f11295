"""What an ``/access`` request asks for: its path segments checked (nothing local is named),
its single byte range and its ``If-None-Match``/``If-Range`` entity tags (web/access.py)."""

from __future__ import annotations

import re

from archive_ingest.models import RECORD_ID_RE

_VERSION = re.compile(r"[1-9][0-9]{0,8}")
_RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")
MAX_RANGE_HEADER = 200


def valid_request(record_id: str, version: str) -> int | None:
    """The version number when both path segments are well-formed, else None."""
    if not RECORD_ID_RE.fullmatch(record_id) or ".." in record_id:
        return None
    if not _VERSION.fullmatch(version):
        return None
    return int(version)


class Unsatisfiable(Exception):
    """A byte range that starts at or after the end of the file (416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` (inclusive) of a single byte range, None for the whole file (no
    header, a malformed one, another unit or several ranges: ignored, RFC 9110 14.2).
    Raises :class:`Unsatisfiable` for a range with no byte inside the file."""
    if not header or len(header) > MAX_RANGE_HEADER:
        return None
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(size - suffix, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid range-spec: ignored
    if start >= size:
        raise Unsatisfiable
    return start, min(int(last), size - 1) if last else size - 1


def etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags
