"""The full audit tier: re-read stored bytes and hash them, within a budget.

:func:`rehash_object` GETs the recorded version of one object and streams it through SHA-256
and SHA-512 (:func:`archive_ingest.storage.verify.read_back_checks`); a server that cannot
return the bytes (SeaweedFS's needle CRC catching rot) is ``unreadable``, other bytes are
``content-mismatch``.

:class:`Budget` bounds one pass by bytes and seconds. :func:`default_budget_bytes` is the
budget that keeps the promise "every stored byte re-hashed within ``cycle_days``" when a pass
runs every ``interval_hours``: the larger of what is overdue (last re-hash older than the
cycle) and the total divided into equal shares, ``total * interval / cycle``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from archive_ingest.errors import StorageError
from archive_ingest.storage.receipt import StoredObject
from archive_ingest.storage.s3 import S3Client
from archive_ingest.storage.verify import Problem, read_back_checks


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
) -> list[Problem]:
    """GET the recorded version and compare its size, SHA-256 and SHA-512; [] when equal."""
    expected = StoredObject(
        path=path,
        key=key,
        size=size,
        sha256=sha256,
        sha512=sha512,
        version_id=version_id,
        checksum_algorithm="SHA256",
        checksum="",
    )
    try:
        return read_back_checks(client, bucket, expected)
    except StorageError as exc:
        return [Problem(key=key, reason="unreadable", detail=str(exc))]


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
