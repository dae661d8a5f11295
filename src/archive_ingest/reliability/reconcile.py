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

This module holds the catalogue and work-folder checks and :func:`reconcile`, which runs them
all; the bucket checks are in ``bucket_check``, the fixes in ``repair``, and the report's types
(:class:`Finding`, ``Action``, ``ReconcileReport``) in ``findings``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from archive_ingest.catalogue import Catalogue
from archive_ingest.harvest.approved import approved_but_depositing
from archive_ingest.models import IN_PROGRESS_STATES, State
from archive_ingest.reliability.bucket_check import check
from archive_ingest.reliability.findings import Finding, ReconcileReport
from archive_ingest.reliability.repair import fix
from archive_ingest.settings import Settings
from archive_ingest.storage.s3 import make_client, probe_endpoint
from archive_ingest.workspace import STAGING_PREFIX, stale_work_folders


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
