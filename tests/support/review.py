"""Helpers of the review tests: a chapter the pipeline holds for review, settings pointed at
the sample SciELO server, archivists, a storage outage, the CSRF token of a review page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.review import users
from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.ports import free_port
from tests.support.territory_book import add_book, add_chapter, make_chapter

SBID = "rev01"
BOOK = "Territórios e desenvolvimento: diálogos interdisciplinares"
PASSWORD = "correct horse battery"


def add_disagreeing_book(catalogue: SampleCatalogue, tmp: Path, title: str) -> str:
    """A book whose only chapter prints CC BY-NC-ND on page one while the metadata says
    CC BY-NC-SA: the pipeline holds it for review. Returns the chapter's REF."""
    add_book(catalogue, SBID, title=BOOK)
    pdf = tmp / "chapter.pdf"
    make_chapter(
        pdf,
        title,
        book_title=BOOK,
        licence="by-nc-nd/3.0",
        pages=(40, 52),
        isbn="978-85-232-1234-6",
        scanned_pages=1,
        damage="light",
        seed=3,
    )
    return add_chapter(catalogue, SBID, pdf, title)


def point_at(server: SampleScieloServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """This test's settings, with every SciELO base URL on ``server``."""
    for key, value in server.settings_overrides().items():
        monkeypatch.setenv(f"ARCHIVE_INGEST_{key.upper()}", str(value))
    reset_settings_cache()
    return Settings()


def make_user(settings: Settings, name: str = "ana", role: str = "archivist") -> users.User:
    """A review user with :data:`PASSWORD`."""
    cat = Catalogue.open(settings.effective_database_url)
    try:
        return users.add_user(cat, name, role, PASSWORD)
    finally:
        cat.close()


def storage_down(settings: Settings) -> Settings:
    """The same settings with the S3 endpoint on a loopback port nobody listens on."""
    return settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})


def csrf_of(html: str) -> str:
    """The CSRF token of a review page's form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
