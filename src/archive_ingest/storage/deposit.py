"""Deposit one bag into S3-compatible storage: write-once, server-verified, resumable.

Order of work, and why:

1. check the bag on disk against its manifest (sizes, no stray or missing files);
2. if the version's receipt already exists: same content -> verify and return it (a re-run is
   a no-op), different content -> refuse (a changed item is a *new* version);
3. upload every file with a conditional write (``If-None-Match: *``) and a checksum the server
   verifies (SHA-256 on single PUTs; full-object CRC32 on multipart, plus our own SHA-256 check
   of the bytes sent). A key that already exists (an interrupted earlier run) is accepted
   only if it holds exactly the manifest's bytes; otherwise we stop - never overwrite;
4. verify every stored version (HEAD checksums + metadata + retention; optional read-back);
5. only then write ``deposit-receipt.json`` - the commit marker - with ``If-None-Match: *``.

A crash anywhere before 5 leaves objects but no receipt: not an AIP, found by
:func:`find_incomplete`, completed by simply running the same deposit again.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, Field

from archive_ingest.errors import PackageError, StorageError
from archive_ingest.models import Digests, utcnow
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.storage.layout import RECEIPT_NAME, AipLayout, check_relpath, parse_key
from archive_ingest.storage.layout import record_root as _record_root
from archive_ingest.storage.premis import deposit_event, fixity_event, software
from archive_ingest.storage.receipt import (
    DepositReceipt,
    LockPolicy,
    StoredObject,
    payload_oxum,
    receipt_stored_object,
)
from archive_ingest.storage.s3 import (
    S3Client,
    bucket_capabilities,
    error_code,
    is_conflict,
    is_not_found,
    is_precondition_failed,
    storage_error,
)
from archive_ingest.storage.verify import Problem, check_object

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 256 * MiB
MIN_PART_SIZE = 5 * MiB
DEFAULT_PART_SIZE = 8 * MiB
MAX_PARTS = 10_000
MAX_RECEIPT_BYTES = 64 * MiB
_CONFLICT_RETRIES = 3
_BAD_DIGEST_CODES = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"})


# --- small pure helpers ---------------------------------------------------------------------


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


def _problems_text(problems: list[Problem], limit: int = 5) -> str:
    shown = "; ".join(f"{p.key}: {p.reason} ({p.detail})" for p in problems[:limit])
    more = f"; and {len(problems) - limit} more" if len(problems) > limit else ""
    return shown + more


# --- the bag on disk ------------------------------------------------------------------------


def check_bag(bag_dir: Path, manifest: Mapping[str, Digests]) -> list[tuple[str, Path, Digests]]:
    """Every manifest entry exists as a regular file of the stated size, and nothing else does.

    Returns ``(relpath, path, digests)`` sorted by path. Raises :class:`PackageError`.
    """
    if not bag_dir.is_dir():
        raise PackageError(f"bag directory not found: {bag_dir}")
    if not manifest:
        raise PackageError(f"empty manifest for bag {bag_dir}")
    root = bag_dir.resolve()
    files: list[tuple[str, Path, Digests]] = []
    for relpath in sorted(manifest):
        digests = manifest[relpath]
        try:
            check_relpath(relpath)
        except StorageError as exc:
            raise PackageError(str(exc)) from None
        path = bag_dir / relpath
        if path.is_symlink() or not path.is_file():
            raise PackageError(f"bag file missing or not a regular file: {relpath}")
        if not path.resolve().is_relative_to(root):
            raise PackageError(f"bag file outside the bag: {relpath}")
        size = path.stat().st_size
        if size != digests.size:
            raise PackageError(
                f"bag file {relpath} is {size} bytes, the manifest says {digests.size}"
            )
        files.append((relpath, path, digests))
    on_disk = {
        p.relative_to(bag_dir).as_posix()
        for p in bag_dir.rglob("*")
        if p.is_file() or p.is_symlink()
    }
    extra = sorted(on_disk - set(manifest))
    if extra:
        raise PackageError(f"bag {bag_dir} has files not in its manifest: {', '.join(extra[:5])}")
    _check_oxum(bag_dir, manifest)
    return files


def _check_oxum(bag_dir: Path, manifest: Mapping[str, Digests]) -> None:
    bag_info = bag_dir / "bag-info.txt"
    if not bag_info.is_file():
        return
    for line in bag_info.read_text(encoding="utf-8", errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "payload-oxum":
            declared = value.strip()
            actual = payload_oxum(manifest)
            if declared != actual:
                raise PackageError(
                    f"bag-info.txt Payload-Oxum {declared} does not match the manifest ({actual})"
                )
            return


# --- listing --------------------------------------------------------------------------------


def _list_keys(client: S3Client, bucket: str, prefix: str) -> dict[str, int]:
    """Current (latest, not deleted) keys under ``prefix`` with their sizes."""
    keys: dict[str, int] = {}
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                keys[item["Key"]] = int(item.get("Size", 0))
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("list_objects_v2", f"{bucket}/{prefix}", exc) from exc
    return keys


def _list_uploads(client: S3Client, bucket: str, prefix: str) -> list[dict[str, Any]]:
    uploads: list[dict[str, Any]] = []
    try:
        paginator = client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            uploads.extend(page.get("Uploads", []))
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("list_multipart_uploads", f"{bucket}/{prefix}", exc) from exc
    return uploads


class AipVersion(BaseModel):
    record_id: str
    version: int
    complete: bool
    objects: int


class IncompleteAip(BaseModel):
    """A version prefix with objects (or uploads in progress) but no receipt: not an AIP."""

    record_id: str
    version: int
    root: str
    keys: list[str] = Field(default_factory=list)
    uploads_in_progress: list[str] = Field(default_factory=list)


def list_versions(client: S3Client, bucket: str, prefix: str, record_id: str) -> list[AipVersion]:
    """Every version prefix of a record, complete (has its receipt) or not, oldest first."""
    grouped: dict[int, set[str]] = {}
    for key in _list_keys(client, bucket, _record_root(prefix, record_id)):
        parsed = parse_key(prefix, key)
        if parsed and parsed[0] == record_id:
            grouped.setdefault(parsed[1], set()).add(parsed[2])
    return [
        AipVersion(
            record_id=record_id,
            version=version,
            complete=RECEIPT_NAME in paths,
            objects=len(paths - {RECEIPT_NAME}),
        )
        for version, paths in sorted(grouped.items())
    ]


def find_incomplete(client: S3Client, bucket: str, prefix: str) -> list[IncompleteAip]:
    """Version prefixes with objects or multipart uploads but no receipt (for `reconcile`)."""
    root = prefix.strip("/") + "/"
    found: dict[tuple[str, int], IncompleteAip] = {}
    complete: set[tuple[str, int]] = set()

    def entry(record_id: str, version: int) -> IncompleteAip:
        layout = AipLayout(prefix, record_id, version)
        return found.setdefault(
            (record_id, version),
            IncompleteAip(record_id=record_id, version=version, root=layout.root),
        )

    for key in sorted(_list_keys(client, bucket, root)):
        parsed = parse_key(prefix, key)
        if parsed is None:
            continue
        record_id, version, relpath = parsed
        if relpath == RECEIPT_NAME:
            complete.add((record_id, version))
        else:
            entry(record_id, version).keys.append(key)
    for upload in _list_uploads(client, bucket, root):
        parsed = parse_key(prefix, upload.get("Key", ""))
        if parsed is not None:
            entry(parsed[0], parsed[1]).uploads_in_progress.append(upload["Key"])
    return [aip for ident, aip in sorted(found.items()) if ident not in complete]


# --- receipts -------------------------------------------------------------------------------


def read_receipt_key(client: S3Client, bucket: str, key: str) -> DepositReceipt | None:
    """The receipt stored at ``key`` (latest version), or None when there is none."""
    try:
        response = client.get_object(Bucket=bucket, Key=key)
        body = response["Body"]
        try:
            data = body.read(MAX_RECEIPT_BYTES + 1)
        finally:
            body.close()
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise storage_error("get_object", key, exc) from exc
    except BotoCoreError as exc:
        raise storage_error("get_object", key, exc) from exc
    if len(data) > MAX_RECEIPT_BYTES:
        raise StorageError(f"deposit receipt {key} is implausibly large")
    receipt = DepositReceipt.from_stored_json(data, version_id=response.get("VersionId"))
    if receipt.receipt_key != key:
        raise StorageError(f"deposit receipt {key} describes another key ({receipt.receipt_key})")
    return receipt


def read_receipt(
    client: S3Client, bucket: str, prefix: str, record_id: str, version: int
) -> DepositReceipt | None:
    """The receipt of one AIP version; None when the version is absent or incomplete."""
    return read_receipt_key(client, bucket, AipLayout(prefix, record_id, version).receipt_key)


class DepositPlan(BaseModel):
    """Which version a deposit of this manifest should use, and why."""

    version: int
    action: Literal["reuse", "resume", "new"]
    receipt: DepositReceipt | None = None


def plan_deposit(
    client: S3Client, bucket: str, prefix: str, record_id: str, manifest: Mapping[str, Digests]
) -> DepositPlan:
    """Same content as the latest complete version -> reuse it; an interrupted deposit of this
    same content -> resume it; anything else -> a new version above every existing one."""
    versions = list_versions(client, bucket, prefix, record_id)
    if not versions:
        return DepositPlan(version=1, action="new")
    highest = max(v.version for v in versions)
    complete = [v.version for v in versions if v.complete]
    latest_complete = max(complete) if complete else 0
    if latest_complete:
        receipt = read_receipt(client, bucket, prefix, record_id, latest_complete)
        if receipt is not None and receipt.matches(manifest):
            return DepositPlan(version=latest_complete, action="reuse", receipt=receipt)
    partial = sorted((v.version for v in versions if v.version > latest_complete), reverse=True)
    for candidate in partial:
        if _consistent_partial(client, bucket, AipLayout(prefix, record_id, candidate), manifest):
            return DepositPlan(version=candidate, action="resume")
    return DepositPlan(version=highest + 1, action="new")


def _consistent_partial(
    client: S3Client, bucket: str, layout: AipLayout, manifest: Mapping[str, Digests]
) -> bool:
    for key in _list_keys(client, bucket, layout.root):
        relpath = layout.relpath(key)
        digests = manifest.get(relpath)
        if digests is None:
            return False
        try:
            head = client.head_object(Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise storage_error("head_object", key, exc) from exc
        if (head.get("Metadata") or {}).get("sha256") != digests.sha256:
            return False
    return True


# --- uploads --------------------------------------------------------------------------------


def _existing_object(
    client: S3Client,
    bucket: str,
    key: str,
    relpath: str,
    path: Path,
    digests: Digests,
    *,
    known_crc32: str | None = None,
) -> StoredObject:
    """A key that is already there: accept it only if it holds exactly the manifest's bytes."""
    try:
        head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
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
        raise StorageError(
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


def _file_crc32(path: Path) -> str:
    crc = 0
    with path.open("rb") as fh:
        while chunk := fh.read(MiB):
            crc = zlib.crc32(chunk, crc)
    return crc32_b64(crc)


def _single_upload(
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
                return _existing_object(client, bucket, key, relpath, path, digests)
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
    for upload in _list_uploads(client, bucket, key):
        if upload.get("Key") != key:
            continue
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
            log.info("aborted a stale multipart upload of %s", key)
        except (ClientError, BotoCoreError) as exc:
            log.warning("could not abort a stale upload of %s: %s", key, error_code(exc))


def _multipart_upload(
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
                return _existing_object(
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


def _put_receipt(
    client: S3Client, bucket: str, receipt: DepositReceipt, lock_args: dict[str, Any]
) -> DepositReceipt:
    """Write the commit marker once; if an identical deposit beat us to it, take theirs."""
    body = receipt.to_stored_json()
    sha256 = hashlib.sha256(body)
    try:
        response = client.put_object(
            Bucket=bucket,
            Key=receipt.receipt_key,
            Body=body,
            ChecksumSHA256=base64.b64encode(sha256.digest()).decode("ascii"),
            IfNoneMatch="*",
            ContentType="application/json",
            Metadata={"sha256": sha256.hexdigest(), "sha512": hashlib.sha512(body).hexdigest()},
            **lock_args,
        )
    except ClientError as exc:
        if is_precondition_failed(exc):
            existing = read_receipt_key(client, bucket, receipt.receipt_key)
            if existing is not None and {o.key: o.sha256 for o in existing.objects} == {
                o.key: o.sha256 for o in receipt.objects
            }:
                return existing
            raise StorageError(
                f"another deposit wrote a different receipt at {receipt.receipt_key}"
            ) from exc
        raise storage_error("put_object", receipt.receipt_key, exc) from exc
    except BotoCoreError as exc:
        raise storage_error("put_object", receipt.receipt_key, exc) from exc
    marker = receipt_stored_object(receipt.receipt_key, body, response.get("VersionId"))
    return receipt.model_copy(update={"receipt_object": marker})


# --- the deposit ----------------------------------------------------------------------------


def deposit_bag(
    client: S3Client,
    *,
    bucket: str,
    prefix: str,
    record_id: str,
    version: int,
    bag_dir: Path,
    manifest: Mapping[str, Digests],
    lock: LockPolicy,
    read_back: bool,
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
    part_size: int | None = None,
    require_versioning: bool = True,
) -> DepositReceipt:
    """Deposit the bag at ``bag_dir`` as AIP ``version`` of ``record_id``; see the module doc.

    ``manifest`` lists every file of the bag (tag files included) by its path relative to the
    bag root. Returns the receipt with VersionIds and the PREMIS events; raises
    :class:`StorageError` (nothing is then reported as stored) or :class:`PackageError`.
    """
    layout = AipLayout(prefix, record_id, version)
    bag_uri = layout.uri(bucket)
    files = check_bag(Path(bag_dir), manifest)
    started = utcnow()

    versioning, object_lock = bucket_capabilities(client, bucket)
    notes: list[str] = []
    if not versioning:
        if require_versioning:
            raise StorageError(
                f"bucket {bucket} does not have versioning enabled; preservation deposits "
                "need it (VersionIds, object lock)"
            )
        notes.append("bucket without versioning: objects have no VersionIds")
    effective_lock = lock
    if lock.enabled and not object_lock:
        notes.append(f"bucket {bucket} has no object lock: stored without retention")
        effective_lock = LockPolicy(mode="NONE", days=lock.days)

    existing = read_receipt_key(client, bucket, layout.receipt_key)
    if existing is not None:
        return _confirm_existing(client, bucket, existing, manifest, read_back, bag_uri)

    present = _list_keys(client, bucket, layout.root)
    wanted = {layout.key(relpath) for relpath, _, _ in files}
    stray = sorted(set(present) - wanted - {layout.receipt_key})
    if stray:
        raise StorageError(
            f"{bag_uri} holds objects that are not part of this bag ({len(stray)}, e.g. "
            f"{stray[0]}): an interrupted deposit of other content; deposit as a new version"
        )

    lock_args = effective_lock.put_args(started)
    stored: list[StoredObject] = []
    for relpath, path, digests in files:
        key = layout.key(relpath)
        if key in present:
            stored.append(_existing_object(client, bucket, key, relpath, path, digests))
        elif digests.size > multipart_threshold:
            size = choose_part_size(digests.size, part_size)
            stored.append(
                _multipart_upload(client, bucket, key, relpath, path, digests, lock_args, size)
            )
        else:
            stored.append(_single_upload(client, bucket, key, relpath, path, digests, lock_args))
        crashpoint("mid-upload")

    problems = [
        problem
        for obj in stored
        for problem in check_object(
            client, bucket, obj, read_back=read_back, expect_lock=effective_lock
        )
    ]
    verification = fixity_event(
        bag_uri=bag_uri, objects_checked=len(stored), read_back=read_back, problems=problems
    )
    if problems:
        raise StorageError(
            f"verification of {bag_uri} failed, no receipt written: {_problems_text(problems)}"
        )

    retain_dates = [obj.retain_until for obj in stored if obj.retain_until is not None]
    receipt = DepositReceipt(
        record_id=record_id,
        version=version,
        bucket=bucket,
        prefix=layout.prefix,
        bag_uri=bag_uri,
        receipt_key=layout.receipt_key,
        objects=stored,
        payload_oxum=payload_oxum(manifest),
        total_bytes=sum(obj.size for obj in stored),
        versioning=versioning,
        object_lock=object_lock,
        lock_mode=effective_lock.mode if effective_lock.enabled else None,
        retain_until=min(retain_dates) if retain_dates else None,
        verification="read-back" if read_back else "head",
        started_at=started,
        completed_at=utcnow(),
        software=software(),
        notes=notes,
    )
    crashpoint("before-receipt")
    receipt = _put_receipt(client, bucket, receipt, lock_args)
    if receipt.receipt_object is not None:
        marker_problems = check_object(client, bucket, receipt.receipt_object, read_back=False)
        if marker_problems:
            raise StorageError(
                f"the receipt of {bag_uri} did not verify: {_problems_text(marker_problems)}"
            )
    log.info("deposited %s (%d objects)", bag_uri, len(stored))
    return receipt.model_copy(update={"events": [deposit_event(receipt), verification]})


def _confirm_existing(
    client: S3Client,
    bucket: str,
    existing: DepositReceipt,
    manifest: Mapping[str, Digests],
    read_back: bool,
    bag_uri: str,
) -> DepositReceipt:
    """A re-run: the same content is a verified no-op; other content is refused."""
    if not existing.matches(manifest):
        raise StorageError(
            f"{bag_uri} is already a complete AIP with different content; a changed item "
            "must be deposited as a new version"
        )
    problems = [
        problem
        for obj in existing.all_objects
        for problem in check_object(client, bucket, obj, read_back=read_back)
    ]
    verification = fixity_event(
        bag_uri=bag_uri,
        objects_checked=len(existing.objects),
        read_back=read_back,
        problems=problems,
        context="re-deposit check",
    )
    if problems:
        raise StorageError(
            f"{bag_uri} is already deposited but does not verify: {_problems_text(problems)}"
        )
    receipt = existing.model_copy(update={"reused": True})
    log.info("already deposited: %s", bag_uri)
    return receipt.model_copy(update={"events": [deposit_event(receipt), verification]})
