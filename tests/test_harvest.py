"""Harvest: selection, listing, watermark store, dry-run plan, report, webhook."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.schema import Item
from archive_ingest.errors import RefError, SourceError
from archive_ingest.harvest import get_watermark, parse_source, plan_harvest, set_watermark
from archive_ingest.harvest.listing import OfferedItem, parse_identifiers
from archive_ingest.harvest.model import parse_since
from archive_ingest.harvest.notify import notification_for, notify
from archive_ingest.harvest.plan import select
from archive_ingest.harvest.report import build_report, ocr_facts, row_for
from archive_ingest.harvest.store import record_run, runs
from archive_ingest.models import State
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleScieloServer


def _offered(rid: str, changed: bool = False) -> OfferedItem:
    return OfferedItem(ref=f"ref:{rid}", record_id=rid, group="g", changed=changed)


def test_select_reasons_and_dedup() -> None:
    offered = [
        _offered("a"),
        _offered("b", changed=True),
        _offered("c"),
        _offered("d"),
        _offered("a", changed=True),  # listed twice: first wins
    ]
    known = {"b": "deposited", "c": "failed", "d": "deposited"}
    got = {c.record_id: c.reason for c in select(offered, known)}
    assert got == {"a": "new", "b": "changed", "c": "retry-failed", "d": "unchanged"}
    no_retry = {c.record_id: c.reason for c in select(offered, known, retry_failed=False)}
    assert no_retry["c"] == "unchanged"


def test_parse_source_and_since() -> None:
    assert parse_source("scielo-books").key == "scielo-books"
    assert parse_source("scielo-articles:SCL").key == "scielo-articles:scl"
    with pytest.raises(RefError):
        parse_source("scielo-articles:chile")
    with pytest.raises(RefError):
        parse_source("ftp")
    assert str(parse_since("2024-05-01")) == "2024-05-01"
    with pytest.raises(RefError):
        parse_since("yesterday")


def test_parse_identifiers() -> None:
    raw = json.dumps(
        {
            "meta": {"total": 3},
            "objects": [
                {
                    "code": "S0717-95022010000100001",
                    "collection": "scl",
                    "processing_date": "2020-01-02",
                },
                {"code": "S0717-95022010000100002", "collection": "scl"},
                {"nothing": 1},
            ],
        }
    ).encode()
    objects, total = parse_identifiers(raw)
    assert total == 3
    assert objects == [
        ("scl", "S0717-95022010000100001", "2020-01-02"),
        ("scl", "S0717-95022010000100002", None),
    ]
    with pytest.raises(SourceError):
        parse_identifiers(b'{"meta": {}}')


def test_watermark_and_runs_on_both_databases(database_url: str) -> None:
    catalogue = Catalogue.open(database_url)
    try:
        assert get_watermark(catalogue, "scielo-books") is None
        set_watermark(catalogue, "scielo-books", "7")
        set_watermark(catalogue, "scielo-books", "12")
        set_watermark(catalogue, "scielo-articles:scl", "2024-01-01")
        assert get_watermark(catalogue, "scielo-books") == "12"
        assert get_watermark(catalogue, "scielo-articles:scl") == "2024-01-01"
        from archive_ingest.models import utcnow

        rid = record_run(
            catalogue,
            source="scielo-books",
            started_at=utcnow(),
            status="completed",
            watermark_before="7",
            watermark_after="12",
            counts={"deposited": 2},
            problems=["x"],
        )
        [run] = runs(catalogue, "scielo-books")
        assert run.id == rid and run.counts == {"deposited": 2} and run.problems == ["x"]
    finally:
        catalogue.close()


def test_dry_run_plan_lists_every_problem_at_once(
    scielo_book: SampleScieloServer, scielo_settings: Settings, make_pdf: Any
) -> None:
    cat = scielo_book.catalogue
    cat.add_book("b2", title="Segundo livro", isbn="9788523200008")
    cat.add_chapter("b2", 1, title="Um", pdf_bytes=make_pdf("um"))
    cat.add_book("b3", title="Terceiro livro", isbn="9788523200009")
    cat.add_chapter("b3", 1, title="Um", pdf_bytes=make_pdf("um"))
    scielo_book.inject("/id/b3", status=500, times=1000)  # its page is broken
    catalogue = Catalogue.open(scielo_settings.effective_database_url)
    try:
        plan = plan_harvest(scielo_settings, catalogue, parse_source("scielo-books"))
        refs = [c.ref for c in plan.selected]
        assert refs == ["scielo-books:37t/01", "scielo-books:37t/02", "scielo-books:b2/01"]
        assert {c.reason for c in plan.selected} == {"new"}
        # both problems reported together: the chapter without a PDF and the broken book page
        assert any("37t/03" in p and "no PDF" in p for p in plan.problems), plan.problems
        assert any(p.startswith("book b3:") for p in plan.problems), plan.problems
        assert plan.next_watermark is not None and int(plan.next_watermark) >= 6
        limited = plan_harvest(scielo_settings, catalogue, parse_source("scielo-books"), limit=1)
        assert len(limited.selected) == 1 and limited.truncated
        # nothing was stored by planning
        assert get_watermark(catalogue, "scielo-books") is None
    finally:
        catalogue.close()


def test_plan_after_watermark_selects_changed_books_and_failed_items(
    scielo_book: SampleScieloServer, scielo_settings: Settings, make_pdf: Any
) -> None:
    cat = scielo_book.catalogue
    cat.add_book("b2", title="Segundo livro", isbn="9788523200008")
    cat.add_chapter("b2", 1, title="Um", pdf_bytes=make_pdf("um"))
    catalogue = Catalogue.open(scielo_settings.effective_database_url)
    try:
        first = plan_harvest(scielo_settings, catalogue, parse_source("scielo-books"))
        for cand in first.selected:  # pretend the run deposited all, but 37t/02 failed
            catalogue.ensure_item(
                cand.record_id, source=cand.ref, source_kind="scielo-books-chapter"
            )
            state = State.FAILED if cand.record_id.endswith("37t-02") else State.DEPOSITED
            catalogue.set_state(cand.record_id, state, [])
        # two chapters a run left mid-pipeline: one long ago (a killed worker), one just now
        stalled, busy = "scielo-books-37t-03", "scielo-books-37t-01"
        for rid in (stalled, busy):
            ref = f"scielo-books:37t/{rid[-2:]}"
            catalogue.ensure_item(rid, source=ref, source_kind="scielo-books-chapter")
            catalogue.set_state(rid, State.OCR_DONE, [])
        with catalogue.session() as session:
            item = session.get(Item, stalled)
            assert item is not None
            item.updated_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        assert first.next_watermark is not None
        set_watermark(catalogue, "scielo-books", first.next_watermark)
        cat.update_book("b2", synopsis="revised")
        second = plan_harvest(scielo_settings, catalogue, parse_source("scielo-books"))
        got = {c.ref: c.reason for c in second.selected}
        assert got == {
            "scielo-books:b2/01": "changed",
            "scielo-books:37t/02": "retry-failed",
            "scielo-books:37t/03": "retry-stalled",
        }
        assert int(second.next_watermark or 0) > int(first.next_watermark)
        quiet = plan_harvest(
            scielo_settings.model_copy(update={"harvest_retry_failed": False}),
            catalogue,
            parse_source("scielo-books"),
        )
        assert [c.ref for c in quiet.selected] == ["scielo-books:b2/01"]
    finally:
        catalogue.close()


def test_listing_failure_is_a_problem_not_a_crash(
    scielo_book: SampleScieloServer, scielo_settings: Settings
) -> None:
    scielo_book.inject("/api/v1/books/", status=503, times=1000)
    catalogue = Catalogue.open(scielo_settings.effective_database_url)
    try:
        plan = plan_harvest(scielo_settings, catalogue, parse_source("scielo-books"))
    finally:
        catalogue.close()
    assert plan.selected == [] and plan.next_watermark is None
    assert plan.problems and plan.problems[0].startswith("listing scielo-books:")


def test_report_and_markdown() -> None:
    rows = [
        row_for(
            {"id": "a", "source": "s:a", "state": "deposited", "bag": "s3://b/a"},
            ocr_facts({"ocr": {"pages": 3, "decisions": {"kept": 2, "ocr": 1}}}),
        ),
        row_for({"id": "b", "source": "s:b", "state": "failed", "reasons": ["404"]}),
        row_for({"id": "c", "source": "s:c", "state": "needs_review", "reasons": ["licence"]}),
    ]
    report = build_report(
        "scielo-books", rows, watermark_before="1", watermark_after="9", watermark_stored=True
    )
    assert report.counts == {"deposited": 1, "failed": 1, "needs_review": 1, "total": 3}
    assert rows[0]["pages"] == 3 and rows[0]["ocr"] == "kept=2, ocr=1"
    md = report.markdown()
    assert "| failed | 1 |" in md and "`b`: 404" in md and "(stored)" in md
    body = notification_for(report, run_id="r1")
    assert body is not None
    assert body["failed"] == ["b"] and body["needs_review"] == ["c"]
    assert body["event"] == ["failed", "needs_review"]
    clean = build_report("scielo-books", rows[:1])
    assert notification_for(clean) is None


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Receiver.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook?token=s3cret", _Receiver.received
    httpd.shutdown()
    httpd.server_close()


def test_webhook_delivery(settings: Settings, webhook: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = webhook
    report = build_report("batch", [row_for({"id": "x", "source": "s", "state": "failed"})])
    assert notify(settings, report) is False  # no webhook configured
    configured = settings.model_copy(update={"notify_webhook_url": url})
    assert notify(configured, report, run_id="abc") is True
    assert received[0]["failed"] == ["x"] and received[0]["flow_run_id"] == "abc"
    assert configured.masked()["notify_webhook_url"] == "***"
    dead = settings.model_copy(update={"notify_webhook_url": "http://127.0.0.1:9/nothing"})
    assert notify(dead, report) is False  # a dead webhook never fails a harvest


def test_artifact_keys_are_what_prefect_accepts() -> None:
    """Prefect refuses artifact keys with anything but lowercase letters, digits and dashes."""
    from flows.harvest import _artifact_key

    assert _artifact_key("harvest", "scielo-articles:SCL", "dry-run") == (
        "harvest-scielo-articles-scl-dry-run"
    )
    assert _artifact_key("harvest-scielo-books", "items") == "harvest-scielo-books-items"
    assert _artifact_key("ingest batch/é", "summary") == "ingest-batch---summary"


def test_permanent_failures_are_retried_a_limited_number_of_times(
    scielo_book: SampleScieloServer, scielo_settings: Settings
) -> None:
    """An item that keeps failing for a permanent reason (a 404, no PDF) is retried
    harvest_retry_limit times, then skipped as retry-exhausted; transient failures are
    always retried. Real failures: the pipeline records them as an ingest does."""
    from archive_ingest.errors import FetchError, SourceError
    from archive_ingest.ingest.runner import fail
    from archive_ingest.ingest.services import Services

    catalogue = Catalogue.open(scielo_settings.effective_database_url)
    svc = Services.open(scielo_settings)
    try:
        first = plan_harvest(scielo_settings, catalogue, parse_source("scielo-books"))
        for cand in first.selected:
            catalogue.ensure_item(
                cand.record_id, source=cand.ref, source_kind="scielo-books-chapter"
            )
            catalogue.set_state(cand.record_id, State.DEPOSITED, [])
        assert first.next_watermark is not None
        set_watermark(catalogue, "scielo-books", first.next_watermark)
        gone, flaky = "scielo-books-37t-01", "scielo-books-37t-02"

        def reasons() -> dict[str, str]:
            plan = plan_harvest(scielo_settings, catalogue, parse_source("scielo-books"))
            return {c.record_id: c.reason for c in plan.candidates if c.record_id in (gone, flaky)}

        for attempt in range(1, 4):
            fail(svc, "scielo-books:37t/01", gone, None, SourceError("no PDF for this item"))
            fail(svc, "scielo-books:37t/02", flaky, None, FetchError("503", transient=True))
            expected = "retry-failed" if attempt < 3 else "retry-exhausted"
            assert reasons() == {gone: expected, flaky: "retry-failed"}, attempt
        plan = plan_harvest(scielo_settings, catalogue, parse_source("scielo-books"))
        assert plan.to_json()["skipped"].get("retry-exhausted") == 1
        # a transient failure after the permanent ones: worth trying again
        fail(svc, "scielo-books:37t/01", gone, None, FetchError("timeout", transient=True))
        assert reasons()[gone] == "retry-failed"
    finally:
        svc.close()
        catalogue.close()
