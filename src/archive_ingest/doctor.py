"""Is this machine ready? Every external program and data file the configured stages need.

``archive-ingest doctor`` prints one line per check; ``ingest``, ``harvest`` and ``demo`` run
the same checks for the stages they need before they start, and refuse with one line per
missing piece. A stage that would run without one of them would not fail: it would silently
do worse (OCR in the wrong language, a quality gate without its word signal), so the check
comes first.

What is checked, and for which stage:

- ``ocr``: ``tesseract`` (its version), Tesseract's model (traineddata) and a word list
  (``ocr/dictionary.py``) for each language in ``ocr_languages`` and ``ocr_fallback_languages``.
  Ghostscript and qpdf are reported but optional: the stage runs without them (OCRmyPDF
  rasterises with pypdfium2, PDF/A comes from its internal backend, pikepdf carries qpdf's
  library); they help a person inspect a PDF by hand. unpaper and pngquant are not used
  (no ``--clean``, ``--optimize 0``) and not checked.
- ``storage``: the SeaweedFS ``weed`` binary, when the embedded storage is used.

Pure except for the probes (``shutil.which``, ``--version`` runs, ``tesseract --list-langs``,
loading the word lists), which never raise: every problem becomes a failed ``Check``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.ocr.dictionary import MissingWordList
from archive_ingest.ocr.languages import to_tesseract, word_list_for
from archive_ingest.settings import Settings
from archive_ingest.storage.weed_process import find_weed

STAGES = ("ocr", "storage")
VERSION_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Check:
    """One probe: what was checked, for which stage, and what was found (or how to fix it)."""

    stage: str
    name: str
    ok: bool
    detail: str
    required: bool = True  # an optional one that fails is reported, not refused

    def line(self) -> str:
        status = "ok" if self.ok else ("MISSING" if self.required else "absent")
        return f"{status:7} {self.stage:7} {self.name}: {self.detail}"


def configured_languages(settings: Settings) -> list[str]:
    """The Tesseract languages the settings name (expected ones first, then the fallback)."""
    out: list[str] = []
    for code in [*settings.ocr_languages, *settings.ocr_fallback_languages]:
        tess = to_tesseract(code) or code
        if tess not in out:
            out.append(tess)
    return out


def run_checks(settings: Settings, stages: Iterable[str] = STAGES) -> list[Check]:
    """Every check the given stages need, in a stable order."""
    wanted = set(stages)
    unknown = wanted - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; known: {list(STAGES)}")
    checks: list[Check] = []
    if "ocr" in wanted:
        checks.extend(ocr_checks(configured_languages(settings)))
    if "storage" in wanted and settings.embedded_storage:
        checks.append(weed_check())
    return checks


def failures(checks: Sequence[Check]) -> list[Check]:
    """The required checks that failed (what makes ``doctor`` exit 1 and ``ingest`` refuse)."""
    return [c for c in checks if c.required and not c.ok]


def ocr_checks(languages: Sequence[str]) -> list[Check]:
    checks = [
        _program_check("ocr", "tesseract", ["tesseract", "--version"], "tesseract-ocr"),
        _program_check("ocr", "ghostscript", ["gs", "--version"], "ghostscript", required=False),
        _program_check("ocr", "qpdf", ["qpdf", "--version"], "qpdf", required=False),
    ]
    installed = _tesseract_languages() if checks[0].ok else None
    for tess in languages:
        name = f"tesseract model {tess}"
        if installed is None:
            checks.append(Check("ocr", name, False, "cannot be checked without tesseract"))
        elif tess in installed:
            checks.append(Check("ocr", name, True, "installed"))
        else:
            package = f"tesseract-ocr-{tess.replace('_', '-')}"
            checks.append(Check("ocr", name, False, f"not installed (Debian package {package})"))
        checks.append(_word_list_check(tess))
    return checks


def weed_check() -> Check:
    try:
        path = find_weed()
    except ArchiveIngestError as exc:
        return Check("storage", "weed (SeaweedFS)", False, str(exc))
    return Check("storage", "weed (SeaweedFS)", True, str(path))


def _word_list_check(tess: str) -> Check:
    name = f"word list {tess}"
    try:
        words = word_list_for(tess)
    except MissingWordList as exc:
        return Check("ocr", name, False, str(exc))
    return Check("ocr", name, True, f"{len(words)} words ({words.source})")


def _program_check(
    stage: str, name: str, argv: list[str], package: str, *, required: bool = True
) -> Check:
    def failed(detail: str) -> Check:
        return Check(stage, name, False, detail, required)

    if shutil.which(argv[0]) is None:
        return failed(f"{argv[0]} not found on PATH (Debian package {package})")
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=VERSION_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return failed(f"{argv[0]} does not run: {exc}")
    if proc.returncode != 0:
        return failed(f"{' '.join(argv)} exited with {proc.returncode}")
    first = (proc.stdout or proc.stderr).strip().splitlines()[:1]
    return Check(stage, name, True, first[0] if first else "runs", required)


def _tesseract_languages() -> frozenset[str] | None:
    """``tesseract --list-langs`` now (not cached: doctor must see what is there)."""
    try:
        proc = subprocess.run(
            ["tesseract", "--list-langs"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (proc.stdout + "\n" + proc.stderr).splitlines()
    return frozenset(ln.strip() for ln in lines if ln.strip() and " " not in ln.strip())
