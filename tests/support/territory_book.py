"""The book most CLI tests ingest from the sample SciELO server: "Territórios e
desenvolvimento" (EDUFBA, 2012, in Portuguese, CC BY-NC-SA 3.0 in its metadata), organised by
one person, with chapters by one author on pp. 40-52; :func:`make_chapter` makes a chapter's
PDF (each test chooses its pages, damage and seed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive_ingest_demo.scielo_sample import SampleCatalogue
from tests.support.samples import make_sample_chapter

BOOK = "Territórios e desenvolvimento"
ISBN = "9788523212346"
ORGANIZER = "Almeida, Joana Prado"
AUTHOR = "Souza, Helena Martins"


def make_chapter(
    path: Path,
    title: str,
    *,
    book_title: str = BOOK,
    licence: str = "by-nc-sa/3.0",
    credited: bool = True,
    **options: Any,
) -> Path:
    """``make_sample_chapter`` of a chapter of the book in Portuguese by :data:`AUTHOR`
    (``credited=False``: by nobody), ``licence`` on its first page; ``options`` are the rest of
    ``make_sample_chapter``'s arguments (pages, isbn, scanned_pages, damage, seed, ...)."""
    make_sample_chapter(
        path,
        title=title,
        creators=[AUTHOR] if credited else [],
        book_title=book_title,
        publisher="EDUFBA",
        year=2012,
        licence=licence,
        language="pt",
        **options,
    )
    return path


def add_book(
    catalogue: SampleCatalogue, sbid: str, *, title: str = BOOK, credited: bool = True
) -> None:
    """The book as ``sbid``; ``credited=False``: nobody is named as its organizer."""
    catalogue.add_book(
        sbid,
        title=title,
        isbn=ISBN,
        publisher="EDUFBA",
        language="pt",
        year="2012",
        creators=[("organizer", ORGANIZER)] if credited else [],
        use_licence="CC BY-NC-SA 3.0",
    )


def add_chapter(
    catalogue: SampleCatalogue,
    sbid: str,
    pdf: Path,
    title: str,
    *,
    order: int = 1,
    credited: bool = True,
) -> str:
    """Chapter ``order`` of book ``sbid`` (pp. 40-52, in Portuguese) served as ``pdf``;
    ``credited=False``: nobody is named as its author. Returns its REF."""
    catalogue.add_chapter(
        sbid,
        order,
        title=title,
        creators=[("individual_author", AUTHOR)] if credited else [],
        pages=("40", "52"),
        pdf_path=pdf,
        text_language="pt",
    )
    return f"scielo-books:{sbid}/{order:02d}"
