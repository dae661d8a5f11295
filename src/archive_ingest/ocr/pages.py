"""What each page of the original carries: born-digital text, a scanner's invisible layer, or
nothing — and the old layer's text.

The kind decides what the stage may do to a page: born-digital text (real fonts, visibly
drawn) is never replaced; a scanner's layer (text render mode 3/7, or Tesseract's
GlyphLessFont) is a candidate for replacement; a page without text always gets OCR. The pages
are read by the same bounded analysis as the inspection (:mod:`archive_ingest.pdf.pages`): a
page whose walk was cut short and that has text, or whose content is over the size bound and so
was not read at all, counts as born-digital, so it is neither OCRed nor has its text replaced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import pikepdf
from pypdf import PdfReader

from archive_ingest.errors import PdfError
from archive_ingest.pdf.bounds import MAX_CONTENT_BYTES, Warnings
from archive_ingest.pdf.pages import walk_page
from archive_ingest.pdf.reading import page_text

log = logging.getLogger(__name__)

PageKind = Literal["born-digital", "scanned", "no-text"]


@dataclass(frozen=True)
class PageLayer:
    """One page of the original as the OCR stage sees it."""

    index: int  # 0-based
    kind: PageKind
    old_text: str
    visible_chars: int
    invisible_chars: int
    images: int
    warnings: tuple[str, ...] = ()

    @property
    def number(self) -> int:
        return self.index + 1


def analyse_pdf(path: Path) -> list[PageLayer]:
    """Classify every page and extract its old text layer (the file is only read)."""
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise PdfError(f"{path.name}: the PDF is encrypted with a password; cannot OCR it") from exc
    except pikepdf.PdfError as exc:
        raise PdfError(f"{path.name}: not a readable PDF ({exc})") from exc
    with pdf:
        if pdf.is_encrypted:
            raise PdfError(f"{path.name}: the PDF is encrypted; OCRmyPDF refuses encrypted input")
        if len(pdf.pages) == 0:
            raise PdfError(f"{path.name}: the PDF has no pages")
        # pypdf on a handle reads what it needs; given a path it would read the whole file
        with path.open("rb") as handle:
            reader = _text_reader(path, handle)
            return [_page(reader, pdf, index) for index in range(len(pdf.pages))]


def _text_reader(path: Path, handle: BinaryIO) -> PdfReader:
    try:
        return PdfReader(handle)
    except Exception as exc:
        raise PdfError(f"{path.name}: pypdf cannot read the PDF's text ({exc})") from exc


def _page(reader: PdfReader, pdf: pikepdf.Pdf, index: int) -> PageLayer:
    warnings = Warnings()
    layer = walk_page(pdf.pages[index], index)
    text = ""
    if not layer.oversized:
        try:
            text = page_text(reader, index, warnings)
        except Exception as exc:  # pypdf raises many types on odd pages
            log.warning("page %d: pypdf could not extract text: %s", index + 1, exc)
    visible = layer.visible_glyphs - layer.ocr_font_glyphs
    invisible = layer.invisible_glyphs + layer.ocr_font_glyphs
    kind: PageKind
    if layer.oversized:
        warnings.add(
            f"page {index + 1}: content over {MAX_CONTENT_BYTES} bytes not analysed; "
            "the page is kept as it is"
        )
        kind = "born-digital"
    elif visible > 0:
        kind = "born-digital"
    elif layer.truncated and text.strip():
        kind = "born-digital"  # never replace text we cannot classify
    elif invisible > 0:
        kind = "scanned"
    else:
        kind = "no-text"
    if layer.truncated and not layer.oversized:
        warnings.add(
            f"page {index + 1}: content stream not fully readable "
            "(the walk stopped at an error or a safety limit)"
        )
    return PageLayer(
        index=index,
        kind=kind,
        old_text=text if kind != "no-text" else "",
        visible_chars=visible,
        invisible_chars=invisible,
        images=layer.images,
        warnings=tuple(warnings.items),
    )
