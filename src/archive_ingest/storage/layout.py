"""Key layout in the bucket (pure): ``<prefix>/<record-id>/v<version>/<path in bag>``.

One AIP version is one key prefix. It holds the bag's files as separate objects, so the
server can checksum each one, and ``deposit-receipt.json`` written last as the commit marker:
a version prefix without its receipt is an incomplete deposit, never an AIP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive_ingest.errors import StorageError
from archive_ingest.models import RECORD_ID_RE

RECEIPT_NAME = "deposit-receipt.json"

_PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_VERSION_DIR = re.compile(r"^v([1-9][0-9]{0,8})$")
_FORBIDDEN_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\]")
MAX_KEY_LENGTH = 1024


def normalise_prefix(prefix: str) -> str:
    """``"/aip/"`` -> ``"aip"``; every segment a plain name (no dots-only, no spaces)."""
    cleaned = prefix.strip("/")
    if not cleaned or not all(_PREFIX_SEGMENT.fullmatch(seg) for seg in cleaned.split("/")):
        raise StorageError(f"unusable S3 key prefix: {prefix!r}")
    return cleaned


def check_relpath(relpath: str) -> str:
    """A path inside a bag, safe to use as the tail of an S3 key (and to map back to disk)."""
    segments = relpath.split("/")
    if (
        not relpath
        or relpath.startswith("/")
        or _FORBIDDEN_IN_PATH.search(relpath)
        or any(seg in ("", ".", "..") for seg in segments)
    ):
        raise StorageError(f"unsafe path in bag manifest: {relpath!r}")
    if relpath == RECEIPT_NAME:
        raise StorageError(f"a bag file may not be called {RECEIPT_NAME} (that is the receipt)")
    return relpath


@dataclass(frozen=True)
class AipLayout:
    """Where one version of one record lives in the bucket."""

    prefix: str
    record_id: str
    version: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", normalise_prefix(self.prefix))
        if not RECORD_ID_RE.fullmatch(self.record_id) or ".." in self.record_id:
            raise StorageError(f"unsafe record id: {self.record_id!r}")
        if not 1 <= self.version <= 999_999_999:
            raise StorageError(f"AIP version must be a positive integer, not {self.version!r}")

    @property
    def root(self) -> str:
        """The version's key prefix, with a trailing slash."""
        return f"{record_root(self.prefix, self.record_id)}v{self.version}/"

    @property
    def receipt_key(self) -> str:
        return self.root + RECEIPT_NAME

    def key(self, relpath: str) -> str:
        key = self.root + check_relpath(relpath)
        if len(key.encode("utf-8")) > MAX_KEY_LENGTH:
            raise StorageError(f"S3 key too long for bag path {relpath!r}")
        return key

    def relpath(self, key: str) -> str:
        if not key.startswith(self.root):
            raise StorageError(f"key {key!r} is not inside {self.root!r}")
        return key[len(self.root) :]

    def uri(self, bucket: str) -> str:
        return f"s3://{bucket}/{self.root}"


def record_root(prefix: str, record_id: str) -> str:
    return f"{normalise_prefix(prefix)}/{record_id}/"


def parse_key(prefix: str, key: str) -> tuple[str, int, str] | None:
    """``(record_id, version, relpath)`` for a key of our layout, else None."""
    root = normalise_prefix(prefix) + "/"
    if not key.startswith(root):
        return None
    parts = key[len(root) :].split("/", 2)
    if len(parts) != 3 or not RECORD_ID_RE.fullmatch(parts[0]):
        return None
    match = _VERSION_DIR.fullmatch(parts[1])
    if not match or not parts[2]:
        return None
    return parts[0], int(match.group(1)), parts[2]
