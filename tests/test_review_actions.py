"""Review actions on real packages: the real pipeline (real OCR) holds a chapter whose PDF
licence disagrees with the publisher's metadata; the actions then approve, reject, override,
edit and re-run OCR through the pipeline's own stages. Users and the queue run on SQLite and
PostgreSQL (``database_url``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from archive_ingest.catalogue import Catalogue
from archive_ingest.harvest.approved import deposit_approved
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import (
    DescribeCheckpoint,
    InspectCheckpoint,
    OcrCheckpoint,
    PackageCheckpoint,
)
from archive_ingest.ingest.services import Services
from archive_ingest.models import State
from archive_ingest.review import actions, queries, users
from archive_ingest.review.render import highlight, text_diff
from archive_ingest.review.versions import carried_events
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue
from tests.support.pipeline import ingest_in_process
from tests.support.review import SBID, make_user, storage_down

PREMIS = "{http://www.loc.gov/premis/v3}"


def _mets_events(path: Path) -> list[tuple[str, str]]:
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    out = []
    for ev in tree.iter(f"{PREMIS}event"):
        kind = ev.findtext(f"{PREMIS}eventType") or ""
        detail = ev.findtext(f".//{PREMIS}eventDetail") or ""
        out.append((kind, detail))
    return out


def test_approve_edit_and_versions(held: tuple[Settings, str], seaweed: Any) -> None:
    settings, record_id = held
    user = make_user(settings)
    svc = Services.open(settings)
    try:
        item = svc.catalogue.get_item(record_id)
        assert item is not None and item.state == "needs_review"
        assert any(r.startswith("licence:") for r in item.reasons)

        with pytest.raises(actions.ReviewError, match="licence is not valid"):
            actions.approve(svc, record_id, user, "looks fine")

        done = actions.approve(
            svc,
            record_id,
            user,
            "PDF statement checked against the publisher",
            licence_uri="https://creativecommons.org/licenses/by-nc-sa/3.0/",
        )
        assert done.state == "deposited" and done.version == 1
        item = svc.catalogue.get_item(record_id)
        assert item is not None and item.deposited_version == 1
        assert item.licence_outcome == "valid"
        # the decision is in the held (now deposited) version's METS, with the archivist as agent
        mets = svc.workspace(record_id).data_dir(1) / "mets.xml"
        text = mets.read_text("utf-8")
        assert "approved for deposit by ana" in text and "review-user:" in text
        # and the receipt object exists in SeaweedFS
        row = svc.catalogue.get_version(record_id, 1)
        assert row is not None
        receipt_key = row.summary["receipt"]["key"]
        admin = seaweed.client("admin")
        assert admin.head_object(Bucket=settings.s3_bucket, Key=receipt_key)["ContentLength"] > 0

        old_mets = mets.read_bytes()
        edited = actions.edit_record(svc, record_id, user, {"title": "Um título corrigido"})
        assert edited.version == 2 and edited.state == "deposited"
        assert mets.read_bytes() == old_mets, "v1 must never change"
        dc2 = (svc.workspace(record_id).data_dir(2) / "dc.xml").read_text("utf-8")
        assert "Um título corrigido" in dc2
        mets2 = (svc.workspace(record_id).data_dir(2) / "mets.xml").read_text("utf-8")
        assert "Dublin Core edited by ana: title" in mets2
        assert "approved for deposit by ana" in mets2  # carried from v1
        orig1 = next(svc.workspace(record_id).data_dir(1).glob("original/*.pdf"))
        orig2 = svc.workspace(record_id).data_dir(2) / "original" / orig1.name
        assert orig1.stat().st_ino == orig2.stat().st_ino  # hard link, never a rewrite
        item = svc.catalogue.get_item(record_id)
        assert (
            item is not None and item.deposited_version == 2 and item.title == "Um título corrigido"
        )
        row2 = svc.catalogue.get_version(record_id, 2)
        assert row2 is not None
        assert admin.head_object(Bucket=settings.s3_bucket, Key=row2.summary["receipt"]["key"])
        with pytest.raises(actions.ReviewError, match="nothing changed"):
            actions.edit_record(svc, record_id, user, {"title": "Um título corrigido"})

        # a new version that cannot be built ends the item failed, visible in the queue
        orig2.unlink()  # v2's link only: v1's file stays
        with pytest.raises(actions.ReviewError, match="v3 failed"):
            actions.edit_record(svc, record_id, user, {"date": "2013"})
        item = svc.catalogue.get_item(record_id)
        assert item is not None and item.state == "failed" and item.deposited_version == 2
        assert orig1.is_file()
        failures = queries.queue(svc.catalogue, queries.QueueFilter(reason="failure"))
        assert [i.id for i in failures.items] == [record_id]
    finally:
        svc.close()


def test_approval_waits_out_a_storage_outage(held: tuple[Settings, str], seaweed: Any) -> None:
    """Approved while the storage is unreachable: the item stays ``approved`` (not failed, not
    lost) and the deposit-approved deployment's function deposits it once storage is back."""
    settings, record_id = held
    user = make_user(settings)
    down = storage_down(settings)
    svc = Services.open(down)
    try:
        out = actions.approve(
            svc,
            record_id,
            user,
            "checked against the publisher",
            licence_uri="https://creativecommons.org/licenses/by-nc-sa/3.0/",
        )
        assert out.state == "approved", out
        assert "postponed" in out.message and "deposit-approved" in out.message
        item = svc.catalogue.get_item(record_id)
        assert item is not None and item.state == "approved" and item.deposited_version is None
        assert any("postponed" in reason for reason in item.reasons)
        with pytest.raises(actions.ReviewError, match="not waiting for review"):
            actions.approve(svc, record_id, user, "twice")
    finally:
        svc.close()

    # what the deployment runs, as the command an operator without Prefect deployments has
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "deposit-approved"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [(r["id"], r["state"]) for r in results] == [(record_id, "deposited")]
    assert deposit_approved(settings) == []  # nothing left approved
    svc = Services.open(settings)
    try:
        item = svc.catalogue.get_item(record_id)
        assert item is not None and item.state == "deposited" and item.deposited_version == 1
        events = svc.catalogue.events(record_id)
        assert sum("approved for deposit by ana" in e.detail for e in events) == 1
        row = svc.catalogue.get_version(record_id, 1)
        assert row is not None
        admin = seaweed.client("admin")
        receipt = admin.head_object(Bucket=settings.s3_bucket, Key=row.summary["receipt"]["key"])
        assert receipt["ContentLength"] > 0
    finally:
        svc.close()


def test_a_changed_source_never_strands_a_postponed_approval(
    held: tuple[Settings, str],
    scielo_catalogue: SampleCatalogue,
    seaweed: Any,
    tmp_path: Path,
) -> None:
    """Approved while storage is down, then the publisher changes the chapter: the approved
    version is deposited before the changed source becomes v2, never left behind."""
    settings, record_id = held
    ref = f"scielo-books:{SBID}/01"
    user = make_user(settings)
    down = storage_down(settings)
    svc = Services.open(down)
    try:
        out = actions.approve(
            svc, record_id, user, licence_uri="https://creativecommons.org/licenses/by-nc-sa/3.0/"
        )
        assert out.state == "approved"
    finally:
        svc.close()
    scielo_catalogue.add_chapter(
        SBID,
        1,
        title="Capítulo sobre o território (edição revista)",
        creators=[("individual_author", "Souza, Helena Martins")],
        pages=("40", "52"),
        pdf_path=tmp_path / "chapter.pdf",
        text_language="pt",
    )

    # storage still down: nothing fetched, the item says why, v1 keeps its approval
    result = ingest_in_process(down, ref)
    assert result.state == "failed"
    assert "approved" in result.reasons[0] and "postponed" in result.reasons[0]
    cat = Catalogue.open(settings.effective_database_url)
    try:
        row = cat.get_version(record_id, 1)
        assert row is not None and row.state == "approved"
    finally:
        cat.close()

    # storage back: v1 deposited first, then the changed source is v2 (held again: the PDF
    # still disagrees with the metadata)
    result = ingest_in_process(settings, ref)
    assert (result.state, result.version) == ("needs_review", 2)
    cat = Catalogue.open(settings.effective_database_url)
    try:
        v1, v2 = cat.get_version(record_id, 1), cat.get_version(record_id, 2)
        assert v1 is not None and v1.state == "deposited"
        assert v2 is not None and v2.record["title"].endswith("(edição revista)")
        item = cat.get_item(record_id)
        assert item is not None and item.deposited_version == 1
        receipt = seaweed.client("admin").head_object(
            Bucket=settings.s3_bucket, Key=v1.summary["receipt"]["key"]
        )
        assert receipt["ContentLength"] > 0
    finally:
        cat.close()


def test_override_reject_and_rerun_ocr(held: tuple[Settings, str]) -> None:
    settings, record_id = held
    user = make_user(settings, "bea")
    svc = Services.open(settings)
    try:
        with pytest.raises(actions.ReviewError):
            actions.override_licence(svc, record_id, user, "https://example.org/mine", "x")
        out = actions.override_licence(
            svc,
            record_id,
            user,
            "https://creativecommons.org/licenses/by-nc-nd/3.0/",
            "the PDF is the authoritative statement",
        )
        assert out.state == "needs_review"  # decided, but not approved yet
        lic = json.loads((svc.workspace(record_id).data_dir(1) / "licence.json").read_text("utf-8"))
        assert lic["outcome"] == "valid" and lic["decided_by"] == "bea"
        item = svc.catalogue.get_item(record_id)
        assert item is not None and not any(r.startswith("licence:") for r in item.reasons)

        ocr = actions.rerun_ocr(svc, record_id, user, ["es"], "try Spanish")
        assert ocr.version == 2
        ws = svc.workspace(record_id)
        report = json.loads((ws.data_dir(2) / "ocr" / "ocr-report.json").read_text("utf-8"))
        assert "spa" in json.dumps(report)
        inspect2 = checkpoints.require(ws, 2, InspectCheckpoint)
        assert inspect2.record.languages == ["pt"]  # the record keeps its language
        assert inspect2.ocr_languages == ["es"]

        # the re-run interrupted (the web server restarted during OCR), then resumed by an
        # operator's `ingest`: OCR again in Spanish, and held, since nobody approved v2
        checkpoints.drop(ws, 2, [OcrCheckpoint, DescribeCheckpoint, PackageCheckpoint])
        svc.catalogue.set_state(record_id, State.INSPECTED, [], version=2)
        resumed = ingest_in_process(settings, f"scielo-books:{SBID}/01")
        assert (resumed.state, resumed.version) == ("needs_review", 2), resumed
        assert any("waits for approval" in r for r in resumed.reasons)
        report = json.loads((ws.data_dir(2) / "ocr" / "ocr-report.json").read_text("utf-8"))
        assert "spa" in json.dumps(report)
        dc2 = (ws.data_dir(2) / "dc.xml").read_text("utf-8")
        assert "<dc:language>por</dc:language>" in dc2 and "<dc:language>spa" not in dc2

        with pytest.raises(actions.ReviewError, match="give a reason"):
            actions.reject(svc, record_id, user, "  ")
        gone = actions.reject(svc, record_id, user, "duplicate of another chapter")
        assert gone.state == "rejected"
        item = svc.catalogue.get_item(record_id)
        assert item is not None and item.deposited_version is None
        events = svc.catalogue.events(record_id)
        people = [e for e in events if e.agent_type == "person"]
        assert {e.agent for e in people} == {"bea"}
        assert all(e.agent_id and e.agent_id.startswith("review-user:") for e in people)
        with pytest.raises(actions.ReviewError, match="not waiting for review"):
            actions.approve(svc, record_id, user)
    finally:
        svc.close()


# --- users and the queue on both databases ---------------------------------------------------
def test_users(database_url: str) -> None:
    cat = Catalogue.open(database_url)
    try:
        ana = users.add_user(cat, "ana", "archivist", "correct horse battery")
        with pytest.raises(users.UserError, match="exists"):
            users.add_user(cat, "ana", "admin", "another long one")
        with pytest.raises(users.UserError, match="role"):
            users.add_user(cat, "bob", "boss", "correct horse battery")
        with pytest.raises(users.UserError, match="8"):
            users.add_user(cat, "bob", "admin", "short")
        assert users.authenticate(cat, "ana", "wrong password") is None
        assert users.authenticate(cat, "nobody", "correct horse battery") is None
        assert users.authenticate(cat, "ana", "correct horse battery") == ana
        with cat.session() as session:
            from archive_ingest.review.schema import ReviewUser

            stored = session.get(ReviewUser, ana.id)
            assert stored is not None and stored.password_hash.startswith("$argon2")
        changed = users.set_password(cat, "ana", "a new long password")
        assert changed.epoch == ana.epoch + 1
        users.set_active(cat, "ana", False)
        assert users.authenticate(cat, "ana", "a new long password") is None
        assert users.get_user(cat, ana.id) is None
    finally:
        cat.close()


def test_queue_filters_counts_and_pages(database_url: str) -> None:
    cat = Catalogue.open(database_url)
    try:
        reasons = [
            ["licence: sources disagree"],
            ["ocr: page 2 low quality"],
            ["metadata: no creators found", "ocr: page 1 low quality"],
        ]
        for i in range(30):
            rid = f"scielo-books-q{i:02d}"
            kind = "scielo-article" if i % 10 == 0 else "scielo-books-chapter"
            cat.ensure_item(rid, source=f"src:{i}", source_kind=kind, title=f"T{i}")
            cat.set_state(rid, State.NEEDS_REVIEW, reasons[i % 3])
        from archive_ingest.catalogue.schema import Item

        base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        with cat.session() as session:
            for i in range(30):
                row = session.get(Item, f"scielo-books-q{i:02d}")
                assert row is not None
                row.updated_at = base + dt.timedelta(minutes=i)
        cat.ensure_item("file-broken", source="file:x", source_kind="file")
        cat.set_state("file-broken", State.FAILED, ["the PDF is encrypted"])
        cat.ensure_item("scielo-books-ok", source="ok", source_kind="scielo-books-chapter")
        cat.set_state("scielo-books-ok", State.DEPOSITED, [])

        page1 = queries.queue(cat, queries.QueueFilter(), page_size=25)
        assert page1.total == 30 and page1.pages == 2 and len(page1.items) == 25
        assert page1.items[0].id == "scielo-books-q29"  # newest first
        assert page1.counts == {"licence": 10, "ocr": 20, "metadata": 10, "failure": 1}
        page2 = queries.queue(cat, queries.QueueFilter(page=2), page_size=25)
        assert len(page2.items) == 5 and page2.items[-1].id == "scielo-books-q00"
        lic = queries.queue(cat, queries.QueueFilter(reason="licence"))
        assert {i.id for i in lic.items} == {f"scielo-books-q{i:02d}" for i in range(0, 30, 3)}
        fails = queries.queue(cat, queries.QueueFilter(reason="failure"))
        assert [i.id for i in fails.items] == ["file-broken"]
        articles = queries.queue(cat, queries.QueueFilter(source="scielo-article"))
        assert {i.id for i in articles.items} == {
            "scielo-books-q00",
            "scielo-books-q10",
            "scielo-books-q20",
        }
        day = dt.date(2026, 1, 1)
        assert queries.queue(cat, queries.QueueFilter(since=day + dt.timedelta(days=1))).total == 0
        assert queries.queue(cat, queries.QueueFilter(since=day, until=day)).total == 30
        assert queries.queue(cat, queries.QueueFilter(until=day - dt.timedelta(days=1))).total == 0
    finally:
        cat.close()


# --- pure helpers ------------------------------------------------------------------------------
def test_highlight_and_diff() -> None:
    text = "Texto. Este trabalho está licenciado sob CC BY-NC-ND 3.0. Fim."
    start = text.index("CC BY")
    parts = highlight(text, [(start, start + 15, "CC BY-NC-ND 3.0")])
    assert parts == [(text[:start], False), ("CC BY-NC-ND 3.0", True), (text[start + 15 :], False)]
    # offsets that do not match fall back to a search for the text
    assert ("CC BY-NC-ND 3.0", True) in highlight(text, [(0, 3, "CC BY-NC-ND 3.0")])
    diff = text_diff("a\nb old\nc", "a\nb new\nc")
    assert ("-", "b old") in diff and ("+", "b new") in diff and (" ", "a") in diff


def test_carried_events_skip_packages_and_old_ocr() -> None:
    from archive_ingest.models import Event

    evs = [
        Event(event_type="capture", object_roles=["original"]),
        Event(event_type="metadata creation", object_roles=["package"]),
        Event(event_type="transcription", object_roles=["access"]),
        Event(event_type="appraisal", detail="held"),
        Event(event_type="appraisal", agent="ana", agent_type="person", detail="approved"),
        Event(event_type="replication"),
    ]
    kept = carried_events(evs, 1, rerun_ocr=False)
    assert [e.event_type for e in kept] == ["capture", "transcription", "appraisal"]
    assert kept[0].outcome_detail["carried_from_version"] == 1
    kept = carried_events(evs, 1, rerun_ocr=True)
    assert [e.event_type for e in kept] == ["capture", "appraisal"]
