"""The access copy: the cleaned copy with the fresh-OCR pages swapped in, then PDF/A-2b or plain.

Used by the OCR stage (``stage``) after the quality gate has chosen the pages to take.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pikepdf

from archive_ingest.errors import OcrError
from archive_ingest.ocr import engine
from archive_ingest.ocr.process import ProcessRun

_PDFA_PROBLEM_RE = re.compile(r"^\s*\[(?:unsupported|violation|error)\].*$", re.MULTILINE)


@dataclass(frozen=True)
class AccessCopy:
    path: Path
    format: Literal["PDF/A-2b", "PDF"]
    reason: str


def choose_access_copy(pdfa_run: ProcessRun, pdfa: Path, merged: Path) -> AccessCopy:
    """The PDF/A-2b file when OCRmyPDF made and approved one, else the plain assembled PDF."""
    if pdfa_run.returncode == 0 and pdfa.is_file() and is_pdfa_2b(pdfa):
        reason = "PDF/A-2b by OCRmyPDF's internal backend (pikepdf), no Ghostscript"
        return AccessCopy(pdfa, "PDF/A-2b", reason)
    problems = _PDFA_PROBLEM_RE.findall(pdfa_run.log_tail)
    detail = "; ".join(p.strip() for p in problems[:5]) or last_lines(pdfa_run.log_tail, 3)
    reason = (
        f"plain PDF: the internal PDF/A backend refused the file"
        f" ({engine.describe_exit(pdfa_run.returncode)}): {detail}. Ghostscript 10.0.0 is"
        " not used because it corrupts PDFs that already carry text"
    )
    return AccessCopy(merged, "PDF", reason)


def assemble(cleaned: Path, ocr_pdf: Path | None, fresh_pages: list[int], target: Path) -> None:
    """The cleaned copy with the fresh-OCR pages' contents/resources from the OCR output.

    Page objects stay those of the original, so outlines, links and named destinations keep
    pointing at them; only the page content (old invisible layer replaced by the new one) and
    the resources it needs are swapped.
    """
    with pikepdf.open(cleaned) as pdf:
        if fresh_pages and ocr_pdf is not None:
            with pikepdf.open(ocr_pdf) as ocr:
                if len(ocr.pages) != len(pdf.pages):
                    raise OcrError(
                        f"OCR output has {len(ocr.pages)} pages, the original {len(pdf.pages)}"
                    )
                for number in fresh_pages:
                    source = ocr.pages[number - 1].obj
                    page = pdf.pages[number - 1].obj
                    for key in ("/Contents", "/Resources"):
                        value = source.get(key)
                        if value is None:
                            continue
                        if not value.is_indirect:
                            value = ocr.make_indirect(value)
                        page[key] = pdf.copy_foreign(value)
                pdf.save(target)
        else:
            pdf.save(target)


def is_pdfa_2b(path: Path) -> bool:
    try:
        with pikepdf.open(path) as pdf:
            return pdf.open_metadata().pdfa_status == "2B"
    except pikepdf.PdfError:
        return False


def last_lines(text: str, count: int = 8) -> str:
    """The last ``count`` non-empty lines of a log (what an error message quotes)."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(lines[-count:])
