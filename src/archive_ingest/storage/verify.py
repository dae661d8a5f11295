"""Compare one stored object version with what we expect: HEAD checks and full read-back.

Shared by the deposit (verify before the receipt is written) and the audit (re-check later).
A HEAD with ``ChecksumMode=ENABLED`` returns the checksum the *server* verified at upload
(SHA-256 for single PUTs, full-object CRC32 for multipart) plus our own user metadata; a
read-back re-hashes the bytes with SHA-256 and SHA-512.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from datetime import UTC
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

from archive_ingest.storage.receipt import LockPolicy, StoredObject
from archive_ingest.storage.s3 import (
    S3Client,
    error_code,
    http_status,
    is_not_found,
    storage_error,
)

Reason = Literal[
    "missing",
    "replaced",
    "delete-marker",
    "size-mismatch",
    "checksum-mismatch",
    "checksum-absent",
    "metadata-mismatch",
    "content-mismatch",
    "unreadable",
    "lock-missing",
    "unexpected-object",
    "receipt-unreadable",
    "receipt-tampered",  # a receipt edited in the bucket (signature, or not the recorded one)
    "unreachable",  # the storage target did not answer
    "error",
]

READ_CHUNK = 1024 * 1024


class Problem(BaseModel):
    """One thing wrong with one key."""

    model_config = ConfigDict(frozen=True)

    key: str
    reason: Reason
    detail: str = ""


def _version_args(obj: StoredObject) -> dict[str, Any]:
    return {"VersionId": obj.version_id} if obj.version_id else {}


def head_checks(
    client: S3Client,
    bucket: str,
    obj: StoredObject,
    *,
    expect_lock: LockPolicy | None = None,
    now: dt.datetime | None = None,
) -> list[Problem]:
    """Size, server checksum, our metadata digests and (optionally) retention of one version."""
    try:
        head = client.head_object(
            Bucket=bucket, Key=obj.key, ChecksumMode="ENABLED", **_version_args(obj)
        )
    except ClientError as exc:
        if is_not_found(exc):
            what = f"version {obj.version_id}" if obj.version_id else "object"
            return [Problem(key=obj.key, reason="missing", detail=f"{what} not found")]
        raise storage_error("head_object", obj.key, exc) from exc
    except BotoCoreError as exc:
        raise storage_error("head_object", obj.key, exc) from exc
    return compare_head(obj, head, expect_lock=expect_lock, now=now)


def compare_head(
    obj: StoredObject,
    head: dict[str, Any],
    *,
    expect_lock: LockPolicy | None = None,
    now: dt.datetime | None = None,
) -> list[Problem]:
    """Pure comparison of a HEAD response with the expected object."""
    problems: list[Problem] = []

    def problem(reason: Reason, detail: str) -> None:
        problems.append(Problem(key=obj.key, reason=reason, detail=detail))

    size = head.get("ContentLength")
    if size != obj.size:
        problem("size-mismatch", f"stored size {size}, expected {obj.size}")
    server_sum = head.get(f"Checksum{obj.checksum_algorithm}")
    if server_sum is None:
        problem("checksum-absent", f"the server reports no {obj.checksum_algorithm} checksum")
    elif server_sum != obj.checksum:
        problem(
            "checksum-mismatch",
            f"server {obj.checksum_algorithm} {server_sum}, expected {obj.checksum}",
        )
    checksum_type = head.get("ChecksumType")
    if obj.multipart and checksum_type not in (None, "FULL_OBJECT"):
        problem("checksum-mismatch", f"multipart checksum type {checksum_type}, not FULL_OBJECT")
    metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
    for name in ("sha256", "sha512"):
        if metadata.get(name) != getattr(obj, name):
            problem("metadata-mismatch", f"user metadata {name} differs from the manifest")
    if expect_lock is not None and expect_lock.enabled:
        mode = head.get("ObjectLockMode")
        until = head.get("ObjectLockRetainUntilDate")
        current = now or dt.datetime.now(UTC)
        if mode != expect_lock.mode or until is None or until <= current:
            problem("lock-missing", f"retention {mode} until {until}, expected {expect_lock.mode}")
    return problems


def hash_body(body: Any, chunk_size: int = READ_CHUNK) -> tuple[int, str, str]:
    """``(size, sha256, sha512)`` of a streaming body, with bounded memory."""
    sha256 = hashlib.sha256()
    sha512 = hashlib.sha512()
    size = 0
    while chunk := body.read(chunk_size):
        size += len(chunk)
        sha256.update(chunk)
        sha512.update(chunk)
    return size, sha256.hexdigest(), sha512.hexdigest()


def read_back_checks(client: S3Client, bucket: str, obj: StoredObject) -> list[Problem]:
    """Read the stored version in full and compare size, SHA-256 and SHA-512."""
    try:
        response = client.get_object(Bucket=bucket, Key=obj.key, **_version_args(obj))
        body = response["Body"]
        try:
            size, sha256, sha512 = hash_body(body)
        finally:
            body.close()
    except ClientError as exc:
        if is_not_found(exc):
            return [Problem(key=obj.key, reason="missing", detail="not found on read-back")]
        if (http_status(exc) or 0) >= 500:  # after botocore's retries: the bytes are unreadable
            detail = f"the server could not return the bytes ({error_code(exc)}, HTTP 5xx)"
            return [Problem(key=obj.key, reason="unreadable", detail=detail)]
        raise storage_error("get_object", obj.key, exc) from exc
    except BotoCoreError as exc:
        raise storage_error("get_object", obj.key, exc) from exc
    if (size, sha256, sha512) != (obj.size, obj.sha256, obj.sha512):
        return [
            Problem(
                key=obj.key,
                reason="content-mismatch",
                detail=f"read back {size} bytes, sha256 {sha256}; expected {obj.size} bytes, "
                f"sha256 {obj.sha256}",
            )
        ]
    return []


def check_object(
    client: S3Client,
    bucket: str,
    obj: StoredObject,
    *,
    read_back: bool,
    expect_lock: LockPolicy | None = None,
) -> list[Problem]:
    problems = head_checks(client, bucket, obj, expect_lock=expect_lock)
    if read_back and not any(p.reason == "missing" for p in problems):
        problems += read_back_checks(client, bucket, obj)
    return problems
