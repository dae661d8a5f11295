"""The ten real ArticleMeta documents (tests/fixtures/real-records/) on the sample server, with
the PDFs their journal sites would answer.

Each document is served verbatim (:meth:`SampleCatalogue.add_real_record`); its PDFs are made
here, one per language the site serves (:func:`site_pdf_paths`): the first page shows the
journal, the citation, the title and the authors as the document has them, then body text.
:data:`PDF_SPECS` says which are scans (an image page with no text layer, so OCR runs) and which
print a licence statement (born-digital journal PDFs of 2018 do; older ones print none).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.pdfbase.pdfmetrics import stringWidth

from archive_ingest_demo.scielo_sample import SampleCatalogue
from archive_ingest_demo.scielo_sample.real_records import (
    RealRecord,
    load_real_records,
    site_pdf_paths,
)
from tests.support.samples.chapter import add_scanned_page
from tests.support.samples.corpus import page_text
from tests.support.samples.pdfwrite import binary_streams, new_canvas
from tests.support.samples.render import MARGIN_PT, PAGE_SIZE, wrap

REAL_RECORDS = Path(__file__).resolve().parents[1] / "fixtures" / "real-records"

#: The English statement SciELO journal PDFs print, by CC id.
STATEMENTS = {
    "by/4.0": "This article is licensed under a Creative Commons Attribution 4.0 "
    "International License.",
    "by-nc/4.0": "This article is licensed under a Creative Commons "
    "Attribution-NonCommercial 4.0 International License.",
}


@dataclass(frozen=True)
class PdfSpec:
    """How a record's PDFs look: ``scanned`` (one image page, no text layer) or born-digital,
    with ``statement`` (a CC id of :data:`STATEMENTS`) printed on the first page or none."""

    scanned: bool = False
    statement: str | None = None


#: record id -> its PDFs. Three scans (one per OCR language: por, eng, spa) keep OCR in the run
#: but its time small; the two 2018 born-digital PDFs print the licence their journal states.
PDF_SPECS: dict[str, PdfSpec] = {
    "scielo-scl-s0034-89102010000400007": PdfSpec(),
    "scielo-scl-s0100-19651998000200001": PdfSpec(),
    "scielo-scl-s0100-19651998000200002": PdfSpec(),
    "scielo-scl-s0100-19651998000200003": PdfSpec(scanned=True),
    "scielo-scl-s0100-879x1998000800011": PdfSpec(scanned=True),
    "scielo-scl-s0102-67202009000300001": PdfSpec(),
    "scielo-scl-s1676-06032007000300020": PdfSpec(),
    "scielo-spa-s0034-89102018000100244": PdfSpec(statement="by/4.0"),
    "scielo-spa-s0036-36341997000100001": PdfSpec(scanned=True),
    "scielo-spa-s1851-82652018000100051": PdfSpec(statement="by-nc/4.0"),
}

_CORPUS_LANGUAGES = ("en", "pt", "es")


def real_records() -> list[RealRecord]:
    return load_real_records(REAL_RECORDS)


def _values(record: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    values = record.get(tag)
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def _first(record: dict[str, Any], tag: str) -> str:
    values = _values(record, tag)
    return str(values[0].get("_") or "") if values else ""


def page_header(record: RealRecord, lang: str) -> tuple[str, str, list[str]]:
    """(journal line, title, authors) as the PDF in ``lang`` prints them."""
    article = record.document.get("article") or {}
    journal = record.document.get("title") or {}
    titles = {str(t.get("l")): str(t.get("_") or "") for t in _values(article, "v12")}
    title = titles.get(lang) or titles.get(_first(article, "v40")) or next(iter(titles.values()))
    authors = [f"{a.get('n', '')} {a.get('s', '')}".strip() for a in _values(article, "v10")]
    volume, issue = _first(article, "v31"), _first(article, "v32")
    where = ", ".join(
        p for p in (f"v. {volume}" if volume else "", f"n. {issue}" if issue else "") if p
    )
    line = " ".join(
        p
        for p in (
            _first(journal, "v100") or _first(article, "v30"),
            where,
            _first(article, "v65")[:4],
        )
        if p
    )
    return line, title, authors


def make_article_pdf(path: Path, record: RealRecord, lang: str, spec: PdfSpec, seed: int) -> Path:
    """The record's PDF in ``lang``, written to ``path``."""
    journal_line, title, authors = page_header(record, lang)
    body = page_text(lang if lang in _CORPUS_LANGUAGES else "en", 0, seed, paragraphs=1)
    with binary_streams():
        canvas = new_canvas(path, title=title, author="; ".join(authors), subject=journal_line)
        if spec.scanned:
            text = "\n\n".join([journal_line, title, ", ".join(authors), body])
            add_scanned_page(canvas, text, page_number=None, damage=None, seed=f"{seed}")
        else:
            _born_digital_page(canvas, [journal_line, title, ", ".join(authors)], spec, body)
        canvas.save()
    return path


def _born_digital_page(canvas: Any, head: list[str], spec: PdfSpec, body: str) -> None:
    width = PAGE_SIZE[0] - 2 * MARGIN_PT
    size = 9.0
    y = PAGE_SIZE[1] - MARGIN_PT
    blocks = [*head]
    if spec.statement:
        blocks.append(STATEMENTS[spec.statement])
    blocks.append(body)
    canvas.setFont("DejaVuSans", size)
    for block in blocks:
        for line in wrap(block, width, lambda s: stringWidth(s, "DejaVuSans", size)):
            if y < MARGIN_PT:
                break
            canvas.drawString(MARGIN_PT, y, line)
            y -= size * 1.35
        y -= size
    canvas.showPage()


def add_real_records(catalogue: SampleCatalogue, folder: Path) -> list[RealRecord]:
    """Every real record in the catalogue, with a PDF (written under ``folder``) for each
    language its site serves; returns the records."""
    records = real_records()
    for seed, record in enumerate(records):
        spec = PDF_SPECS[record.record_id]
        pdfs = {
            lang: make_article_pdf(
                folder / f"{record.record_id}-{lang}.pdf", record, lang, spec, seed
            )
            for lang in site_pdf_paths(record.document)
        }
        catalogue.add_real_record(record, pdfs=pdfs)
    return records
