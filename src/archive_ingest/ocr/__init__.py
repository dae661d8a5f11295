"""Re-OCR with a per-page quality gate: access copy, plain text, hOCR, report, PREMIS events.

Entry point: :func:`run_ocr_stage`. See docs/OCR.md for the design and measured thresholds.
"""

from archive_ingest.ocr.quality import cer
from archive_ingest.ocr.result import OcrResult, PageFigures, PageReport
from archive_ingest.ocr.stage import run_ocr_stage

__all__ = ["OcrResult", "PageFigures", "PageReport", "cer", "run_ocr_stage"]
