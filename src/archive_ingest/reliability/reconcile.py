"""`archive-ingest reconcile`: find (and with ``fix`` clean) what an interrupted run left behind.

It compares three things and reports every disagreement as a :class:`Finding`:

- **incomplete uploads**: version prefixes with objects or multipart uploads but no receipt
  (``storage.listing.find_incomplete``) - not AIPs; a re-run of the same ingest completes them;
- **bucket without catalogue**: a complete AIP (receipt present) whose catalogue item is not
  recorded as deposited at that version (a crash after the receipt, before the catalogue update);
- **catalogue without bucket**: an item recorded as deposited whose receipt is missing, or
  whose files' S3 VersionIds differ from the receipt's;
- **stalled items**: items left in an in-progress state (``fetched`` ... ``depositing``) for
  longer than ``Settings.stalled_after_seconds`` - a worker killed mid-item. Re-running the
  ingest resumes them at the stage after the last checkpoint; a harvest does so by itself;
- **unfinished older versions**: a version left in progress (or approved, never deposited)
  while the item has a newer one - work that no run will ever finish;
- **stale work folders**: ``HOME/work/<record-id>/tmp/*`` (and ``HOME/tmp/ocr-*``) that no
  live process holds - what a killed OCR run left; the item's next run sweeps them too;
- **checks that could not run**: a storage error (a 500, a timeout) in one check is itself a
  finding, and every other check still runs: one failing request never hides the rest.

``fix`` only does what cannot lose data: abort multipart uploads (they hold no object),
delete the object versions of receipt-less prefixes that carry no object lock, and remove
stale work folders. Locked objects,
and anything the credentials may not delete, are reported as ``kept`` with the reason. Complete
AIPs and catalogue rows are never changed: re-running the ingest is the fix for those.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, Field

from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import StorageError
from archive_ingest.harvest.approved import approved_but_depositing
from archive_ingest.models import IN_PROGRESS_STATES, State
from archive_ingest.settings import Settings
from archive_ingest.storage.layout import RECEIPT_NAME, AipLayout, parse_key
from archive_ingest.storage.listing import find_incomplete, read_receipt_key
from archive_ingest.storage.s3 import (
    S3Client,
    error_code,
    make_client,
    probe_endpoint,
    storage_error,
)
from archive_ingest.workspace import STAGING_PREFIX, stale_work_folders

Kind = Literal[
    "incomplete-upload",
    "multipart-upload",
    "aip-not-in-catalogue",
    "catalogue-without-aip",
    "version-id-mismatch",
    "unreadable-receipt",
    "stalled-item",
    "unfinished-older-version",
    "check-failed",
    "stale-work-folder",
]


class Finding(BaseModel):
    kind: Kind
    record_id: str
    version: int | None = None
    detail: str
    keys: list[str] = Field(default_factory=list)


class Action(BaseModel):
    action: Literal["aborted-upload", "deleted-version", "removed-work-folder", "kept"]
    key: str
    version_id: str | None = None
    reason: str = ""


class ReconcileReport(BaseModel):
    bucket: str
    prefix: str
    complete_aips: int = 0
    findings: list[Finding] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    fixed: bool = False

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def kept(self) -> list[Action]:
        return [a for a in self.actions if a.action == "kept"]

    @property
    def remaining(self) -> bool:
        """Something still needs a person (or a re-run of the ingest)."""
        if not self.fixed:
            return bool(self.findings)
        fixable = {"incomplete-upload", "multipart-upload", "stale-work-folder"}
        return bool(self.kept) or any(f.kind not in fixable for f in self.findings)


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


def check(client: S3Client, catalogue: Catalogue, bucket: str, prefix: str) -> ReconcileReport:
    """Compare bucket and catalogue; pure reporting, nothing is changed. A storage error ends
    only the check it hit (a ``check-failed`` finding); the others still run."""
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
        _check_receipt(client, catalogue, report, record_id, version, key)
    for item in _deposited_items(catalogue):
        version = item.deposited_version or item.current_version
        if (item.id, version) not in in_bucket:
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
) -> None:
    item = catalogue.get_item(record_id)
    row = catalogue.get_version(record_id, version) if item else None
    if item is None or row is None or row.state != State.DEPOSITED.value:
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
    wrong = [
        f.path
        for f in catalogue.files(record_id, version)
        if stored.get(f"data/{f.path}", stored.get(f.path)) != f.s3_version_id
    ]
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
    items: list[Any] = []
    while True:
        batch = catalogue.list_items(state=State.DEPOSITED.value, limit=page, offset=len(items))
        items += batch
        if len(batch) < page:
            return items


def _locked(head: dict[str, Any], now: dt.datetime) -> str | None:
    if head.get("ObjectLockLegalHoldStatus") == "ON":
        return "legal hold"
    until = head.get("ObjectLockRetainUntilDate")
    if head.get("ObjectLockMode") and until is not None and until > now:
        return f"{head['ObjectLockMode']} retention until {until.isoformat()}"
    return None


def fix(client: S3Client, report: ReconcileReport) -> ReconcileReport:
    """Abort unfinished multipart uploads; delete unlocked versions of receipt-less prefixes."""
    now = dt.datetime.now(dt.UTC)
    bucket = report.bucket
    for finding in report.findings:
        if finding.kind == "multipart-upload":
            for key in finding.keys:
                report.actions += _abort_uploads(client, bucket, key)
        elif finding.kind == "incomplete-upload" and finding.version is not None:
            root = AipLayout(report.prefix, finding.record_id, finding.version).root
            try:
                versions = object_versions(client, bucket, root)
            except StorageError as exc:
                report.actions.append(Action(action="kept", key=root, reason=str(exc)))
                continue
            for version in versions:
                report.actions.append(_delete_version(client, bucket, version, now))
        elif finding.kind == "stale-work-folder":
            report.actions += _remove_work_folders(finding.keys)
    report.fixed = True
    return report


def _remove_work_folders(keys: list[str]) -> list[Action]:
    actions = []
    for key in keys:
        folder = Path(key)
        if folder in stale_work_folders(folder.parent):  # still unheld now
            shutil.rmtree(folder, ignore_errors=True)
            actions.append(Action(action="removed-work-folder", key=key))
        else:
            actions.append(Action(action="kept", key=key, reason="in use again"))
    return actions


def stale_work(home: Path) -> list[Finding]:
    """Work folders no live process holds: per item (``work/<id>/tmp``), and the OCR folders
    of ``HOME/tmp`` (OCR outside the pipeline, and runs from before the per-item folders)."""
    work = home / "work"
    places = (
        [(p.name, p / "tmp") for p in sorted(work.iterdir()) if p.is_dir()] if work.is_dir() else []
    )
    findings = []
    for record_id, parent in [*places, ("", home / "tmp")]:
        stale = [
            f
            for f in stale_work_folders(parent)
            if record_id or f.name.removeprefix(STAGING_PREFIX).startswith("ocr-")
        ]
        findings += [
            Finding(
                kind="stale-work-folder",
                record_id=record_id,
                detail=f"{folder}: a work folder a killed run left; the item's next run or "
                "reconcile --fix removes it",
                keys=[str(folder)],
            )
            for folder in stale
        ]
    return findings


def _abort_uploads(client: S3Client, bucket: str, key: str) -> list[Action]:
    actions: list[Action] = []
    try:
        uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
    except (ClientError, BotoCoreError) as exc:
        return [Action(action="kept", key=key, reason=f"cannot list uploads: {error_code(exc)}")]
    for upload in uploads:
        if upload.get("Key") != key:
            continue
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
            actions.append(Action(action="aborted-upload", key=key))
        except (ClientError, BotoCoreError) as exc:
            actions.append(
                Action(action="kept", key=key, reason=f"abort refused: {error_code(exc) or exc}")
            )
    return actions


def _delete_version(
    client: S3Client, bucket: str, version: dict[str, Any], now: dt.datetime
) -> Action:
    key, version_id = version["Key"], version.get("VersionId")
    if not version["IsDeleteMarker"]:
        try:
            head = client.head_object(Bucket=bucket, Key=key, VersionId=version_id)
        except (ClientError, BotoCoreError) as exc:
            return Action(
                action="kept", key=key, version_id=version_id, reason=f"HEAD: {error_code(exc)}"
            )
        lock = _locked(head, now)
        if lock:
            return Action(
                action="kept", key=key, version_id=version_id, reason=f"object-locked ({lock})"
            )
    try:
        client.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
    except (ClientError, BotoCoreError) as exc:
        return Action(
            action="kept",
            key=key,
            version_id=version_id,
            reason=f"delete refused: {error_code(exc) or type(exc).__name__}",
        )
    return Action(action="deleted-version", key=key, version_id=version_id)


def stalled(catalogue: Catalogue, older_than_seconds: float) -> list[Finding]:
    """Items in an in-progress state (or approved, their deposit pending) not updated for
    ``older_than_seconds``."""
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than_seconds)
    return [
        Finding(
            kind="stalled-item",
            record_id=item.id,
            version=item.current_version or None,
            detail=f"{item.state} since {item.updated_at:%Y-%m-%d %H:%M} UTC (interrupted?): "
            + (
                "an approved version: run `archive-ingest deposit-approved` (or let its "
                "deployment run), or re-run the item, to deposit it"
                if approved_but_depositing(catalogue, item.id, item.current_version)
                else f"re-run `archive-ingest ingest {item.source}` to resume it"
            ),
        )
        for item in catalogue.stalled_items(before)
    ] + [
        Finding(
            kind="stalled-item",
            record_id=item.id,
            version=item.current_version or None,
            detail=f"approved since {item.updated_at:%Y-%m-%d %H:%M} UTC and not deposited: "
            "run `archive-ingest deposit-approved` (or let its deployment run)",
        )
        for item in catalogue.list_items(state=State.APPROVED.value, limit=10_000)
        if (
            item.updated_at.replace(tzinfo=dt.UTC)
            if item.updated_at.tzinfo is None
            else item.updated_at
        )
        < before
    ]


def unfinished_older_versions(catalogue: Catalogue) -> list[Finding]:
    """Versions left in progress (or approved and never deposited) below a newer version."""
    return [
        Finding(
            kind="unfinished-older-version",
            record_id=row.item_id,
            version=row.version,
            detail=f"v{row.version} is {row.state} but the item is at v{current}: this version "
            "will never be finished; compare it with the newer one before removing anything",
        )
        for row, current in catalogue.unfinished_older_versions(
            sorted({*(s.value for s in IN_PROGRESS_STATES), State.APPROVED.value})
        )
    ]


def reconcile(settings: Settings, *, do_fix: bool = False) -> ReconcileReport:
    """Open the catalogue and the bucket (ingest credentials), check, and optionally fix.
    The storage is probed first: a silent endpoint is one StorageUnreachableError naming it
    within seconds, not botocore's retries and timeouts in every check."""
    probe_endpoint(settings)
    client = make_client(settings)
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        report = check(client, catalogue, settings.s3_bucket, settings.s3_prefix)
        report.findings += stalled(catalogue, settings.stalled_after_seconds)
        report.findings += unfinished_older_versions(catalogue)
        report.findings += stale_work(settings.home)
    finally:
        catalogue.close()
    return fix(client, report) if do_fix else report
