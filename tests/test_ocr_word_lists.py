"""The gate's word lists come with the package, not from the operating system.

The decisive test runs the real OCR stage in a child process whose mount namespace has an empty
folder over /usr/share/hunspell (and the myspell folders): the gate must still replace a badly
damaged English layer whose errors are non-words ("frorn", "tlie") more than odd characters.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archive_ingest.ocr.dictionary import MissingWordList, load_word_list, word_list_languages
from archive_ingest.ocr.languages import word_list_for, word_lists_for

SYSTEM_DICTIONARY_DIRS = ("/usr/share/hunspell", "/usr/share/myspell")

# Runs in the child: a generated English chapter with a heavily damaged layer on its scanned
# pages (seed 1, page 4: without a word signal the gate kept it, CER 19 %), through the stage.
_STAGE_SCRIPT = """
import json, sys
from pathlib import Path
from archive_ingest.ocr import cer, run_ocr_stage
from archive_ingest.samples import make_sample_chapter
from archive_ingest.settings import Settings

work = Path(sys.argv[1])
hidden = [p for p in sys.argv[2:] if Path(p).is_dir() and any(Path(p).iterdir())]
sample = make_sample_chapter(
    work / "chapter.pdf", language="en", damage="heavy", scanned_pages=3, seed=1
)
result = run_ocr_stage(
    work / "chapter.pdf", work / "out", ["en"], Settings(home=work / "home", ocr_jobs=1)
)
kept = (work / "out" / result.text_path).read_text(encoding="utf-8").split("\\f")
print(json.dumps({
    "visible_system_dictionaries": hidden,
    "pages": [
        {
            "page": i + 1,
            "decision": result.pages[i].decision,
            "reason": result.pages[i].reason,
            "ratio_old": result.pages[i].old.dictionary_ratio if result.pages[i].old else None,
            "cer_kept": cer(sample.true_texts[i], kept[i]),
        }
        for i in sample.scanned_pages
    ],
}))
"""


def _run_with_system_dictionaries_hidden(
    tmp_path: Path, argv: list[str]
) -> subprocess.CompletedProcess[str]:
    """``argv`` in its own mount namespace, an empty folder over every system dictionary dir."""
    unshare = shutil.which("unshare")
    assert unshare is not None, "unshare (util-linux) is needed to hide the system dictionaries"
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    binds = [f"mount --bind {empty} {d}" for d in SYSTEM_DICTIONARY_DIRS if Path(d).is_dir()]
    command = " && ".join([*binds, 'exec "$@"'])
    return subprocess.run(
        [unshare, "--mount", "--propagation", "private", "sh", "-c", command, "sh", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).parent.parent,
    )


@pytest.mark.slow
def test_gate_replaces_a_damaged_layer_with_the_system_dictionaries_hidden(
    tmp_path: Path,
) -> None:
    script = tmp_path / "stage.py"
    script.write_text(_STAGE_SCRIPT, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    proc = _run_with_system_dictionaries_hidden(
        tmp_path, [sys.executable, str(script), str(work), *SYSTEM_DICTIONARY_DIRS]
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["visible_system_dictionaries"] == []  # the child really saw none
    pages = {p["page"]: p for p in report["pages"]}
    assert pages[4]["decision"] == "fresh-ocr", pages[4]
    assert pages[4]["ratio_old"] is not None and pages[4]["ratio_old"] < 0.8
    for page in report["pages"]:
        assert page["cer_kept"] < 0.02, page  # no damaged layer kept anywhere


def test_the_gate_tests_pass_with_the_system_dictionaries_hidden(tmp_path: Path) -> None:
    proc = _run_with_system_dictionaries_hidden(
        tmp_path,
        [sys.executable, "-m", "pytest", "tests/test_ocr_gate.py", "-q", "-p", "no:cacheprovider"],
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


@pytest.mark.parametrize(
    ("lang", "known", "unknown"),
    [
        (
            "en",
            ["clinics", "studies", "running", "unhappy", "workers", "came", "don’t"],
            ["c1inics", "wrkers", "tlie", "frorn", "rnonths", "cornrnittee"],
        ),
        (
            "pt",
            ["políticas", "reduziram", "saúde", "regiões", "coletados", "percepção"],
            ["regioes", "pesquiza", "rnesmo"],
        ),
        (
            "es",
            ["reconocimiento", "trabajadores", "políticas", "aquellos", "comenzó", "barrios"],
            ["trabajadoers", "acciories", "cornenzó"],
        ),
    ],
)
def test_packaged_word_lists(lang: str, known: list[str], unknown: list[str]) -> None:
    words = load_word_list(lang)
    assert len(words) > 50_000
    for word in known:
        assert word in words, word
        assert word.upper() in words, word  # compared lower-cased
    for word in unknown:
        assert word not in words, word


def test_a_language_without_a_word_list_is_refused_by_name() -> None:
    assert {"en", "pt", "es"} <= word_list_languages()
    assert "gl" not in word_list_languages()
    with pytest.raises(MissingWordList, match="'gl'"):
        load_word_list("gl")
    with pytest.raises(MissingWordList, match=r"OCR language 'glg'.*cannot judge"):
        word_list_for("glg")
    with pytest.raises(MissingWordList, match="'jpn'"):
        word_list_for("jpn")  # a list exists, but whitespace tokens are not words in Japanese
    assert word_list_for("por") is load_word_list("pt")
    with pytest.raises(MissingWordList, match=r"word lists: .*eng.*por.*spa"):
        word_list_for("glg")  # the message says which languages do have one


def test_language_detection_gets_the_installed_languages_lists() -> None:
    assert list(word_lists_for(["spa", "osd", "eng", "por", "glg"])) == ["eng", "por", "spa"]
