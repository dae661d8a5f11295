"""The catalogue: items, versions, files and events, on SQLite (default) or PostgreSQL.

Opening a catalogue brings its schema to the newest Alembic revision. All writes go through
short transactions here; callers never hold a session.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, delete, event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive_ingest.catalogue.engine import make_engine, migrate
from archive_ingest.catalogue.rows import WROTE, aware, event_row, file_row, mark_dml, mark_written
from archive_ingest.catalogue.schema import EventRow, File, Item, Version
from archive_ingest.models import IN_PROGRESS_STATES, Event, FileInfo, State, utcnow
from archive_ingest.reliability.crashpoints import pausepoint
from archive_ingest.settings import mask_url


class Catalogue:
    """Typed access to the catalogue tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        event.listen(self._sessions, "after_flush", mark_written)
        event.listen(self._sessions, "do_orm_execute", mark_dml)

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> Catalogue:
        engine = make_engine(url)
        if migrate_schema:
            migrate(engine)
        return cls(engine)

    def __repr__(self) -> str:
        return f"Catalogue({mask_url(str(self.engine.url))})"

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session
        if session.info.get(WROTE):
            pausepoint("commit")  # a no-op unless a power-cut test asks for it

    # --- items -------------------------------------------------------------------------------
    def ensure_item(
        self, record_id: str, *, source: str, source_kind: str, title: str | None = None
    ) -> Item:
        now = utcnow()
        with self.session() as session:
            item = session.get(Item, record_id)
            if item is None:
                item = Item(
                    id=record_id,
                    source=source,
                    source_kind=source_kind,
                    state=State.RESOLVED.value,
                    reasons=[],
                    title=title,
                    current_version=0,
                    created_at=now,
                    updated_at=now,
                )
                session.add(item)
            elif title and not item.title:
                item.title = title
            session.flush()
            return item

    def get_item(self, record_id: str) -> Item | None:
        with self.session() as session:
            return session.get(Item, record_id)

    def item_by_source(self, source: str) -> Item | None:
        with self.session() as session:
            return session.scalars(select(Item).where(Item.source == source)).first()

    def update_item(self, record_id: str, **fields: Any) -> Item:
        with self.session() as session:
            item = session.get(Item, record_id)
            if item is None:
                raise KeyError(record_id)
            for key, value in fields.items():
                if isinstance(value, State):
                    value = value.value
                setattr(item, key, value)
            item.updated_at = utcnow()
            return item

    def list_items(
        self, *, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Item]:
        with self.session() as session:
            query = select(Item).order_by(Item.updated_at.desc(), Item.id)
            if state:
                query = query.where(Item.state == state)
            return list(session.scalars(query.limit(limit).offset(offset)))

    def stalled_items(
        self, before: dt.datetime, *, source_prefix: str | None = None, limit: int = 10_000
    ) -> list[Item]:
        """Items in an in-progress state whose last update is older than ``before``."""
        with self.session() as session:
            query = (
                select(Item)
                .where(
                    Item.state.in_(sorted(s.value for s in IN_PROGRESS_STATES)),
                    Item.updated_at < before,
                )
                .order_by(Item.updated_at, Item.id)
                .limit(limit)
            )
            if source_prefix:
                query = query.where(Item.source.startswith(source_prefix))
            return list(session.scalars(query))

    def claim_deposit(
        self,
        record_id: str,
        version: int,
        token: str,
        *,
        lease_seconds: float,
        take_depositing: bool = False,
        take_under_replicated: bool = False,
    ) -> bool:
        """Claim the deposit of the approved ``version`` (the item's current one) for ``token``,
        in one conditional UPDATE: true for exactly one of several depositors at a time. A
        claim older than ``lease_seconds`` (its depositor was killed) is taken over. The version
        row must be ``approved`` (the item may be ``failed`` meanwhile: a re-run whose deposit
        was postponed).

        ``take_depositing``: also take the version when it and its item are ``depositing``
        (where an approval's deposit used to run) and the item was not updated for
        ``lease_seconds``; the caller has checked that the version carries an approval.
        ``take_under_replicated``: also take the version when it is ``under_replicated`` (its
        missing copies are to be written; the caller has checked the approval)."""
        now = time.time()
        free = or_(Item.deposit_claim.is_(None), Item.deposit_claimed_at < now - lease_seconds)
        version_state = (
            select(Version.state)
            .where(Version.item_id == record_id, Version.version == version)
            .scalar_subquery()
        )
        states = [version_state == State.APPROVED.value]
        if take_under_replicated:
            states.append(version_state == State.UNDER_REPLICATED.value)
        if take_depositing:
            before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=lease_seconds)
            states.append(
                and_(
                    version_state == State.DEPOSITING.value,
                    Item.state == State.DEPOSITING.value,
                    Item.updated_at <= before,
                )
            )
        with self.session() as session:
            result = session.execute(
                update(Item)
                .where(
                    Item.id == record_id,
                    Item.current_version == version,
                    or_(*states),
                    free,
                )
                .values(deposit_claim=token, deposit_claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    def release_deposit(self, record_id: str, token: str) -> None:
        """Drop the claim ``token`` holds (nothing if another depositor has taken it over)."""
        with self.session() as session:
            session.execute(
                update(Item)
                .where(Item.id == record_id, Item.deposit_claim == token)
                .values(deposit_claim=None, deposit_claimed_at=None)
                .execution_options(synchronize_session=False)
            )

    def count_by_state(self) -> dict[str, int]:
        with self.session() as session:
            rows = session.execute(select(Item.state, func.count()).group_by(Item.state))
            return {state: count for state, count in rows}

    # --- versions ----------------------------------------------------------------------------
    def new_version(
        self,
        record_id: str,
        *,
        original_sha256: str | None,
        work_dir: Path | None,
        state: State = State.FETCHED,
        summary: dict[str, Any] | None = None,
    ) -> int:
        """Open version N+1 and make it the item's current version, with the item's state set in
        the same transaction: a reader never sees the new number beside the old version's state
        (for instance v3 "deposited" while v3 has no files yet). ``summary`` is stored with the
        row (the fetch stage puts the content fingerprint there, so that a run killed before the
        stage ends finds the version again by its content)."""
        now = utcnow()
        with self.session() as session:
            item = session.get(Item, record_id, with_for_update=True)
            if item is None:
                raise KeyError(record_id)
            latest = session.scalar(
                select(func.max(Version.version)).where(Version.item_id == record_id)
            )
            number = (latest or 0) + 1
            session.add(
                Version(
                    item_id=record_id,
                    version=number,
                    state=state.value,
                    reasons=[],
                    original_sha256=original_sha256,
                    record={},
                    summary=dict(summary or {}),
                    work_dir=str(work_dir) if work_dir else None,
                    created_at=now,
                    updated_at=now,
                )
            )
            item.current_version = number
            item.state = state.value
            item.reasons = []
            item.updated_at = now
            return number

    def get_version(self, record_id: str, version: int) -> Version | None:
        with self.session() as session:
            return session.scalars(
                select(Version).where(Version.item_id == record_id, Version.version == version)
            ).first()

    def versions(self, record_id: str) -> list[Version]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(Version).where(Version.item_id == record_id).order_by(Version.version)
                )
            )

    def unfinished_older_versions(self, states: Sequence[str]) -> list[tuple[Version, int]]:
        """Versions in one of ``states`` below their item's current version, with that number."""
        with self.session() as session:
            rows = session.execute(
                select(Version, Item.current_version)
                .join(Item, Item.id == Version.item_id)
                .where(Version.state.in_(list(states)), Version.version < Item.current_version)
                .order_by(Version.item_id, Version.version)
            )
            return [(row, int(current)) for row, current in rows]

    def update_version(self, record_id: str, version: int, **fields: Any) -> None:
        with self.session() as session:
            row = session.scalars(
                select(Version).where(Version.item_id == record_id, Version.version == version)
            ).one()
            for key, value in fields.items():
                if isinstance(value, State):
                    value = value.value
                setattr(row, key, value)
            row.updated_at = utcnow()

    def set_state(
        self,
        record_id: str,
        state: State,
        reasons: Sequence[str] = (),
        *,
        version: int | None = None,
        **item_fields: Any,
    ) -> None:
        """Set the state of the item (and of one of its versions) in one transaction."""
        now = utcnow()
        with self.session() as session:
            item = session.get(Item, record_id)
            if item is None:
                raise KeyError(record_id)
            item.state = state.value
            item.reasons = list(reasons)
            item.updated_at = now
            for key, value in item_fields.items():
                setattr(item, key, value)
            if version is not None:
                row = session.scalars(
                    select(Version).where(Version.item_id == record_id, Version.version == version)
                ).one()
                row.state = state.value
                row.reasons = list(reasons)
                row.updated_at = now

    def record_fetch(
        self,
        record_id: str,
        version: int,
        *,
        files: Sequence[FileInfo],
        events: Sequence[Event],
        summary: dict[str, Any],
        record: dict[str, Any],
        work_dir: str,
        **item_fields: Any,
    ) -> None:
        """What the fetch stage found for ``version``, in ONE transaction: its files and events
        *replace* those an interrupted earlier attempt wrote (files of the version; events of
        the same types on the version), so a fetch redone into the same version never doubles a
        row; summary (merged), record and work folder of the version; state ``fetched`` for the
        version and the item (with ``item_fields``: source ETag, title...)."""
        now = utcnow()
        with self.session() as session:
            item = session.get(Item, record_id)
            if item is None:
                raise KeyError(record_id)
            row = session.scalars(
                select(Version).where(Version.item_id == record_id, Version.version == version)
            ).one()
            session.execute(delete(File).where(File.item_id == record_id, File.version == version))
            session.execute(
                delete(EventRow).where(
                    EventRow.item_id == record_id,
                    EventRow.version == version,
                    EventRow.event_type.in_(sorted({ev.event_type for ev in events})),
                )
            )
            for info in files:
                session.add(file_row(record_id, version, info))
            for ev in events:
                session.add(event_row(record_id, version, ev))
            row.summary = {**(row.summary or {}), **summary}
            row.record = record
            row.work_dir = work_dir
            row.state = State.FETCHED.value
            row.reasons = []
            row.updated_at = now
            item.state = State.FETCHED.value
            item.reasons = []
            item.updated_at = now
            for key, value in item_fields.items():
                setattr(item, key, value)

    # --- files -------------------------------------------------------------------------------
    def add_files(self, record_id: str, version: int, files: Iterable[FileInfo]) -> None:
        with self.session() as session:
            existing = {
                row.path: row
                for row in session.scalars(
                    select(File).where(File.item_id == record_id, File.version == version)
                )
            }
            for info in files:
                session.add(file_row(record_id, version, info, existing.get(info.path)))

    def set_file_locations(
        self, record_id: str, version: int, locations: dict[str, tuple[str, str | None]]
    ) -> None:
        """Record S3 key and VersionId per package path (``data/...`` paths)."""
        with self.session() as session:
            for row in session.scalars(
                select(File).where(File.item_id == record_id, File.version == version)
            ):
                key_version = locations.get(row.path) or locations.get(f"data/{row.path}")
                if key_version:
                    row.s3_key, row.s3_version_id = key_version

    def files(self, record_id: str, version: int) -> list[File]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(File)
                    .where(File.item_id == record_id, File.version == version)
                    .order_by(File.path)
                )
            )

    # --- events ------------------------------------------------------------------------------
    def add_events(self, record_id: str, version: int | None, events: Iterable[Event]) -> None:
        with self.session() as session:
            for ev in events:
                session.add(event_row(record_id, version, ev))

    def events(self, record_id: str, version: int | None = None) -> list[Event]:
        with self.session() as session:
            query = select(EventRow).where(EventRow.item_id == record_id)
            if version is not None:
                query = query.where(EventRow.version == version)
            rows = session.scalars(query.order_by(EventRow.datetime, EventRow.id))
            return [
                Event(
                    event_type=row.event_type,
                    outcome=row.outcome,  # type: ignore[arg-type]  # str column; Event checks
                    detail=row.detail,
                    outcome_detail=row.outcome_detail or {},
                    agent=row.agent,
                    agent_type=row.agent_type,  # type: ignore[arg-type]  # str column; Event checks
                    agent_id=row.agent_id,
                    datetime=aware(row.datetime),
                    object_roles=row.object_roles or [],
                )
                for row in rows
            ]
