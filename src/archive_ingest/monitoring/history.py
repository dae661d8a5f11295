"""The figures of the review UI's health page that :mod:`.figures` does not give: outcomes per
day, the review queue's ages, the audit's re-hash coverage and each target's missing copies.

Each is one aggregate query (GROUP BY and CASE, no per-item Python loop) that runs the same on
SQLite and PostgreSQL; datetimes are compared in UTC in SQL (no date functions, whose time zone
differs between the two).

- **Outcomes per day**: versions in a final state (deposited, under_replicated, needs_review,
  rejected, failed) by the UTC day of their last change (``versions.updated_at``), over the
  last ``days`` days, today included.
- **Queue ages**: items waiting for a person (``needs_review``, what the queue page lists by
  default) by the age of their last change, in :data:`AGE_BUCKETS`.
- **Re-hash coverage**: per target, the stored objects (``stored_objects``) whose last full
  re-hash (``last_hashed_at``: the audit's full tier, or the deposit, replication or repair
  that verified them) is within ``audit_rehash_cycle_days`` of now; the audit promises every
  stored byte is re-hashed within that cycle.
- **Copies per target**: each configured target (and any other the catalogue records copies
  on) with its copies by status (verified, failed, damaged, lost: :mod:`.figures`' count) and
  the *missing* ones: versions verified on some target with no copy at all recorded on this
  one (what ``replicate`` would add).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, func, select

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.schema import Copy, Item, StoredObjectRow, Version
from archive_ingest.models import State
from archive_ingest.monitoring.figures import ArchiveFigures, CopyCount

#: the final states a version's outcome is counted by, in the order the chart stacks them
OUTCOMES: tuple[str, ...] = (
    State.DEPOSITED.value,
    State.UNDER_REPLICATED.value,
    State.NEEDS_REVIEW.value,
    State.REJECTED.value,
    State.FAILED.value,
)
#: (label, lower bound in days) of the queue age buckets; each bucket ends at the next bound
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 day", 0.0),
    ("1-3 days", 1.0),
    ("3-7 days", 3.0),
    ("7-30 days", 7.0),
    ("30+ days", 30.0),
)
COPY_STATUSES: tuple[str, ...] = ("verified", "failed", "damaged", "lost")


class DayOutcomes(BaseModel):
    """The versions that reached each outcome on one UTC day."""

    day: dt.date
    counts: dict[str, int] = Field(description="outcome (final state) -> versions")

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class AgeBucket(BaseModel):
    label: str
    min_days: float = Field(description="lower bound (included), in days since last change")
    count: int


class TargetCoverage(BaseModel):
    """One target's stored objects and how many were re-hashed within the cycle."""

    target: str
    objects: int
    within_cycle: int = Field(description="objects whose last full re-hash is within the cycle")
    never_hashed: int = Field(description="objects never re-hashed since they were recorded")

    @property
    def overdue(self) -> int:
        return self.objects - self.within_cycle


class TargetCopies(BaseModel):
    """One target's copies (versions) by status, and the versions it lacks."""

    target: str
    verified: int = 0
    failed: int = 0
    damaged: int = 0
    lost: int = 0
    missing: int = Field(
        default=0, description="versions verified elsewhere with no copy on this target"
    )


def day_starts(now: dt.datetime, days: int) -> list[dt.datetime]:
    """The UTC midnights starting each of the last ``days`` days, oldest first (today last)."""
    today = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time.min, tzinfo=dt.UTC)
    return [today - dt.timedelta(days=days - 1 - i) for i in range(days)]


def _index_by_bounds(
    column: SQLColumnExpression[dt.datetime], bounds: Sequence[dt.datetime]
) -> ColumnElement[int]:
    """CASE giving the index of the last bound ``column`` is at or after (-1: before all)."""
    whens = [(column >= bound, i) for i, bound in reversed(list(enumerate(bounds)))]
    return case(*whens, else_=-1)


def outcomes_per_day(catalogue: Catalogue, now: dt.datetime, days: int = 30) -> list[DayOutcomes]:
    """Versions by outcome and UTC day of their last change, the last ``days`` days (every
    day listed, oldest first, with zeros where nothing happened)."""
    starts = day_starts(now, days)
    index = _index_by_bounds(Version.updated_at, starts).label("day")
    with catalogue.session() as session:
        rows = session.execute(
            select(index, Version.state, func.count())
            .where(Version.state.in_(OUTCOMES), Version.updated_at >= starts[0])
            .group_by(index, Version.state)
        ).all()
    out = [DayOutcomes(day=start.date(), counts={o: 0 for o in OUTCOMES}) for start in starts]
    for day, state, count in rows:
        if 0 <= int(day) < days:
            out[int(day)].counts[str(state)] += int(count)
    return out


def queue_ages(catalogue: Catalogue, now: dt.datetime) -> list[AgeBucket]:
    """Items in ``needs_review`` by the age of their last change (:data:`AGE_BUCKETS`)."""
    # bucket i holds ages >= its lower bound: updated_at <= now - bound; the oldest first
    bounds = [now - dt.timedelta(days=low) for _label, low in AGE_BUCKETS]
    whens = [(Item.updated_at <= bound, i) for i, bound in reversed(list(enumerate(bounds)))]
    index = case(*whens, else_=0).label("bucket")
    with catalogue.session() as session:
        rows = session.execute(
            select(index, func.count())
            .where(Item.state == State.NEEDS_REVIEW.value)
            .group_by(index)
        ).all()
    counts = {int(bucket): int(count) for bucket, count in rows}
    return [
        AgeBucket(label=label, min_days=low, count=counts.get(i, 0))
        for i, (label, low) in enumerate(AGE_BUCKETS)
    ]


def rehash_coverage(
    catalogue: Catalogue, cycle_days: float, now: dt.datetime
) -> dict[str, TargetCoverage]:
    """target -> its stored objects, those re-hashed within the cycle and those never."""
    since = now - dt.timedelta(days=cycle_days)
    within = func.sum(case((StoredObjectRow.last_hashed_at >= since, 1), else_=0))
    never = func.sum(case((StoredObjectRow.last_hashed_at.is_(None), 1), else_=0))
    with catalogue.session() as session:
        rows = session.execute(
            select(StoredObjectRow.target, func.count(), within, never).group_by(
                StoredObjectRow.target
            )
        ).all()
    return {
        str(target): TargetCoverage(
            target=str(target),
            objects=int(count),
            within_cycle=int(inside or 0),
            never_hashed=int(unhashed or 0),
        )
        for target, count, inside, unhashed in rows
    }


def missing_copies(catalogue: Catalogue) -> tuple[int, dict[str, int]]:
    """(versions with a verified copy somewhere, target -> how many of them it has a copies
    row for, whatever its status); a target's missing copies are the difference."""
    verified = (
        select(Copy.item_id, Copy.version).where(Copy.status == "verified").distinct().subquery()
    )
    with catalogue.session() as session:
        wanted = int(session.scalar(select(func.count()).select_from(verified)) or 0)
        present = session.execute(
            select(Copy.target, func.count())
            .join(
                verified,
                and_(verified.c.item_id == Copy.item_id, verified.c.version == Copy.version),
            )
            .group_by(Copy.target)
        ).all()
    return wanted, {str(target): int(count) for target, count in present}


def target_copies(
    catalogue: Catalogue, targets: Sequence[str], counts: Sequence[CopyCount]
) -> list[TargetCopies]:
    """``targets`` (in order), then any other target with copies, with their copies by status
    (``counts``: :attr:`.figures.ArchiveFigures.copies`) and the versions verified elsewhere
    that have no copy on them."""
    names = list(dict.fromkeys([*targets, *sorted({c.target for c in counts})]))
    rows = {name: TargetCopies(target=name) for name in names}
    for count in counts:
        if count.status in COPY_STATUSES:
            setattr(rows[count.target], count.status, count.copies)
    wanted, having = missing_copies(catalogue)
    for name, row in rows.items():
        row.missing = wanted - having.get(name, 0)
    return list(rows.values())


class HealthHistory(BaseModel):
    """Everything :mod:`.history` gives, at one moment."""

    now: dt.datetime
    days: list[DayOutcomes]
    queue_ages: list[AgeBucket]
    cycle_days: float
    coverage: list[TargetCoverage] = Field(description="one per target with stored objects")
    copies: list[TargetCopies]


def health_history(
    catalogue: Catalogue,
    targets: Sequence[str],
    figures: ArchiveFigures,
    *,
    cycle_days: float,
    now: dt.datetime | None = None,
    days: int = 30,
) -> HealthHistory:
    """The four figures above for ``targets`` (the configured ones, in order), at ``now``
    (default: when ``figures`` were read)."""
    now = now or figures.generated_at
    coverage = rehash_coverage(catalogue, cycle_days, now)
    order = list(dict.fromkeys([*targets, *sorted(coverage)]))
    return HealthHistory(
        now=now,
        days=outcomes_per_day(catalogue, now, days),
        queue_ages=queue_ages(catalogue, now),
        cycle_days=cycle_days,
        coverage=[coverage[name] for name in order if name in coverage],
        copies=target_copies(catalogue, targets, figures.copies),
    )
