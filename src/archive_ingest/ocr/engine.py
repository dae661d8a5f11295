"""The OCRmyPDF command lines this stage runs, and the versions it records.

Two runs, both in a worker of the OCR pool (``pool``), which runs OCRmyPDF's command line
in-process with exactly these arguments, as ``python -m ocrmypdf`` (``command``) would:

1. OCR: ``--mode redo`` on the pages that are scanned or have no text. Redo mode replaces only
   invisible OCR text and keeps page images byte-for-byte (``--force-ocr`` would rasterise and
   re-encode them). ``--output-type pdf`` because OCRmyPDF refuses redo mode with
   Ghostscript 10.0.0–10.02.0 for PDF/A; ``-O 0`` so no image is recompressed. Our plugin keeps
   each page's hOCR.
2. PDF/A: ``--ocr-engine none --mode skip --output-type pdfa-2 --pdfa-backend internal -O 0``
   on the assembled access copy: OCRmyPDF adds the PDF/A declarations with pikepdf and checks
   them with pikepdf's validator, without Ghostscript and without touching images. Exit
   code 10 means the validator did not approve the file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from archive_ingest.errors import OcrError

PLUGIN_MODULE = "archive_ingest.ocr.hocr_plugin"
EXIT_CODES: dict[int, str] = {
    1: "bad arguments",
    2: "the input file is not a usable PDF",
    3: "a required program is missing",
    4: "the output PDF is invalid",
    5: "a file could not be read or written",
    6: "the file already has text",
    7: "a helper program (tesseract, gs, ...) failed",
    8: "the PDF is encrypted",
    9: "invalid configuration",
    10: "PDF/A conversion failed",
    15: "unexpected error",
    130: "interrupted",
}


@dataclass(frozen=True)
class EngineVersions:
    ocrmypdf: str
    tesseract: str
    pikepdf: str

    def as_dict(self) -> dict[str, str]:
        return {"ocrmypdf": self.ocrmypdf, "tesseract": self.tesseract, "pikepdf": self.pikepdf}


@lru_cache(maxsize=1)
def engine_versions() -> EngineVersions:
    try:
        proc = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        raise OcrError(f"tesseract is not usable: {exc}") from exc
    first = (proc.stdout or proc.stderr).splitlines()[:1]
    tesseract = first[0].split()[-1] if first else "unknown"
    return EngineVersions(
        ocrmypdf=metadata.version("ocrmypdf"),
        tesseract=tesseract,
        pikepdf=metadata.version("pikepdf"),
    )


def page_list(numbers: Sequence[int]) -> str:
    """1-based page numbers as OCRmyPDF's ``--pages`` wants them ("2-4,7")."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(set(numbers)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def ocr_options(languages: str, pages: Sequence[int], jobs: int) -> list[str]:
    """The options of the OCR run (recorded in the PREMIS event, so no paths here)."""
    return [
        "--plugin",
        PLUGIN_MODULE,
        "--mode",
        "redo",
        "--pages",
        page_list(pages),
        "--output-type",
        "pdf",
        "--optimize",
        "0",
        "--language",
        languages,
        "--jobs",
        str(jobs),
        "--invalidate-digital-signatures",
    ]


def pdfa_options() -> list[str]:
    return [
        "--ocr-engine",
        "none",
        "--mode",
        "skip",
        "--output-type",
        "pdfa-2",
        "--pdfa-backend",
        "internal",
        "--optimize",
        "0",
        "--jobs",
        "1",
        "--invalidate-digital-signatures",
    ]


def arguments(options: Sequence[str], input_pdf: Path, output_pdf: Path) -> list[str]:
    """OCRmyPDF's argument list (what a pool worker runs, and ``command`` after the program)."""
    return [*options, str(input_pdf), str(output_pdf)]


def command(options: Sequence[str], input_pdf: Path, output_pdf: Path) -> list[str]:
    """The same run as a command line of its own (``python -m ocrmypdf``)."""
    return [sys.executable, "-m", "ocrmypdf", *arguments(options, input_pdf, output_pdf)]


def describe_exit(code: int) -> str:
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code} ({EXIT_CODES.get(code, 'unknown')})"
