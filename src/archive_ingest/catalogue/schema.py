"""Catalogue tables (SQLAlchemy 2 declarative). Alembic migrations create them.

items     one row per record (stable record id), its current state and headline facts
versions  one row per version of the record's AIP (v1, v2, ...)
files     every file of a version's package, with its digests and S3 location
events    the PREMIS-style event log (event type, datetime, agent, outcome, detail)
copies    every copy of a version on a storage target, with its receipt and status
stored_objects  every object of every copy, with the time of its last check and re-hash

(job_runs and stage_durations, which no item row holds, are in runs.py.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: a stored object whose last check found a problem (its reason is the status)
FINDING = text("last_status IS NOT NULL AND last_status <> 'ok'")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[Any]: JSON,
    }


class Item(Base):
    __tablename__ = "items"
    # covering the figures' GROUP BY (monitoring/figures.py): no read of the wide rows
    __table_args__ = (
        Index("ix_items_figures", "state", "source_kind", "licence_outcome", "source"),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    source: Mapped[str] = mapped_column(String(1024), unique=True)
    source_kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32), index=True)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[str | None] = mapped_column(Text)
    licence_uri: Mapped[str | None] = mapped_column(String(255))
    licence_outcome: Mapped[str | None] = mapped_column(String(32))
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    deposited_version: Mapped[int | None] = mapped_column(Integer)
    bag_uri: Mapped[str | None] = mapped_column(String(1024))
    source_etag: Mapped[str | None] = mapped_column(String(255))
    source_last_modified: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    # who deposits the approved current version now (Catalogue.claim_deposit), epoch seconds
    deposit_claim: Mapped[str | None] = mapped_column(String(64))
    deposit_claimed_at: Mapped[float | None] = mapped_column(Float)


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("item_id", "version", name="uq_versions_item_version"),
        Index("ix_versions_state_updated", "state", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    original_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    work_dir: Mapped[str | None] = mapped_column(String(2048))
    bag_uri: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class File(Base):
    __tablename__ = "files"
    __table_args__ = (
        UniqueConstraint("item_id", "version", "path", name="uq_files_item_version_path"),
        Index("ix_files_role_size", "role", "size"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    sha512: Mapped[str] = mapped_column(String(128))
    md5: Mapped[str | None] = mapped_column(String(32))
    media_type: Mapped[str | None] = mapped_column(String(128))
    puid: Mapped[str | None] = mapped_column(String(32))
    format_name: Mapped[str | None] = mapped_column(String(255))
    s3_key: Mapped[str | None] = mapped_column(String(1024))
    s3_version_id: Mapped[str | None] = mapped_column(String(255))


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_item_time", "item_id", "datetime"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    version: Mapped[int | None] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(64))
    datetime: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    agent: Mapped[str] = mapped_column(String(255))
    agent_type: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    outcome_detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    object_roles: Mapped[list[str]] = mapped_column(JSON, default=list)


class Copy(Base):
    """One copy of one AIP version on one storage target (its receipt there)."""

    __tablename__ = "copies"
    __table_args__ = (
        UniqueConstraint("item_id", "version", "target", name="uq_copies_item_version_target"),
        # covering the figures' scans (monitoring/figures.py)
        Index("ix_copies_totals", "target", "status", "objects", "bytes"),
        Index("ix_copies_version_status", "item_id", "version", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # verified | failed | damaged | lost
    bag_uri: Mapped[str | None] = mapped_column(String(1024))
    receipt_key: Mapped[str | None] = mapped_column(String(1024))
    receipt_version_id: Mapped[str | None] = mapped_column(String(255))
    receipt_sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    deposited_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # the copy's stored_objects rows, counted and summed when they are recorded (record_copy):
    # per-target totals add up copies, not millions of objects
    objects: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class StoredObjectRow(Base):
    """One object of one copy (the receipt included), and when it was last checked."""

    __tablename__ = "stored_objects"
    __table_args__ = (
        UniqueConstraint("target", "key", name="uq_stored_objects_target_key"),
        Index("ix_stored_objects_rehash", "target", "last_hashed_at"),
        Index("ix_stored_objects_copy", "item_id", "version", "target"),
        # only the objects whose last check found something: the audit findings, read fast
        Index(
            "ix_stored_objects_findings",
            "target",
            "last_status",
            sqlite_where=FINDING,
            postgresql_where=FINDING,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    key: Mapped[str] = mapped_column(String(1024))
    version_id: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    sha512: Mapped[str] = mapped_column(String(128))
    last_checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_hashed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[str | None] = mapped_column(String(32))
