"""`archive-ingest replicate`: give every target every AIP version it lacks.

The plan: first the versions deposited before copies were recorded are adopted (adopt.py),
then every version with a verified copy somewhere and none on a wanted target
(``catalogue.copies.missing_copies``) is one task. A target whose copy is ``damaged`` or
``lost`` is left to ``repair`` (it holds a receipt already, or had one); a ``failed`` copy (a
deposit that did not finish) is completed. The plan trusts the catalogue: a copy recorded
``verified`` is not looked for on its target (checking what a target holds is the audit's
job: ``audit --target`` marks a vanished copy ``damaged``, and ``repair`` writes it back).
Tasks run in a bounded thread pool, one AIP on disk per worker; each copies the version to
its missing targets from the first verified source that passes every check (transfer.py),
records the copy, and settles the item: an ``under_replicated`` version that now has
``copies_required`` verified copies becomes ``deposited`` and the after-deposit hooks run
(OAI-PMH publication).

Idempotent (a re-run finds nothing to do) and resumable (a killed run leaves objects without
a receipt on the target, which the next run's deposit accepts when their bytes are right).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, Field

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import (
    CopyInfo,
    copies_of,
    missing_copies,
    objects_of_copy,
    record_copy,
    verified_targets,
)
from archive_ingest.catalogue.runs import record_job_run
from archive_ingest.errors import ArchiveIngestError, ConfigError
from archive_ingest.ingest.deposit import run_after_deposit
from archive_ingest.ingest.services import Services
from archive_ingest.models import State, utcnow
from archive_ingest.replication.adopt import Adoption, adopt_version, unrecorded_versions
from archive_ingest.replication.progress import TransferProgress
from archive_ingest.replication.sources import SourceProblem
from archive_ingest.replication.transfer import record_transfer, transfer_version
from archive_ingest.settings import Settings
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.targets import check_targets, copies_required, target_views

log = logging.getLogger(__name__)

#: called with a record id once replication made its version ``deposited``
OnDeposited = Callable[[str], None]


class Task(BaseModel):
    """One AIP version and the targets it lacks."""

    record_id: str
    version: int
    targets: list[str]
    sources: list[str]  # targets with a verified copy, in target order
    bytes: int = 0


class Outcome(BaseModel):
    record_id: str
    version: int
    target: str
    status: str  # replicated | already-there | failed
    source_target: str | None = None
    bytes: int = 0
    detail: str = ""
    notes: list[str] = Field(default_factory=list)


class ReplicateReport(BaseModel):
    dry_run: bool
    adopted: list[Adoption] = Field(default_factory=list)
    planned: list[Task] = Field(default_factory=list)
    left_for_repair: list[str] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)
    deposited: list[str] = Field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        failed = [
            f"{o.record_id} v{o.version} -> {o.target}: {o.detail}"
            for o in self.outcomes
            if o.status == "failed"
        ]
        if not self.dry_run:
            failed += [
                f"{a.record_id} v{a.version} on {a.target or '?'}: {a.detail}"
                for a in self.adopted
                if not a.adopted
            ]
        return failed

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def summary(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "nothing_to_do": not self.planned and not self.adopted,
            "planned": [t.model_dump() for t in self.planned],
            "adopted": [a.model_dump() for a in self.adopted],
            "replicated": [o.model_dump() for o in self.outcomes if o.status != "failed"],
            "failed": self.failures,
            "left_for_repair": self.left_for_repair,
            "deposited": self.deposited,
            "bytes": sum(o.bytes for o in self.outcomes if o.status == "replicated"),
        }


def plan(
    catalogue: Catalogue, names: Sequence[str], wanted: Sequence[str]
) -> tuple[list[Task], list[str]]:
    """The tasks, and the copies left to ``repair`` (damaged or lost, not missing)."""
    tasks: list[Task] = []
    left: list[str] = []
    for record_id, version, lacking in missing_copies(catalogue, names):
        rows = {c.target: c for c in copies_of(catalogue, record_id, version)}
        todo: list[str] = []
        for target in lacking:
            if target not in wanted:
                continue
            row = rows.get(target)
            if row is not None and row.status in ("damaged", "lost"):
                left.append(f"{record_id} v{version} on {target}: {row.status}")
            else:
                todo.append(target)
        sources = [n for n in names if n in rows and rows[n].status == "verified"]
        if not todo or not sources:
            continue
        size = sum(
            o.size
            for o in objects_of_copy(catalogue, record_id, version, sources[0])
            if o.key != rows[sources[0]].receipt_key
        )
        tasks.append(
            Task(record_id=record_id, version=version, targets=todo, sources=sources, bytes=size)
        )
    return tasks, left


class Replicator:
    """Runs the tasks of one `replicate` (shared by the worker threads)."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        signer: ReceiptSigner,
        progress: TransferProgress,
        on_deposited: OnDeposited | None,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.signer = signer
        self.progress = progress
        self.on_deposited = on_deposited
        self.views = {v.storage_target_name: v for v in target_views(settings)}
        self.order = list(self.views)
        self._record_lock = threading.Lock()  # one catalogue writer among our threads
        self.deposited: list[str] = []

    def _copy(self, record_id: str, version: int, target: str) -> CopyInfo | None:
        return next(
            (c for c in copies_of(self.catalogue, record_id, version) if c.target == target), None
        )

    def run_task(self, task: Task) -> list[Outcome]:
        outcomes = [self._to_target(task, target) for target in task.targets]
        with self._record_lock:
            self._settle(task.record_id, task.version)
        self.progress.item_done()
        return outcomes

    def _to_target(self, task: Task, target: str) -> Outcome:
        problems: list[str] = []
        for source in task.sources:
            source_copy = self._copy(task.record_id, task.version, source)
            if source_copy is None or source_copy.status != "verified":
                continue
            try:
                transfer = transfer_version(
                    self.settings,
                    source=self.views[source],
                    source_copy=source_copy,
                    dest=self.views[target],
                    signer=self.signer,
                    on_bytes=self.progress.add_bytes,
                )
            except SourceProblem as exc:
                problems.append(f"source {source}: {exc}")
                log.warning(
                    "%s v%d: source %s unusable: %s", task.record_id, task.version, source, exc
                )
                continue
            except ArchiveIngestError as exc:  # the destination (or a source that went away)
                problems.append(f"{exc}")
                break
            except OSError as exc:  # the local work folder (disk full, permissions)
                problems.append(f"work folder: {exc.strerror or exc}")
                break
            with self._record_lock:
                record_transfer(self.catalogue, transfer)
            receipt = transfer.receipt
            return Outcome(
                record_id=task.record_id,
                version=task.version,
                target=target,
                status="already-there" if receipt.reused else "replicated",
                source_target=transfer.source_target,
                bytes=0 if receipt.reused else receipt.total_bytes,
                notes=transfer.notes,
            )
        detail = "; ".join(problems) or "no verified source copy"
        with self._record_lock:
            existing = self._copy(task.record_id, task.version, target)
            if existing is None or existing.status == "failed":
                record_copy(
                    self.catalogue,
                    task.record_id,
                    task.version,
                    target,
                    status="failed",
                    detail=f"replicate: {detail}"[:2000],
                )
        return Outcome(
            record_id=task.record_id,
            version=task.version,
            target=target,
            status="failed",
            detail=detail,
        )

    def _settle(self, record_id: str, version: int) -> None:
        """An under-replicated version with enough verified copies becomes deposited."""
        verified = [
            t for t in self.order if t in verified_targets(self.catalogue, record_id, version)
        ]
        if len(verified) < copies_required(self.settings):
            return
        row = self.catalogue.get_version(record_id, version)
        item = self.catalogue.get_item(record_id)
        if row is None or item is None:
            return
        first = self._copy(record_id, version, verified[0])
        if item.state == State.UNDER_REPLICATED.value and item.current_version == version:
            objects = objects_of_copy(self.catalogue, record_id, version, verified[0])
            self.catalogue.set_file_locations(
                record_id, version, {o.path: (o.key, o.version_id) for o in objects}
            )
            bag_uri = first.bag_uri if first is not None else row.bag_uri
            self.catalogue.update_version(record_id, version, bag_uri=bag_uri)
            self.catalogue.set_state(
                record_id,
                State.DEPOSITED,
                [],
                version=version,
                bag_uri=bag_uri,
                deposited_version=version,
            )
            self.deposited.append(record_id)
            if self.on_deposited is not None:
                self.on_deposited(record_id)
        elif row.state == State.UNDER_REPLICATED.value:
            self.catalogue.update_version(
                record_id, version, state=State.DEPOSITED.value, reasons=[]
            )


def replicate(
    settings: Settings,
    catalogue: Catalogue,
    *,
    target: str | None = None,
    concurrency: int | None = None,
    dry_run: bool = False,
    on_deposited: OnDeposited | None = None,
    progress: bool | None = None,
) -> ReplicateReport:
    """Adopt, plan and (unless ``dry_run``) run the backfill; see the module doc. The run is
    recorded (``job_runs``): a success when nothing failed (nothing to do included)."""
    started = utcnow()
    targets = check_targets(settings)
    names = [t.name for t in targets]
    if target is not None and target not in names:
        raise ConfigError(f"no storage target named {target!r} (configured: {', '.join(names)})")
    wanted = [target] if target else names
    views = target_views(settings)
    signer = ReceiptSigner.for_settings(settings)
    report = ReplicateReport(dry_run=dry_run)
    for record_id, version, bag_uri in unrecorded_versions(catalogue):
        found = adopt_version(
            catalogue, views, signer, record_id, version, bag_uri, dry_run=dry_run
        )
        report.adopted += found or [
            Adoption(
                record_id=record_id,
                version=version,
                target="",
                adopted=False,
                detail=f"{bag_uri} is on no configured target",
            )
        ]
    tasks, report.left_for_repair = plan(catalogue, names, wanted)
    report.planned = tasks
    if dry_run:
        return report
    if tasks:
        workers = concurrency or settings.replicate_concurrency
        with TransferProgress(len(tasks), sum(t.bytes for t in tasks), enabled=progress) as bar:
            replicator = Replicator(settings, catalogue, signer, bar, on_deposited)
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replicate") as pool:
                for outcomes in pool.map(replicator.run_task, tasks):
                    report.outcomes += outcomes
        report.deposited = replicator.deposited
    record_job_run(
        catalogue,
        "replicate",
        started_at=started,
        outcome="failure" if report.failures else "success",
        summary={
            "planned": len(tasks),
            "replicated": sum(1 for o in report.outcomes if o.status != "failed"),
            "failed": len(report.failures),
            "bytes": sum(o.bytes for o in report.outcomes if o.status == "replicated"),
        },
    )
    return report


class AfterDepositHooks:
    """The ingest's after-deposit hooks (OAI-PMH publication) for the items replication made
    ``deposited``; the services they need are opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._services: Services | None = None

    def __call__(self, record_id: str) -> None:
        if self._services is None:
            self._services = Services.open(self.settings)
        run_after_deposit(self._services, record_id)

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
