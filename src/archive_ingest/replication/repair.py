"""`archive-ingest repair`: restore damaged copies from good ones.

Which copies: those the audit marked ``damaged`` (or ``lost`` earlier), and those with an
object whose last check was not ``ok``; with ``check_all`` every recorded copy. Each is read
in full first (diagnose.py). For every bad object a source is looked for on the other targets,
in target order: the object there is streamed and hashed, and only bytes whose size, SHA-256
and SHA-512 equal the recorded digests are used (nothing is repaired from an unverified copy).
The good bytes are written to the damaged target as a NEW version (restore.py: server
checksum, our digests, the lock retention; no version is deleted, no governance bypassed)
and re-verified by a full read-back; then the copy's receipt is written again as a new signed
revision naming the new version ids and listing every version written over in ``replaces``
(with the reason and the source target). A receipt edited in the bucket (a version on top of
the recorded one, or one failing its signature) gets the good receipt as a new revision the
same way. The catalogue then records the copy as ``verified`` (every object just checked or
rewritten and re-hashed), with one PREMIS replication event per repair naming both targets.

A repair killed before its receipt revision is finished by the next run: the version it left
on top of the key holds the recorded bytes (verified in full, our digests, a server SHA-256,
the retention) and is kept rather than written again.

An object that no target holds intact is *lost*: the copy's status becomes ``lost`` and the
report says so; nothing is written for it. ``dry_run`` reads everything (the diagnosis, the
candidate sources) and writes nothing, neither to storage nor to the catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import (
    CopyInfo,
    ObjectInfo,
    all_copies,
    copy_object,
    copy_objects,
    mark_object_checked,
    objects_of_copy,
    record_copy,
)
from archive_ingest.catalogue.runs import record_job_run
from archive_ingest.errors import ConfigError, StorageError
from archive_ingest.models import Event, utcnow
from archive_ingest.replication.diagnose import Diagnosis, Finding, diagnose
from archive_ingest.replication.events import lost_event, repair_event
from archive_ingest.replication.good_copies import GoodCopies
from archive_ingest.replication.repair_report import Action, CopyRepair, RepairReport
from archive_ingest.replication.restore import (
    finished_earlier,
    lock_for,
    replaced_version,
    write_new_version,
    write_revision,
)
from archive_ingest.settings import Settings
from archive_ingest.storage.receipt import DepositReceipt, LockPolicy, ReplacedVersion, StoredObject
from archive_ingest.storage.s3 import S3Client, make_client
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.targets import check_targets, target_views
from archive_ingest.workspace import ItemWorkspace, sweep_work_folders, work_folder

log = logging.getLogger(__name__)


def _version_on_top(diagnosis: Diagnosis, finding: Finding) -> str | None:
    """The version on top of a bad key that an interrupted repair may have written: the one
    written over the recorded version (``replaced``), or the only kind of version a key
    whose recorded version is gone can hold (``missing``: a server replaced by an empty one,
    restored by a repair killed before its receipt revision)."""
    if finding.reason == "replaced":
        return finding.bad_version
    if finding.reason == "missing":
        latest = next((e for e in diagnosis.index.get(finding.key, []) if e.is_latest), None)
        if latest is not None and not latest.delete_marker:
            return latest.version_id
    return None


def copies_to_check(
    catalogue: Catalogue, names: Sequence[str], target: str | None, check_all: bool
) -> list[CopyInfo]:
    """Damaged (or lost) copies and copies with an object not ``ok``; every copy with
    ``check_all`` (a ``failed`` copy holds no AIP: ``replicate`` completes it)."""
    chosen: list[CopyInfo] = []
    for copy in all_copies(catalogue, target):
        if copy.target not in names or copy.status == "failed":
            continue
        if check_all or copy.status in ("damaged", "lost"):
            chosen.append(copy)
            continue
        objects = objects_of_copy(catalogue, copy.record_id, copy.version, copy.target)
        if any(o.last_status not in (None, "ok") for o in objects):
            chosen.append(copy)
    return chosen


class Repairer:
    """Repairs copies one after the other (the state of one `repair` run)."""

    def __init__(
        self, settings: Settings, catalogue: Catalogue, signer: ReceiptSigner, dry_run: bool
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.signer = signer
        self.dry_run = dry_run
        self.views = {v.storage_target_name: v for v in target_views(settings)}
        self.good = GoodCopies(catalogue, self.views, signer)

    # --- sources ----------------------------------------------------------------------------
    def repair_copy(self, copy: CopyInfo) -> CopyRepair:
        result = CopyRepair(
            record_id=copy.record_id, version=copy.version, target=copy.target, status="clean"
        )
        view = self.views[copy.target]
        objects = objects_of_copy(self.catalogue, copy.record_id, copy.version, copy.target)
        try:
            diagnosis = diagnose(view, copy, objects, self.signer)
        except StorageError as exc:
            result.status, result.detail = "failed", f"cannot read the copy: {exc}"
            return result
        if diagnosis.clean:
            if not self.dry_run:
                self._record_clean(copy, objects)
            return result
        workspace = ItemWorkspace(self.settings.home, copy.record_id)
        sweep_work_folders(workspace.tmp)
        with work_folder(workspace.tmp, f"repair-v{copy.version}-") as work:
            try:
                return self._repair(copy, diagnosis, work, result)
            except StorageError as exc:
                result.status, result.detail = "failed", str(exc)
                return result
            except OSError as exc:  # the local work folder (disk full, permissions)
                result.status, result.detail = "failed", f"work folder: {exc.strerror or exc}"
                return result

    def _repair(
        self, copy: CopyInfo, diagnosis: Diagnosis, work: Path, result: CopyRepair
    ) -> CopyRepair:
        by_key = {o.key: o for o in diagnosis.objects}
        view = self.views[copy.target]
        client = make_client(view)
        lock = lock_for(client, view.s3_bucket, LockPolicy.from_settings(view))
        plans: list[tuple[Finding, str, Path]] = []
        repaired: dict[str, tuple[StoredObject, Finding, str]] = {}
        for finding in diagnosis.findings:
            obj = by_key[finding.key]
            earlier = None
            on_top = _version_on_top(diagnosis, finding)
            if on_top is not None:
                earlier = finished_earlier(
                    client,
                    view.s3_bucket,
                    key=obj.key,
                    version_id=on_top,
                    path=obj.path,
                    size=obj.size,
                    sha256=obj.sha256,
                    sha512=obj.sha512,
                    lock=lock,
                )
            if earlier is not None:  # an interrupted repair's version: kept, not written again
                repaired[obj.key] = (earlier, finding, copy.target)
                result.actions.append(
                    Action(
                        key=finding.key,
                        reason=finding.reason,
                        detail=f"{finding.detail}; it holds the recorded bytes, verified in "
                        "full, as a repair writes them (an interrupted repair): kept",
                        bad_version=finding.bad_version,
                        source_target=copy.target,
                        new_version=earlier.version_id,
                    )
                )
                continue
            source, path, problems = self.good.good_object(copy, obj, work)
            action = Action(
                key=finding.key,
                reason=finding.reason,
                detail=finding.detail,
                bad_version=finding.bad_version,
                source_target=source,
            )
            result.actions.append(action)
            if source is None or path is None:
                result.lost.append(finding.key)
                action.detail += f"; no good copy: {'; '.join(problems) or 'no other target'}"
            else:
                plans.append((finding, source, path))
        receipt_source: tuple[str, DepositReceipt] | None = None
        if diagnosis.receipt_finding is not None:
            finding = diagnosis.receipt_finding
            if diagnosis.receipt is None:
                receipt_source = self.good.good_receipt(copy)
            source_name = copy.target if diagnosis.receipt is not None else None
            if receipt_source is not None:
                source_name = receipt_source[0]
            result.actions.append(
                Action(
                    key=finding.key,
                    reason=finding.reason,
                    detail=finding.detail,
                    bad_version=finding.bad_version,
                    source_target=source_name,
                )
            )
            if source_name is None:
                result.lost.append(finding.key)
        if self.dry_run:
            result.status = "lost" if result.lost else "planned"
            return result
        for finding, source, path in plans:
            obj = by_key[finding.key]
            stored = write_new_version(
                client,
                view.s3_bucket,
                key=obj.key,
                path=obj.path,
                source_file=path,
                size=obj.size,
                sha256=obj.sha256,
                sha512=obj.sha512,
                lock=lock,
            )
            repaired[obj.key] = (stored, finding, source)
            next(a for a in result.actions if a.key == obj.key).new_version = stored.version_id
        events: list[Event] = []
        receipt = diagnosis.receipt
        receipt_fixable = (
            diagnosis.receipt_finding is not None and diagnosis.receipt_key not in result.lost
        )
        if repaired or receipt_fixable:
            base = receipt
            if base is None and receipt_source is not None:
                by_key_written = {key: stored for key, (stored, _, _) in repaired.items()}
                base = self.good.retarget(
                    receipt_source[1], diagnosis, view, client, by_key_written
                )
            if base is not None:
                receipt = self._write_receipt(
                    copy,
                    diagnosis,
                    base,
                    repaired,
                    client,
                    lock,
                    receipt_source[0] if receipt_source else copy.target,
                )
                events += self._receipt_events(copy, diagnosis, receipt, repaired, receipt_source)
                if diagnosis.receipt_finding is not None:
                    next(
                        a for a in result.actions if a.key == diagnosis.receipt_key
                    ).new_version = receipt.receipt_version_id
        self._record(copy, diagnosis, receipt, result, events, [s for s, _, _ in repaired.values()])
        result.status = "lost" if result.lost else "repaired"
        return result

    def _write_receipt(
        self,
        copy: CopyInfo,
        diagnosis: Diagnosis,
        base: DepositReceipt,
        repaired: dict[str, tuple[StoredObject, Finding, str]],
        client: S3Client,
        lock: LockPolicy,
        receipt_from: str,
    ) -> DepositReceipt:
        now = utcnow()
        listed = {(r.key, r.version_id) for r in base.replaces}
        replaces: list[ReplacedVersion] = []
        for key, (stored, finding, source) in repaired.items():
            recorded = next(o.version_id for o in diagnosis.objects if o.key == key)
            for entry in diagnosis.index.get(key, []):
                if entry.version_id == stored.version_id or (key, entry.version_id) in listed:
                    continue
                if entry.version_id == finding.bad_version:
                    reason = f"{finding.reason}: {finding.detail}"[:500]
                elif entry.version_id == recorded:
                    reason = "the recorded version, superseded by the repair"
                else:
                    reason = "another version at a write-once key"
                replaces.append(replaced_version(key, entry.version_id, reason, source, now))
        receipt_finding = diagnosis.receipt_finding
        if receipt_finding is not None:
            bad = [e.version_id for e in diagnosis.receipt_intruders]
            if receipt_finding.reason == "receipt-corrupt" and receipt_finding.bad_version:
                bad.append(receipt_finding.bad_version)
            for version_id in dict.fromkeys(bad):
                if (diagnosis.receipt_key, version_id) not in listed:
                    replaces.append(
                        replaced_version(
                            diagnosis.receipt_key,
                            version_id,
                            f"{receipt_finding.reason}: {receipt_finding.detail}"[:500],
                            receipt_from,
                            now,
                        )
                    )
        objects = [repaired[o.key][0] if o.key in repaired else o for o in base.objects]
        what = ", ".join(repaired) or "the receipt"
        return write_revision(
            client,
            self.views[copy.target].s3_bucket,
            base,
            target=copy.target,
            objects=objects,
            replaces=replaces,
            note=f"revision {base.revision + 1} ({now.isoformat()}): repaired {what}",
            signer=self.signer,
            lock=lock,
        )

    def _receipt_events(
        self,
        copy: CopyInfo,
        diagnosis: Diagnosis,
        receipt: DepositReceipt,
        repaired: dict[str, tuple[StoredObject, Finding, str]],
        receipt_source: tuple[str, DepositReceipt] | None,
    ) -> list[Event]:
        events = [
            repair_event(
                target=copy.target,
                source_target=source,
                bag_uri=receipt.bag_uri,
                key=key,
                reason=finding.reason,
                bad_version=finding.bad_version,
                new_version=stored.version_id,
            )
            for key, (stored, finding, source) in repaired.items()
        ]
        finding = diagnosis.receipt_finding
        if finding is not None:
            events.append(
                repair_event(
                    target=copy.target,
                    source_target=receipt_source[0] if receipt_source else copy.target,
                    bag_uri=receipt.bag_uri,
                    key=diagnosis.receipt_key,
                    reason=finding.reason,
                    bad_version=finding.bad_version,
                    new_version=receipt.receipt_version_id,
                )
            )
        return events

    # --- the catalogue ----------------------------------------------------------------------
    def _record_clean(self, copy: CopyInfo, objects: Sequence[ObjectInfo]) -> None:
        now = utcnow()
        for obj in objects:
            mark_object_checked(
                self.catalogue, copy.target, obj.key, status="ok", hashed=True, at=now
            )
        if copy.status != "verified":
            record_copy(
                self.catalogue,
                copy.record_id,
                copy.version,
                copy.target,
                status="verified",
                detail="verified in full by repair: nothing to do",
            )

    def _record(
        self,
        copy: CopyInfo,
        diagnosis: Diagnosis,
        receipt: DepositReceipt | None,
        result: CopyRepair,
        events: list[Event],
        written: Sequence[StoredObject],
    ) -> None:
        """The copy as it now is; without a receipt (lost), the versions just written are
        still recorded, so a later run does not write them again."""
        now = utcnow()
        if result.lost:
            events.append(
                lost_event(
                    target=copy.target,
                    bag_uri=diagnosis.bag_uri,
                    keys=result.lost,
                    detail="every target's copy failed verification",
                )
            )
        if events:
            self.catalogue.add_events(copy.record_id, copy.version, events)
        marker = receipt.receipt_object if receipt is not None else None
        record_copy(
            self.catalogue,
            copy.record_id,
            copy.version,
            copy.target,
            status="lost" if result.lost else "verified",
            bag_uri=receipt.bag_uri if receipt is not None else None,
            receipt_key=receipt.receipt_key if marker is not None and receipt else None,
            receipt_version_id=marker.version_id if marker is not None else None,
            receipt_sha256=marker.sha256 if marker is not None else None,
            objects=(
                copy_objects(receipt)
                if receipt is not None
                else [copy_object(stored) for stored in written]
            ),
            detail=(
                f"lost: {', '.join(result.lost)} (no target holds a good copy)"
                if result.lost
                else f"repaired {len(result.actions)} finding(s)"
            ),
        )
        reasons = {a.key: a.reason for a in result.actions}
        keys = [o.key for o in diagnosis.objects] + [diagnosis.receipt_key]
        for key in keys:
            status = reasons[key] if key in result.lost else "ok"
            mark_object_checked(
                self.catalogue, copy.target, key, status=status, hashed=True, at=now
            )
        if result.lost:
            log.error(
                "%s v%d on %s: LOST %s",
                copy.record_id,
                copy.version,
                copy.target,
                ", ".join(result.lost),
            )


def repair(
    settings: Settings,
    catalogue: Catalogue,
    *,
    target: str | None = None,
    dry_run: bool = False,
    check_all: bool = False,
) -> RepairReport:
    """Repair what needs it (see the module doc); the report of every copy looked at. The run
    is recorded (``job_runs``) unless ``dry_run``: a success when no copy failed or is lost."""
    started = utcnow()
    names = [t.name for t in check_targets(settings)]
    if target is not None and target not in names:
        raise ConfigError(f"no storage target named {target!r} (configured: {', '.join(names)})")
    repairer = Repairer(settings, catalogue, ReceiptSigner.for_settings(settings), dry_run)
    report = RepairReport(dry_run=dry_run)
    for copy in copies_to_check(catalogue, names, target, check_all):
        report.checked += 1
        report.copies.append(repairer.repair_copy(copy))
    if not dry_run:
        record_job_run(
            catalogue,
            "repair",
            started_at=started,
            outcome="failure" if report.exit_code else "success",
            summary={
                "checked": report.checked,
                "repaired": sum(1 for c in report.copies if c.status == "repaired"),
                "lost": len(report.lost),
                "failed": len(report.failed),
            },
        )
    return report
