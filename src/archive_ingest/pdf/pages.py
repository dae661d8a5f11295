"""The one per-page analysis: what a page draws, from its content stream and its forms.

The walk interprets the operators just enough to count visible and invisible text (text render
mode 3 or 7: a scanner's OCR layer), text drawn in an OCR engine's glyphless font, images and
how much of the page the largest covers, and the fonts actually used. Both the inspection
(:mod:`archive_ingest.pdf.inspection`) and the OCR stage (:mod:`archive_ingest.ocr.pages`)
classify pages from it.

Every walk is bounded: the page's content streams and forms may decode to at most
``MAX_CONTENT_BYTES`` together (counted by :func:`~archive_ingest.pdf.streams.decoded_size`
before qpdf parses a stream; over it, the page is ``oversized`` and not read further), at most
``MAX_OPERATORS`` operators are interpreted and forms nest at most ``MAX_FORM_DEPTH`` deep. A
walk cut short has ``truncated`` set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pikepdf
import pypdf

from archive_ingest.pdf.bounds import (
    MAX_CONTENT_BYTES,
    MAX_FORM_DEPTH,
    MAX_OPERATORS,
    MAX_PAGES,
    Warnings,
)
from archive_ingest.pdf.reading import (
    check_envelope,
    open_pikepdf,
    open_pypdf,
    page_count,
    page_text,
)
from archive_ingest.pdf.streams import decoded_size

COVER_FRACTION = 0.8  # an image covering this much of the page makes it a scan

# text render modes that paint glyphs (PDF 32000-1, 9.3.6); 3 = invisible, 7 = clip only
VISIBLE_MODES = frozenset({0, 1, 2, 4, 5, 6})
INVISIBLE_MODES = frozenset({3, 7})
# fonts an OCR engine draws its text layer with (Tesseract's own PDF renderer)
OCR_FONT_MARKERS = ("GlyphLessFont",)

LayerKind = Literal["born-digital", "scanned", "mixed", "empty", "other"]

_log = logging.getLogger(__name__)


@dataclass
class PageLayer:
    """What one page draws, from its content stream (and the forms it uses).

    Glyph counts are approximate (bytes shown, halved for two-byte CID fonts) but reliably tell
    "no text" from "some text" and visible from invisible.
    """

    index: int  # 0-based
    visible_glyphs: int = 0
    invisible_glyphs: int = 0
    images: int = 0
    image_coverage: float = 0.0  # largest image's area / page area (0..1+)
    fonts: list[str] = field(default_factory=list)  # BaseFont names actually used
    unembedded_fonts: list[str] = field(default_factory=list)
    truncated: bool = False  # the walk hit a limit
    oversized: bool = False  # the content is over MAX_CONTENT_BYTES: not read (truncated too)
    ocr_font_glyphs: int = 0  # of visible_glyphs: drawn in an OCR engine's glyphless font

    @property
    def kind(self) -> LayerKind:
        return page_layer_kind(self)


def page_layer_kind(layer: PageLayer) -> LayerKind:
    """Classify a page for the OCR decision.

    - ``born-digital``: visible text drawn with real fonts, no page-covering image.
    - ``scanned``: a page-covering image and no visible text (an invisible OCR layer or none;
      ``layer.invisible_glyphs`` says which).
    - ``mixed``: a page-covering image *and* visible text (e.g. a stamp or visible OCR text).
    - ``other``: images that do not cover the page and no visible text (a figure page).
    - ``empty``: neither text nor images.
    """
    covered = layer.image_coverage >= COVER_FRACTION
    if layer.visible_glyphs > 0:
        return "mixed" if covered else "born-digital"
    if covered:
        return "scanned"
    if layer.images > 0 or layer.invisible_glyphs > 0:
        return "other"
    return "empty"


def page_texts(path: Path, *, max_pages: int = MAX_PAGES) -> list[str]:
    """pypdf's text of each page (up to ``max_pages``), as a reader of the text layer sees it
    (invisible OCR text included); a page over the content bounds gives "". Same errors as
    :func:`~archive_ingest.pdf.inspection.inspect_pdf`; problems are logged."""
    check_envelope(path)
    warnings = Warnings()
    with open_pypdf(path, allow_encrypted=False) as reader, open_pikepdf(path) as pdf:
        texts = []
        for index in range(min(page_count(reader), max_pages)):
            # a page qpdf does not see (a damaged page tree) is read by pypdf alone
            oversized = index < len(pdf.pages) and walk_page(pdf.pages[index], index).oversized
            texts.append(page_text(reader, index, warnings, oversized=oversized))
    for message in warnings.items:
        _log.warning("%s: %s", path.name, message)
    return texts


def read_page(
    reader: pypdf.PdfReader, pdf: pikepdf.Pdf, index: int, warnings: Warnings
) -> tuple[PageLayer, str]:
    """Page ``index`` walked (qpdf) and its text (pypdf), the text only when the walk found
    the content within bounds; text problems go to ``warnings``."""
    layer = walk_page(pdf.pages[index], index)
    return layer, page_text(reader, index, warnings, oversized=layer.oversized)


def page_layers(path: Path, *, max_pages: int = MAX_PAGES) -> list[PageLayer]:
    """The :class:`PageLayer` of each page (up to ``max_pages``): use ``.kind`` to decide
    born-digital vs scanned per page. Same errors as
    :func:`~archive_ingest.pdf.inspection.inspect_pdf`."""
    check_envelope(path)
    with open_pypdf(path, allow_encrypted=False), open_pikepdf(path) as pdf:
        return [walk_page(pdf.pages[i], i) for i in range(min(len(pdf.pages), max_pages))]


# --- the content walk ---------------------------------------------------------------------


Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _matrix(values: Iterable[pikepdf.Object]) -> Matrix:
    """Six PDF numbers as a matrix (the callers check that there are six)."""
    a, b, c, d, e, f = (float(v) for v in values)
    return (a, b, c, d, e, f)


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """m x n for PDF matrices [a b c d e f] (row vectors: m applied first)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def walk_page(page: pikepdf.Page, index: int) -> PageLayer:
    """Walk a page's content (and its forms) and count visible/invisible glyphs, images,
    image coverage and fonts used. Never raises for bad content: a page that cannot be parsed
    is returned as walked so far, with ``truncated`` set."""
    layer = PageLayer(index=index)
    try:
        box = [float(v) for v in page.mediabox]
        page_area = abs((box[2] - box[0]) * (box[3] - box[1])) or 1.0
        walker = _Walker(layer, page_area)
        walker.charge(page.obj.get("/Contents"))
        walker.walk(page.obj, pikepdf.parse_content_stream(page), IDENTITY, depth=0)
    except _Oversized:
        layer.oversized = layer.truncated = True
    except _Stop:
        layer.truncated = True
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        layer.truncated = True
    return layer


class _Stop(Exception):
    """A safety limit was hit."""


class _Oversized(_Stop):
    """The page's content is over ``MAX_CONTENT_BYTES``."""


def _streams(contents: Any) -> list[pikepdf.Stream]:
    if contents is None:
        return []
    items = contents if isinstance(contents, pikepdf.Array) else [contents]
    return [item for item in items if isinstance(item, pikepdf.Stream)]


def _stream_size(contents: Any) -> int:
    """The compressed size of ``contents`` as its ``/Length`` entries declare it."""
    total = 0
    for stream in _streams(contents):
        try:
            total += int(stream.get("/Length", 0))
        except (TypeError, ValueError):
            continue
    return total


class _Walker:
    def __init__(self, layer: PageLayer, page_area: float) -> None:
        self.layer = layer
        self.page_area = page_area
        self.operators = 0
        self.fonts_seen: set[str] = set()
        self.budget = MAX_CONTENT_BYTES  # decoded bytes the page's content may still use

    def charge(self, contents: Any) -> None:
        """Count ``contents`` against the page's budget before qpdf decodes it: its declared
        size, then what it decodes to. Raises ``_Oversized`` past the budget."""
        if _stream_size(contents) > MAX_CONTENT_BYTES:
            raise _Oversized
        for stream in _streams(contents):
            size = decoded_size(stream, self.budget)
            if size > self.budget:
                raise _Oversized
            self.budget -= size

    def walk(self, owner: Any, instructions: Any, ctm: Matrix, depth: int) -> None:
        resources = owner.get("/Resources", pikepdf.Dictionary())
        stack: list[tuple[Matrix, int, Any, bool]] = []
        mode = 0
        font: Any = None
        ocr_font = False
        for item in instructions:
            self.operators += 1
            if self.operators > MAX_OPERATORS:
                raise _Stop
            if isinstance(item, pikepdf.ContentStreamInlineImage):
                self.layer.images += 1
                self._cover(ctm)
                continue
            operands, op = item.operands, str(item.operator)
            if op == "q":
                stack.append((ctm, mode, font, ocr_font))
            elif op == "Q":
                if stack:
                    ctm, mode, font, ocr_font = stack.pop()
            elif op == "cm" and len(operands) == 6:
                ctm = _multiply(_matrix(operands), ctm)
            elif op == "Tr" and operands:
                mode = int(operands[0])
            elif op == "Tf" and operands:
                font = self._font(resources, operands[0])
                ocr_font = font is not None and any(
                    marker in str(font.get("/BaseFont", "")) for marker in OCR_FONT_MARKERS
                )
            elif op in ("Tj", "'", '"', "TJ") and operands:
                glyphs = self._glyphs(operands, op, font)
                if mode in VISIBLE_MODES:
                    self.layer.visible_glyphs += glyphs
                    if ocr_font:
                        self.layer.ocr_font_glyphs += glyphs
                elif mode in INVISIBLE_MODES:
                    self.layer.invisible_glyphs += glyphs
            elif op == "Do" and operands:
                self._do(resources, operands[0], ctm, depth)

    def _cover(self, ctm: Matrix) -> None:
        a, b, c, d, _, _ = ctm
        self.layer.image_coverage = max(
            self.layer.image_coverage, abs(a * d - b * c) / self.page_area
        )

    def _font(self, resources: Any, name: Any) -> Any:
        fonts = resources.get("/Font", pikepdf.Dictionary())
        font = fonts.get(str(name))
        if not isinstance(font, pikepdf.Dictionary):
            return None
        base = str(font.get("/BaseFont", name)).lstrip("/")
        if base not in self.fonts_seen:
            self.fonts_seen.add(base)
            self.layer.fonts.append(base)
            if not font_is_embedded(font):
                self.layer.unembedded_fonts.append(base)
        return font

    @staticmethod
    def _glyphs(operands: Any, op: str, font: Any) -> int:
        two_byte = font is not None and font.get("/Subtype") == "/Type0"
        if op == "TJ":
            count = sum(len(bytes(x)) for x in operands[0] if isinstance(x, pikepdf.String))
        else:
            count = len(bytes(operands[-1])) if isinstance(operands[-1], pikepdf.String) else 0
        return count // 2 if two_byte else count

    def _do(self, resources: Any, name: Any, ctm: Matrix, depth: int) -> None:
        xobject = resources.get("/XObject", pikepdf.Dictionary()).get(str(name))
        if not isinstance(xobject, pikepdf.Stream):
            return
        subtype = xobject.get("/Subtype")
        if subtype == "/Image":
            self.layer.images += 1
            self._cover(ctm)
        elif subtype == "/Form":
            if depth >= MAX_FORM_DEPTH:
                raise _Stop
            matrix = xobject.get("/Matrix")
            form_ctm = (
                _multiply(_matrix(matrix), ctm)
                if isinstance(matrix, pikepdf.Array) and len(matrix) == 6
                else ctm
            )
            self.charge(xobject)
            self.walk(xobject, pikepdf.parse_content_stream(xobject), form_ctm, depth + 1)


def font_is_embedded(font: Any) -> bool:
    """True when the font program is in the file (Type3 fonts are drawings, so always)."""
    if font.get("/Subtype") == "/Type3":
        return True
    if font.get("/Subtype") == "/Type0":
        descendants = font.get("/DescendantFonts")
        if not isinstance(descendants, pikepdf.Array) or len(descendants) == 0:
            return False
        font = descendants[0]
    descriptor = font.get("/FontDescriptor")
    if not isinstance(descriptor, pikepdf.Dictionary):
        return False
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
