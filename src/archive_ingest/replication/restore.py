"""The writes of a repair: good bytes as a NEW S3 version of a damaged key, and the copy's
receipt again as a new signed revision. Nothing is ever deleted and no retention is bypassed:
the bad version stays where it is (it may be locked) and the receipt lists it in
``replaces``. Every write is verified before it counts (HEAD checks and a full read-back).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import mimetypes
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from archive_ingest.errors import StorageError
from archive_ingest.models import utcnow
from archive_ingest.storage.receipt import (
    RECEIPT_FORMAT,
    DepositReceipt,
    LockPolicy,
    ReplacedVersion,
    StoredObject,
    receipt_stored_object,
)
from archive_ingest.storage.s3 import S3Client, bucket_capabilities, storage_error
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.verify import check_object


def lock_for(client: S3Client, bucket: str, policy: LockPolicy) -> LockPolicy:
    """The target's retention policy, or none when its bucket has no object lock."""
    _, object_lock = bucket_capabilities(client, bucket)
    return policy if object_lock and policy.enabled else LockPolicy(mode="NONE", days=policy.days)


def stored_from_head(
    client: S3Client,
    bucket: str,
    *,
    key: str,
    version_id: str | None,
    path: str,
    size: int,
    sha256: str,
    sha512: str,
) -> StoredObject:
    """One stored version as a receipt lists it, with the server's checksum and retention."""
    args = {"VersionId": version_id} if version_id else {}
    try:
        head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", **args)
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("head_object", key, exc) from exc
    algorithm: Literal["SHA256", "CRC32"] = "SHA256" if head.get("ChecksumSHA256") else "CRC32"
    return StoredObject(
        path=path,
        key=key,
        size=size,
        sha256=sha256,
        sha512=sha512,
        version_id=version_id,
        checksum_algorithm=algorithm,
        checksum=str(head.get(f"Checksum{algorithm}") or ""),
        multipart=algorithm == "CRC32",
        lock_mode=head.get("ObjectLockMode"),
        retain_until=head.get("ObjectLockRetainUntilDate"),
    )


def _put(client: S3Client, bucket: str, key: str, body: Any, **args: Any) -> str | None:
    try:
        response = client.put_object(Bucket=bucket, Key=key, Body=body, **args)
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("put_object", key, exc) from exc
    version = response.get("VersionId")
    return str(version) if version else None


def write_new_version(
    client: S3Client,
    bucket: str,
    *,
    key: str,
    path: str,
    source_file: Path,
    size: int,
    sha256: str,
    sha512: str,
    lock: LockPolicy,
) -> StoredObject:
    """PUT the verified bytes in ``source_file`` as a new version of ``key`` (the server checks
    the SHA-256; our digests go in the metadata; retention as for a deposit), then verify the
    new version in full. Raises StorageError when it does not verify."""
    checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
    with source_file.open("rb") as body:
        version_id = _put(
            client,
            bucket,
            key,
            body,
            ContentLength=size,
            ChecksumSHA256=checksum,
            Metadata={"sha256": sha256, "sha512": sha512},
            ContentType=mimetypes.guess_type(path)[0] or "application/octet-stream",
            **lock.put_args(utcnow()),
        )
    stored = stored_from_head(
        client,
        bucket,
        key=key,
        version_id=version_id,
        path=path,
        size=size,
        sha256=sha256,
        sha512=sha512,
    )
    problems = check_object(
        client, bucket, stored, read_back=True, expect_lock=lock if lock.enabled else None
    )
    if problems:
        shown = "; ".join(f"{p.reason}: {p.detail}" for p in problems)
        raise StorageError(f"the repaired {key} (version {version_id}) does not verify: {shown}")
    return stored


def replaced_version(
    key: str, version_id: str | None, reason: str, source_target: str | None, at: dt.datetime
) -> ReplacedVersion:
    return ReplacedVersion(
        key=key, version_id=version_id, reason=reason, repaired_at=at, source_target=source_target
    )


def write_revision(
    client: S3Client,
    bucket: str,
    base: DepositReceipt,
    *,
    target: str,
    objects: list[StoredObject],
    replaces: list[ReplacedVersion],
    note: str,
    signer: ReceiptSigner,
    lock: LockPolicy,
) -> DepositReceipt:
    """The copy's receipt again, one revision higher, naming the objects as they are now and
    every version written over, signed; stored as a new version and verified in full."""
    retain = [o.retain_until for o in objects if o.retain_until is not None]
    revision = base.model_copy(
        update={
            "format": RECEIPT_FORMAT,
            "target": target,
            "objects": objects,
            "retain_until": min(retain) if retain else None,
            "revision": base.revision + 1,
            "replaces": [*base.replaces, *replaces],
            "notes": [*base.notes, note],
            "completed_at": utcnow(),
            "signature": None,
            "receipt_object": None,
            "reused": False,
            "events": [],
        }
    )
    revision = revision.model_copy(update={"signature": signer.sign(revision.stored_document())})
    body = revision.to_stored_json()
    digest = hashlib.sha256(body)
    version_id = _put(
        client,
        bucket,
        revision.receipt_key,
        body,
        ChecksumSHA256=base64.b64encode(digest.digest()).decode("ascii"),
        ContentType="application/json",
        Metadata={"sha256": digest.hexdigest(), "sha512": hashlib.sha512(body).hexdigest()},
        **lock.put_args(utcnow()),
    )
    marker = receipt_stored_object(revision.receipt_key, body, version_id)
    problems = check_object(client, bucket, marker, read_back=True)
    if problems:
        shown = "; ".join(f"{p.reason}: {p.detail}" for p in problems)
        raise StorageError(
            f"the new receipt revision {revision.receipt_key} does not verify: {shown}"
        )
    return revision.model_copy(update={"receipt_object": marker})


def finished_earlier(
    client: S3Client,
    bucket: str,
    *,
    key: str,
    version_id: str,
    path: str,
    size: int,
    sha256: str,
    sha512: str,
    lock: LockPolicy,
) -> StoredObject | None:
    """The version on top of a damaged key when it is what a repair writes (a run killed
    before its receipt revision): the recorded bytes in full, our digests, a server SHA-256,
    the retention. A re-run keeps it instead of writing the same bytes once more."""
    try:
        stored = stored_from_head(
            client,
            bucket,
            key=key,
            version_id=version_id,
            path=path,
            size=size,
            sha256=sha256,
            sha512=sha512,
        )
        if stored.checksum_algorithm != "SHA256":
            return None
        problems = check_object(
            client, bucket, stored, read_back=True, expect_lock=lock if lock.enabled else None
        )
    except StorageError:
        return None
    return None if problems else stored
