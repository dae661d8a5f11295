"""``held``: a chapter the real pipeline (real OCR) held for review, its licence in dispute."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.pipeline import ingest_in_process
from tests.support.review import add_disagreeing_book, point_at


@pytest.fixture
def held(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> tuple[Settings, str]:
    """(settings, record id) of a chapter held for review: :func:`add_disagreeing_book`."""
    ref = add_disagreeing_book(scielo_catalogue, tmp_path, "Capítulo sobre o território")
    settings = point_at(scielo_server, monkeypatch)
    record_id = ingest_in_process(settings, ref).id
    assert record_id is not None, "the chapter was not recorded"
    return settings, record_id
