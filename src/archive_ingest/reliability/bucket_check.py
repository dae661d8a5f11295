"""``reconcile``'s bucket checks of one storage target: incomplete uploads, and complete AIPs
against the catalogue.

The catalogue records each copy (catalogue/copies.py): a receipt on a target is compared with
that target's recorded copy (its objects' VersionIds), and a copy recorded as verified whose
receipt is gone is reported. Versions deposited before copies were recorded have no copies
rows; they are compared with the files table on the first target (where they were stored).

Pure reporting, nothing is changed (``repair`` does the fixing). A storage error ends only the
check it hit, as a ``check-failed`` finding; the other checks still run.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import copies_of, objects_of_copy
from archive_ingest.errors import StorageError
from archive_ingest.models import State
from archive_ingest.reliability.findings import Finding, ReconcileReport
from archive_ingest.storage.layout import RECEIPT_NAME, AipLayout, parse_key
from archive_ingest.storage.listing import find_incomplete, read_receipt_key
from archive_ingest.storage.s3 import S3Client, storage_error

#: version states whose AIP is (at least partly) stored: their receipts belong in the buckets
STORED_STATES = frozenset({State.DEPOSITED.value, State.UNDER_REPLICATED.value})


def object_versions(client: S3Client, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Every stored version and delete marker under ``prefix`` (``IsDeleteMarker`` added)."""
    out: list[dict[str, Any]] = []
    try:
        pages = client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            out += [{**v, "IsDeleteMarker": False} for v in page.get("Versions", [])]
            out += [{**m, "IsDeleteMarker": True} for m in page.get("DeleteMarkers", [])]
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("list_object_versions", f"{bucket}/{prefix}", exc) from exc
    return out


def _receipt_keys(client: S3Client, bucket: str, prefix: str) -> list[tuple[str, int, str]]:
    root = prefix.strip("/") + "/"
    found = []
    for version in object_versions(client, bucket, root):
        if version["IsDeleteMarker"] or not version.get("IsLatest", True):
            continue
        parsed = parse_key(prefix, version["Key"])
        if parsed and parsed[2] == RECEIPT_NAME:
            found.append((parsed[0], parsed[1], version["Key"]))
    return sorted(found)


def _check_failed(report: ReconcileReport, what: str, exc: StorageError) -> None:
    report.findings.append(
        Finding(kind="check-failed", record_id="", detail=f"{what} not checked: {exc}")
    )


def check(
    client: S3Client,
    catalogue: Catalogue,
    bucket: str,
    prefix: str,
    *,
    target: str = "primary",
    first: bool = True,
) -> ReconcileReport:
    """Compare the bucket of storage ``target`` (``first``: the first configured, which holds
    the versions deposited before copies were recorded) and the catalogue; pure reporting,
    nothing is changed. A storage error ends only the check it hit (a ``check-failed``
    finding); the others still run."""
    report = ReconcileReport(bucket=bucket, prefix=prefix)
    try:
        _check_incomplete(client, report)
    except StorageError as exc:
        _check_failed(report, "incomplete uploads", exc)
    try:
        receipts = _receipt_keys(client, bucket, prefix)
    except StorageError as exc:
        _check_failed(report, "complete AIPs against the catalogue (and the reverse)", exc)
        return report
    report.complete_aips = len(receipts)
    in_bucket: set[tuple[str, int]] = set()
    for record_id, version, key in receipts:
        in_bucket.add((record_id, version))
        _check_receipt(client, catalogue, report, record_id, version, key, target, first)
    for item in _deposited_items(catalogue):
        version = item.deposited_version or item.current_version
        copies = {c.target: c.status for c in copies_of(catalogue, item.id, version)}
        expected = copies.get(target) == "verified" if copies else first
        if expected and (item.id, version) not in in_bucket:
            layout = AipLayout(prefix, item.id, version)
            report.findings.append(
                Finding(
                    kind="catalogue-without-aip",
                    record_id=item.id,
                    version=version,
                    detail=f"recorded as deposited but {layout.receipt_key} is missing",
                )
            )
    return report


def _check_incomplete(client: S3Client, report: ReconcileReport) -> None:
    for aip in find_incomplete(client, report.bucket, report.prefix):
        if aip.keys:
            report.findings.append(
                Finding(
                    kind="incomplete-upload",
                    record_id=aip.record_id,
                    version=aip.version,
                    detail=f"{len(aip.keys)} object(s) under {aip.root} but no receipt: not an "
                    "AIP; re-run the ingest to complete it, or reconcile --fix to remove them",
                    keys=aip.keys,
                )
            )
        if aip.uploads_in_progress:
            report.findings.append(
                Finding(
                    kind="multipart-upload",
                    record_id=aip.record_id,
                    version=aip.version,
                    detail=f"{len(aip.uploads_in_progress)} unfinished multipart upload(s)",
                    keys=aip.uploads_in_progress,
                )
            )


def _check_receipt(
    client: S3Client,
    catalogue: Catalogue,
    report: ReconcileReport,
    record_id: str,
    version: int,
    key: str,
    target: str,
    first: bool,
) -> None:
    item = catalogue.get_item(record_id)
    row = catalogue.get_version(record_id, version) if item else None
    copies = {c.target: c.status for c in copies_of(catalogue, record_id, version)}
    if copies and copies.get(target) in (None, "failed") and row is not None:
        report.findings.append(
            Finding(
                kind="aip-not-in-catalogue",
                record_id=record_id,
                version=version,
                detail=f"a complete AIP on storage target {target} that the catalogue does not "
                "record as a copy; re-run the ingest of this item (or `archive-ingest "
                "replicate`) to record it",
                keys=[key],
            )
        )
        return
    if item is None or row is None or row.state not in STORED_STATES:
        report.findings.append(
            Finding(
                kind="aip-not-in-catalogue",
                record_id=record_id,
                version=version,
                detail="a complete AIP whose catalogue version is "
                + (row.state if row is not None else "missing")
                + "; re-run the ingest of this item to record it",
                keys=[key],
            )
        )
        return
    try:
        receipt = read_receipt_key(client, report.bucket, key)
    except StorageError as exc:  # a receipt that is not one (or not readable now): a finding
        receipt, problem = None, str(exc)
    else:
        problem = "listed, then gone when read"
    if receipt is None:
        report.findings.append(
            Finding(
                kind="unreadable-receipt",
                record_id=record_id,
                version=version,
                detail=f"{key}: {problem}; its files were not checked against the catalogue",
                keys=[key],
            )
        )
        return
    stored = {obj.path: obj.version_id for obj in receipt.objects}
    if copies:  # this target's recorded copy
        recorded = objects_of_copy(catalogue, record_id, version, target)
        wrong = [o.path for o in recorded if o.key != key and stored.get(o.path) != o.version_id]
    elif first:  # deposited before copies were recorded: the files table
        wrong = [
            f.path
            for f in catalogue.files(record_id, version)
            if stored.get(f"data/{f.path}", stored.get(f.path)) != f.s3_version_id
        ]
    else:
        wrong = []
    if wrong:
        report.findings.append(
            Finding(
                kind="version-id-mismatch",
                record_id=record_id,
                version=version,
                detail=f"{len(wrong)} catalogue file(s) name other S3 VersionIds than the "
                f"receipt, e.g. {wrong[0]}",
                keys=[key],
            )
        )


def _deposited_items(catalogue: Catalogue, page: int = 500) -> list[Any]:
    """Items whose current AIP is stored: ``deposited`` and ``under_replicated``."""
    items: list[Any] = []
    for state in sorted(STORED_STATES):
        found: list[Any] = []
        while True:
            batch = catalogue.list_items(state=state, limit=page, offset=len(found))
            found += batch
            if len(batch) < page:
                break
        items += found
    return items
