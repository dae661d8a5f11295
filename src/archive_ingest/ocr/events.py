"""The PREMIS events the OCR stage reports: the transcription and the normalisation."""

from __future__ import annotations

from archive_ingest.models import Event
from archive_ingest.ocr import engine
from archive_ingest.ocr.languages import LanguageChoice
from archive_ingest.ocr.result import OcrResult


def ocr_events(
    result: OcrResult,
    choice: LanguageChoice,
    versions: engine.EngineVersions,
    ocr_opts: list[str],
    pdfa_returncode: int,
    *,
    word_lists: list[str],
) -> list[Event]:
    decisions = result.decisions()
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(decisions.items()))
    transcription = Event(
        event_type="transcription",
        outcome="warning" if result.needs_review_reasons else "success",
        detail=(
            f"Per-page OCR with OCRmyPDF {versions.ocrmypdf} and Tesseract {versions.tesseract}"
            f" ({choice.joined}); quality gate kept the better text layer per page ({summary})"
            + (
                f"; no word list for {', '.join(result.languages_without_word_list)}: the gate"
                " could not judge text in it, review needed"
                if result.languages_without_word_list
                else ""
            )
        ),
        outcome_detail={
            "engine": versions.as_dict(),
            "languages": {
                "tesseract": choice.tesseract,
                "from_metadata": choice.from_metadata,
                "from_text": choice.from_text,
                "fallback_used": choice.fallback_used,
                "without_word_list": result.languages_without_word_list,
            },
            "options": ocr_opts,
            "word_lists": word_lists,  # what the quality gate judged the text layers with
            "decisions": decisions,
            "pages": [
                {"page": p.page, "kind": p.kind, "decision": p.decision} for p in result.pages
            ],
            "needs_review": result.needs_review_reasons,
        },
        agent=f"OCRmyPDF {versions.ocrmypdf}; Tesseract {versions.tesseract}",
        # a PDF whose pages all kept their layer has no per-page OCR files to point at
        object_roles=["original", "access", "text"]
        + (["ocr-page"] if result.hocr_paths else [])
        + ["ocr-report"],
    )
    normalization = Event(
        event_type="normalization",
        outcome="success" if result.access_is_pdfa else "warning",
        detail=(
            "Access copy created as PDF/A-2b (OCRmyPDF internal PDF/A backend, no Ghostscript)"
            if result.access_is_pdfa
            else "Access copy created as a plain PDF: PDF/A-2b was not possible"
        ),
        outcome_detail={
            "format": result.access_format,
            "reason": result.access_format_reason,
            "cleanup": result.cleanup,
            "options": engine.pdfa_options(),
            "exit_code": pdfa_returncode,
        },
        agent=f"OCRmyPDF {versions.ocrmypdf}; pikepdf {versions.pikepdf}",
        object_roles=["original", "access"],
    )
    return [transcription, normalization]
