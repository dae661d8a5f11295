"""Look inside a PDF without changing it: structure, text layers, fonts, images, risks.

Two readers, each for what it does best: pypdf for the document-level facts and the text
(``extract_text``, with its own decompression limits), pikepdf (qpdf, C++) for the fast
operator-level walk of content streams that tells visible text from invisible OCR text
(text render mode 3), finds page-covering images and the fonts actually used, and for the
object scan that finds JavaScript and embedded files.

Hostile input is bounded: per-page details stop after ``max_pages`` pages or ``time_budget``
seconds, content walks stop after ``MAX_OPERATORS`` operators and ``MAX_FORM_DEPTH`` nested
forms, the object scan after ``MAX_OBJECTS`` objects; each cut is noted in ``warnings``.
Encrypted, truncated and corrupt files raise :class:`~archive_ingest.errors.PdfError`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pikepdf
import pypdf
from pypdf.errors import PyPdfError

from archive_ingest.errors import PdfError
from archive_ingest.models import PdfInspection

MAX_PAGES = 2000
TIME_BUDGET_S = 120.0
MAX_OPERATORS = 2_000_000  # per page, forms included
MAX_FORM_DEPTH = 8
MAX_OBJECTS = 500_000
MAX_CONTENT_BYTES = 64 * 1024 * 1024  # per page, compressed, before we even try
MAX_XMP_BYTES = 4 * 1024 * 1024
MAX_INFO_VALUE = 4096
MAX_WARNINGS = 50
TAIL_BYTES = 4096  # where %%EOF must appear
HEAD_BYTES = 1024  # where %PDF- must appear
COVER_FRACTION = 0.8  # an image covering this much of the page makes it a scan

# text render modes that paint glyphs (PDF 32000-1, 9.3.6); 3 = invisible, 7 = clip only
VISIBLE_MODES = frozenset({0, 1, 2, 4, 5, 6})

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


def inspect_pdf(
    path: Path,
    *,
    max_pages: int = MAX_PAGES,
    time_budget: float = TIME_BUDGET_S,
    allow_encrypted: bool = False,
) -> PdfInspection:
    """Inspect the PDF at ``path``.

    Raises :class:`PdfError` for a file that is not a PDF, is truncated or corrupt, or is
    encrypted (even when it opens without a password: the archive refuses encrypted masters).
    ``allow_encrypted=True`` instead returns the inspection with ``encrypted=True`` when the
    file opens with an empty password, so a report can show what was refused.
    """
    check_envelope(path)
    warnings = _Warnings()
    with _pypdf_warnings(warnings):
        try:
            return _inspect(path, warnings, max_pages, time_budget, allow_encrypted)
        except PdfError:
            raise
        except NotImplementedError as exc:
            raise PdfError(f"PDF uses a feature the readers cannot handle: {exc}") from None
        except (RecursionError, MemoryError):
            raise PdfError("PDF is too deeply nested or too large to inspect safely") from None
        except Exception as exc:  # hostile input must end in a reason, never a crash
            raise PdfError(
                f"PDF is damaged or unreadable ({type(exc).__name__}: {exc})"[:300]
            ) from None


def _inspect(
    path: Path, warnings: _Warnings, max_pages: int, time_budget: float, allow_encrypted: bool
) -> PdfInspection:
    with _open_pypdf(path, allow_encrypted=allow_encrypted) as reader, _open_pikepdf(path) as pdf:
        page_count = _page_count(reader)
        if page_count != len(pdf.pages):
            warnings.add(
                f"pypdf counts {page_count} pages, qpdf {len(pdf.pages)}: the page tree is damaged"
            )
        examined = min(page_count, max_pages)
        if examined < page_count:
            warnings.add(f"per-page details cover the first {examined} of {page_count} pages")

        texts: list[str] = []
        layers: list[PageLayer] = []
        started = time.monotonic()
        for index in range(examined):
            if time.monotonic() - started > time_budget:
                warnings.add(
                    f"per-page details stopped after {index} pages: time budget of "
                    f"{time_budget:.0f} s used up"
                )
                break
            texts.append(_page_text(reader, index, warnings))
            layer = walk_page(pdf.pages[index], index)
            if layer.truncated:
                warnings.add(f"page {index + 1}: content walk stopped at a safety limit")
            for font in layer.unembedded_fonts:
                warnings.add(f"page {index + 1}: font {font} is not embedded")
            layers.append(layer)

        flags = scan_objects(pdf, warnings)
        xmp = _xmp(pdf, warnings)
        for message in pdf.get_warnings():  # qpdf names the file by its local path: drop it
            warnings.add("qpdf: " + str(message).replace(str(path), path.name))
        chars = [_non_space(t) for t in texts]
        return PdfInspection(
            page_count=page_count,
            pdf_version=_version(reader, pdf),
            encrypted=reader.is_encrypted,
            text_chars_per_page=chars,
            pages_with_text=sum(1 for c in chars if c > 0),
            fonts_per_page=[layer.fonts for layer in layers],
            images_per_page=[layer.images for layer in layers],
            invisible_text_pages=[layer.index for layer in layers if layer.invisible_glyphs > 0],
            has_xmp=xmp is not None,
            xmp=xmp,
            info=_info(reader, warnings),
            has_javascript=flags.javascript,
            has_embedded_files=flags.embedded_files,
            first_page_text=texts[0] if texts else "",
            warnings=warnings.items,
        )


def page_texts(path: Path, *, max_pages: int = MAX_PAGES) -> list[str]:
    """pypdf's text of each page (up to ``max_pages``), as a reader of the text layer sees it
    (invisible OCR text included). Same errors as :func:`inspect_pdf`."""
    check_envelope(path)
    warnings = _Warnings()
    with _open_pypdf(path, allow_encrypted=False) as reader:
        count = _page_count(reader)
        texts = [_page_text(reader, i, warnings) for i in range(min(count, max_pages))]
    for message in warnings.items:
        _log.warning("%s: %s", path.name, message)
    return texts


def page_layers(path: Path, *, max_pages: int = MAX_PAGES) -> list[PageLayer]:
    """The :class:`PageLayer` of each page (up to ``max_pages``): use ``.kind`` to decide
    born-digital vs scanned per page. Same errors as :func:`inspect_pdf`."""
    check_envelope(path)
    with _open_pypdf(path, allow_encrypted=False), _open_pikepdf(path) as pdf:
        return [walk_page(pdf.pages[i], i) for i in range(min(len(pdf.pages), max_pages))]


# --- envelope and opening -------------------------------------------------------------------


def check_envelope(path: Path) -> None:
    """Cheap checks before any parser runs: exists, non-empty, ``%PDF-`` header near the start,
    ``%%EOF`` near the end (an interrupted download has none)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read(TAIL_BYTES)
    except FileNotFoundError:
        raise PdfError(f"PDF not found: {path.name}") from None
    except OSError as exc:
        raise PdfError(f"PDF cannot be read: {exc.strerror or exc}") from None
    if size == 0:
        raise PdfError("PDF is empty (0 bytes)")
    if b"%PDF-" not in head:
        raise PdfError("not a PDF: the file does not start with a %PDF- header")
    if b"%%EOF" not in tail:
        raise PdfError(
            "PDF is truncated or corrupt: no %%EOF end-of-file marker at the end "
            "(an interrupted download?)"
        )


@contextmanager
def _open_pypdf(path: Path, *, allow_encrypted: bool) -> Iterator[pypdf.PdfReader]:
    """pypdf on an open file handle: given a *path*, pypdf reads the whole file into memory
    (1 GB PDF = +1 GB; bench/bench_rss.py), given a handle it seeks and reads what it needs."""
    with path.open("rb") as handle:
        yield _checked_reader(handle, allow_encrypted=allow_encrypted)


def _checked_reader(handle: BinaryIO, *, allow_encrypted: bool) -> pypdf.PdfReader:
    try:
        reader = pypdf.PdfReader(handle, strict=False)
    except (PyPdfError, ValueError, KeyError, IndexError, RecursionError) as exc:
        raise PdfError(f"PDF is truncated or corrupt: {exc}") from None
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except (PyPdfError, NotImplementedError) as exc:
            raise PdfError(f"PDF is encrypted and cannot be opened: {exc}") from None
        if not opened:
            raise PdfError("PDF is encrypted: it needs a password to open")
        if not allow_encrypted:
            raise PdfError(
                "PDF is encrypted (it opens without a password, but use is restricted): "
                "the archive does not accept encrypted masters"
            )
    return reader


def _page_count(reader: pypdf.PdfReader) -> int:
    try:
        return len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise PdfError(
            f"PDF is truncated or corrupt: its page tree cannot be read ({exc})"
        ) from None


def _open_pikepdf(path: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(path)
    except pikepdf.PasswordError:
        raise PdfError("PDF is encrypted: it needs a password to open") from None
    except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
        raise PdfError(f"PDF is truncated or corrupt: {exc}") from None


def _page_text(reader: pypdf.PdfReader, index: int, warnings: _Warnings) -> str:
    try:
        page = reader.pages[index]
        size = _content_size(page)
        if size > MAX_CONTENT_BYTES:
            warnings.add(f"page {index + 1}: content of {size} bytes not read for text")
            return ""
        return page.extract_text() or ""
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        warnings.add(f"page {index + 1}: text cannot be extracted ({type(exc).__name__}: {exc})")
        return ""
    finally:
        # pypdf caches every object it resolved, image data included (extract_text looks at
        # each image's type): without this a PDF's images all end up in memory at once
        reader.resolved_objects.clear()


def _content_size(page: pypdf.PageObject) -> int:
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = contents if isinstance(contents, list) else [contents]
    total = 0
    for stream in streams:
        length = stream.get_object().get("/Length", 0)
        try:
            total += int(length.get_object() if hasattr(length, "get_object") else length)
        except (TypeError, ValueError):
            continue
    return total


# --- the content walk ---------------------------------------------------------------------


Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


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
        if _stream_size(page.obj.get("/Contents")) > MAX_CONTENT_BYTES:
            layer.truncated = True
            return layer
        walker.walk(page.obj, pikepdf.parse_content_stream(page), IDENTITY, depth=0)
    except _Stop:
        layer.truncated = True
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        layer.truncated = True
    return layer


class _Stop(Exception):
    """A safety limit was hit."""


def _stream_size(contents: Any) -> int:
    if contents is None:
        return 0
    streams = contents if isinstance(contents, pikepdf.Array) else [contents]
    total = 0
    for stream in streams:
        if isinstance(stream, pikepdf.Stream):
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

    def walk(self, owner: Any, instructions: Any, ctm: Matrix, depth: int) -> None:
        resources = owner.get("/Resources", pikepdf.Dictionary())
        stack: list[tuple[Matrix, int, Any]] = []
        mode = 0
        font: Any = None
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
                stack.append((ctm, mode, font))
            elif op == "Q":
                if stack:
                    ctm, mode, font = stack.pop()
            elif op == "cm" and len(operands) == 6:
                ctm = _multiply(tuple(float(v) for v in operands), ctm)  # type: ignore[arg-type]
            elif op == "Tr" and operands:
                mode = int(operands[0])
            elif op == "Tf" and operands:
                font = self._font(resources, operands[0])
            elif op in ("Tj", "'", '"', "TJ") and operands:
                glyphs = self._glyphs(operands, op, font)
                if mode in VISIBLE_MODES:
                    self.layer.visible_glyphs += glyphs
                elif mode in (3, 7):
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
                _multiply(tuple(float(v) for v in matrix), ctm)  # type: ignore[arg-type]
                if isinstance(matrix, pikepdf.Array) and len(matrix) == 6
                else ctm
            )
            if _stream_size(xobject) > MAX_CONTENT_BYTES:
                raise _Stop
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


# --- document-level facts ----------------------------------------------------------------


@dataclass
class ObjectFlags:
    javascript: bool = False
    embedded_files: bool = False
    open_action: bool = False


def scan_objects(pdf: pikepdf.Pdf, warnings: _Warnings | None = None) -> ObjectFlags:
    """Find JavaScript (``/JS``, ``/S /JavaScript``, a ``/JavaScript`` name tree) and embedded
    files (``/EmbeddedFiles`` tree, ``/EF`` file specs, file-attachment annotations) anywhere in
    the file, plus the catalogue's ``/OpenAction``. Bounded by ``MAX_OBJECTS``."""
    warnings = warnings if warnings is not None else _Warnings()
    flags = ObjectFlags()
    root = pdf.Root
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        flags.javascript |= "/JavaScript" in names
        flags.embedded_files |= "/EmbeddedFiles" in names
    open_action = root.get("/OpenAction")
    if open_action is not None:
        flags.open_action = True
        kind = open_action.get("/S") if isinstance(open_action, pikepdf.Dictionary) else None
        warnings.add(f"document has an /OpenAction ({kind or 'go to a page'})")
    for count, obj in enumerate(_dictionaries(pdf)):
        if count >= MAX_OBJECTS:
            warnings.add(f"object scan stopped after {MAX_OBJECTS} objects")
            break
        if "/JS" in obj or obj.get("/S") == "/JavaScript":
            flags.javascript = True
        if "/EF" in obj or obj.get("/Subtype") in ("/FileAttachment", "/EmbeddedFile"):
            flags.embedded_files = True
        if flags.javascript and flags.embedded_files:
            break
    return flags


def _dictionaries(pdf: pikepdf.Pdf) -> Iterator[Any]:
    """Every dictionary and stream of the file: the indirect objects and the direct
    dictionaries nested in them (an annotation's ``/A`` action is usually direct)."""
    try:
        for obj in pdf.objects:
            yield from _nested(obj, 0)
    except (pikepdf.PdfError, RuntimeError):
        return


def _nested(obj: Any, depth: int) -> Iterator[Any]:
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        yield obj
        children: Any = obj.values()
    elif isinstance(obj, pikepdf.Array):
        children = obj
    else:
        return
    if depth >= MAX_FORM_DEPTH:
        return
    for child in children:
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect:
            yield from _nested(child, depth + 1)


def _xmp(pdf: pikepdf.Pdf, warnings: _Warnings) -> str | None:
    metadata = pdf.Root.get("/Metadata")
    if not isinstance(metadata, pikepdf.Stream):
        return None
    try:
        length = int(metadata.get("/Length", 0))
        if length > MAX_XMP_BYTES:
            warnings.add(f"XMP packet of {length} bytes not read (limit {MAX_XMP_BYTES})")
            return None
        data = metadata.read_bytes()
    except (pikepdf.PdfError, ValueError, TypeError) as exc:
        warnings.add(f"XMP packet cannot be read: {exc}")
        return None
    return data[:MAX_XMP_BYTES].decode("utf-8", errors="replace")


def _info(reader: pypdf.PdfReader, warnings: _Warnings) -> dict[str, str]:
    try:
        info = reader.metadata
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        warnings.add(f"document info cannot be read: {exc}")
        return {}
    if not info:
        return {}
    out: dict[str, str] = {}
    for key, value in list(info.items())[:100]:
        try:
            text = str(value.get_object() if hasattr(value, "get_object") else value)
        except (PyPdfError, ValueError):
            continue
        out[str(key).lstrip("/")] = text[:MAX_INFO_VALUE]
    return out


def _version(reader: pypdf.PdfReader, pdf: pikepdf.Pdf) -> str | None:
    """The effective version: the header's, or the catalogue's /Version when higher."""
    header = reader.pdf_header.removeprefix("%PDF-").strip() or None
    catalog = pdf.Root.get("/Version")
    if isinstance(catalog, pikepdf.Name):
        declared = str(catalog).lstrip("/")
        if header is None or _version_key(declared) > _version_key(header):
            return declared
    return header


def _version_key(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in value.split("."))
    except ValueError:
        return (0,)


def _non_space(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


@contextmanager
def _pypdf_warnings(warnings: _Warnings) -> Iterator[None]:
    """Collect what pypdf logs about this file (e.g. "incorrect startxref pointer") from this
    thread only, so concurrent inspections do not mix their warnings."""
    thread = threading.get_ident()

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread:
                warnings.add(f"pypdf: {record.getMessage()}")

    handler = _Collect(level=logging.WARNING)
    logger = logging.getLogger("pypdf")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


class _Warnings:
    """An ordered, de-duplicated list of warnings, capped at ``MAX_WARNINGS``."""

    def __init__(self) -> None:
        self._items: list[str] = []
        self._dropped = 0

    def add(self, message: str) -> None:
        if message in self._items:
            return
        if len(self._items) >= MAX_WARNINGS:
            self._dropped += 1
            return
        self._items.append(message)

    @property
    def items(self) -> list[str]:
        if self._dropped:
            return [*self._items, f"... and {self._dropped} more warnings"]
        return list(self._items)
