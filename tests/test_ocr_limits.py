"""A PDF with more pages than ``ocr_max_pages`` fails before OCR with a reason that says what
to do, keeps the fetched original, and resumes at OCR once the limit is raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_ingest.ingest.services import Services
from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest_demo.scielo_sample import SampleScieloServer
from tests.support.pipeline import ingest_in_process
from tests.support.samples import add_generated_book

pytestmark = pytest.mark.slow


def test_too_many_pages_fails_before_ocr_and_resumes(
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    [ref] = add_generated_book(scielo_server.catalogue, "big", 1, tmp_path, scanned_pages=2)
    for key, value in scielo_server.settings_overrides().items():
        monkeypatch.setenv(f"ARCHIVE_INGEST_{key.upper()}", str(value))
    monkeypatch.setenv("ARCHIVE_INGEST_OCR_MAX_PAGES", "2")  # the chapter has 3 pages
    reset_settings_cache()
    limited = Settings()

    failed = ingest_in_process(limited, ref)
    assert failed.state == "failed"
    [reason] = failed.reasons
    assert "3 pages" in reason and "ocr_max_pages (2)" in reason
    assert "ARCHIVE_INGEST_OCR_MAX_PAGES" in reason
    ws = Services.open(limited)
    try:
        data = ws.workspace(failed.id).data_dir(1)
        assert list((data / "original").glob("*.pdf")), "the fetched original must be kept"
        assert not (data / "access").exists(), "OCR must not have started"
    finally:
        ws.close()

    monkeypatch.setenv("ARCHIVE_INGEST_OCR_MAX_PAGES", "3")
    reset_settings_cache()
    done = ingest_in_process(Settings(), ref)
    assert done.state == "deposited" and done.version == 1  # resumed, no new version
