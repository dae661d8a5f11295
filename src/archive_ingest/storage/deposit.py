"""Deposit one bag into S3-compatible storage: write-once, server-verified, resumable.

Order of work, and why:

1. check the bag on disk against its manifest (sizes, no stray or missing files);
2. if the version's receipt already exists: same content -> verify and return it (a re-run is
   a no-op), different content -> refuse (a changed item is a *new* version);
3. upload every file with a conditional write (``If-None-Match: *``) and a checksum the server
   verifies (SHA-256 on single PUTs; full-object CRC32 on multipart, plus our own SHA-256 check
   of the bytes sent). A key that already exists (an interrupted earlier run) is accepted
   only if it holds exactly the manifest's bytes; otherwise we stop - never overwrite. So is
   a version the server stored but never made current (killed between the two writes of a
   versioned PUT: ``If-None-Match`` would not see it, and a PUT would add a second version);
4. verify every stored version (HEAD checksums + metadata + retention; optional read-back);
5. only then write ``deposit-receipt.json`` - the commit marker - with ``If-None-Match: *``.

A crash anywhere before 5 leaves objects but no receipt: not an AIP, found by
``listing.find_incomplete``, completed by simply running the same deposit again. One file's
upload is in upload.py; listing keys and reading receipts in listing.py.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archive_ingest.errors import CopyDamagedError, PackageError, StorageError
from archive_ingest.models import Digests, utcnow
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.settings import Settings
from archive_ingest.storage.layout import AipLayout, check_relpath
from archive_ingest.storage.listing import (
    list_keys,
    read_receipt_key,
    unfinished_versions,
    version_index,
)
from archive_ingest.storage.premis import deposit_event, fixity_event, software
from archive_ingest.storage.receipt import (
    RECEIPT_FORMAT,
    DepositReceipt,
    LockPolicy,
    StoredObject,
    payload_oxum,
    receipt_signature_problem,
    receipt_stored_object,
)
from archive_ingest.storage.s3 import (
    S3Client,
    bucket_capabilities,
    is_precondition_failed,
    make_client,
    storage_error,
)
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.upload import (
    MiB,
    adopt_unfinished,
    choose_part_size,
    existing_object,
    multipart_upload,
    single_upload,
)
from archive_ingest.storage.verify import Problem, check_object

log = logging.getLogger(__name__)

DEFAULT_MULTIPART_THRESHOLD = 256 * MiB


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


def _put_receipt(
    client: S3Client,
    bucket: str,
    receipt: DepositReceipt,
    lock_args: dict[str, Any],
    signer: ReceiptSigner | None,
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
                _check_found_receipt(existing, signer, receipt.target)
                return existing
            raise CopyDamagedError(
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
    target: str | None = None,
    signer: ReceiptSigner | None = None,
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
        _check_found_receipt(existing, signer, target)
        return _confirm_existing(
            client, bucket, existing, manifest, read_back, bag_uri, target=target
        )

    present = list_keys(client, bucket, layout.root)
    unfinished = unfinished_versions(version_index(client, bucket, layout.root), present)
    wanted = {layout.key(relpath) for relpath, _, _ in files}
    stray = sorted((set(present) | set(unfinished)) - wanted - {layout.receipt_key})
    if stray:
        raise CopyDamagedError(
            f"{bag_uri} holds objects that are not part of this bag ({len(stray)}, e.g. "
            f"{stray[0]}): an interrupted deposit of other content; deposit as a new version"
        )

    lock_args = effective_lock.put_args(started)
    stored: list[StoredObject] = []
    for relpath, path, digests in files:
        key = layout.key(relpath)
        if key in present:
            stored.append(existing_object(client, bucket, key, relpath, path, digests))
        elif key in unfinished:
            stored.append(
                adopt_unfinished(client, bucket, key, relpath, path, digests, unfinished[key])
            )
        elif digests.size > multipart_threshold:
            size = choose_part_size(digests.size, part_size)
            stored.append(
                multipart_upload(client, bucket, key, relpath, path, digests, lock_args, size)
            )
        else:
            stored.append(single_upload(client, bucket, key, relpath, path, digests, lock_args))
        crashpoint("mid-upload")

    problems = [
        problem
        for obj in stored
        for problem in check_object(
            client, bucket, obj, read_back=read_back, expect_lock=effective_lock
        )
    ]
    verification = fixity_event(
        bag_uri=bag_uri,
        objects_checked=len(stored),
        read_back=read_back,
        problems=problems,
        target=target,
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
        target=target,
    )
    if signer is not None:
        receipt = receipt.model_copy(update={"signature": signer.sign(receipt.stored_document())})
    crashpoint("before-receipt")
    receipt = _put_receipt(client, bucket, receipt, lock_args, signer)
    if receipt.receipt_object is not None:
        marker_problems = check_object(client, bucket, receipt.receipt_object, read_back=False)
        if marker_problems:
            raise StorageError(
                f"the receipt of {bag_uri} did not verify: {_problems_text(marker_problems)}"
            )
    log.info("deposited %s (%d objects)", bag_uri, len(stored))
    return receipt.model_copy(update={"events": [deposit_event(receipt), verification]})


def deposit_to_target(
    view: Settings,
    *,
    record_id: str,
    version: int,
    bag_dir: Path,
    manifest: Mapping[str, Digests],
    signer: ReceiptSigner,
) -> DepositReceipt:
    """:func:`deposit_bag` to the one target ``view`` sees (storage/targets.py,
    ``target_settings``): its bucket, prefix, retention, read-back and multipart settings, the
    receipt naming it and signed by ``signer``."""
    return deposit_bag(
        make_client(view),
        bucket=view.s3_bucket,
        prefix=view.s3_prefix,
        record_id=record_id,
        version=version,
        bag_dir=bag_dir,
        manifest=manifest,
        lock=LockPolicy.from_settings(view),
        read_back=view.s3_verify_read_back,
        multipart_threshold=view.s3_multipart_threshold,
        target=view.storage_target_name,
        signer=signer,
    )


def _check_found_receipt(
    found: DepositReceipt, signer: ReceiptSigner | None, target: str | None
) -> None:
    """A receipt found at the version's key is taken only when it is ours: with a signer, a
    format-2 receipt must carry this archive's valid signature and name this target (an
    edited or foreign receipt is a damaged copy). A format-1 receipt (from before receipts
    were signed) is taken on its content alone, as before: its objects are verified next."""
    if signer is None or found.format != RECEIPT_FORMAT or found.stored_json is None:
        return
    problem = receipt_signature_problem(found.stored_json, signer.public)
    if problem is None and target is not None and found.target != target:
        problem = f"the receipt names target {found.target!r}, not {target!r}"
    if problem is not None:
        raise CopyDamagedError(f"the receipt at {found.receipt_key} is not ours: {problem}")


def _confirm_existing(
    client: S3Client,
    bucket: str,
    existing: DepositReceipt,
    manifest: Mapping[str, Digests],
    read_back: bool,
    bag_uri: str,
    *,
    target: str | None = None,
) -> DepositReceipt:
    """A re-run: the same content is a verified no-op; other content is refused."""
    if not existing.matches(manifest):
        raise CopyDamagedError(
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
        target=target,
    )
    if problems:
        raise CopyDamagedError(
            f"{bag_uri} is already deposited but does not verify: {_problems_text(problems)}"
        )
    receipt = existing.model_copy(update={"reused": True})
    log.info("already deposited: %s", bag_uri)
    return receipt.model_copy(update={"events": [deposit_event(receipt), verification]})
