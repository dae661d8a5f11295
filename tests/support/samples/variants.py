"""Other PDFs the pipeline meets: born-digital only, scans without text, and bad inputs.

Each generator writes one small PDF to ``path``. The bad ones (encrypted, truncated, with
JavaScript, with an embedded file, with an unembedded font) exist so that inspection, OCR and
packaging can be tested against the same failures real publishers' files show.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pikepdf
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from tests.support.samples.chapter import (
    Language,
    SamplePdf,
    add_scanned_page,
    make_sample_chapter,
)
from tests.support.samples.corpus import page_text
from tests.support.samples.pdfwrite import (
    binary_streams,
    new_canvas,
    pack_bilevel_images,
    remove_empty_trans,
)
from tests.support.samples.render import (
    BODY_FONT,
    BODY_SIZE_PT,
    LINE_PITCH,
    MARGIN_PT,
    PAGE_SIZE,
    ImageMode,
    wrap,
)

DEFAULT_SCRIPT = "app.alert('This PDF runs JavaScript when opened.');"


def make_born_digital_pdf(
    path: Path,
    *,
    pages: int = 2,
    language: Language = "en",
    texts: Sequence[str] | None = None,
    seed: int = 0,
    font: str = BODY_FONT,
    clean: bool = False,
) -> SamplePdf:
    """Pages of visible text drawn with an embedded TrueType font and nothing else (no images,
    no invisible text): what a publisher's typesetting tool exports."""
    true_texts: list[str] = []
    with binary_streams():
        canvas = new_canvas(path, title="Born-digital sample", author="archive-ingest")
        for i in range(pages):
            text = texts[i % len(texts)] if texts else page_text(language, i, seed)
            true_texts.append(_draw_text_page(canvas, text, font=font))
        canvas.save()
    if clean:
        remove_empty_trans(path)
    return SamplePdf(path=path, true_texts=true_texts, layer_texts=list(true_texts))


def make_image_only_pdf(
    path: Path,
    *,
    pages: int = 2,
    language: Language = "en",
    texts: Sequence[str] | None = None,
    seed: int = 0,
    first_page_number: int | None = 1,
    image_mode: ImageMode = "gray",
    clean: bool = False,
) -> SamplePdf:
    """Scanned pages with no text layer at all (a scanner without OCR)."""
    true_texts: list[str] = []
    with binary_streams():
        canvas = new_canvas(path, title="Scanned sample", author="archive-ingest")
        for i in range(pages):
            text = texts[i % len(texts)] if texts else page_text(language, i, seed)
            number = None if first_page_number is None else first_page_number + i
            truth, _ = add_scanned_page(
                canvas,
                text,
                page_number=number,
                damage=None,
                seed=f"{seed}:{i}",
                image_mode=image_mode,
            )
            true_texts.append(truth)
        canvas.save()
    if image_mode == "bilevel":
        pack_bilevel_images(path)
    if clean:
        remove_empty_trans(path)
    return SamplePdf(
        path=path,
        true_texts=true_texts,
        layer_texts=[""] * pages,
        scanned_pages=list(range(pages)),
    )


def make_unembedded_font_pdf(path: Path, *, text: str | None = None) -> SamplePdf:
    """One page of visible text in Helvetica, referenced but not embedded (common in old
    publisher PDFs; PDF/A forbids it and OCRmyPDF's internal PDF/A backend rejects it)."""
    body = text or page_text("en", 0, 0, paragraphs=1)
    with binary_streams():
        canvas = new_canvas(
            path,
            title="Unembedded font sample",
            author="archive-ingest",
            initial_font="Helvetica",
        )
        truth = _draw_text_page(canvas, body, font="Helvetica")
        canvas.save()
    return SamplePdf(path=path, true_texts=[truth], layer_texts=[truth])


def make_encrypted_pdf(
    path: Path, *, user_password: str = "", owner_password: str = "owner-password"
) -> Path:
    """A born-digital PDF encrypted with AES-256. With the default empty user password any
    reader opens it (only permissions are restricted): the archive still refuses it as a
    master, so inspection must report it either way."""
    plain = path.with_name(path.name + ".plain.pdf")
    make_born_digital_pdf(plain, pages=1)
    try:
        with pikepdf.open(plain) as pdf:
            pdf.save(
                path,
                encryption=pikepdf.Encryption(
                    user=user_password,
                    owner=owner_password,
                    R=6,
                    allow=pikepdf.Permissions(extract=False, modify_other=False),
                ),
            )
    finally:
        plain.unlink(missing_ok=True)
    return path


def make_truncated_pdf(path: Path, *, keep: float = 0.6) -> Path:
    """A sample chapter cut after ``keep`` of its bytes, as an interrupted download leaves it
    (no cross-reference table, no trailer, no %%EOF)."""
    if not 0 < keep < 1:
        raise ValueError("keep must be between 0 and 1")
    make_sample_chapter(path, scanned_pages=1, damage="light")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_pdf_with_javascript(path: Path, *, script: str = DEFAULT_SCRIPT) -> Path:
    """A born-digital PDF that runs JavaScript on opening: an /OpenAction JavaScript action
    plus a document-level script in the /Names /JavaScript tree."""
    make_born_digital_pdf(path, pages=1)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        action = pdf.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.Action, S=pikepdf.Name.JavaScript, JS=script)
        )
        pdf.Root.OpenAction = action
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("init"), action]))
        )
        pdf.save(path, deterministic_id=True)
    return path


def make_pdf_with_embedded_file(
    path: Path, *, name: str = "data.csv", data: bytes = b"id,value\n1,42\n"
) -> Path:
    """A born-digital PDF carrying an attached file (PDF/A-2 forbids non-PDF/A attachments)."""
    make_born_digital_pdf(path, pages=1)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, filename=name)
        pdf.save(path, deterministic_id=True)
    return path


def _draw_text_page(canvas: Canvas, text: str, *, font: str) -> str:
    """Visible wrapped text on one page; returns the lines drawn, joined by newlines."""

    size = BODY_SIZE_PT
    width = PAGE_SIZE[0] - 2 * MARGIN_PT

    def measure(value: str) -> float:
        return stringWidth(value, font, size)

    lines = wrap(text, width, measure)
    max_lines = int((PAGE_SIZE[1] - 2 * MARGIN_PT) / (size * LINE_PITCH))
    lines = lines[:max_lines]
    canvas.setFont(font, size)
    y = PAGE_SIZE[1] - MARGIN_PT
    for line in lines:
        canvas.drawString(MARGIN_PT, y, line)
        y -= size * LINE_PITCH
    canvas.showPage()
    return "\n".join(lines)
