"""``archive-ingest doctor`` and the check at the start of ``ingest``, as real subprocesses.

The failing cases use what this machine really lacks: a Tesseract model that is not installed
(``fra``), a language without a word list (``glg``), and a PATH without ``tesseract``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from archive_ingest.ocr.languages import installed_languages
from tests.support.cli import run_cli


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)  # ARCHIVE_INGEST_HOME and _CONFIG from the home fixture
    env.update(extra)
    return env


def _lines(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """stdout lines by check name ("word list por" -> "ok ...")."""
    out = {}
    for line in proc.stdout.splitlines():
        status, _stage, rest = line.split(None, 2)
        name, _, detail = rest.partition(": ")
        out[name] = f"{status} {detail}"
    return out


def test_doctor_passes_here_and_names_every_check(home: Path) -> None:
    proc = run_cli(_env(), "doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = _lines(proc)
    for lang in ("por", "spa", "eng"):
        assert lines[f"tesseract model {lang}"] == "ok installed"
        assert lines[f"word list {lang}"].startswith("ok ")
        assert "wordfreq" in lines[f"word list {lang}"]
    assert lines["tesseract"].startswith("ok tesseract 5")
    assert lines["weed (SeaweedFS)"].startswith("ok ")
    assert "all 10 checks passed" in proc.stderr


def test_doctor_fails_for_a_missing_model_and_a_missing_word_list(home: Path) -> None:
    assert "fra" not in installed_languages() and "glg" not in installed_languages()
    proc = run_cli(_env(ARCHIVE_INGEST_OCR_LANGUAGES=json.dumps(["fra", "glg"])), "doctor")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = _lines(proc)
    assert lines["tesseract model fra"] == (
        "MISSING not installed (Debian package tesseract-ocr-fra)"
    )
    assert lines["word list fra"].startswith("ok ")  # wordfreq has French
    assert lines["word list glg"].startswith("MISSING no word list for the OCR language 'glg'")
    assert lines["tesseract model eng"] == "ok installed"  # the fallback is still checked
    assert "3 of 10 checks failed" in proc.stderr


def test_doctor_without_tesseract_on_the_path(home: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("gs", "qpdf"):
        found = shutil.which(tool)
        assert found is not None, f"{tool} is needed for this test"
        (bin_dir / tool).symlink_to(found)
    proc = run_cli(_env(PATH=str(bin_dir)), "doctor")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = _lines(proc)
    assert lines["tesseract"] == (
        "MISSING tesseract not found on PATH (Debian package tesseract-ocr)"
    )
    assert lines["tesseract model por"] == "MISSING cannot be checked without tesseract"
    assert lines["ghostscript"].startswith("ok ")
    assert lines["word list por"].startswith("ok ")  # the word lists need no program


def test_optional_programs_are_reported_but_not_required(home: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tesseract").symlink_to(shutil.which("tesseract") or "/usr/bin/tesseract")
    proc = run_cli(_env(PATH=str(bin_dir)), "doctor")  # no gs, no qpdf
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = _lines(proc)
    assert lines["ghostscript"].startswith("absent gs not found on PATH")
    assert lines["qpdf"].startswith("absent qpdf not found on PATH")


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (["fra"], ["error: ocr: tesseract model fra: not installed"]),
        (["glg"], ["error: ocr: tesseract model glg:", "error: ocr: word list glg: no word list"]),
    ],
)
def test_ingest_refuses_before_starting_anything(
    home: Path, tmp_path: Path, languages: list[str], expected: list[str]
) -> None:
    pdf = tmp_path / "chapter.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    metadata = tmp_path / "meta.json"
    metadata.write_text(json.dumps({"title": "T", "creators": ["A"]}), encoding="utf-8")
    proc = run_cli(
        _env(ARCHIVE_INGEST_OCR_LANGUAGES=json.dumps(languages)),
        "ingest",
        f"file:{pdf}",
        "--metadata",
        str(metadata),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == len(expected), proc.stderr  # one line per missing piece
    for line, start in zip(errors, expected, strict=True):
        assert line.startswith(start), line
    assert proc.stdout == ""  # no item ran
    assert not (home / "storage").exists()  # the embedded storage was not started
    assert not (home / "work").exists()
