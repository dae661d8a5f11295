"""The full audit tier: re-read stored bytes and hash them, within a budget.

:func:`rehash_object` GETs the recorded version of one object and hashes it while a reader
thread keeps the next chunks coming (:func:`archive_ingest.storage.hashing.hash_body`):
SHA-256 and SHA-512 on two threads, or SHA-256 alone when the caller asks (the scheduled
pass, setting ``audit_rehash_digests``; see docs/DECISIONS.md). A server that cannot return the
bytes (SeaweedFS's needle CRC catching rot, a truncated body, a read error) is ``unreadable``;
other bytes or another size are ``content-mismatch``; a version that is gone is ``missing``:
the mapping of :func:`archive_ingest.storage.verify.read_back_checks`, which the deposit uses.

:class:`Budget` bounds one pass by bytes and seconds. :func:`default_budget_bytes` is the
budget that keeps the promise "every stored byte re-hashed within ``cycle_days``" when a pass
runs every ``interval_hours``: the larger of what is overdue (last re-hash older than the
cycle) and the total divided into equal shares, ``total * interval / cycle``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from archive_ingest.errors import StorageError
from archive_ingest.storage.hashing import DigestChoice, hash_body
from archive_ingest.storage.s3 import (
    S3Client,
    error_code,
    http_status,
    is_not_found,
    storage_error,
)
from archive_ingest.storage.verify import Problem


def rehash_object(
    client: S3Client,
    bucket: str,
    *,
    key: str,
    version_id: str | None,
    path: str,
    size: int,
    sha256: str,
    sha512: str,
    digests: DigestChoice = "both",
) -> list[Problem]:
    """GET the recorded version and compare its size, SHA-256 and (with ``digests="both"``)
    SHA-512; [] when equal. ``path`` names the object in the AIP (kept for callers)."""
    del path
    try:
        return _read_back(client, bucket, key, version_id, size, sha256, sha512, digests)
    except StorageError as exc:
        return [Problem(key=key, reason="unreadable", detail=str(exc))]


def _read_back(
    client: S3Client,
    bucket: str,
    key: str,
    version_id: str | None,
    size: int,
    sha256: str,
    sha512: str,
    digests: DigestChoice,
) -> list[Problem]:
    args = {"VersionId": version_id} if version_id else {}
    try:
        body = client.get_object(Bucket=bucket, Key=key, **args)["Body"]
        try:
            got = hash_body(body, digests=digests)
        finally:
            body.close()
    except ClientError as exc:
        if is_not_found(exc):
            return [Problem(key=key, reason="missing", detail="not found on read-back")]
        if (http_status(exc) or 0) >= 500:  # after botocore's retries: the bytes are unreadable
            detail = f"the server could not return the bytes ({error_code(exc)}, HTTP 5xx)"
            return [Problem(key=key, reason="unreadable", detail=detail)]
        raise storage_error("get_object", key, exc) from exc
    except BotoCoreError as exc:  # a truncated body, a read timeout, a broken connection
        raise storage_error("get_object", key, exc) from exc
    if (got.size, got.sha256) != (size, sha256) or got.sha512 not in (None, sha512):
        return [
            Problem(
                key=key,
                reason="content-mismatch",
                detail=f"read back {got.size} bytes, sha256 {got.sha256}; expected {size} "
                f"bytes, sha256 {sha256}",
            )
        ]
    return []


def default_budget_bytes(
    total_bytes: int, overdue_bytes: int, *, interval_hours: float, cycle_days: float
) -> int:
    """Bytes one scheduled pass re-hashes so that every byte is re-hashed within the cycle."""
    share = total_bytes * interval_hours / (cycle_days * 24.0)
    return max(overdue_bytes, int(share + 0.999999))


@dataclass
class Budget:
    """What one pass may still re-hash on one target. ``None``: no bound."""

    max_bytes: int | None
    max_seconds: float | None
    started: float = field(default_factory=time.monotonic)
    bytes_used: int = 0
    objects: int = 0

    def allows(self, size: int) -> bool:
        """Whether an object of ``size`` bytes fits. The first object always does (else one
        object larger than the budget would never be re-hashed)."""
        if self.objects == 0:
            return True
        if self.max_seconds is not None and time.monotonic() - self.started >= self.max_seconds:
            return False
        return self.max_bytes is None or self.bytes_used + size <= self.max_bytes

    def spend(self, size: int) -> None:
        self.bytes_used += size
        self.objects += 1

    @property
    def exhausted(self) -> bool:
        if self.max_seconds is not None and time.monotonic() - self.started >= self.max_seconds:
            return True
        return self.max_bytes is not None and self.bytes_used >= self.max_bytes
