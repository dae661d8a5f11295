"""What the OCR run hands back to ingest/ocr.py (paths relative to the output directory)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from archive_ingest.models import Event
from archive_ingest.ocr.quality import TextFigures


class PageFigures(BaseModel):
    """Ground-truth-free figures of one text layer of one page."""

    chars: int
    tokens: int
    word_tokens: int
    dictionary_ratio: float | None
    garbage_rate: float | None
    mean_word_confidence: float | None = None  # fresh OCR only

    @classmethod
    def of(cls, figures: TextFigures | None, confidence: float | None = None) -> PageFigures | None:
        if figures is None:
            return None
        return cls(
            chars=figures.chars,
            tokens=figures.tokens,
            word_tokens=figures.word_tokens,
            dictionary_ratio=_round(figures.dictionary_ratio),
            garbage_rate=_round(figures.garbage_rate),
            mean_word_confidence=_round(confidence, 1),
        )


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


class PageReport(BaseModel):
    """The gate's decision for one page and the figures behind it."""

    page: int  # 1-based
    kind: Literal["born-digital", "scanned", "no-text"]
    decision: Literal["kept-layer", "fresh-ocr", "born-digital"]
    reason: str
    old: PageFigures | None = None  # the original's layer
    new: PageFigures | None = None  # fresh OCR
    hocr: str | None = None  # relative path of the page's hOCR, when OCR ran on it
    needs_review: str | None = None


class OcrResult(BaseModel):
    """Outputs of ``run_ocr_stage``; every path is relative to its ``out_dir`` (POSIX)."""

    access_path: str  # access/<stem>.pdf
    text_path: str  # text/<stem>.txt
    hocr_paths: list[str] = Field(default_factory=list)  # ocr/page-0001.hocr ...
    report_path: str  # ocr/ocr-report.json
    access_format: Literal["PDF/A-2b", "PDF"]
    access_format_reason: str
    languages: list[str]  # Tesseract codes used, primary first
    # chosen languages the gate had no word list for (OCRed all the same; the item needs review)
    languages_without_word_list: list[str] = Field(default_factory=list)
    pages: list[PageReport]
    cleanup: list[str] = Field(default_factory=list)  # repairs made for PDF/A, if any
    events: list[Event] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    needs_review_reasons: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per step
    original_sha256: str

    @property
    def access_is_pdfa(self) -> bool:
        return self.access_format == "PDF/A-2b"

    def decisions(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for page in self.pages:
            counts[page.decision] = counts.get(page.decision, 0) + 1
        return counts
