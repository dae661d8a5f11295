"""The harvest flow for real: Prefect server, local SciELO server, OCR, SeaweedFS.

A first run ingests every chapter, survives a failing one, stores the watermark and publishes
the run report as artifacts; a second run selects only what changed plus the failed item.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.harvest import get_watermark
from archive_ingest.harvest.store import runs
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleScieloServer
from tests.support.samples import add_generated_book

pytestmark = pytest.mark.slow


def _artifact_keys(api: str) -> set[str]:
    response = httpx.post(f"{api}/artifacts/filter", json={"limit": 200}, timeout=10)
    response.raise_for_status()
    return {a["key"] for a in response.json() if a.get("key")}


def test_harvest_books_end_to_end(
    harvest_env: Settings,
    scielo_server: SampleScieloServer,
    prefect_api_url: str,
    tmp_path: Path,
) -> None:
    from flows.harvest import harvest_scielo_books

    cat = scielo_server.catalogue
    add_generated_book(cat, "g1", 2, tmp_path)
    add_generated_book(cat, "b2", 1, tmp_path, seed=10)
    cat.add_chapter("b2", 2, title="Sem PDF", pdf_bytes=None)
    scielo_server.inject(cat.books["b2"].chapter_pdf_path("01"), status=404, times=1)

    first = harvest_scielo_books()
    states = {row["id"]: row["state"] for row in first["items"]}
    assert set(states) == {"scielo-books-g1-01", "scielo-books-g1-02", "scielo-books-b2-01"}
    assert states["scielo-books-b2-01"] == "failed"  # and the batch went on
    assert states["scielo-books-g1-01"] == states["scielo-books-g1-02"] == "deposited", first
    assert first["counts"]["failed"] == 1 and first["counts"]["total"] == 3
    assert any("b2/02" in p for p in first["problems"])  # chapter without PDF
    assert all(r["pages"] and r["ocr"] for r in first["items"] if r["state"] == "deposited")
    assert first["watermark_stored"] is True
    deposited = [r for r in first["items"] if r["state"] == "deposited"]
    assert deposited and all(r["bag"] and r["bag"].startswith("s3://") for r in deposited)

    catalogue = Catalogue.open(harvest_env.effective_database_url)
    try:
        mark = get_watermark(catalogue, "scielo-books")
        assert mark == first["watermark_after"]
        assert [r.status for r in runs(catalogue)] == ["completed"]
    finally:
        catalogue.close()
    keys = _artifact_keys(prefect_api_url)
    assert {"harvest-scielo-books-items", "harvest-scielo-books-summary"} <= keys

    # second run: nothing changed except that the failed chapter is retried (now served)
    cat.update_book("b2", synopsis="revised")  # b2/01 is both changed and failed
    second = harvest_scielo_books()
    assert {row["id"]: row["state"] for row in second["items"]} == {
        "scielo-books-b2-01": "deposited"
    }
    third = harvest_scielo_books(dry_run=True)
    assert third["would_ingest"] == []
