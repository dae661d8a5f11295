"""``reconcile --fix``: only what cannot lose data.

Aborts multipart uploads (they hold no object), deletes the object versions of receipt-less
prefixes that carry no object lock, and removes stale work folders. Locked objects, and anything
the credentials may not delete, are reported as ``kept`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archive_ingest.errors import StorageError
from archive_ingest.reliability.bucket_check import object_versions
from archive_ingest.reliability.findings import Action, Finding, ReconcileReport
from archive_ingest.storage.layout import AipLayout
from archive_ingest.storage.s3 import S3Client, error_code
from archive_ingest.workspace import stale_work_folders


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


def fix_work_folders(findings: list[Finding]) -> list[Action]:
    """Remove the stale work folders of ``stale-work-folder`` findings (still unheld now)."""
    return [
        action
        for finding in findings
        if finding.kind == "stale-work-folder"
        for action in _remove_work_folders(finding.keys)
    ]


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
