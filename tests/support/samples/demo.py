"""The demo book's chapter PDFs, as shipped in src/archive_ingest_demo/pdfs/ (rebuilt by
scripts/make_demo_samples.py; tests/test_demo.py checks the shipped ones against them)."""

from __future__ import annotations

from pathlib import Path

from archive_ingest_demo.catalogue import (
    DEMO_BOOK_TITLE,
    DEMO_CHAPTERS,
    DEMO_ISBN_PRINTED,
    DEMO_ORGANIZERS,
    demo_pdf_name,
)
from tests.support.samples.chapter import make_sample_chapter


def make_demo_samples(out: Path) -> list[Path]:
    """Write each demo chapter's PDF into ``out``: a born-digital citation and licence page,
    then two scanned pages whose old text layer is badly damaged in chapter 01 (re-OCR wins)
    and lightly in chapter 02 (the old layer is kept)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for order, title, author, pages, licence in DEMO_CHAPTERS:
        path = out / demo_pdf_name(order)
        make_sample_chapter(
            path,
            title=title,
            creators=[author],
            editors=list(DEMO_ORGANIZERS),
            book_title=DEMO_BOOK_TITLE,
            publisher="EDUFBA",
            city="Salvador",
            year=2012,
            pages=pages,
            isbn=DEMO_ISBN_PRINTED,
            licence=licence,
            language="pt",
            scanned_pages=2,
            damage="heavy" if order == 1 else "light",
            seed=order,
        )
        written.append(path)
    return written
