"""Harvest tables (migration 0004): one watermark per source, one row per harvest run.

The watermark is written by :func:`set_watermark` only, which the harvest flow calls after a
run whose listing and batch both completed: a crash or a listing error leaves it untouched, so
the next run lists the same changes again (ingest is idempotent: unchanged items are no-ops).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.schema import Base
from archive_ingest.models import utcnow


class HarvestWatermark(Base):
    __tablename__ = "harvest_watermarks"

    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class HarvestRun(Base):
    __tablename__ = "harvest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(128), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # completed | failed | dry-run
    watermark_before: Mapped[str | None] = mapped_column(String(255))
    watermark_after: Mapped[str | None] = mapped_column(String(255))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)


def get_watermark(catalogue: Catalogue, source: str) -> str | None:
    with catalogue.session() as session:
        row = session.get(HarvestWatermark, source)
        return row.value if row else None


def set_watermark(catalogue: Catalogue, source: str, value: str) -> None:
    with catalogue.session() as session:
        row = session.get(HarvestWatermark, source)
        if row is None:
            session.add(HarvestWatermark(source=source, value=value, updated_at=utcnow()))
        else:
            row.value = value
            row.updated_at = utcnow()


def record_run(
    catalogue: Catalogue,
    *,
    source: str,
    started_at: dt.datetime,
    status: str,
    watermark_before: str | None,
    watermark_after: str | None,
    counts: dict[str, int],
    problems: list[str],
) -> int:
    with catalogue.session() as session:
        run = HarvestRun(
            source=source,
            started_at=started_at,
            finished_at=utcnow(),
            status=status,
            watermark_before=watermark_before,
            watermark_after=watermark_after,
            counts=dict(counts),
            problems=list(problems),
        )
        session.add(run)
        session.flush()
        return int(run.id)


def runs(catalogue: Catalogue, source: str | None = None) -> list[HarvestRun]:
    with catalogue.session() as session:
        query = select(HarvestRun).order_by(HarvestRun.id)
        if source:
            query = query.where(HarvestRun.source == source)
        return list(session.scalars(query))
