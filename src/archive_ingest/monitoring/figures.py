"""The archive in figures, read from the catalogue: what the metrics endpoint, the status
command and the health page show.

:func:`archive_figures` runs a handful of aggregate queries (GROUP BY over covering and
partial indexes and small counter tables; no row per item comes back to Python) in one
read transaction that writes nothing and sees one snapshot of the catalogue (PostgreSQL:
REPEATABLE READ READ ONLY; SQLite: an explicit ``BEGIN``, the snapshot taken at its first
read), so the figures of one read agree with each other, and returns one
:class:`ArchiveFigures`. Every figure is bounded in size: grouped by state, source kind,
SciELO collection, storage target, finding kind, stage or job, never by item. At 100,000
items the whole read takes ~0.2 s (docs/PERFORMANCE.md).

Where each figure comes from:

- items and versions by state: ``items``, ``versions``; the review queue is the items in
  ``needs_review``, its age the oldest such item's last update;
- copies: ``copies`` (by target and status; verified copies per stored version); objects
  and bytes per target: the copies' totals (``copies.objects``/``bytes``, counted from
  ``stored_objects`` when a copy is recorded);
- fetched: the ``files`` the fetch stage downloaded (roles ``original``, ``translation``,
  ``source-metadata``), every version counted;
- OCR: the ``counters`` of OCR runs and their pages per quality-gate decision, counted when
  an item's run with the OCR stage ends (catalogue/runs.py);
- licence outcomes: ``items.licence_outcome`` (in the same GROUP BY as the items);
- audit findings: ``stored_objects`` whose last check found a problem, by target and reason;
- last runs: ``job_runs`` (audit, replicate, repair), ``harvest_runs`` (harvest) and, for
  ingest, the last update of a ``deposited`` version;
- stage durations: the ``stage_durations`` counters (catalogue/runs.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import DateTime, String, case, column, func, literal, select, table
from sqlalchemy.orm import Session

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.rows import aware
from archive_ingest.catalogue.runs import INF, STAGE_BUCKETS, Counter, JobRun, StageDuration
from archive_ingest.catalogue.schema import FINDING, Copy, File, Item, StoredObjectRow, Version
from archive_ingest.models import State

#: the file roles the fetch stage downloads from a source
FETCHED_ROLES = ("original", "translation", "source-metadata")
#: the OCR quality gate's page decisions (ocr/result.py)
OCR_DECISIONS = ("born-digital", "kept-layer", "fresh-ocr")
#: the jobs whose last run is reported
JOBS = ("ingest", "harvest", "audit", "replicate", "repair")
ARTICLE_PREFIX = "scielo-article:"  # refs.py: scielo-article:COLLECTION/PID, collection 3 letters

#: harvest_runs (harvest/store.py), named here by its columns: the harvest package is not
#: imported for one MAX()
_harvest_runs = table(
    "harvest_runs",
    column("status", String),
    column("finished_at", DateTime(timezone=True)),
)


class ItemCount(BaseModel):
    """Items in one state, from one kind of source and SciELO collection."""

    state: str
    source_kind: str  # scielo-books-chapter, scielo-books-book, scielo-article, file
    collection: str  # the SciELO collection code of an article (scl, arg, ...); "books"; ""
    items: int


class CopyCount(BaseModel):
    """Copies on one target with one status (verified, failed, damaged, lost)."""

    target: str
    status: str
    copies: int


class TargetTotals(BaseModel):
    """What the catalogue records stored on one target: every copy's objects and bytes."""

    target: str
    objects: int
    bytes: int


class Finding(BaseModel):
    """Stored objects on one target whose last audit check found ``kind`` (storage/verify.py's
    reasons: missing, size-mismatch, content-mismatch, ...)."""

    target: str
    kind: str
    objects: int


class JobTimes(BaseModel):
    """When a job last ran and last succeeded (None: never, as far as the catalogue knows)."""

    job: str
    last_run: dt.datetime | None = None
    last_success: dt.datetime | None = None


class StageBucket(BaseModel):
    """Runs of a stage that took at most ``le`` seconds (a bound such as "0.5", or "+Inf")."""

    le: str
    runs: int


class StageHistogram(BaseModel):
    """How long one ingest stage took, over every run of it counted so far."""

    stage: str
    buckets: list[StageBucket]  # cumulative, in increasing bounds, "+Inf" last (= runs)
    runs: int
    seconds: float  # all runs' seconds summed


class ArchiveFigures(BaseModel):
    """The archive in figures at ``generated_at`` (see the module doc for the sources)."""

    generated_at: dt.datetime
    items: list[ItemCount] = Field(default_factory=list)
    #: state -> versions in it (every version of every item)
    versions: dict[str, int] = Field(default_factory=dict)
    #: items waiting for a person (state needs_review) and the oldest one's last update
    review_queue: int = 0
    review_queue_oldest: dt.datetime | None = None
    review_queue_oldest_age_seconds: float | None = None
    copies: list[CopyCount] = Field(default_factory=list)
    #: verified copies -> versions having that many (every version with a copies row)
    copies_per_version: dict[int, int] = Field(default_factory=dict)
    targets: list[TargetTotals] = Field(default_factory=list)
    #: file role -> (files, bytes) downloaded by the fetch stage, every version
    fetched_files: dict[str, int] = Field(default_factory=dict)
    fetched_bytes: dict[str, int] = Field(default_factory=dict)
    #: runs of the OCR stage counted so far, and their pages by the gate's decision (counters:
    #: they only grow; an OCR re-run counts again)
    ocr_runs: int = 0
    ocr_pages: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(OCR_DECISIONS, 0))
    #: licence outcome (valid, needs_review, rejected; "unchecked") -> items
    licence_outcomes: dict[str, int] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    jobs: list[JobTimes] = Field(default_factory=list)
    stages: list[StageHistogram] = Field(default_factory=list)

    @property
    def items_by_state(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.items:
            out[row.state] = out.get(row.state, 0) + row.items
        return out

    def job(self, name: str) -> JobTimes:
        return next((j for j in self.jobs if j.job == name), JobTimes(job=name))


def archive_figures(catalogue: Catalogue, now: dt.datetime | None = None) -> ArchiveFigures:
    """The figures as the catalogue holds them now (``now``: the time ages are taken at)."""
    now = now or dt.datetime.now(dt.UTC)
    figures = ArchiveFigures(generated_at=now)
    with _snapshot(catalogue) as session:
        _items(session, figures)
        _copies(session, figures)
        _fetched_and_ocr(session, figures)
        _findings(session, figures)
        _jobs(session, figures)
        _stages(session, figures)
    if figures.review_queue_oldest is not None:
        age = (now - figures.review_queue_oldest).total_seconds()
        figures.review_queue_oldest_age_seconds = max(0.0, age)
    return figures


@contextmanager
def _snapshot(catalogue: Catalogue) -> Iterator[Session]:
    """A session whose queries all see one snapshot of the catalogue, written nothing: on
    PostgreSQL a REPEATABLE READ READ ONLY transaction; on SQLite an explicit ``BEGIN`` (the
    driver would run each SELECT on its own), whose first read fixes the snapshot (WAL)."""
    engine = catalogue.engine
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        elif engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN")
        try:
            with Session(bind=connection) as session:
                yield session
        finally:
            connection.rollback()  # nothing was written: ends the read transaction


def _collection() -> Any:
    """The collection of an item, computed in SQL from its source (see :class:`ItemCount`)."""
    start = len(ARTICLE_PREFIX) + 1
    return case(
        (Item.source_kind == "scielo-article", func.substr(Item.source, start, 3)),
        (Item.source_kind.startswith("scielo-books"), literal("books")),
        else_=literal(""),
    )


def _items(session: Session, figures: ArchiveFigures) -> None:
    collection = _collection().label("collection")
    rows = session.execute(
        select(Item.state, Item.source_kind, collection, Item.licence_outcome, func.count())
        .group_by(Item.state, Item.source_kind, collection, Item.licence_outcome)
        .order_by(Item.state, Item.source_kind, collection)
    ).all()
    counts: dict[tuple[str, str, str], int] = {}
    outcomes: dict[str, int] = {}
    for state, kind, coll, outcome, n in rows:
        key = (state, kind, coll or "")
        counts[key] = counts.get(key, 0) + int(n)
        outcomes[outcome or "unchecked"] = outcomes.get(outcome or "unchecked", 0) + int(n)
    figures.items = [
        ItemCount(state=s, source_kind=k, collection=c, items=n) for (s, k, c), n in counts.items()
    ]
    figures.licence_outcomes = dict(sorted(outcomes.items()))
    figures.versions = {
        state: int(n)
        for state, n in session.execute(
            select(Version.state, func.count()).group_by(Version.state).order_by(Version.state)
        )
    }
    count, oldest = session.execute(
        select(func.count(), func.min(Item.updated_at)).where(
            Item.state == State.NEEDS_REVIEW.value
        )
    ).one()
    figures.review_queue = int(count)
    figures.review_queue_oldest = aware(oldest) if oldest is not None else None


def _copies(session: Session, figures: ArchiveFigures) -> None:
    totals = session.execute(
        select(
            Copy.target,
            Copy.status,
            func.count(),
            func.coalesce(func.sum(Copy.objects), 0),
            func.coalesce(func.sum(Copy.bytes), 0),
        )
        .group_by(Copy.target, Copy.status)
        .order_by(Copy.target, Copy.status)
    ).all()
    figures.copies = [CopyCount(target=t, status=s, copies=int(n)) for t, s, n, _, _ in totals]
    per_target: dict[str, TargetTotals] = {}
    for target, _status, _n, objects, size in totals:
        entry = per_target.setdefault(target, TargetTotals(target=target, objects=0, bytes=0))
        entry.objects += int(objects)
        entry.bytes += int(size)
    figures.targets = list(per_target.values())
    verified = func.sum(case((Copy.status == "verified", 1), else_=0)).label("verified")
    per_version = select(verified).group_by(Copy.item_id, Copy.version).subquery("per_version")
    figures.copies_per_version = {
        int(n): int(versions)
        for n, versions in session.execute(
            select(per_version.c.verified, func.count())
            .group_by(per_version.c.verified)
            .order_by(per_version.c.verified)
        )
    }


def _fetched_and_ocr(session: Session, figures: ArchiveFigures) -> None:
    for role, files, size in session.execute(
        select(File.role, func.count(), func.coalesce(func.sum(File.size), 0))
        .where(File.role.in_(FETCHED_ROLES))
        .group_by(File.role)
        .order_by(File.role)
    ):
        figures.fetched_files[role] = int(files)
        figures.fetched_bytes[role] = int(size)
    for name, label, value in session.execute(
        select(Counter.name, Counter.label, Counter.value).where(
            Counter.name.in_(("ocr_runs", "ocr_pages"))
        )
    ):
        if name == "ocr_runs":
            figures.ocr_runs += int(value)
        else:
            figures.ocr_pages[label] = figures.ocr_pages.get(label, 0) + int(value)


def _findings(session: Session, figures: ArchiveFigures) -> None:
    rows = session.execute(
        select(StoredObjectRow.target, StoredObjectRow.last_status, func.count())
        .where(FINDING)
        .group_by(StoredObjectRow.target, StoredObjectRow.last_status)
        .order_by(StoredObjectRow.target, StoredObjectRow.last_status)
    )
    figures.findings = [Finding(target=t, kind=str(k), objects=int(n)) for t, k, n in rows]


def _jobs(session: Session, figures: ArchiveFigures) -> None:
    times = {job: JobTimes(job=job) for job in JOBS}

    def note(job: str, at: dt.datetime | None, success: bool) -> None:
        if at is None or job not in times:
            return
        entry, at = times[job], aware(at)
        if entry.last_run is None or at > entry.last_run:
            entry.last_run = at
        if success and (entry.last_success is None or at > entry.last_success):
            entry.last_success = at

    for job, outcome, at in session.execute(
        select(JobRun.job, JobRun.outcome, func.max(JobRun.finished_at)).group_by(
            JobRun.job, JobRun.outcome
        )
    ):
        note(job, at, outcome == "success")
    for status, at in session.execute(
        select(_harvest_runs.c.status, func.max(_harvest_runs.c.finished_at))
        .where(_harvest_runs.c.status != "dry-run")
        .group_by(_harvest_runs.c.status)
    ):
        note("harvest", at, status == "completed")
    deposited = session.scalar(
        select(func.max(Version.updated_at)).where(Version.state == State.DEPOSITED.value)
    )
    note("ingest", deposited, True)
    figures.jobs = list(times.values())


def _stages(session: Session, figures: ArchiveFigures) -> None:
    counts: dict[str, list[tuple[float, int, float]]] = {}
    for stage, le, runs, seconds in session.execute(
        select(StageDuration.stage, StageDuration.le, StageDuration.runs, StageDuration.seconds)
    ):
        counts.setdefault(stage, []).append((float(le), int(runs), float(seconds)))
    bounds = (*STAGE_BUCKETS, float("inf"))
    for stage in sorted(counts):
        rows = counts[stage]
        figures.stages.append(
            StageHistogram(
                stage=stage,
                # a bucket a former set of bounds left behind counts in the next bound above it
                buckets=[
                    StageBucket(
                        le=INF if bound == float("inf") else repr(bound),
                        runs=sum(runs for le, runs, _ in rows if le <= bound),
                    )
                    for bound in bounds
                ],
                runs=sum(runs for _, runs, _ in rows),
                seconds=sum(seconds for _, _, seconds in rows),
            )
        )
