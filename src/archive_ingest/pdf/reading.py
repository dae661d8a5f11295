"""Opening a PDF for reading, and a page's text.

Two readers, each for what it does best: pypdf for the document-level facts and the text
(``extract_text``, with its own decompression limits), pikepdf (qpdf, C++) for the fast
operator-level walk of content streams (:mod:`archive_ingest.pdf.pages`) and the object scan
(:mod:`archive_ingest.pdf.document`). Encrypted, truncated and corrupt files raise
:class:`~archive_ingest.errors.PdfError`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pikepdf
import pypdf
from pypdf.errors import PyPdfError

from archive_ingest.errors import PdfError
from archive_ingest.pdf.bounds import HEAD_BYTES, MAX_CONTENT_BYTES, TAIL_BYTES, Warnings


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
def open_pypdf(path: Path, *, allow_encrypted: bool) -> Iterator[pypdf.PdfReader]:
    """pypdf on an open file handle: given a *path*, pypdf reads the whole file into memory
    (1 GB PDF = +1 GB; bench/bench_rss.py), given a handle it seeks and reads what it needs."""
    with path.open("rb") as handle:
        yield checked_reader(handle, allow_encrypted=allow_encrypted)


def checked_reader(handle: BinaryIO, *, allow_encrypted: bool) -> pypdf.PdfReader:
    """A pypdf reader on ``handle``; an encrypted file is refused unless ``allow_encrypted``
    and it opens with an empty password."""
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


def page_count(reader: pypdf.PdfReader) -> int:
    try:
        return len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise PdfError(
            f"PDF is truncated or corrupt: its page tree cannot be read ({exc})"
        ) from None


def open_pikepdf(path: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(path)
    except pikepdf.PasswordError:
        raise PdfError("PDF is encrypted: it needs a password to open") from None
    except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
        raise PdfError(f"PDF is truncated or corrupt: {exc}") from None


def page_text(
    reader: pypdf.PdfReader, index: int, warnings: Warnings, *, oversized: bool = False
) -> str:
    """pypdf's text of page ``index`` ("" with a warning when it cannot be read). A page whose
    content is over ``MAX_CONTENT_BYTES`` (compressed here, or decoded: ``oversized``, as the
    content walk found) is not read."""
    try:
        page = reader.pages[index]
        size = _content_size(page)
        if size > MAX_CONTENT_BYTES:
            warnings.add(f"page {index + 1}: content of {size} bytes not read for text")
            return ""
        if oversized:
            warnings.add(
                f"page {index + 1}: content decodes to over {MAX_CONTENT_BYTES} bytes, "
                "not read for text"
            )
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


@contextmanager
def pypdf_warnings(warnings: Warnings) -> Iterator[None]:
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
