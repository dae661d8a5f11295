"""The catalogue on SQLite and (when configured) PostgreSQL: same tests, same answers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import Digests, Event, FileInfo, State


@pytest.fixture
def catalogue(database_url: str):
    cat = Catalogue.open(database_url)
    yield cat
    cat.close()


def test_migration_creates_tables_and_is_idempotent(database_url: str) -> None:
    first = Catalogue.open(database_url)
    names = set(inspect(first.engine).get_table_names())
    assert {"items", "versions", "files", "events", "alembic_version"} <= names
    first.close()
    again = Catalogue.open(database_url)  # a second upgrade is a no-op
    assert set(inspect(again.engine).get_table_names()) == names
    again.close()


def test_item_lifecycle_versions_files_events(catalogue: Catalogue) -> None:
    catalogue.ensure_item(
        "scielo-books-37t-05",
        source="scielo-books:37t/05",
        source_kind="scielo-books-chapter",
        title="Capítulo",
    )
    # ensure_item twice keeps one row
    catalogue.ensure_item(
        "scielo-books-37t-05", source="scielo-books:37t/05", source_kind="scielo-books-chapter"
    )
    assert catalogue.item_by_source("scielo-books:37t/05").id == "scielo-books-37t-05"
    v1 = catalogue.new_version("scielo-books-37t-05", original_sha256="a" * 64, work_dir=None)
    v2 = catalogue.new_version("scielo-books-37t-05", original_sha256="b" * 64, work_dir=None)
    assert (v1, v2) == (1, 2)
    assert catalogue.get_item("scielo-books-37t-05").current_version == 2

    digests = Digests(size=3 * 1024**3, sha256="c" * 64, sha512="d" * 128, md5="e" * 32)
    info = FileInfo(
        role="original",
        path="original/x.pdf",
        digests=digests,
        media_type="application/pdf",
        puid="fmt/18",
    )
    catalogue.add_files("scielo-books-37t-05", v2, [info])
    catalogue.add_files("scielo-books-37t-05", v2, [info])  # upsert, not duplicate
    rows = catalogue.files("scielo-books-37t-05", v2)
    assert len(rows) == 1 and rows[0].size == 3 * 1024**3 and rows[0].puid == "fmt/18"
    catalogue.set_file_locations(
        "scielo-books-37t-05", v2, {"data/original/x.pdf": ("aip/k", "vid-1")}
    )
    assert catalogue.files("scielo-books-37t-05", v2)[0].s3_version_id == "vid-1"

    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    catalogue.add_events(
        "scielo-books-37t-05",
        v2,
        [
            Event(event_type="capture", datetime=when, outcome_detail={"url": "http://x"}),
            Event(event_type="message digest calculation", datetime=when + dt.timedelta(seconds=1)),
        ],
    )
    events = catalogue.events("scielo-books-37t-05")
    assert [e.event_type for e in events] == ["capture", "message digest calculation"]
    assert events[0].datetime == when and events[0].outcome_detail == {"url": "http://x"}

    catalogue.set_state(
        "scielo-books-37t-05",
        State.NEEDS_REVIEW,
        ["licence disagrees"],
        version=v2,
        licence_outcome="needs_review",
    )
    item = catalogue.get_item("scielo-books-37t-05")
    assert item.state == "needs_review" and item.reasons == ["licence disagrees"]
    assert catalogue.get_version("scielo-books-37t-05", v2).state == "needs_review"
    assert catalogue.get_version("scielo-books-37t-05", v1).state == "fetched"
    assert catalogue.count_by_state() == {"needs_review": 1}
    assert [i.id for i in catalogue.list_items(state="needs_review")] == ["scielo-books-37t-05"]


def test_unknown_item_is_an_error(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError):
        catalogue.new_version("nope", original_sha256=None, work_dir=None)
    with pytest.raises(KeyError):
        catalogue.set_state("nope", State.FAILED)


def test_new_version_moves_the_item_state_in_the_same_transaction(catalogue: Catalogue) -> None:
    """A reader polling the item (the review UI) never sees the new version number beside the
    previous version's final state: that pair once let a test read v3 "deposited" before v3
    had any files."""
    catalogue.ensure_item("scielo-books-x-01", source="scielo-books:x/01", source_kind="chapter")
    v1 = catalogue.new_version("scielo-books-x-01", original_sha256=None, work_dir=None)
    catalogue.set_state("scielo-books-x-01", State.DEPOSITED, [], version=v1, deposited_version=v1)
    v2 = catalogue.new_version(
        "scielo-books-x-01", original_sha256=None, work_dir=None, state=State.INSPECTED
    )
    item = catalogue.get_item("scielo-books-x-01")
    assert (item.current_version, item.state, item.reasons) == (v2, "inspected", [])
    assert item.deposited_version == v1  # what is deposited stays known
    assert catalogue.get_version("scielo-books-x-01", v2).state == "inspected"
    v3 = catalogue.new_version("scielo-books-x-01", original_sha256=None, work_dir=None)
    assert catalogue.get_item("scielo-books-x-01").state == "fetched" and v3 == 3


def test_stalled_items_are_in_progress_and_older_than_the_cutoff(catalogue: Catalogue) -> None:
    from archive_ingest.catalogue.schema import Item

    now = dt.datetime.now(dt.UTC)
    cases = {
        "a-old-ocr": (State.OCR_DONE, 10, "scielo-books:a/01"),
        "b-old-depositing": (State.DEPOSITING, 10, "scielo-article:scl/S1"),
        "c-new-ocr": (State.OCR_DONE, 0, "scielo-books:c/01"),
        "d-old-deposited": (State.DEPOSITED, 10, "scielo-books:d/01"),
        "e-old-approved": (State.APPROVED, 10, "scielo-books:e/01"),  # waits for its deposit
        "f-old-failed": (State.FAILED, 10, "scielo-books:f/01"),
    }
    for rid, (state, hours, source) in cases.items():
        catalogue.ensure_item(rid, source=source, source_kind="x")
        version = catalogue.new_version(rid, original_sha256=None, work_dir=None)
        catalogue.set_state(rid, state, [], version=version)
        with catalogue.session() as session:
            item = session.get(Item, rid)
            assert item is not None
            item.updated_at = now - dt.timedelta(hours=hours)
    cutoff = now - dt.timedelta(hours=1)
    assert [i.id for i in catalogue.stalled_items(cutoff)] == ["a-old-ocr", "b-old-depositing"]
    books = catalogue.stalled_items(cutoff, source_prefix="scielo-books:")
    assert [i.id for i in books] == ["a-old-ocr"]
