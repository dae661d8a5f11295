"""`archive-ingest reconcile`: find (and with ``fix`` clean) what an interrupted run left behind.

The bucket checks run once per configured storage target (storage/targets.py), each finding
naming its ``target``; a target that does not answer is a ``check-failed`` finding and the
others are still checked. It compares three things and reports every disagreement as a
:class:`Finding`:

- **incomplete uploads**: version prefixes with objects or multipart uploads but no receipt
  (``storage.listing.find_incomplete``) - not AIPs; a re-run of the same ingest completes them;
- **bucket without catalogue**: a complete AIP (receipt present) whose catalogue item is not
  recorded as deposited at that version (a crash after the receipt, before the catalogue update);
- **catalogue without bucket**: an item recorded as deposited whose receipt is missing, or
  whose files' S3 VersionIds differ from the receipt's;
- **under-replicated versions**: a stored version without a verified copy on some target
  (a target was down during the deposit, or was added later) - ``replicate`` or a re-run of
  the ingest writes the missing copies;
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
from collections.abc import Sequence
from pathlib import Path

from archive_ingest import progress
from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import copies_of
from archive_ingest.catalogue.schema import Item
from archive_ingest.errors import StorageError
from archive_ingest.harvest.approved import approved_but_depositing
from archive_ingest.models import IN_PROGRESS_STATES, State
from archive_ingest.reliability.bucket_check import check
from archive_ingest.reliability.findings import Finding, ReconcileReport, TargetSummary
from archive_ingest.reliability.repair import fix, fix_work_folders
from archive_ingest.settings import Settings
from archive_ingest.storage.s3 import make_client, probe_endpoint
from archive_ingest.storage.targets import target_views
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


def under_replicated(catalogue: Catalogue, targets: Sequence[str]) -> list[Finding]:
    """Stored versions (items ``deposited`` or ``under_replicated``) without a verified copy
    on every configured target. A version deposited before copies were recorded counts as
    stored on the first target only."""
    wanted = list(targets)
    findings = []
    for item in _stored_items(catalogue):
        version = item.deposited_version or item.current_version
        copies = copies_of(catalogue, item.id, version)
        have = {c.target for c in copies if c.status == "verified"} if copies else {wanted[0]}
        missing = [t for t in wanted if t not in have]
        if not missing:
            continue
        why = {c.target: f"{c.status}" + (f": {c.detail}" if c.detail else "") for c in copies}
        gaps = [f"no copy on {t}" + (f" ({why[t]})" if t in why else "") for t in missing]
        findings.append(
            Finding(
                kind="under-replicated",
                record_id=item.id,
                version=version,
                detail=f"verified on {len(wanted) - len(missing)} of {len(wanted)} targets; "
                + "; ".join(gaps)
                + "; run `archive-ingest replicate` or re-run the ingest of this item",
                missing_targets=missing,
            )
        )
    return findings


def _stored_items(catalogue: Catalogue) -> list[Item]:
    return [
        item
        for state in (State.DEPOSITED.value, State.UNDER_REPLICATED.value)
        for item in catalogue.list_items(state=state, limit=1_000_000)
    ]


def _check_target(
    view: Settings, catalogue: Catalogue, *, first: bool, do_fix: bool
) -> tuple[ReconcileReport, StorageError | None]:
    """One target's bucket checks (and fixes); an unreachable target is a finding."""
    name = view.storage_target_name
    try:
        probe_endpoint(view)
    except StorageError as exc:
        part = ReconcileReport(bucket=view.s3_bucket, prefix=view.s3_prefix)
        part.findings.append(
            Finding(
                kind="check-failed",
                record_id="",
                detail=f"storage target {name} not checked: {exc}",
                target=name,
            )
        )
        return part, exc
    client = make_client(view)
    part = check(client, catalogue, view.s3_bucket, view.s3_prefix, target=name, first=first)
    if do_fix:
        part = fix(client, part)
    return part, None


def reconcile(settings: Settings, *, do_fix: bool = False) -> ReconcileReport:
    """Open the catalogue and every storage target's bucket (ingest credentials), check, and
    optionally fix. Each target is probed first: a silent endpoint is a ``check-failed``
    finding naming it within seconds, not botocore's retries and timeouts in every check; when
    no target answers at all, the first one's StorageUnreachableError is raised."""
    views = target_views(settings)
    bar = progress.current()  # one step per target, one per catalogue check (and the folders)
    bar.add_total(len(views) + 4)
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        report = ReconcileReport(bucket=views[0].s3_bucket, prefix=views[0].s3_prefix)
        unreachable: list[StorageError] = []
        for number, view in enumerate(views):
            part, problem = _check_target(view, catalogue, first=number == 0, do_fix=do_fix)
            if problem is not None:
                unreachable.append(problem)
            name = view.storage_target_name
            report.findings += [f.model_copy(update={"target": name}) for f in part.findings]
            report.actions += part.actions
            report.complete_aips += part.complete_aips
            report.targets.append(
                TargetSummary(
                    name=name,
                    bucket=view.s3_bucket,
                    prefix=view.s3_prefix,
                    reachable=problem is None,
                    complete_aips=part.complete_aips,
                )
            )
            bar.advance(items=1)
        if len(unreachable) == len(views):
            raise unreachable[0]
        report.findings += under_replicated(catalogue, [v.storage_target_name for v in views])
        bar.advance(items=1)
        report.findings += stalled(catalogue, settings.stalled_after_seconds)
        bar.advance(items=1)
        report.findings += unfinished_older_versions(catalogue)
        bar.advance(items=1)
        stale = stale_work(settings.home)
        bar.advance(items=1)
        report.findings += stale
        if do_fix:
            report.actions += fix_work_folders(stale)
            report.fixed = True
    finally:
        catalogue.close()
    return report
