"""What the operations figures need that no item row holds (migrations 0010 and 0011).

job_runs         one row per run of a whole-archive job (``audit``, ``replicate``, ``repair``):
                 when it started and ended and whether it succeeded, so "when did the last
                 audit succeed?" has an answer even when the run touched no item (harvests have
                 their own ``harvest_runs``; an ingest's outcome is its items' states)
stage_durations  the seconds ingest stages took, as a histogram kept as counters: per stage and
                 bucket (upper bound ``le`` in seconds, ``+Inf`` last) the runs that took at most
                 ``le`` (and more than the bucket below) and their seconds summed. Counters, not
                 one row per run: reading them costs the same at 100 or 10 million items.
counters         other counts that only grow, by name and label: ``ocr_runs`` (label "") and
                 ``ocr_pages`` (label: the text-quality gate's decision). Reading them from each
                 version's summary JSON meant parsing every version row at every scrape.

An item's run is counted when it ends (:func:`count_item_run`, from ``ingest/runner.py`` and
the ingest flow), in one transaction: the seconds of the stages that ran in that run (a stage
found done by its checkpoint took no time and is not counted) and, when the OCR stage was one
of them, the version's OCR pages by decision.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any, Literal, cast

from sqlalchemy import JSON, BigInteger, DateTime, Float, Index, Integer, String, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from archive_ingest.catalogue.schema import Base, Version
from archive_ingest.catalogue.store import Catalogue

log = logging.getLogger(__name__)

#: the jobs :func:`record_job_run` records
Job = Literal["audit", "replicate", "repair"]
JobOutcome = Literal["success", "failure"]

#: upper bounds (seconds) of the stage duration buckets: a resolve takes ~0.05 s, the OCR of a
#: long book tens of minutes
STAGE_BUCKETS: tuple[float, ...] = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1800.0,
    3600.0,
)
INF = "+Inf"


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_outcome_finished", "job", "outcome", "finished_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))  # success | failure
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Counter(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class StageDuration(Base):
    __tablename__ = "stage_durations"

    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    le: Mapped[str] = mapped_column(String(16), primary_key=True)  # "0.5", ..., "+Inf"
    runs: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float)


def bucket_of(seconds: float) -> str:
    """The bucket a run of ``seconds`` falls in: the smallest bound it does not exceed."""
    index = bisect.bisect_left(STAGE_BUCKETS, seconds)
    return INF if index == len(STAGE_BUCKETS) else repr(STAGE_BUCKETS[index])


def count_item_run(
    catalogue: Catalogue,
    seconds: Mapping[str, float],
    *,
    record_id: str | None = None,
    version: int | None = None,
) -> None:
    """Count one run of each stage in ``seconds`` (stage name -> seconds) and, when ``ocr`` is
    one of them, the OCR pages of ``record_id`` v``version`` by decision (its summary), in one
    transaction: upserts in a fixed order, so concurrent items never wait on each other in a
    cycle. Nothing is written for an empty mapping. A database error is logged, not raised:
    these are figures about the run, and the item's own outcome is recorded already."""
    rows = sorted((stage, bucket_of(max(0.0, s)), max(0.0, s)) for stage, s in seconds.items())
    if not rows:
        return
    try:
        with catalogue.session() as session:
            counts = _ocr_counts(session, record_id, version) if "ocr" in seconds else {}
            for (name, label), count in sorted(counts.items()):
                _add(session, Counter, {"name": name, "label": label}, {"value": count})
            for stage, le, spent in rows:
                _add(
                    session,
                    StageDuration,
                    {"stage": stage, "le": le},
                    {"runs": 1, "seconds": spent},
                )
    except SQLAlchemyError as exc:  # its text may carry the URL: only the kind of failure
        cause = type(getattr(exc, "orig", None) or exc).__name__
        log.warning("stage durations not counted (%s)", cause)


def ocr_counts(summary: Mapping[str, Any] | None) -> dict[tuple[str, str], int]:
    """The counters one OCR run adds, from its version's summary (``summary.ocr``)."""
    ocr = (summary or {}).get("ocr")
    if not isinstance(ocr, dict):
        return {}
    counts = {("ocr_runs", ""): 1}
    for decision, pages in (ocr.get("decisions") or {}).items():
        if isinstance(pages, int) and pages > 0:
            counts[("ocr_pages", str(decision))] = pages
    return counts


def _ocr_counts(
    session: Session, record_id: str | None, version: int | None
) -> dict[tuple[str, str], int]:
    if record_id is None or version is None:
        return {}
    summary = session.scalar(
        select(Version.summary).where(Version.item_id == record_id, Version.version == version)
    )
    return ocr_counts(summary)


def _add(
    session: Session,
    model: type[Counter] | type[StageDuration],
    key: dict[str, str],
    amounts: dict[str, float],
) -> None:
    """Insert the row ``key`` with ``amounts``, or add ``amounts`` to the row there."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = cast(Table, model.__table__)
    statement = insert(table).values(**key, **amounts)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={column: table.c[column] + amount for column, amount in amounts.items()},
        )
    )


def record_job_run(
    catalogue: Catalogue,
    job: Job,
    *,
    started_at: dt.datetime,
    outcome: JobOutcome,
    summary: Mapping[str, Any] | None = None,
) -> None:
    """One finished run of ``job`` (it ends now)."""
    with catalogue.session() as session:
        session.add(
            JobRun(
                job=job,
                started_at=started_at,
                finished_at=dt.datetime.now(dt.UTC),
                outcome=outcome,
                summary=dict(summary or {}),
            )
        )
