"""The OCR stage's outputs: installed atomically (access copy, text, hOCR pages, the report).

Every file is written next to its target as ``.<name>.part`` and renamed into place, so a
half-written output is never seen.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from archive_ingest.ocr.gate import PageVerdict
from archive_ingest.ocr.hocr import HocrPage, scrub_image_path
from archive_ingest.ocr.pages import PageLayer
from archive_ingest.ocr.result import OcrResult, PageFigures, PageReport


def page_reports(
    layers: list[PageLayer], verdicts: dict[int, PageVerdict], with_hocr: set[int]
) -> tuple[list[PageReport], list[str]]:
    """The per-page report entries, and the review reasons for poor kept text."""
    pages: list[PageReport] = []
    review: list[str] = []
    for layer in layers:
        verdict = verdicts[layer.number]
        pages.append(
            PageReport(
                page=layer.number,
                kind=layer.kind,
                decision=verdict.decision,
                reason=verdict.reason,
                old=PageFigures.of(verdict.old),
                new=PageFigures.of(verdict.new, verdict.new_mean_confidence),
                hocr=f"ocr/page-{layer.number:04d}.hocr" if layer.number in with_hocr else None,
                needs_review=verdict.review,
            )
        )
        if verdict.review:
            review.append(f"page {layer.number}: kept text looks poor ({verdict.review})")
    return pages, review


def install(source: Path, target: Path) -> None:
    """Copy into place atomically (a half-written access copy must never be seen)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def write_text(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def install_hocr(hocr_dir: Path, target_dir: Path, pages: list[int]) -> list[str]:
    target_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for number in pages:
        name = f"page-{number:04d}.hocr"
        data = scrub_image_path((hocr_dir / name).read_bytes(), f"page-{number:04d}")
        tmp = target_dir / f".{name}.part"
        tmp.write_bytes(data)
        os.replace(tmp, target_dir / name)
        out.append(f"ocr/{name}")
    return out


def kept_text(layer: PageLayer, verdict: PageVerdict, fresh: HocrPage | None) -> str:
    if verdict.decision == "fresh-ocr":
        return fresh.text if fresh is not None else ""
    return layer.old_text


def write_report(path: Path, result: OcrResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "access": {
            "path": result.access_path,
            "format": result.access_format,
            "reason": result.access_format_reason,
        },
        "text": result.text_path,
        "languages": result.languages,
        "languages_without_word_list": result.languages_without_word_list,
        "original_sha256": result.original_sha256,
        "cleanup": result.cleanup,
        "decisions": result.decisions(),
        "needs_review_reasons": result.needs_review_reasons,
        "warnings": result.warnings,
        "timings": result.timings,
        "pages": [page.model_dump(mode="json") for page in result.pages],
    }
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
