"""Helpers of the health page tests: an archive of known shape written through the catalogue
API, and the page's figures worked out again by plain Python over the catalogue's rows (an
oracle independent of monitoring/history.py's aggregate SQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from typing import Any

from sqlalchemy import select, update

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import CopyObject, CopyStatus, record_copy
from archive_ingest.catalogue.schema import Copy, Item, StoredObjectRow, Version
from archive_ingest.models import State

DAY = dt.timedelta(days=1)

#: record id -> (final state, days since its last change, {target: copy status})
SEED: dict[str, tuple[State, float, dict[str, CopyStatus]]] = {
    "health-dep-0": (State.DEPOSITED, 0.01, {"primary": "verified", "offsite": "verified"}),
    "health-rej-1": (State.REJECTED, 1.2, {}),
    "health-fail-2": (State.FAILED, 2.1, {}),
    "health-dep-3": (State.DEPOSITED, 3.5, {"primary": "verified", "offsite": "failed"}),
    "health-rev-5": (State.NEEDS_REVIEW, 5.0, {}),
    "health-dmg-7": (State.DEPOSITED, 7.5, {"primary": "damaged", "offsite": "verified"}),
    "health-dep-20": (State.DEPOSITED, 20.5, {"primary": "verified"}),
    "health-rev-40": (State.NEEDS_REVIEW, 40.0, {}),
}
#: (record id, target) -> days since its objects' last re-hash (None: never re-hashed)
HASHED_DAYS_AGO: dict[tuple[str, str], float | None] = {
    ("health-dep-0", "primary"): 0.01,
    ("health-dep-0", "offsite"): None,
    ("health-dep-3", "primary"): 45.0,
    ("health-dmg-7", "primary"): 7.5,
    ("health-dmg-7", "offsite"): 7.5,
    ("health-dep-20", "primary"): 20.5,
}
OBJECTS_PER_COPY = 3


def _objects(record_id: str, target: str) -> list[CopyObject]:
    out = []
    for n in range(OBJECTS_PER_COPY):
        data = f"{record_id}/{target}/{n}".encode()
        out.append(
            CopyObject(
                path=f"data/file-{n}.txt",
                key=f"aip/{record_id}/v1/data/file-{n}.txt",
                version_id=None,
                size=100 * (n + 1),
                sha256=hashlib.sha256(data).hexdigest(),
                sha512=hashlib.sha512(data).hexdigest(),
            )
        )
    return out


def seed_archive(catalogue: Catalogue, now: dt.datetime) -> None:
    """Write :data:`SEED` through the catalogue API, then date each row as the seed says."""
    for record_id, (state, _age, copies) in SEED.items():
        catalogue.ensure_item(
            record_id, source=f"file:{record_id}", source_kind="file", title=record_id
        )
        version = catalogue.new_version(record_id, original_sha256=None, work_dir=None)
        catalogue.set_state(record_id, state, [f"seeded {state.value}"], version=version)
        for target, status in copies.items():
            record_copy(
                catalogue,
                record_id,
                version,
                target,
                status=status,
                bag_uri=f"s3://bucket/aip/{record_id}/v1",
                objects=[] if status == "failed" else _objects(record_id, target),
            )
    with catalogue.session() as session:
        for record_id, (_state, age, _copies) in SEED.items():
            at = now - age * DAY
            session.execute(update(Item).where(Item.id == record_id).values(updated_at=at))
            session.execute(
                update(Version).where(Version.item_id == record_id).values(updated_at=at)
            )
        for (record_id, target), hashed in HASHED_DAYS_AGO.items():
            session.execute(
                update(StoredObjectRow)
                .where(StoredObjectRow.item_id == record_id, StoredObjectRow.target == target)
                .values(last_hashed_at=None if hashed is None else now - hashed * DAY)
            )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def oracle(catalogue: Catalogue, now: dt.datetime, cycle_days: float) -> dict[str, Any]:
    """The page's figures from the catalogue's rows, one row at a time in Python."""
    finals = {"deposited", "under_replicated", "needs_review", "rejected", "failed"}
    today = now.astimezone(dt.UTC).date()
    with catalogue.session() as session:
        versions = [(v.state, _aware(v.updated_at)) for v in session.scalars(select(Version))]
        items = [(i.state, _aware(i.updated_at)) for i in session.scalars(select(Item))]
        copies = [(c.item_id, c.version, c.target, c.status) for c in session.scalars(select(Copy))]
        objects = [
            (o.target, None if o.last_hashed_at is None else _aware(o.last_hashed_at))
            for o in session.scalars(select(StoredObjectRow))
        ]
    per_day: Counter[tuple[dt.date, str]] = Counter()
    for state, at in versions:
        age = (today - at.astimezone(dt.UTC).date()).days
        if state in finals and 0 <= age < 30:
            per_day[(at.astimezone(dt.UTC).date(), state)] += 1
    queue: Counter[str] = Counter()
    for state, at in items:
        if state == "needs_review":
            days = (now - at).total_seconds() / 86400
            queue[next(lbl for lbl, lo in reversed(_BUCKETS) if days >= lo)] += 1
    verified = {(i, v) for i, v, _t, s in copies if s == "verified"}
    targets = sorted({t for _i, _v, t, _s in copies})
    by_target = {}
    for target in targets:
        statuses = Counter(s for _i, _v, t, s in copies if t == target)
        have = {(i, v) for i, v, t, _s in copies if t == target}
        by_target[target] = {**statuses, "missing": len(verified - have)}
    coverage = {}
    for target in sorted({t for t, _h in objects}):
        hashed = [h for t, h in objects if t == target]
        inside = sum(1 for h in hashed if h is not None and now - h <= dt.timedelta(cycle_days))
        coverage[target] = (inside, len(hashed))
    return {"per_day": per_day, "queue": queue, "copies": by_target, "coverage": coverage}


_BUCKETS = (
    ("< 1 day", 0.0),
    ("1-3 days", 1.0),
    ("3-7 days", 3.0),
    ("7-30 days", 7.0),
    ("30+ days", 30.0),
)
