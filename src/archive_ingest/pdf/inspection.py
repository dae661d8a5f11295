"""Look inside a PDF without changing it: structure, text layers, fonts, images, risks.

pypdf reads the document-level facts and the text, pikepdf (qpdf) walks each page's content
(:mod:`archive_ingest.pdf.pages`, the analysis the OCR stage uses too) and scans the objects
for JavaScript and embedded files (:mod:`archive_ingest.pdf.document`).

Hostile input is bounded (:mod:`archive_ingest.pdf.bounds`): per-page details stop after
``max_pages`` pages or ``time_budget`` seconds, a page's content is read only within
``MAX_CONTENT_BYTES`` (decoded as well as compressed), content walks stop after
``MAX_OPERATORS`` operators and ``MAX_FORM_DEPTH`` nested forms, the object scan after
``MAX_OBJECTS`` objects; each cut is noted in ``warnings``. Encrypted, truncated and corrupt
files raise :class:`~archive_ingest.errors.PdfError`.
"""

from __future__ import annotations

import time
from pathlib import Path

from archive_ingest.errors import PdfError
from archive_ingest.models import PdfInspection
from archive_ingest.pdf.bounds import MAX_PAGES, TIME_BUDGET_S, Warnings
from archive_ingest.pdf.document import document_info, pdf_version, scan_objects, xmp_packet
from archive_ingest.pdf.pages import PageLayer, read_page
from archive_ingest.pdf.reading import (
    check_envelope,
    open_pikepdf,
    open_pypdf,
    page_count,
    pypdf_warnings,
)


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
    warnings = Warnings()
    with pypdf_warnings(warnings):
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
    path: Path, warnings: Warnings, max_pages: int, time_budget: float, allow_encrypted: bool
) -> PdfInspection:
    with open_pypdf(path, allow_encrypted=allow_encrypted) as reader, open_pikepdf(path) as pdf:
        pages = page_count(reader)
        if pages != len(pdf.pages):
            warnings.add(
                f"pypdf counts {pages} pages, qpdf {len(pdf.pages)}: the page tree is damaged"
            )
        examined = min(pages, max_pages)
        if examined < pages:
            warnings.add(f"per-page details cover the first {examined} of {pages} pages")

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
            layer, text = read_page(reader, pdf, index, warnings)
            texts.append(text)
            if layer.truncated:
                warnings.add(f"page {index + 1}: content walk stopped at a safety limit")
            for font in layer.unembedded_fonts:
                warnings.add(f"page {index + 1}: font {font} is not embedded")
            layers.append(layer)

        flags = scan_objects(pdf, warnings)
        xmp = xmp_packet(pdf, warnings)
        for message in pdf.get_warnings():  # qpdf names the file by its local path: drop it
            warnings.add("qpdf: " + str(message).replace(str(path), path.name))
        chars = [_non_space(t) for t in texts]
        return PdfInspection(
            page_count=pages,
            pdf_version=pdf_version(reader, pdf),
            encrypted=reader.is_encrypted,
            text_chars_per_page=chars,
            pages_with_text=sum(1 for c in chars if c > 0),
            fonts_per_page=[layer.fonts for layer in layers],
            images_per_page=[layer.images for layer in layers],
            invisible_text_pages=[layer.index for layer in layers if layer.invisible_glyphs > 0],
            has_xmp=xmp is not None,
            xmp=xmp,
            info=document_info(reader, warnings),
            has_javascript=flags.javascript,
            has_embedded_files=flags.embedded_files,
            first_page_text=texts[0] if texts else "",
            warnings=warnings.items,
        )


def _non_space(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())
