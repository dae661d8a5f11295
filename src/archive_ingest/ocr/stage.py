"""The OCR stage: an access copy with the best text layer per page, text, hOCR, a report.

Steps (the original is only ever read; everything happens on a private copy):

1. copy the original into a work folder (the item's ``HOME/work/<record-id>/tmp``, or
   ``HOME/tmp`` outside an ingest), classify its pages, read the
   old layer (``pages``);
2. choose Tesseract languages from the metadata and the old layer (``languages``);
3. clean the copy so the PDF/A step can accept it (``cleanup``);
4. OCR the scanned and text-less pages with ``ocrmypdf --mode redo`` in a worker of the OCR
   pool (a long-lived process group of its own, hard time limit), inside a machine-wide slot
   (``pool``, ``process``, ``engine``);
5. per page, keep the old layer or take the fresh OCR (``gate``);
6. assemble: the cleaned copy, with the fresh pages' contents taken from the OCR output
   (``access_copy``);
7. PDF/A-2b with OCRmyPDF's internal backend, or a plain PDF when it refuses (and why)
   (``access_copy``);
8. write the access copy, plain text, hOCR pages and ``ocr-report.json`` (``outputs``); check
   that the original's SHA-256 did not change; record PREMIS events (``events``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import pikepdf

from archive_ingest.errors import OcrError, PdfError
from archive_ingest.ocr import engine
from archive_ingest.ocr.access_copy import assemble, choose_access_copy, last_lines
from archive_ingest.ocr.cleanup import clean_for_pdfa
from archive_ingest.ocr.dictionary import Lexicon, WordList
from archive_ingest.ocr.events import ocr_events
from archive_ingest.ocr.gate import decide_page
from archive_ingest.ocr.hocr import HocrPage, parse_hocr
from archive_ingest.ocr.hocr_plugin import HOCR_DIR_ENV
from archive_ingest.ocr.languages import (
    LanguageChoice,
    choose_languages,
    detect_languages,
    installed_languages,
    word_lists_for,
    word_lists_of_choice,
)
from archive_ingest.ocr.outputs import (
    install,
    install_hocr,
    kept_text,
    page_reports,
    write_report,
    write_text,
)
from archive_ingest.ocr.pages import PageLayer, analyse_pdf
from archive_ingest.ocr.pool import get_pool
from archive_ingest.ocr.process import ocr_slot
from archive_ingest.ocr.result import OcrResult
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.settings import Settings
from archive_ingest.workspace import work_folder

_SAFE_STEM_RE = re.compile(r"[^A-Za-z0-9._-]+")


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
    write_report(out_dir / rel_report, result)
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
    pool = get_pool(settings)
    pool.prestart()  # the workers import OCRmyPDF while we wait for a slot

    with ocr_slot(
        settings.home / "locks", settings.ocr_max_concurrent, timeout=settings.ocr_timeout_seconds
    ):
        # the hard timeout covers both runs, not the wait for a slot. The slot is held here,
        # not by the workers: a worker kills itself when this process dies (worker.py)
        deadline = time.monotonic() + settings.ocr_timeout_seconds
        fresh: dict[int, HocrPage] = {}
        if to_ocr:
            run = pool.run(
                engine.arguments(ocr_opts, cleaned, ocr_pdf),
                timeout=max(1.0, deadline - time.monotonic()),
                log_path=log_path,
                cwd=work,
                env=env,
                what="OCR (ocrmypdf)",
            )
            timings["ocr"] = round(run.seconds, 3)
            if run.returncode != 0 or not ocr_pdf.is_file():
                raise OcrError(
                    f"OCRmyPDF failed on {original.name}: {engine.describe_exit(run.returncode)}"
                    f"\n{last_lines(run.log_tail)}"
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
        assemble(cleaned, ocr_pdf if to_ocr else None, fresh_pages, merged)

        t3 = time.monotonic()
        pdfa = work / "pdfa.pdf"
        pdfa_run = pool.run(
            engine.arguments(engine.pdfa_options(), merged, pdfa),
            timeout=max(1.0, deadline - time.monotonic()),
            log_path=work / "pdfa.log",
            cwd=work,
            env=env,
            what="PDF/A conversion (ocrmypdf)",
        )
        timings["pdfa"] = round(time.monotonic() - t3, 3)

    access = choose_access_copy(pdfa_run, pdfa, merged)
    if access.format != "PDF/A-2b":
        warnings.append(access.reason)

    # --- outputs -----------------------------------------------------------------------------
    rel_access, rel_text = f"access/{stem}.pdf", f"text/{stem}.txt"
    install(access.path, out_dir / rel_access)
    crashpoint("mid-ocr")
    kept_texts = [
        kept_text(layer, verdicts[layer.number], fresh.get(layer.number)) for layer in layers
    ]
    write_text(out_dir / rel_text, "\f".join(kept_texts) + "\n")
    hocr_paths = install_hocr(hocr_dir, out_dir / "ocr", sorted(fresh))
    pages, review = page_reports(layers, verdicts, set(fresh))
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
    result.events = ocr_events(
        result, choice, versions, ocr_opts, pdfa_run.returncode, word_lists=lexicon.names
    )
    return result


# --- helpers -----------------------------------------------------------------------------------


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
    # no Prefect settings: the local API's credential is no business of OCRmyPDF, Tesseract
    # or Ghostscript, which parse untrusted PDFs
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
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
