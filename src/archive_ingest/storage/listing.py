"""What an AIP prefix holds in S3: current keys, multipart uploads, incomplete versions,
deposit receipts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, Field

from archive_ingest.errors import StorageError
from archive_ingest.storage.layout import RECEIPT_NAME, AipLayout, parse_key
from archive_ingest.storage.receipt import DepositReceipt
from archive_ingest.storage.s3 import S3Client, is_not_found, storage_error

MAX_RECEIPT_BYTES = 64 * 1024 * 1024


def list_keys(client: S3Client, bucket: str, prefix: str) -> dict[str, int]:
    """Current (latest, not deleted) keys under ``prefix`` with their sizes."""
    keys: dict[str, int] = {}
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                keys[item["Key"]] = int(item.get("Size", 0))
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("list_objects_v2", f"{bucket}/{prefix}", exc) from exc
    return keys


class VersionEntry(BaseModel):
    """One entry of ListObjectVersions: a version or a delete marker."""

    key: str
    version_id: str | None
    is_latest: bool
    delete_marker: bool = False
    last_modified: dt.datetime | None = None


def version_index(client: S3Client, bucket: str, prefix: str) -> dict[str, list[VersionEntry]]:
    """Every version and delete marker under ``prefix``, grouped by key."""
    index: dict[str, list[VersionEntry]] = {}
    try:
        paginator = client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item, marker in [(v, False) for v in page.get("Versions", [])] + [
                (m, True) for m in page.get("DeleteMarkers", [])
            ]:
                version_id = item.get("VersionId")
                index.setdefault(item["Key"], []).append(
                    VersionEntry(
                        key=item["Key"],
                        version_id=None if version_id in (None, "null") else version_id,
                        is_latest=bool(item.get("IsLatest")),
                        delete_marker=marker,
                        last_modified=item.get("LastModified"),
                    )
                )
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("list_object_versions", f"{bucket}/{prefix}", exc) from exc
    return index


def unfinished_versions(
    index: dict[str, list[VersionEntry]], current: Iterable[str]
) -> dict[str, list[str]]:
    """Keys with no current object but stored versions newer than their last delete marker,
    with those VersionIds, newest first: a write the server stopped between storing the
    version and making it current (SeaweedFS writes the version, then the latest pointer; a
    SIGKILL in between leaves a version that ``ListObjectsV2`` and ``If-None-Match`` do not
    see). Versions a delete marker hides are not unfinished: they were current once."""
    seen = set(current)
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    found: dict[str, list[str]] = {}
    for key, entries in index.items():
        if key in seen:
            continue
        markers = [e.last_modified or oldest for e in entries if e.delete_marker]
        after = max(markers) if markers else None
        newest_first = sorted(
            (
                e
                for e in entries
                if not e.delete_marker
                and e.version_id is not None
                and (after is None or (e.last_modified or oldest) > after)
            ),
            key=lambda e: e.last_modified or oldest,
            reverse=True,
        )
        if newest_first:
            found[key] = [e.version_id for e in newest_first if e.version_id is not None]
    return found


def list_uploads(client: S3Client, bucket: str, prefix: str) -> list[dict[str, Any]]:
    uploads: list[dict[str, Any]] = []
    try:
        paginator = client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            uploads.extend(page.get("Uploads", []))
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("list_multipart_uploads", f"{bucket}/{prefix}", exc) from exc
    return uploads


class IncompleteAip(BaseModel):
    """A version prefix with objects (or uploads in progress) but no receipt: not an AIP."""

    record_id: str
    version: int
    root: str
    keys: list[str] = Field(default_factory=list)
    uploads_in_progress: list[str] = Field(default_factory=list)


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

    for key in sorted(list_keys(client, bucket, root)):
        parsed = parse_key(prefix, key)
        if parsed is None:
            continue
        record_id, version, relpath = parsed
        if relpath == RECEIPT_NAME:
            complete.add((record_id, version))
        else:
            entry(record_id, version).keys.append(key)
    for upload in list_uploads(client, bucket, root):
        parsed = parse_key(prefix, upload.get("Key", ""))
        if parsed is not None:
            entry(parsed[0], parsed[1]).uploads_in_progress.append(upload["Key"])
    return [aip for ident, aip in sorted(found.items()) if ident not in complete]


def get_receipt_bytes(
    client: S3Client, bucket: str, key: str, version_id: str | None = None
) -> tuple[bytes, Any] | None:
    """At most ``MAX_RECEIPT_BYTES + 1`` bytes of one receipt version (the latest when
    ``version_id`` is None) and the VersionId the server reported (as it reported it); None
    when that version is not there. The caller decides what a larger body is."""
    args = {"VersionId": version_id} if version_id else {}
    try:
        response = client.get_object(Bucket=bucket, Key=key, **args)
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
    return data, response.get("VersionId")


def read_receipt_key(client: S3Client, bucket: str, key: str) -> DepositReceipt | None:
    """The receipt stored at ``key`` (latest version), or None when there is none."""
    got = get_receipt_bytes(client, bucket, key)
    if got is None:
        return None
    data, found = got
    if len(data) > MAX_RECEIPT_BYTES:
        raise StorageError(f"deposit receipt {key} is implausibly large")
    receipt = DepositReceipt.from_stored_json(data, version_id=found)
    if receipt.receipt_key != key:
        raise StorageError(f"deposit receipt {key} describes another key ({receipt.receipt_key})")
    return receipt


def read_receipt(
    client: S3Client, bucket: str, prefix: str, record_id: str, version: int
) -> DepositReceipt | None:
    """The receipt of one AIP version; None when the version is absent or incomplete."""
    return read_receipt_key(client, bucket, AipLayout(prefix, record_id, version).receipt_key)
