"""OCRmyPDF plugin (loaded in the OCR child process only): keep each page's hOCR.

OCRmyPDF runs Tesseract in hOCR mode and deletes the hOCR with its temporary folder. This
plugin wraps the built-in Tesseract engine and copies every page's hOCR to the folder named
by ``ARCHIVE_INGEST_HOCR_DIR`` as ``page-NNNN.hocr`` (1-based page number, taken from
OCRmyPDF's ``NNNNNN_`` work-file prefix). Everything else is the stock engine.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from ocrmypdf import hookimpl
from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOcrEngine

HOCR_DIR_ENV = "ARCHIVE_INGEST_HOCR_DIR"
_PAGE_PREFIX_RE = re.compile(r"^(\d{6})_")


class HocrKeepingTesseract(TesseractOcrEngine):
    """The stock Tesseract engine, plus a copy of each hOCR page into our folder."""

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options: Any) -> None:
        TesseractOcrEngine.generate_hocr(  # type: ignore[no-untyped-call]  # unannotated upstream
            input_file, output_hocr, output_text, options
        )
        target = os.environ.get(HOCR_DIR_ENV)
        match = _PAGE_PREFIX_RE.match(Path(output_hocr).name)
        if target and match:
            page = int(match.group(1))
            shutil.copyfile(output_hocr, Path(target) / f"page-{page:04d}.hocr")


@hookimpl
def get_ocr_engine(options: Any) -> TesseractOcrEngine | None:
    """Chosen before the built-in engine (plugins given on the command line are called first)."""
    if options is not None and getattr(options, "ocr_engine", "auto") not in ("auto", "tesseract"):
        return None
    return HocrKeepingTesseract()
