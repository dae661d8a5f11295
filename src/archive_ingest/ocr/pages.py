"""What each page of the original carries: born-digital text, a scanner's invisible layer, or
nothing — and the old layer's text.

The kind decides what the stage may do to a page: born-digital text (real fonts, visibly
drawn) is never replaced; a scanner's layer (text render mode 3/7, or Tesseract's
GlyphLessFont) is a candidate for replacement; a page without text always gets OCR. The
content streams are interpreted just enough to know the render mode of each text-showing
operator, including text inside form XObjects.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pikepdf
from pypdf import PdfReader

from archive_ingest.errors import PdfError

log = logging.getLogger(__name__)

PageKind = Literal["born-digital", "scanned", "no-text"]

_TEXT_SHOW = {"Tj", "TJ", "'", '"'}
_INVISIBLE_MODES = {3, 7}
_OCR_FONT_MARKERS = ("GlyphLessFont",)  # Tesseract's own PDF renderer
_MAX_FORM_DEPTH = 12


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


@dataclass
class _Counts:
    visible: int = 0
    invisible: int = 0
    images: int = 0


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
        texts = _old_texts(path, len(pdf.pages))
        layers = []
        for index, page in enumerate(pdf.pages):
            warnings: list[str] = []
            counts = _Counts()
            try:
                _scan(page.obj, page.obj.get("/Resources"), counts, tr=0, depth=0, seen=set())
            except (pikepdf.PdfError, ValueError, TypeError, KeyError) as exc:
                warnings.append(f"page {index + 1}: content stream not fully readable ({exc})")
                # unreadable content: never replace text we cannot classify
                counts.visible = len(texts[index].strip())
            text = texts[index]
            kind: PageKind
            if counts.visible > 0:
                kind = "born-digital"
            elif counts.invisible > 0:
                kind = "scanned"
            else:
                kind = "no-text"
            layers.append(
                PageLayer(
                    index=index,
                    kind=kind,
                    old_text=text if kind != "no-text" else "",
                    visible_chars=counts.visible,
                    invisible_chars=counts.invisible,
                    images=counts.images,
                    warnings=tuple(warnings),
                )
            )
    return layers


def _old_texts(path: Path, count: int) -> list[str]:
    try:
        reader = PdfReader(path)
        out = []
        for i in range(count):
            try:
                out.append(reader.pages[i].extract_text() or "")
            except Exception as exc:  # pypdf raises many types on odd pages
                log.warning("page %d: pypdf could not extract text: %s", i + 1, exc)
                out.append("")
        return out
    except Exception as exc:
        raise PdfError(f"{path.name}: pypdf cannot read the PDF's text ({exc})") from exc


def _font_name(resources: pikepdf.Object | None, name: pikepdf.Object) -> str:
    try:
        if resources is None:
            return ""
        fonts = resources.get("/Font")
        font = fonts.get(name) if fonts is not None else None
        return str(font.get("/BaseFont", "")) if font is not None else ""
    except (AttributeError, pikepdf.PdfError, TypeError):
        return ""


def _string_length(operands: Iterable[pikepdf.Object], op: str) -> int:
    total = 0
    items = list(operands)
    if op == "TJ" and items:
        arr = items[0]
        for part in arr:
            if isinstance(part, pikepdf.String):
                total += len(bytes(part))
        return total
    for item in items:
        if isinstance(item, pikepdf.String):
            total += len(bytes(item))
    return total


def _scan(
    holder: pikepdf.Object,
    resources: pikepdf.Object | None,
    counts: _Counts,
    *,
    tr: int,
    depth: int,
    seen: set[tuple[int, int]],
) -> None:
    """Walk a content stream (page or form XObject), counting visible/invisible text bytes."""
    stack: list[tuple[int, str]] = []
    font = ""
    for operands, operator in pikepdf.parse_content_stream(holder):
        op = str(operator)
        if op == "q":
            stack.append((tr, font))
        elif op == "Q":
            if stack:
                tr, font = stack.pop()
        elif op == "Tr" and operands:
            tr = int(operands[0])
        elif op == "Tf" and operands:
            font = _font_name(resources, operands[0])
        elif op in _TEXT_SHOW:
            n = _string_length(operands, op)
            if tr in _INVISIBLE_MODES or any(m in font for m in _OCR_FONT_MARKERS):
                counts.invisible += n
            else:
                counts.visible += n
        elif op == "INLINE IMAGE":
            counts.images += 1
        elif op == "Do" and operands and resources is not None:
            xobjects = resources.get("/XObject")
            xobj = xobjects.get(operands[0]) if xobjects is not None else None
            if xobj is None:
                continue
            subtype = xobj.get("/Subtype")
            if subtype == "/Image":
                counts.images += 1
            elif subtype == "/Form" and depth < _MAX_FORM_DEPTH:
                key = xobj.objgen
                if key in seen and key != (0, 0):
                    continue
                seen.add(key)
                _scan(
                    xobj,
                    xobj.get("/Resources", resources),
                    counts,
                    tr=tr,
                    depth=depth + 1,
                    seen=seen,
                )
