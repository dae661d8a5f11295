"""The OCR stage: an access copy with the best text layer per page, text, hOCR, a report.

Steps (the original is only ever read; everything happens on a private copy):

1. copy the original into a work folder (the item's ``HOME/work/<record-id>/tmp``, or
   ``HOME/tmp`` outside an ingest), classify its pages, read the
   old layer (``pages``);
2. choose Tesseract languages from the metadata and the old layer (``languages``);
3. clean the copy so the PDF/A step can accept it (``cleanup``);
4. OCR the scanned and text-less pages with ``ocrmypdf --mode redo`` in a separate,
   time-limited process group, inside a machine-wide slot (``process``, ``engine``);
5. per page, keep the old layer or take the fresh OCR (``gate``);
6. assemble: the cleaned copy, with the fresh pages' contents taken from the OCR output;
7. PDF/A-2b with OCRmyPDF's internal backend, or a plain PDF when it refuses (and why);
8. write the access copy, plain text, hOCR pages and ``ocr-report.json``; check that the
   original's SHA-256 did not change; record PREMIS events.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pikepdf

from archive_ingest.errors import OcrError, PdfError
from archive_ingest.models import Event
from archive_ingest.ocr import engine
from archive_ingest.ocr.cleanup import clean_for_pdfa
from archive_ingest.ocr.dictionary import Lexicon, WordList
from archive_ingest.ocr.gate import PageVerdict, decide_page
from archive_ingest.ocr.hocr import HocrPage, parse_hocr, scrub_image_path
from archive_ingest.ocr.hocr_plugin import HOCR_DIR_ENV
from archive_ingest.ocr.languages import (
    LanguageChoice,
    choose_languages,
    detect_languages,
    installed_languages,
    word_lists_for,
    word_lists_of_choice,
)
from archive_ingest.ocr.pages import PageLayer, analyse_pdf
from archive_ingest.ocr.process import ProcessRun, ocr_slot, run_process_group
from archive_ingest.ocr.result import OcrResult, PageFigures, PageReport
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.settings import Settings
from archive_ingest.workspace import work_folder

_SAFE_STEM_RE = re.compile(r"[^A-Za-z0-9._-]+")
_PDFA_PROBLEM_RE = re.compile(r"^\s*\[(?:unsupported|violation|error)\].*$", re.MULTILINE)


def run_ocr_stage(
    original: Path,
    out_dir: Path,
    languages: list[str],
    settings: Settings,
    *,
    original_sha256: str | None = None,
    scratch: Path | None = None,
) -> OcrResult:
    """OCR ``original`` into ``out_dir`` (see the module docstring).

    The work folder is made under ``scratch`` (default ``HOME/tmp``) and held while in use;
    one a killed run left there is swept by ``workspace.sweep_work_folders``.

    ``original_sha256`` is the digest computed when the original was fetched; the stage never
    hashes those bytes again (it only hashes them itself when called without it). That the
    original is untouched is checked by its file identity (inode, size, mtime) instead.

    Raises ``OcrError`` (OCR failed, timed out, no slot, no language) or ``PdfError`` (the
    PDF cannot be read or rewritten).
    """
    original = Path(original)
    out_dir = Path(out_dir)
    if not original.is_file():
        raise OcrError(f"original PDF not found: {original}")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = _safe_stem(original)
    rel_access, rel_text = f"access/{stem}.pdf", f"text/{stem}.txt"
    rel_report = "ocr/ocr-report.json"
    for rel in (rel_access, rel_text, rel_report):
        if (out_dir / rel).resolve() == original.resolve():
            raise OcrError(f"output {rel} would overwrite the original {original}")

    timings: dict[str, float] = {}
    t_stage = time.monotonic()
    sha_before = original_sha256 or _sha256(original)
    identity_before = _identity(original)
    # the work folder lives under HOME, not in out_dir: out_dir may be a package's payload
    # folder, and a killed process must not leave debris there
    with work_folder(scratch or settings.home / "tmp", "ocr-") as work:
        result = _run(original, out_dir, work, stem, languages, settings, timings)
    if _identity(original) != identity_before:  # cannot happen by construction; checked anyway
        raise OcrError(f"the original {original.name} changed during OCR: stop, investigate")
    timings["total"] = round(time.monotonic() - t_stage, 3)
    result.original_sha256 = sha_before
    result.timings = timings
    for event in result.events:
        if event.event_type == "transcription":
            event.outcome_detail["timings"] = timings
    _write_report(out_dir / rel_report, result)
    return result


def _run(
    original: Path,
    out_dir: Path,
    work: Path,
    stem: str,
    metadata_languages: list[str],
    settings: Settings,
    timings: dict[str, float],
) -> OcrResult:
    t0 = time.monotonic()
    warnings: list[str] = []
    source = work / "input.pdf"
    shutil.copyfile(original, source)
    layers = analyse_pdf(source)
    for layer in layers:
        warnings.extend(layer.warnings)

    dictionaries = word_lists_for(installed_languages())
    to_ocr = [layer.number for layer in layers if layer.kind != "born-digital"]
    choice = _choose_languages(metadata_languages, settings, layers, dictionaries)
    warnings.extend(choice.warnings)
    # the gate judges with the lists of the chosen languages that have one; a language without
    # one is still OCRed, and an archivist checks the item. With no list at all there is no
    # word signal, so the stage fails here (MissingWordList names the languages) before OCR.
    word_lists, unjudged = word_lists_of_choice(choice.tesseract)
    lexicon = Lexicon(word_lists)
    judged_with = [t for t in choice.tesseract if t not in unjudged]
    unjudged_reasons = [
        f"no word list for the OCR language {tess!r}: the quality gate judged the text with the"
        f" word lists of {', '.join(judged_with)} only, so the text in {tess} is unchecked"
        for tess in unjudged
    ]

    cleaned = work / "clean.pdf"
    try:
        cleanup = clean_for_pdfa(source, cleaned)
    except pikepdf.PdfError as exc:
        raise PdfError(f"{original.name}: pikepdf cannot rewrite the PDF ({exc})") from exc
    timings["analyse"] = round(time.monotonic() - t0, 3)

    versions = engine.engine_versions()
    ocr_opts = engine.ocr_options(choice.joined, to_ocr, settings.ocr_jobs) if to_ocr else []
    hocr_dir = work / "hocr"
    hocr_dir.mkdir()
    ocr_pdf = work / "ocr.pdf"
    env = _child_env(work, hocr_dir)
    log_path = work / "ocrmypdf.log"

    with ocr_slot(
        settings.home / "locks", settings.ocr_max_concurrent, timeout=settings.ocr_timeout_seconds
    ) as slot:
        # the hard timeout covers both child runs, not the wait for a slot
        deadline = time.monotonic() + settings.ocr_timeout_seconds
        fresh: dict[int, HocrPage] = {}
        if to_ocr:
            run = run_process_group(
                engine.command(ocr_opts, cleaned, ocr_pdf),
                timeout=max(1.0, deadline - time.monotonic()),
                log_path=log_path,
                cwd=work,
                env=env,
                pass_fds=(slot.fd,),
                what="OCR (ocrmypdf)",
            )
            timings["ocr"] = round(run.seconds, 3)
            if run.returncode != 0 or not ocr_pdf.is_file():
                raise OcrError(
                    f"OCRmyPDF failed on {original.name}: {engine.describe_exit(run.returncode)}"
                    f"\n{_last_lines(run.log_tail)}"
                )
            t1 = time.monotonic()
            fresh = _read_hocr(hocr_dir, to_ocr)
            timings["read_hocr"] = round(time.monotonic() - t1, 3)

        t2 = time.monotonic()
        verdicts = {
            layer.number: decide_page(
                layer.kind,
                layer.old_text,
                fresh.get(layer.number),
                lexicon.known,
            )
            for layer in layers
        }
        timings["gate"] = round(time.monotonic() - t2, 3)
        fresh_pages = [n for n, v in verdicts.items() if v.decision == "fresh-ocr"]
        merged = work / "merged.pdf"
        _assemble(cleaned, ocr_pdf if to_ocr else None, fresh_pages, merged)

        t3 = time.monotonic()
        pdfa = work / "pdfa.pdf"
        pdfa_run = run_process_group(
            engine.command(engine.pdfa_options(), merged, pdfa),
            timeout=max(1.0, deadline - time.monotonic()),
            log_path=work / "pdfa.log",
            cwd=work,
            env=env,
            pass_fds=(slot.fd,),
            what="PDF/A conversion (ocrmypdf)",
        )
        timings["pdfa"] = round(time.monotonic() - t3, 3)

    access = _choose_access_copy(pdfa_run, pdfa, merged)
    if access.format != "PDF/A-2b":
        warnings.append(access.reason)

    # --- outputs -----------------------------------------------------------------------------
    rel_access, rel_text = f"access/{stem}.pdf", f"text/{stem}.txt"
    _install(access.path, out_dir / rel_access)
    crashpoint("mid-ocr")
    kept_texts = [
        _kept_text(layer, verdicts[layer.number], fresh.get(layer.number)) for layer in layers
    ]
    _write_text(out_dir / rel_text, "\f".join(kept_texts) + "\n")
    hocr_paths = _install_hocr(hocr_dir, out_dir / "ocr", sorted(fresh))
    pages, review = _page_reports(layers, verdicts, set(fresh))
    review = unjudged_reasons + review
    warnings.extend(
        f"page {layer.number}: OCR produced no hOCR"
        for layer in layers
        if layer.kind != "born-digital" and layer.number not in fresh and to_ocr
    )

    result = OcrResult(
        access_path=rel_access,
        text_path=rel_text,
        hocr_paths=hocr_paths,
        report_path="ocr/ocr-report.json",
        access_format=access.format,
        access_format_reason=access.reason,
        languages=choice.tesseract,
        languages_without_word_list=unjudged,
        pages=pages,
        cleanup=cleanup.changes,
        warnings=warnings,
        needs_review_reasons=review,
        original_sha256="",
    )
    result.events = _events(
        result, choice, versions, ocr_opts, pdfa_run.returncode, word_lists=lexicon.names
    )
    return result


# --- helpers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AccessCopy:
    path: Path
    format: Literal["PDF/A-2b", "PDF"]
    reason: str


def _choose_access_copy(pdfa_run: ProcessRun, pdfa: Path, merged: Path) -> _AccessCopy:
    """The PDF/A-2b file when OCRmyPDF made and approved one, else the plain assembled PDF."""
    if pdfa_run.returncode == 0 and pdfa.is_file() and _is_pdfa_2b(pdfa):
        reason = "PDF/A-2b by OCRmyPDF's internal backend (pikepdf), no Ghostscript"
        return _AccessCopy(pdfa, "PDF/A-2b", reason)
    problems = _PDFA_PROBLEM_RE.findall(pdfa_run.log_tail)
    detail = "; ".join(p.strip() for p in problems[:5]) or _last_lines(pdfa_run.log_tail, 3)
    reason = (
        f"plain PDF: the internal PDF/A backend refused the file"
        f" ({engine.describe_exit(pdfa_run.returncode)}): {detail}. Ghostscript 10.0.0 is"
        " not used because it corrupts PDFs that already carry text"
    )
    return _AccessCopy(merged, "PDF", reason)


def _page_reports(
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


def _safe_stem(original: Path) -> str:
    stem = _SAFE_STEM_RE.sub("_", original.stem).strip("._-")
    return stem or "document"


def _identity(path: Path) -> tuple[int, int, int, int]:
    info = path.stat()
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _choose_languages(
    metadata: list[str],
    settings: Settings,
    layers: list[PageLayer],
    dictionaries: Mapping[str, WordList],
) -> LanguageChoice:
    installed = installed_languages()
    base = choose_languages(metadata, settings.ocr_fallback_languages, installed)
    # born-digital pages are excluded: SciELO's licence page is trilingual by design
    old_text = "\n".join(layer.old_text for layer in layers if layer.kind == "scanned")
    already = base.from_metadata
    detected = detect_languages(old_text, dictionaries, already)
    if not detected:
        return base
    choice = choose_languages(
        metadata, settings.ocr_fallback_languages, installed, detected=detected
    )
    if base.fallback_used:  # the text named the languages: use them instead of the fallback
        choice = choose_languages(metadata, detected, installed)
        choice.from_text = list(detected)
    return choice


def _child_env(work: Path, hocr_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    tmp = work / "tmp"
    tmp.mkdir(exist_ok=True)
    env.update(
        {
            HOCR_DIR_ENV: str(hocr_dir),
            "TMPDIR": str(tmp),  # OCRmyPDF's temporary folder stays inside our work folder
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _read_hocr(hocr_dir: Path, pages: list[int]) -> dict[int, HocrPage]:
    out = {}
    for number in pages:
        path = hocr_dir / f"page-{number:04d}.hocr"
        if path.is_file():
            out[number] = parse_hocr(path.read_bytes())
    return out


def _assemble(cleaned: Path, ocr_pdf: Path | None, fresh_pages: list[int], target: Path) -> None:
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


def _is_pdfa_2b(path: Path) -> bool:
    try:
        with pikepdf.open(path) as pdf:
            return pdf.open_metadata().pdfa_status == "2B"
    except pikepdf.PdfError:
        return False


def _install(source: Path, target: Path) -> None:
    """Copy into place atomically (a half-written access copy must never be seen)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _write_text(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def _install_hocr(hocr_dir: Path, target_dir: Path, pages: list[int]) -> list[str]:
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


def _kept_text(layer: PageLayer, verdict: PageVerdict, fresh: HocrPage | None) -> str:
    if verdict.decision == "fresh-ocr":
        return fresh.text if fresh is not None else ""
    return layer.old_text


def _last_lines(text: str, count: int = 8) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(lines[-count:])


def _write_report(path: Path, result: OcrResult) -> None:
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


def _events(
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
