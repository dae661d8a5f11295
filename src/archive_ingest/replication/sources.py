"""Reading what a target holds, trusting nothing: a receipt is checked against this archive's
public key, an object is hashed (SHA-256 and SHA-512) while it streams to disk and compared
with the digests it should have.

Shared by the transfer (which rebuilds a bag from a verified copy), the repair (which
fetches one good object from another target), its diagnosis and replicate's adoption (which
read a copy's receipt: :func:`recorded_receipt` for the version the catalogue recorded).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from archive_ingest.catalogue.copies import CopyInfo
from archive_ingest.errors import StorageError
from archive_ingest.settings import Settings
from archive_ingest.storage.layout import AipLayout
from archive_ingest.storage.listing import MAX_RECEIPT_BYTES, get_receipt_bytes
from archive_ingest.storage.receipt import (
    RECEIPT_FORMAT,
    DepositReceipt,
    receipt_signature_problem,
)
from archive_ingest.storage.s3 import S3Client, is_not_found, storage_error

READ_CHUNK = 1024 * 1024
OLD_UNSIGNED_FORMAT = "archive-ingest/deposit-receipt/1"


class SourceProblem(StorageError):
    """What a target holds is not what it should be (missing, other bytes, a bad receipt):
    never a source to copy from."""


def _version_args(version_id: str | None) -> dict[str, Any]:
    return {"VersionId": version_id} if version_id else {}


def read_receipt_bytes(
    client: S3Client, bucket: str, key: str, version_id: str | None = None
) -> tuple[bytes, str | None]:
    """The bytes of one receipt version (the latest when ``version_id`` is None) and its id."""
    got = get_receipt_bytes(client, bucket, key, version_id)
    if got is None:
        what = f"version {version_id} of " if version_id else ""
        raise SourceProblem(f"{what}the receipt {key} is not there")
    data, found = got
    if len(data) > MAX_RECEIPT_BYTES:
        raise SourceProblem(f"the receipt {key} is implausibly large")
    return data, (str(found) if found and found != "null" else version_id)


def checked_receipt(
    data: bytes,
    version_id: str | None,
    *,
    public: Ed25519PublicKey,
    record_id: str,
    version: int,
    target: str,
    receipt_sha256: str | None = None,
) -> tuple[DepositReceipt, list[str]]:
    """The receipt in ``data`` if it is this AIP version's, unedited and (format 2) signed by
    this archive's key; an unsigned format-1 receipt of an older deposit is accepted with a
    note. Raises :class:`SourceProblem` naming what is wrong."""
    if receipt_sha256 is not None and hashlib.sha256(data).hexdigest() != receipt_sha256:
        raise SourceProblem("the receipt's bytes differ from the ones the catalogue recorded")
    receipt = DepositReceipt.from_stored_json(data, version_id=version_id)
    notes: list[str] = []
    if receipt.format == OLD_UNSIGNED_FORMAT and receipt.signature is None:
        notes.append(f"the receipt on {target} is an unsigned format-1 receipt (older deposit)")
    else:
        problem = receipt_signature_problem(data, public)
        if problem is not None:
            raise SourceProblem(f"the receipt on {target} fails its signature check: {problem}")
    if (receipt.record_id, receipt.version) != (record_id, version):
        raise SourceProblem(
            f"the receipt on {target} describes {receipt.record_id} v{receipt.version}"
        )
    if receipt.target is not None and receipt.target != target:
        raise SourceProblem(f"the receipt on {target} names another target ({receipt.target})")
    if receipt.format != RECEIPT_FORMAT and receipt.format != OLD_UNSIGNED_FORMAT:
        raise SourceProblem(f"the receipt on {target} has an unknown format {receipt.format}")
    return receipt, notes


def read_checked_receipt(
    client: S3Client,
    bucket: str,
    key: str,
    version_id: str | None,
    *,
    public: Ed25519PublicKey,
    record_id: str,
    version: int,
    target: str,
    receipt_sha256: str | None = None,
) -> tuple[DepositReceipt, list[str]]:
    """:func:`read_receipt_bytes` then :func:`checked_receipt`: one receipt version (the latest
    when ``version_id`` is None) read from ``target`` and checked."""
    data, found = read_receipt_bytes(client, bucket, key, version_id)
    return checked_receipt(
        data,
        found,
        public=public,
        record_id=record_id,
        version=version,
        target=target,
        receipt_sha256=receipt_sha256,
    )


def recorded_receipt(
    client: S3Client, view: Settings, copy: CopyInfo, public: Ed25519PublicKey
) -> tuple[DepositReceipt, list[str]]:
    """The receipt version the catalogue recorded for ``copy`` on the target ``view`` sees,
    read with ``client`` and checked (:func:`checked_receipt`, its bytes the recorded ones)."""
    key = copy.receipt_key or AipLayout(view.s3_prefix, copy.record_id, copy.version).receipt_key
    return read_checked_receipt(
        client,
        view.s3_bucket,
        key,
        copy.receipt_version_id,
        public=public,
        record_id=copy.record_id,
        version=copy.version,
        target=view.storage_target_name,
        receipt_sha256=copy.receipt_sha256,
    )


def fetch_verified(
    client: S3Client,
    bucket: str,
    key: str,
    version_id: str | None,
    *,
    size: int,
    sha256: str,
    sha512: str,
    dest: Path,
    on_bytes: Callable[[int], None] | None = None,
) -> None:
    """Stream one object version into ``dest``, hashing as it goes; raise
    :class:`SourceProblem` (``dest`` removed) unless size, SHA-256 and SHA-512 all match."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    h256, h512, count = hashlib.sha256(), hashlib.sha512(), 0
    try:
        try:
            response = client.get_object(Bucket=bucket, Key=key, **_version_args(version_id))
            body = response["Body"]
            try:
                with dest.open("wb") as out:
                    while chunk := body.read(READ_CHUNK):
                        count += len(chunk)
                        h256.update(chunk)
                        h512.update(chunk)
                        out.write(chunk)
                        if on_bytes is not None:
                            on_bytes(len(chunk))
                        if count > size:
                            break
            finally:
                body.close()
        except ClientError as exc:
            if is_not_found(exc):
                raise SourceProblem(f"{key} (version {version_id}) is not there") from None
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            if int(status) >= 500:
                raise SourceProblem(f"{key}: the server cannot return the bytes") from None
            raise storage_error("get_object", key, exc) from exc
        except BotoCoreError as exc:
            raise storage_error("get_object", key, exc) from exc
        if (count, h256.hexdigest(), h512.hexdigest()) != (size, sha256, sha512):
            raise SourceProblem(
                f"{key} (version {version_id}) read back {count} bytes with other digests "
                f"than the receipt's ({size} bytes, sha256 {sha256[:16]}…)"
            )
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
