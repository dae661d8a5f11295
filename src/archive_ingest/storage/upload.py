"""Storing one bag file in S3: a conditional write the server verifies, never an overwrite.

Files up to the multipart threshold go in one PUT with the manifest's SHA-256; bigger ones in
parts streamed from disk with a full-object CRC32 (plus our own SHA-256 and SHA-512 of the
bytes sent). A key that already exists is accepted only if it holds exactly the manifest's
bytes (an interrupted earlier run); anything else stops the deposit.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import zlib
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from archive_ingest.errors import CopyDamagedError, StorageError
from archive_ingest.models import Digests
from archive_ingest.storage.listing import list_uploads
from archive_ingest.storage.receipt import StoredObject
from archive_ingest.storage.s3 import (
    S3Client,
    error_code,
    is_conflict,
    is_precondition_failed,
    storage_error,
)

log = logging.getLogger(__name__)


class OtherContentError(StorageError):
    """A stored version at a bag file's key holds other bytes than the manifest's."""


MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB
DEFAULT_PART_SIZE = 8 * MiB
MAX_PARTS = 10_000
_CONFLICT_RETRIES = 3
_BAD_DIGEST_CODES = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"})


def crc32_b64(value: int) -> str:
    """A CRC32 as S3 wants it: 4 big-endian bytes, base64."""
    return base64.b64encode((value & 0xFFFFFFFF).to_bytes(4, "big")).decode("ascii")


def choose_part_size(size: int, requested: int | None = None) -> int:
    """Parts of at least 5 MiB (S3 minimum), few enough for the 10,000-part limit."""
    part = max(requested or DEFAULT_PART_SIZE, MIN_PART_SIZE)
    needed = -(-size // MAX_PARTS)
    if needed > part:
        part = -(-needed // MiB) * MiB
    return part


def _metadata(digests: Digests) -> dict[str, str]:
    return {"sha256": digests.sha256, "sha512": digests.sha512}


def _content_type(relpath: str) -> str:
    return mimetypes.guess_type(relpath)[0] or "application/octet-stream"


def existing_object(
    client: S3Client,
    bucket: str,
    key: str,
    relpath: str,
    path: Path,
    digests: Digests,
    *,
    known_crc32: str | None = None,
    version_id: str | None = None,
) -> StoredObject:
    """A key that is already there (its current version, or ``version_id``): accept it only
    if it holds exactly the manifest's bytes."""
    where = {"VersionId": version_id} if version_id else {}
    try:
        head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", **where)
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("head_object", key, exc) from exc
    metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
    same = (
        head.get("ContentLength") == digests.size
        and metadata.get("sha256") == digests.sha256
        and metadata.get("sha512") == digests.sha512
    )
    algorithm: Literal["SHA256", "CRC32"]
    if head.get("ChecksumSHA256"):
        algorithm, checksum = "SHA256", digests.sha256_b64
        same = same and head["ChecksumSHA256"] == checksum
        multipart = False
    elif head.get("ChecksumCRC32"):
        algorithm, checksum = "CRC32", known_crc32 or _file_crc32(path)
        same = same and head["ChecksumCRC32"] == checksum
        multipart = True
    else:
        same = False
    if not same:
        raise OtherContentError(
            f"{key} already exists with other content (or without verifiable checksums); "
            "refusing to overwrite a preservation object - deposit the item as a new version"
        )
    log.info("already stored (resumed): %s", key)
    return StoredObject(
        path=relpath,
        key=key,
        size=digests.size,
        sha256=digests.sha256,
        sha512=digests.sha512,
        version_id=head.get("VersionId"),
        checksum_algorithm=algorithm,
        checksum=checksum,
        multipart=multipart,
        lock_mode=head.get("ObjectLockMode"),
        retain_until=head.get("ObjectLockRetainUntilDate"),
        resumed=True,
    )


def adopt_unfinished(
    client: S3Client,
    bucket: str,
    key: str,
    relpath: str,
    path: Path,
    digests: Digests,
    version_ids: list[str],
) -> StoredObject:
    """A key whose only version was never made current (listing.unfinished_versions): when
    it holds exactly the manifest's bytes it is taken as stored (a PUT would add a second
    version at a write-once key, which the audit reports as ``replaced``). Anything else
    stops the deposit: a version of other bytes is an interrupted write of something else,
    and several versions would leave the key with more than one whichever is taken."""
    if len(version_ids) != 1:
        raise CopyDamagedError(
            f"{key} holds {len(version_ids)} versions that were never made current (writes "
            "the server did not finish); refusing to add another - deposit the item as a "
            "new version"
        )
    [version_id] = version_ids
    try:
        stored = existing_object(client, bucket, key, relpath, path, digests, version_id=version_id)
    except OtherContentError as exc:
        raise CopyDamagedError(
            f"{key} holds a version of other content that was never made current (an "
            "interrupted write of something else); refusing to add another - deposit the "
            "item as a new version"
        ) from exc
    log.warning(
        "adopted version %s of %s: stored by an earlier run, never made current (the "
        "server stopped between storing it and recording it as the latest)",
        version_id,
        key,
    )
    return stored


def _file_crc32(path: Path) -> str:
    crc = 0
    with path.open("rb") as fh:
        while chunk := fh.read(MiB):
            crc = zlib.crc32(chunk, crc)
    return crc32_b64(crc)


def single_upload(
    client: S3Client,
    bucket: str,
    key: str,
    relpath: str,
    path: Path,
    digests: Digests,
    lock_args: dict[str, Any],
) -> StoredObject:
    """One PUT with the manifest's SHA-256: the server refuses the bytes if they differ."""
    for attempt in range(1, _CONFLICT_RETRIES + 1):
        try:
            with path.open("rb") as body:
                response = client.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=body,
                    ContentLength=digests.size,
                    ChecksumSHA256=digests.sha256_b64,
                    IfNoneMatch="*",
                    Metadata=_metadata(digests),
                    ContentType=_content_type(relpath),
                    **lock_args,
                )
            break
        except ClientError as exc:
            if is_precondition_failed(exc):
                return existing_object(client, bucket, key, relpath, path, digests)
            if is_conflict(exc) and attempt < _CONFLICT_RETRIES:
                continue
            if error_code(exc) in _BAD_DIGEST_CODES:
                raise StorageError(
                    f"the server refused {key}: its bytes do not match the manifest SHA-256 "
                    "(the file changed after the bag was made, or was damaged in transit)"
                ) from exc
            raise storage_error("put_object", key, exc) from exc
        except BotoCoreError as exc:
            raise storage_error("put_object", key, exc) from exc
    log.info("stored %s (%d bytes, SHA-256 verified by the server)", key, digests.size)
    return StoredObject(
        path=relpath,
        key=key,
        size=digests.size,
        sha256=digests.sha256,
        sha512=digests.sha512,
        version_id=response.get("VersionId"),
        checksum_algorithm="SHA256",
        checksum=digests.sha256_b64,
        lock_mode=lock_args.get("ObjectLockMode"),
        retain_until=lock_args.get("ObjectLockRetainUntilDate"),
    )


def _abort_stale_uploads(client: S3Client, bucket: str, key: str) -> None:
    """Multipart uploads of this exact key left by an interrupted run hold no object; drop them."""
    for upload in list_uploads(client, bucket, key):
        if upload.get("Key") != key:
            continue
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
            log.info("aborted a stale multipart upload of %s", key)
        except (ClientError, BotoCoreError) as exc:
            log.warning("could not abort a stale upload of %s: %s", key, error_code(exc))


def multipart_upload(
    client: S3Client,
    bucket: str,
    key: str,
    relpath: str,
    path: Path,
    digests: Digests,
    lock_args: dict[str, Any],
    part_size: int,
) -> StoredObject:
    """Parts streamed from disk (one part in memory), each with its CRC32; the completion
    carries the full-object CRC32 that the server checks against the assembled object. SHA-256
    and SHA-512 of the bytes sent are compared with the manifest before completing."""
    _abort_stale_uploads(client, bucket, key)
    try:
        created = client.create_multipart_upload(
            Bucket=bucket,
            Key=key,
            ChecksumAlgorithm="CRC32",
            ChecksumType="FULL_OBJECT",
            Metadata=_metadata(digests),
            ContentType=_content_type(relpath),
            **lock_args,
        )
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("create_multipart_upload", key, exc) from exc
    upload_id = created["UploadId"]
    completed = False
    try:
        parts: list[dict[str, Any]] = []
        crc, total = 0, 0
        sha256, sha512 = hashlib.sha256(), hashlib.sha512()
        with path.open("rb") as fh:
            while chunk := fh.read(part_size):
                number = len(parts) + 1
                crc = zlib.crc32(chunk, crc)
                sha256.update(chunk)
                sha512.update(chunk)
                total += len(chunk)
                part_crc = crc32_b64(zlib.crc32(chunk))
                try:
                    response = client.upload_part(
                        Bucket=bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=chunk,
                        ContentLength=len(chunk),
                        ChecksumCRC32=part_crc,
                    )
                except (ClientError, BotoCoreError) as exc:
                    raise storage_error("upload_part", f"{key} part {number}", exc) from exc
                parts.append(
                    {"PartNumber": number, "ETag": response["ETag"], "ChecksumCRC32": part_crc}
                )
                del chunk
        if (total, sha256.hexdigest(), sha512.hexdigest()) != (
            digests.size,
            digests.sha256,
            digests.sha512,
        ):
            raise StorageError(
                f"{path} does not match its manifest digests (changed after the bag was made?)"
            )
        full = crc32_b64(crc)
        try:
            response = client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                ChecksumCRC32=full,
                ChecksumType="FULL_OBJECT",
                IfNoneMatch="*",
            )
            completed = True
        except ClientError as exc:
            if is_precondition_failed(exc):
                return existing_object(
                    client, bucket, key, relpath, path, digests, known_crc32=full
                )
            if error_code(exc) in _BAD_DIGEST_CODES:
                raise StorageError(
                    f"the server refused {key}: the assembled object's CRC32 differs from ours"
                ) from exc
            raise storage_error("complete_multipart_upload", key, exc) from exc
        except BotoCoreError as exc:
            raise storage_error("complete_multipart_upload", key, exc) from exc
    finally:
        if not completed:
            try:
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except (ClientError, BotoCoreError) as exc:
                log.warning("could not abort the multipart upload of %s: %s", key, error_code(exc))
    log.info("stored %s (%d bytes in %d parts, CRC32 verified)", key, total, len(parts))
    return StoredObject(
        path=relpath,
        key=key,
        size=digests.size,
        sha256=digests.sha256,
        sha512=digests.sha512,
        version_id=response.get("VersionId"),
        checksum_algorithm="CRC32",
        checksum=full,
        multipart=True,
        parts=len(parts),
        lock_mode=lock_args.get("ObjectLockMode"),
        retain_until=lock_args.get("ObjectLockRetainUntilDate"),
    )
