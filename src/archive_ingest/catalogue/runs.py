"""What the operations figures need that no item row holds (migration 0010).

job_runs         one row per run of a whole-archive job (``audit``, ``replicate``, ``repair``):
                 when it started and ended and whether it succeeded, so "when did the last
                 audit succeed?" has an answer even when the run touched no item (harvests have
                 their own ``harvest_runs``; an ingest's outcome is its items' states)
stage_durations  the seconds ingest stages took, as a histogram kept as counters: per stage and
                 bucket (upper bound ``le`` in seconds, ``+Inf`` last) the runs that took at most
                 ``le`` (and more than the bucket below) and their seconds summed. Counters, not
                 one row per run: reading them costs the same at 100 or 10 million items.

A stage's seconds are added when the item's run ends (:func:`add_stage_seconds`, from
``ingest/runner.py``), in one transaction per item, only for stages that ran in that run (a
stage found done by its checkpoint took no time and is not counted).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import JSON, BigInteger, DateTime, Float, Index, Integer, String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from archive_ingest.catalogue.schema import Base
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


def add_stage_seconds(catalogue: Catalogue, seconds: Mapping[str, float]) -> None:
    """Count one run of each stage in ``seconds`` (stage name -> seconds), in one transaction
    (an upsert per stage, in a fixed order: concurrent items never wait on each other in a
    cycle). Nothing is written for an empty mapping. A database error is logged, not raised:
    these are figures about the run, and the item's own outcome is recorded already."""
    rows = sorted((stage, bucket_of(max(0.0, s)), max(0.0, s)) for stage, s in seconds.items())
    if not rows:
        return
    insert = pg_insert if catalogue.engine.dialect.name == "postgresql" else sqlite_insert
    try:
        with catalogue.session() as session:
            for stage, le, value in rows:
                statement = insert(StageDuration).values(stage=stage, le=le, runs=1, seconds=value)
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[StageDuration.stage, StageDuration.le],
                        set_={
                            "runs": StageDuration.runs + 1,
                            "seconds": StageDuration.seconds + value,
                        },
                    )
                )
    except SQLAlchemyError as exc:  # its text may carry the URL: only the kind of failure
        cause = type(getattr(exc, "orig", None) or exc).__name__
        log.warning("stage durations not counted (%s)", cause)


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
