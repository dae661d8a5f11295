"""monitoring/figures.py on a catalogue written through the catalogue's own API (SQLite and
PostgreSQL): every figure equals what was written, runs and stage seconds are counted, and an
empty archive gives zeros and no times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text, update
from sqlalchemy.orm import Session

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import CopyObject, mark_object_checked, record_copy
from archive_ingest.catalogue.engine import MIGRATIONS
from archive_ingest.catalogue.runs import JobRun, bucket_of, count_item_run, record_job_run
from archive_ingest.harvest.store import record_run
from archive_ingest.models import Digests, FileInfo, State
from archive_ingest.monitoring.figures import archive_figures
from archive_ingest.monitoring.status import _last_run

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def catalogue(database_url: str) -> Iterator[Catalogue]:
    cat = Catalogue.open(database_url)
    yield cat
    cat.close()


def _objects(prefix: str, sizes: list[int]) -> list[CopyObject]:
    return [
        CopyObject(
            path=f"data/{n}",
            key=f"{prefix}/{n}",
            version_id="v1",
            size=size,
            sha256="a" * 64,
            sha512="b" * 128,
        )
        for n, size in enumerate(sizes)
    ]


def _file(role: str, path: str, size: int) -> FileInfo:
    return FileInfo(
        role=role,
        path=path,
        digests=Digests(size=size, sha256="c" * 64, sha512="d" * 128),
        media_type="application/octet-stream",
    )


def _item(cat: Catalogue, record_id: str, source: str, kind: str, state: State) -> None:
    cat.ensure_item(record_id, source=source, source_kind=kind)
    cat.new_version(record_id, original_sha256=None, work_dir=None)
    cat.set_state(record_id, state, version=1)


def test_figures_equal_what_the_catalogue_was_given(catalogue: Catalogue) -> None:
    cat = catalogue
    _item(
        cat,
        "scielo-scl-a",
        "scielo-article:scl/S0102-311X2008000100001",
        "scielo-article",
        State.DEPOSITED,
    )
    _item(
        cat,
        "scielo-arg-b",
        "scielo-article:arg/S0102-311X2008000100002",
        "scielo-article",
        State.NEEDS_REVIEW,
    )
    _item(
        cat, "scielo-books-x1-01", "scielo-books:x1/01", "scielo-books-chapter", State.NEEDS_REVIEW
    )
    _item(cat, "scielo-books-x1-02", "scielo-books:x1/02", "scielo-books-chapter", State.FAILED)
    cat.new_version("scielo-scl-a", original_sha256=None, work_dir=None)  # v2, in progress
    cat.update_item("scielo-scl-a", licence_outcome="valid")
    cat.update_item("scielo-arg-b", licence_outcome="needs_review")
    cat.add_files(
        "scielo-scl-a",
        1,
        [
            _file("original", "original/a.pdf", 1000),
            _file("translation", "translation/en/a.pdf", 500),
            _file("source-metadata", "source-metadata/a.json", 40),
            _file("access", "access/a.pdf", 9999),
        ],
    )
    cat.add_files("scielo-arg-b", 1, [_file("original", "original/b.pdf", 7)])
    cat.update_version(
        "scielo-scl-a",
        1,
        summary={
            "ocr": {"pages": 5, "decisions": {"born-digital": 1, "fresh-ocr": 3, "kept-layer": 1}}
        },
    )
    cat.update_version(
        "scielo-arg-b", 1, summary={"ocr": {"pages": 2, "decisions": {"fresh-ocr": 2}}}
    )

    record_copy(
        cat, "scielo-scl-a", 1, "t1", status="verified", objects=_objects("t1a", [10, 20, 30])
    )
    record_copy(
        cat, "scielo-scl-a", 1, "t2", status="verified", objects=_objects("t2a", [10, 20, 30])
    )
    record_copy(cat, "scielo-books-x1-02", 1, "t1", status="verified", objects=_objects("t1x", [5]))
    record_copy(cat, "scielo-books-x1-02", 1, "t2", status="failed", detail="down")
    # a re-recorded copy counts its objects once
    record_copy(
        cat, "scielo-scl-a", 1, "t1", status="verified", objects=_objects("t1a", [10, 20, 30])
    )
    mark_object_checked(cat, "t2", "t2a/0", status="size-mismatch", hashed=False)
    mark_object_checked(cat, "t2", "t2a/1", status="size-mismatch", hashed=False)
    mark_object_checked(cat, "t1", "t1x/0", status="missing", hashed=False)
    mark_object_checked(cat, "t1", "t1a/0", status="ok", hashed=True)

    record_job_run(cat, "audit", started_at=NOW, outcome="success")
    record_job_run(cat, "audit", started_at=NOW, outcome="failure")
    with cat.session() as session:  # the success an hour ago, the failure after it
        for outcome, hours in (("success", 2), ("failure", 1)):
            session.execute(
                update(JobRun)
                .where(JobRun.job == "audit", JobRun.outcome == outcome)
                .values(finished_at=NOW - dt.timedelta(hours=hours))
            )
    record_run(
        cat,
        source="scielo-books",
        started_at=NOW,
        status="completed",
        watermark_before=None,
        watermark_after="x",
        counts={},
        problems=[],
    )
    # the runs' ends: the OCR pages of the version named are counted when "ocr" ran
    count_item_run(cat, {"ocr": 4.0, "fetch": 0.01}, record_id="scielo-scl-a", version=1)
    count_item_run(cat, {"ocr": 40.0}, record_id="scielo-arg-b", version=1)
    count_item_run(cat, {"fetch": 0.2}, record_id="scielo-arg-b", version=1)  # no OCR: none
    count_item_run(cat, {}, record_id="scielo-scl-a", version=1)  # nothing ran: nothing

    with cat.session() as session:  # the oldest of the queue: known, not "now"
        session.execute(
            text("UPDATE items SET updated_at = :at WHERE id = 'scielo-books-x1-01'"),
            {"at": NOW - dt.timedelta(hours=5)},
        )
    figures = archive_figures(cat, now=NOW)

    by_key = {(r.state, r.source_kind, r.collection): r.items for r in figures.items}
    assert by_key == {
        ("fetched", "scielo-article", "scl"): 1,  # its v2 is current
        ("needs_review", "scielo-article", "arg"): 1,
        ("needs_review", "scielo-books-chapter", "books"): 1,
        ("failed", "scielo-books-chapter", "books"): 1,
    }
    assert figures.items_by_state == {"fetched": 1, "needs_review": 2, "failed": 1}
    assert figures.versions == {"deposited": 1, "fetched": 1, "needs_review": 2, "failed": 1}
    assert figures.review_queue == 2
    assert figures.review_queue_oldest == NOW - dt.timedelta(hours=5)
    assert figures.review_queue_oldest_age_seconds == 5 * 3600
    copies = {(c.target, c.status): c.copies for c in figures.copies}
    assert copies == {("t1", "verified"): 2, ("t2", "verified"): 1, ("t2", "failed"): 1}
    assert figures.copies_per_version == {2: 1, 1: 1}
    totals = {t.target: (t.objects, t.bytes) for t in figures.targets}
    assert totals == {"t1": (4, 65), "t2": (3, 60)}
    assert figures.fetched_bytes == {"original": 1007, "translation": 500, "source-metadata": 40}
    assert figures.fetched_files == {"original": 2, "translation": 1, "source-metadata": 1}
    assert figures.ocr_runs == 2
    assert figures.ocr_pages == {"born-digital": 1, "fresh-ocr": 5, "kept-layer": 1}
    assert figures.licence_outcomes == {"valid": 1, "needs_review": 1, "unchecked": 2}
    findings = {(f.target, f.kind): f.objects for f in figures.findings}
    assert findings == {("t2", "size-mismatch"): 2, ("t1", "missing"): 1}
    audit = figures.job("audit")
    assert audit.last_run == NOW - dt.timedelta(hours=1)
    assert audit.last_success == NOW - dt.timedelta(hours=2)
    assert audit.last_run > audit.last_success
    last_audit = _last_run(figures, None, "audit", NOW)
    assert (last_audit.outcome, last_audit.age_seconds) == ("failure", 3600)
    assert figures.job("harvest").last_success is not None
    assert figures.job("ingest").last_success is not None  # scielo-scl-a v1 is deposited
    assert figures.job("replicate").last_run is None
    stages = {s.stage: s for s in figures.stages}
    assert set(stages) == {"fetch", "ocr"}
    ocr = stages["ocr"]
    assert (ocr.runs, ocr.seconds) == (2, 44.0)
    cumulative = {b.le: b.runs for b in ocr.buckets}
    assert cumulative["2.5"] == 0 and cumulative["5.0"] == 1 and cumulative["30.0"] == 1
    assert cumulative["60.0"] == 2 and cumulative["+Inf"] == 2
    assert list(cumulative)[-1] == "+Inf"
    assert stages["fetch"].runs == 2 and stages["fetch"].buckets[0].runs == 1


def test_an_empty_archive_has_zeros_and_no_times(catalogue: Catalogue) -> None:
    figures = archive_figures(catalogue, now=NOW)
    assert figures.items == [] and figures.versions == {} and figures.review_queue == 0
    assert figures.review_queue_oldest is None and figures.review_queue_oldest_age_seconds is None
    assert figures.targets == [] and figures.findings == [] and figures.stages == []
    assert figures.ocr_pages == {"born-digital": 0, "kept-layer": 0, "fresh-ocr": 0}
    assert figures.ocr_runs == 0 and figures.licence_outcomes == {}
    assert all(j.last_run is None and j.last_success is None for j in figures.jobs)
    assert [j.job for j in figures.jobs] == ["ingest", "harvest", "audit", "replicate", "repair"]
    figures.model_dump_json()  # JSON-able as it is (the status command prints it)


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [(0.0, "0.05"), (0.05, "0.05"), (0.051, "0.1"), (3600.0, "3600.0"), (3600.1, "+Inf")],
)
def test_a_run_falls_in_the_smallest_bucket_it_does_not_exceed(seconds: float, bucket: str) -> None:
    assert bucket_of(seconds) == bucket


def test_one_read_sees_one_snapshot(catalogue: Catalogue, database_url: str) -> None:
    """An item committed by another connection between the read's first and second query is
    in neither: the items and the versions and review queue agree."""
    _item(
        catalogue, "scielo-books-x1-01", "scielo-books:x1/01", "scielo-books-chapter", State.FAILED
    )
    writer = Catalogue.open(database_url)
    queries: list[int] = []

    def between(_state: object) -> None:
        queries.append(1)
        if len(queries) == 2:  # the snapshot is fixed by the first query
            _item(
                writer,
                "scielo-books-x1-02",
                "scielo-books:x1/02",
                "scielo-books-chapter",
                State.NEEDS_REVIEW,
            )

    event.listen(Session, "do_orm_execute", between)
    try:
        figures = archive_figures(catalogue, now=NOW)
    finally:
        event.remove(Session, "do_orm_execute", between)
        writer.close()
    assert len(queries) > 2
    assert figures.items_by_state == {"failed": 1}
    assert figures.versions == {"failed": 1}
    assert figures.review_queue == 0
    assert archive_figures(catalogue, now=NOW).review_queue == 1  # committed: the next read


def test_a_catalogue_at_0009_upgraded_to_head_gives_the_figures_of_its_rows(
    database_url: str,
) -> None:
    """Migrations 0010 (copies' objects and bytes from stored_objects, findings index) and 0011
    (OCR counters from the versions' summaries) on rows written before them."""
    cat = Catalogue.open(database_url)
    _item(cat, "scielo-scl-a", "scielo-article:scl/S1", "scielo-article", State.DEPOSITED)
    _item(cat, "scielo-books-x1-01", "scielo-books:x1/01", "scielo-books-chapter", State.FAILED)
    cat.update_version(
        "scielo-scl-a",
        1,
        summary={"ocr": {"pages": 4, "decisions": {"born-digital": 1, "fresh-ocr": 3}}},
    )
    cat.update_version("scielo-books-x1-01", 1, summary={"fetch": {"files": 1}})  # no OCR
    record_copy(cat, "scielo-scl-a", 1, "t1", status="verified", objects=_objects("a", [10, 20]))
    record_copy(cat, "scielo-scl-a", 1, "t2", status="verified", objects=_objects("b", [10, 20]))
    record_copy(cat, "scielo-books-x1-01", 1, "t2", status="failed", detail="down")
    mark_object_checked(cat, "t2", "b/1", status="content-mismatch", hashed=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with cat.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    cat.close()

    cat = Catalogue.open(database_url)  # upgrades to head
    try:
        figures = archive_figures(cat, now=NOW)
    finally:
        cat.close()
    assert figures.items_by_state == {"deposited": 1, "failed": 1}
    assert figures.versions == {"deposited": 1, "failed": 1}
    assert {(c.target, c.status): c.copies for c in figures.copies} == {
        ("t1", "verified"): 1,
        ("t2", "verified"): 1,
        ("t2", "failed"): 1,
    }
    assert {t.target: (t.objects, t.bytes) for t in figures.targets} == {
        "t1": (2, 30),
        "t2": (2, 30),
    }
    assert figures.copies_per_version == {2: 1, 0: 1}
    assert figures.ocr_runs == 1
    assert figures.ocr_pages == {"born-digital": 1, "kept-layer": 0, "fresh-ocr": 3}
    assert [(f.target, f.kind, f.objects) for f in figures.findings] == [
        ("t2", "content-mismatch", 1)
    ]
    assert figures.job("audit").last_run is None  # job_runs began with 0010
