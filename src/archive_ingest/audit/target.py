"""One target's audit pass: the fast tier over every copy, then the full tier within budget.

Which copies: every copy the catalogue records on the target with a receipt (verified,
damaged or lost; a failed copy holds nothing), plus every receipt found in the target's
listing that the catalogue does not record there (older deposits, other tools: audited from
the receipt alone, and adopted by :mod:`.record` when the item is in the catalogue).

The fast tier is one ListObjectVersions of the target's prefix, the receipts' latest versions
(read in parallel) and one HEAD per object (in parallel), see
:mod:`archive_ingest.storage.audit_fast`. The full tier re-hashes objects in the
catalogue's least-recently-re-hashed order
(:func:`~archive_ingest.catalogue.copies.objects_least_recently_hashed`), within a
:class:`~archive_ingest.storage.rehash.Budget`; copies the catalogue does not know come after.
It checks the digests of the setting ``audit_rehash_digests`` (SHA-256 alone by default);
``--sample`` and ``--all`` re-hash with SHA-256 and SHA-512.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from archive_ingest import progress
from archive_ingest.audit.report import CopyResult, TargetReport
from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import (
    CopyInfo,
    StoredObjectFacts,
    all_copies,
    objects_least_recently_hashed,
    objects_of_copy,
    target_totals,
)
from archive_ingest.errors import StorageError
from archive_ingest.models import utcnow
from archive_ingest.settings import Settings
from archive_ingest.storage.audit_fast import (
    HEAD_WORKERS,
    ExpectedCopy,
    ExpectedObject,
    HeadTask,
    ReceiptCheck,
    aip_root,
    catalogue_disagreements,
    check_receipt,
    expected_objects,
    run_head_tasks,
    unexpected_objects,
)
from archive_ingest.storage.hashing import DigestChoice
from archive_ingest.storage.layout import RECEIPT_NAME, AipLayout, normalise_prefix, parse_key
from archive_ingest.storage.listing import VersionEntry, version_index
from archive_ingest.storage.receipt import StoredObject
from archive_ingest.storage.rehash import Budget, default_budget_bytes, rehash_object
from archive_ingest.storage.s3 import S3Client, endpoint_label, make_client, probe_endpoint
from archive_ingest.storage.verify import Problem


@dataclass(frozen=True)
class AuditOptions:
    """What one pass does beyond the fast tier."""

    full: bool = False  # the budgeted re-hash
    max_bytes: int | None = None  # None: the default budget (see rehash.default_budget_bytes)
    max_seconds: float | None = None
    sample: int = 0  # re-hash every object of N random copies per target (no byte budget)
    read_back_all: bool = False  # re-hash every object (no byte budget)
    rng: random.Random | None = None

    @property
    def rehashes(self) -> bool:
        return self.full or self.read_back_all or self.sample > 0


@dataclass
class CopyPass:
    """One copy's checks in this pass, for the report and the catalogue."""

    expected: ExpectedCopy
    result: CopyResult
    recorded: CopyInfo | None  # the catalogue's copies row (None: found in storage)
    receipt: ReceiptCheck | None = None
    objects: list[tuple[StoredObject, bool]] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)  # key -> "ok" or first reason
    hashed: set[str] = field(default_factory=set)

    def add(self, key: str, problems: list[Problem], *, hashed: bool = False) -> None:
        for problem in problems:
            if problem not in self.result.problems:
                self.result.problems.append(problem)
        if problems:
            self.statuses[key] = problems[0].reason
        else:
            self.statuses.setdefault(key, "ok")
        if hashed:
            self.hashed.add(key)


@dataclass
class TargetPass:
    report: TargetReport
    copies: list[CopyPass] = field(default_factory=list)


def _catalogue_copies(catalogue: Catalogue, view: Settings) -> list[CopyPass]:
    target = view.storage_target_name
    out: list[CopyPass] = []
    for info in all_copies(catalogue, target):
        if info.status == "failed" or not info.receipt_key:
            continue
        objects = [
            _as_expected(o)
            for o in objects_of_copy(catalogue, info.record_id, info.version, target)
        ]
        expected = ExpectedCopy(
            record_id=info.record_id,
            version=info.version,
            target=target,
            receipt_key=info.receipt_key,
            receipt_version_id=info.receipt_version_id,
            receipt_sha256=info.receipt_sha256,
            objects=objects,
        )
        layout_uri = AipLayout(view.s3_prefix, info.record_id, info.version).uri(view.s3_bucket)
        out.append(
            CopyPass(
                expected=expected,
                recorded=info,
                result=CopyResult(
                    record_id=info.record_id,
                    version=info.version,
                    target=target,
                    bag_uri=info.bag_uri or layout_uri,
                    receipt_key=info.receipt_key,
                ),
            )
        )
    return out


def _found_in_storage(
    view: Settings, index: dict[str, list[VersionEntry]], known: set[str]
) -> tuple[list[CopyPass], list[str]]:
    """Receipts in the listing the catalogue does not record on this target, and the
    version folders that hold objects but no receipt (incomplete)."""
    target = view.storage_target_name
    copies: list[CopyPass] = []
    folders: dict[tuple[str, int], bool] = {}
    for key in sorted(index):
        parsed = parse_key(view.s3_prefix, key)
        if parsed is None:
            continue
        record_id, version, relpath = parsed
        live = any(not e.delete_marker for e in index[key])
        has_receipt = relpath == RECEIPT_NAME
        folders[(record_id, version)] = folders.get((record_id, version), False) or has_receipt
        if not has_receipt or key in known or not live:
            continue
        layout = AipLayout(view.s3_prefix, record_id, version)
        copies.append(
            CopyPass(
                expected=ExpectedCopy(
                    record_id=record_id, version=version, target=target, receipt_key=key
                ),
                recorded=None,
                result=CopyResult(
                    record_id=record_id,
                    version=version,
                    target=target,
                    bag_uri=layout.uri(view.s3_bucket),
                    receipt_key=key,
                    known=False,
                ),
            )
        )
    layouts = {
        (record_id, version): AipLayout(view.s3_prefix, record_id, version)
        for (record_id, version), has_receipt in sorted(folders.items())
        if not has_receipt
    }
    incomplete = [layout.root for layout in layouts.values() if layout.receipt_key not in known]
    return copies, incomplete


def _fast_tier(
    client: S3Client,
    view: Settings,
    copies: list[CopyPass],
    index: dict[str, list[VersionEntry]],
    public: Ed25519PublicKey | None,
) -> int:
    """Receipt, listing and HEAD checks of every copy; returns the objects checked."""
    bucket = view.s3_bucket
    tasks: list[HeadTask] = []

    def receipt_of(copy: CopyPass) -> ReceiptCheck:
        entries = index.get(copy.expected.receipt_key, [])
        checked = check_receipt(client, bucket, copy.expected, entries, public)
        progress.current().advance(items=1)  # the copies of the bar (a terminal's only)
        return checked

    with ThreadPoolExecutor(max_workers=HEAD_WORKERS, thread_name_prefix="audit-receipt") as pool:
        receipts = list(pool.map(receipt_of, copies))
    for number, (copy, check) in enumerate(zip(copies, receipts, strict=True)):
        expected = copy.expected
        copy.receipt = check
        copy.result.notes += check.notes
        receipt_problems = list(check.problems)
        if (
            check.receipt is not None
            and copy.recorded is not None
            and check.receipt.receipt_version_id == expected.receipt_version_id
        ):
            receipt_problems += catalogue_disagreements(expected, check.receipt)
        copy.add(expected.receipt_key, receipt_problems)
        copy.objects = expected_objects(expected, check)
        replaced = (
            {(r.key, r.version_id) for r in check.receipt.replaces} if check.receipt else set()
        )
        for obj, checksum_known in copy.objects:
            entries = tuple(
                e for e in index.get(obj.key, []) if (obj.key, e.version_id) not in replaced
            )
            tasks.append(HeadTask(number, obj, entries, checksum_known))
        wanted = {obj.key for obj, _ in copy.objects} | {expected.receipt_key}
        for problem in unexpected_objects(aip_root(expected.receipt_key), wanted, index):
            copy.add(problem.key, [problem])
    results = run_head_tasks(client, bucket, tasks)
    for task, problems in zip(tasks, results, strict=True):
        copies[int(str(task.tag))].add(task.obj.key, problems)
    return len(tasks) + len(copies)


def _overdue(catalogue: Catalogue, target: str, cutoff: dt.datetime) -> tuple[int, int]:
    count = size = 0
    for obj in objects_least_recently_hashed(catalogue, target):
        if obj.last_hashed_at is not None and obj.last_hashed_at >= cutoff:
            break  # the order is never-hashed first, then oldest first
        count += 1
        size += obj.size
    return count, size


def _rehash(
    client: S3Client,
    bucket: str,
    copy: CopyPass,
    obj: ExpectedObject,
    digests: DigestChoice,
) -> int:
    problems = rehash_object(
        client,
        bucket,
        key=obj.key,
        version_id=obj.version_id,
        path=obj.path,
        size=obj.size,
        sha256=obj.sha256,
        sha512=obj.sha512,
        digests=digests,
    )
    copy.add(obj.key, problems, hashed=True)
    copy.result.objects_rehashed += 1
    copy.result.objects_rehashed_sha512 += 1 if digests == "both" else 0
    copy.result.bytes_rehashed += obj.size
    progress.current().advance(nbytes=obj.size)
    return obj.size


def _as_expected(obj: StoredObjectFacts) -> ExpectedObject:
    return ExpectedObject(
        path=obj.path,
        key=obj.key,
        version_id=obj.version_id,
        size=obj.size,
        sha256=obj.sha256,
        sha512=obj.sha512,
    )


def _objects_of(copy: CopyPass) -> list[ExpectedObject]:
    """Every object of a copy to re-hash, the receipt included (its recorded bytes)."""
    objects = [_as_expected(obj) for obj, _ in copy.objects]
    receipt = copy.receipt.receipt if copy.receipt is not None else None
    if receipt is not None and receipt.receipt_object is not None:
        objects.append(_as_expected(receipt.receipt_object))
    return objects


def _full_tier(
    client: S3Client,
    catalogue: Catalogue,
    view: Settings,
    settings: Settings,
    copies: list[CopyPass],
    options: AuditOptions,
    report: TargetReport,
) -> None:
    target = view.storage_target_name
    bucket = view.s3_bucket
    total_objects, total_bytes = target_totals(catalogue).get(target, (0, 0))
    cutoff = utcnow() - dt.timedelta(days=settings.audit_rehash_cycle_days)
    report.total_objects, report.total_bytes = total_objects, total_bytes
    report.overdue_objects, report.overdue_bytes = _overdue(catalogue, target, cutoff)
    unknown = [c for c in copies if c.recorded is None]
    report.total_objects += sum(len(_objects_of(c)) for c in unknown)
    report.total_bytes += sum(o.size for c in unknown for o in _objects_of(c))
    if not options.rehashes:
        return
    max_bytes = options.max_bytes
    if max_bytes is None and options.full and not options.read_back_all:
        max_bytes = default_budget_bytes(
            report.total_bytes,
            report.overdue_bytes,
            interval_hours=settings.audit_interval_hours,
            cycle_days=settings.audit_rehash_cycle_days,
        )
    budget = Budget(max_bytes=max_bytes, max_seconds=options.max_seconds)
    report.budget_bytes, report.budget_seconds = max_bytes, options.max_seconds

    def spend(copy: CopyPass, obj: ExpectedObject, digests: DigestChoice = "both") -> None:
        budget.spend(_rehash(client, bucket, copy, obj, digests))

    if options.sample and not options.read_back_all:
        rng = options.rng or random.Random()
        for copy in rng.sample(copies, min(options.sample, len(copies))):
            for obj in _objects_of(copy):
                spend(copy, obj)
    # the scheduled, budgeted tier hashes what the setting says; --all always both digests
    digests = "both" if options.read_back_all else settings.audit_rehash_digests
    if not (options.full or options.read_back_all):
        _totals(report, copies)
        return
    by_copy = {(c.expected.record_id, c.expected.version): c for c in copies if c.recorded}
    queue: Iterable[tuple[CopyPass, ExpectedObject]] = _least_recent(catalogue, target, by_copy)
    for copy, obj in [*queue, *((c, o) for c in unknown for o in _objects_of(c))]:
        if obj.key in copy.hashed or copy.statuses.get(obj.key) == "missing":
            continue
        if not budget.allows(obj.size):
            report.rehash_stopped = "budget (bytes or seconds) used up"
            break
        spend(copy, obj, digests)
    _totals(report, copies)


def _revised(copy: CopyPass, key: str) -> ExpectedObject | None:
    """The object at ``key`` as a later trusted receipt revision names it (a repair the
    catalogue has not recorded yet): re-hash that version, not the one it replaced."""
    check = copy.receipt
    if check is None or not check.revised or check.receipt is None:
        return None
    for obj in check.receipt.all_objects:
        if obj.key == key:
            return _as_expected(obj)
    return None


def _least_recent(
    catalogue: Catalogue, target: str, by_copy: dict[tuple[str, int], CopyPass]
) -> Iterable[tuple[CopyPass, ExpectedObject]]:
    for info in objects_least_recently_hashed(catalogue, target):
        copy = by_copy.get((info.record_id, info.version))
        if copy is None:
            continue
        yield (
            copy,
            _revised(copy, info.key) or _as_expected(info),
        )


def _totals(report: TargetReport, copies: list[CopyPass]) -> None:
    report.objects_rehashed = sum(c.result.objects_rehashed for c in copies)
    report.bytes_rehashed = sum(c.result.bytes_rehashed for c in copies)


def audit_target(
    settings: Settings,
    view: Settings,
    catalogue: Catalogue,
    options: AuditOptions,
    public: Ed25519PublicKey | None,
) -> TargetPass:
    """One target's pass (see the module doc). A target that does not answer comes back
    with ``reachable`` False and its error; nothing else is checked there."""
    report = TargetReport(
        name=view.storage_target_name,
        endpoint=endpoint_label(view),
        bucket=view.s3_bucket,
        cycle_days=settings.audit_rehash_cycle_days,
        interval_hours=settings.audit_interval_hours,
    )
    done = TargetPass(report=report)
    try:
        probe_endpoint(view)
        client = make_client(view)
        index = version_index(client, view.s3_bucket, normalise_prefix(view.s3_prefix) + "/")
    except StorageError as exc:
        report.reachable, report.error = False, str(exc)
        return done
    copies = _catalogue_copies(catalogue, view)
    found, report.incomplete = _found_in_storage(
        view, index, {c.expected.receipt_key for c in copies}
    )
    copies += found
    progress.current().add_total(len(copies))
    checked = _fast_tier(client, view, copies, index, public)
    for copy in copies:
        copy.result.objects_checked = len(copy.objects) + 1
    report.objects_checked = checked
    _full_tier(client, catalogue, view, settings, copies, options, report)
    report.copies = [c.result for c in copies]
    done.copies = copies
    return done
