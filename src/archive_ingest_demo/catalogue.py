"""The catalogue ``archive-ingest demo`` serves: one EDUFBA-like book with two chapters.

Chapter 01's PDF states the same licence as the metadata (CC BY-NC-SA 3.0) and its scanned
pages carry a badly damaged text layer (re-OCR wins); chapter 02's layer is lightly damaged
(the old layer is kept) and its PDF states CC BY-NC-ND 3.0, so the demo ends with one item
deposited and one left for an archivist. The book and people are invented; the shapes are
SciELO's.

The chapter PDFs are package data (``pdfs/``), made once by ``scripts/make_demo_samples.py``
with the test suite's sample generator; the demo copies them, it never generates them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from archive_ingest_demo.scielo_sample import SampleCatalogue

DEMO_SBID = "demo1"
DEMO_ISBN = "9788523212346"  # valid ISBN-13 check digit; EDUFBA's 978-85-232 prefix
DEMO_ISBN_PRINTED = "978-85-232-1234-6"
DEMO_LICENCE = "CC BY-NC-SA 3.0"
DEMO_BOOK_TITLE = "Territórios e desenvolvimento: diálogos interdisciplinares"
DEMO_ORGANIZERS = ("Almeida, Joana Prado", "Costa, Rafael Menezes")

#: (order, title, author, pages, licence id printed on the PDF's first page)
DEMO_CHAPTERS: tuple[tuple[int, str, str, tuple[int, int], str], ...] = (
    (1, "O território como categoria de análise", "Almeida, Joana Prado", (9, 30), "by-nc-sa/3.0"),
    (
        2,
        "Desenvolvimento local e políticas públicas no Recôncavo",
        "Souza, Helena Martins",
        (31, 52),
        "by-nc-nd/3.0",  # disagrees with the book's use_licence: goes to review
    ),
)


def demo_pdf_name(order: int) -> str:
    """The file name of chapter ``order``'s PDF, in ``pdfs/`` and in the demo's work folder."""
    return f"{DEMO_SBID}-{order:02d}.pdf"


def build_demo_catalogue(workdir: Path) -> SampleCatalogue:
    """Copy the demo chapter PDFs under ``workdir`` and return the catalogue serving them."""
    workdir.mkdir(parents=True, exist_ok=True)
    pdfs = files("archive_ingest_demo") / "pdfs"
    catalogue = SampleCatalogue()
    catalogue.add_book(
        DEMO_SBID,
        title=DEMO_BOOK_TITLE,
        publisher="EDUFBA",
        isbn=DEMO_ISBN,
        language="pt",
        year="2012",
        city="Salvador",
        country="BR",
        pages="212",
        synopsis=(
            "Pesquisadores de diferentes campos discutem o território como categoria de "
            "diálogo interdisciplinar e suas relações com os processos de desenvolvimento."
        ),
        creators=[("organizer", name) for name in DEMO_ORGANIZERS],
        use_licence=DEMO_LICENCE,
    )
    for order, title, author, pages, _licence in DEMO_CHAPTERS:
        path = workdir / demo_pdf_name(order)
        path.write_bytes((pdfs / demo_pdf_name(order)).read_bytes())
        catalogue.add_chapter(
            DEMO_SBID,
            order,
            title=title,
            creators=[("individual_author", author)],
            pages=(str(pages[0]), str(pages[1])),
            pdf_path=path,
            text_language="pt",
        )
    return catalogue
