"""The gate's word lists come with the package, not from the operating system.

The decisive test runs the real OCR stage in a child process whose mount namespace has an empty
folder over /usr/share/hunspell (and the myspell folders): the gate must still replace a badly
damaged English layer whose errors are non-words ("frorn", "tlie") more than odd characters.
In the same way, wordfreq's list of a language with an installed Tesseract model is hidden to
show what a chosen language without a word list does: the item goes to review, and only a
choice with no list at all fails. The namespace is had with ``unshare --mount`` as root and in
a user namespace otherwise; when neither works the tests fail, they never skip.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import wordfreq

from archive_ingest.ocr.dictionary import MissingWordList, load_word_list, word_list_languages
from archive_ingest.ocr.languages import word_list_for, word_lists_for, word_lists_of_choice

SYSTEM_DICTIONARY_DIRS = ("/usr/share/hunspell", "/usr/share/myspell")

# Runs in the child: a generated English chapter with a heavily damaged layer on its scanned
# pages (seed 1, page 4: without a word signal the gate kept it, CER 19 %), through the stage.
_STAGE_SCRIPT = """
import json, sys
from pathlib import Path
from archive_ingest.ocr import cer, run_ocr_stage
from tests.support.samples import make_sample_chapter
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


# Runs in the child: the same damaged English chapter through the stage, with the metadata
# languages given; wordfreq's lists of some languages are hidden by the caller.
_LANGUAGES_SCRIPT = """
import json, sys
from pathlib import Path
import wordfreq
from archive_ingest.ocr import cer, run_ocr_stage
from archive_ingest.ocr.dictionary import MissingWordList
from tests.support.samples import make_sample_chapter
from archive_ingest.settings import Settings

work, metadata = Path(sys.argv[1]), sys.argv[2].split(",")
sample = make_sample_chapter(
    work / "chapter.pdf", language="en", damage="heavy", scanned_pages=3, seed=1
)
out = {"large_lists": sorted(wordfreq.available_languages("large"))}
try:
    result = run_ocr_stage(
        work / "chapter.pdf", work / "out", metadata, Settings(home=work / "home", ocr_jobs=1)
    )
except MissingWordList as exc:
    out["error"] = str(exc)
    out["outputs"] = sorted(p.name for p in (work / "out").rglob("*") if p.is_file())
else:
    kept = (work / "out" / result.text_path).read_text(encoding="utf-8").split("\\f")
    out["languages"] = result.languages
    out["needs_review"] = result.needs_review_reasons
    out["events"] = [e.model_dump(mode="json") for e in result.events]
    out["report"] = json.loads((work / "out" / result.report_path).read_text(encoding="utf-8"))
    out["pages"] = [
        {
            "page": i + 1,
            "decision": result.pages[i].decision,
            "cer_kept": cer(sample.true_texts[i], kept[i]),
        }
        for i in sample.scanned_pages
    ]
print(json.dumps(out))
"""


def _unshare_commands(euid: int) -> list[list[str]]:
    """How to get a private mount namespace, in order of preference for a user ``euid``.

    Root (as in CI) can unshare the mount namespace alone; anyone else needs a user namespace
    in which they are root (``--map-root-user``), where bind mounts are allowed too.
    """
    unshare = shutil.which("unshare")
    assert unshare is not None, "unshare (util-linux) is needed to hide the system dictionaries"
    private = ["--mount", "--propagation", "private"]
    as_user = [unshare, "--user", "--map-root-user", *private]
    return [[unshare, *private], as_user] if euid == 0 else [as_user]


def _unshare_command(tmp_path: Path) -> list[str]:
    """The first way to a private mount namespace whose bind mounts really work here.

    Fails the test (never skips it) when there is none: a test that cannot hide the files it
    is about proves nothing, and a skip would read as a pass.
    """
    probe = tmp_path / "probe"
    (probe / "over").mkdir(parents=True, exist_ok=True)
    (probe / "under").mkdir(exist_ok=True)
    (probe / "under" / "seen").write_text("x", encoding="utf-8")
    check = f"mount --bind {probe / 'over'} {probe / 'under'} && test ! -e {probe / 'under'}/seen"
    errors = []
    for command in _unshare_commands(os.geteuid()):
        proc = subprocess.run(
            [*command, "sh", "-c", check], capture_output=True, text=True, timeout=60, check=False
        )
        if proc.returncode == 0:
            return command
        errors.append(f"{' '.join(command)}: exit {proc.returncode}: {proc.stderr.strip()}")
    pytest.fail("no private mount namespace can be had here:\n" + "\n".join(errors))


def _run_in_mount_namespace(
    tmp_path: Path, argv: list[str], binds: list[tuple[Path, Path]]
) -> subprocess.CompletedProcess[str]:
    """``argv`` in its own mount namespace, each ``(source, target)`` bind-mounted in order."""
    mounts = [f"mount --bind {shlex.quote(str(s))} {shlex.quote(str(t))}" for s, t in binds]
    command = " && ".join([*mounts, 'exec "$@"'])
    return subprocess.run(
        [*_unshare_command(tmp_path), "sh", "-c", command, "sh", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).parent.parent,
    )


def _run_with_system_dictionaries_hidden(
    tmp_path: Path, argv: list[str]
) -> subprocess.CompletedProcess[str]:
    """``argv`` in its own mount namespace, an empty folder over every system dictionary dir."""
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    binds = [(empty, Path(d)) for d in SYSTEM_DICTIONARY_DIRS if Path(d).is_dir()]
    return _run_in_mount_namespace(tmp_path, argv, binds)


def _run_with_word_lists_hidden(
    tmp_path: Path, argv: list[str], hidden: list[str]
) -> subprocess.CompletedProcess[str]:
    """``argv`` with wordfreq's "large" lists of the ``hidden`` ISO 639-1 languages gone.

    wordfreq's data folder is replaced by one holding links to every other file (through a
    second mount of the real folder), so ``word_list_languages`` - the code's own lookup - does
    not find those lists, as in an installation that lacks them.
    """
    data = Path(wordfreq.__file__).parent / "data"
    real = tmp_path / "wordfreq-data"
    links = tmp_path / "wordfreq-data-links"
    real.mkdir(exist_ok=True)
    links.mkdir(exist_ok=True)
    gone = {f"large_{lang}.msgpack.gz" for lang in hidden}
    assert gone <= {p.name for p in data.iterdir()}, "hide only lists that exist"
    for path in data.iterdir():
        if path.name not in gone:
            (links / path.name).symlink_to(real / path.name)
    return _run_in_mount_namespace(tmp_path, argv, [(data, real), (links, data)])


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


def _stage_with_word_lists_hidden(
    tmp_path: Path, metadata: list[str], hidden: list[str]
) -> dict[str, Any]:
    script = tmp_path / "stage.py"
    script.write_text(_LANGUAGES_SCRIPT, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    proc = _run_with_word_lists_hidden(
        tmp_path, [sys.executable, str(script), str(work), ",".join(metadata)], hidden
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    for lang in hidden:
        assert lang not in report["large_lists"]  # the child really saw no list for it
    return report


@pytest.mark.slow
def test_a_chosen_language_without_a_word_list_sends_the_item_to_review(
    tmp_path: Path,
) -> None:
    """Spanish has a Tesseract model here; its word list is made unavailable. The metadata
    names English and Spanish: the stage runs, the gate judges with the English list, the
    transcription event names the language it could not judge, and the item needs review."""
    report = _stage_with_word_lists_hidden(tmp_path, ["en", "es"], ["es"])
    assert "error" not in report, report.get("error")
    assert report["languages"] == ["eng", "spa"]  # Spanish is still OCRed with
    reasons = [r for r in report["needs_review"] if "spa" in r]
    assert len(reasons) == 1, report["needs_review"]
    assert "no word list" in reasons[0] and "eng" in reasons[0], reasons[0]
    transcription = next(e for e in report["events"] if e["event_type"] == "transcription")
    assert transcription["outcome"] == "warning"
    assert "spa" in transcription["detail"]
    detail = transcription["outcome_detail"]
    assert detail["languages"]["without_word_list"] == ["spa"]
    assert [name.split(" ")[0] for name in detail["word_lists"]] == ["en"]
    assert reasons[0] in detail["needs_review"]
    assert report["report"]["languages_without_word_list"] == ["spa"]
    # the English list still judged the English text: the damaged page 4 was replaced
    pages = {p["page"]: p for p in report["pages"]}
    assert pages[4]["decision"] == "fresh-ocr", pages[4]
    for page in report["pages"]:
        assert page["cer_kept"] < 0.02, page


@pytest.mark.slow
def test_no_chosen_language_with_a_word_list_fails_before_ocr(tmp_path: Path) -> None:
    """With no list for any chosen language (and none to detect one with) there is no word
    signal at all: the stage fails, naming the languages, before OCR writes anything."""
    report = _stage_with_word_lists_hidden(tmp_path, ["en", "es"], ["en", "es", "pt"])
    assert "error" in report, report.get("needs_review")
    assert "'eng'" in report["error"] and "'spa'" in report["error"], report["error"]
    assert report["outputs"] == []


def test_a_mount_namespace_without_root() -> None:
    """The way a non-root user gets a mount namespace works (as root: tried as nobody)."""
    nobody = 65534
    # pytest's tmp_path lies in a folder private to its owner: a folder nobody can enter
    with tempfile.TemporaryDirectory(prefix="userns-") as folder:
        base = Path(folder)
        base.chmod(0o755)
        over, under = base / "over", base / "under"
        over.mkdir()
        under.mkdir()
        (under / "seen").write_text("x", encoding="utf-8")
        argv = [
            *_unshare_commands(nobody if os.geteuid() == 0 else os.geteuid())[-1],
            "sh",
            "-c",
            f"mount --bind {over} {under} && test ! -e {under}/seen && echo hidden",
        ]
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            assert setpriv is not None, "setpriv (util-linux) is needed to drop root"
            argv = [setpriv, f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups", *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "hidden", proc.stderr


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


def test_a_choice_is_split_into_word_lists_and_languages_without_one() -> None:
    lists, missing = word_lists_of_choice(["glg", "por", "lat"])
    assert lists == [load_word_list("pt")] and missing == ["glg", "lat"]
    assert word_lists_of_choice(["eng", "spa"]) == (
        [load_word_list("en"), load_word_list("es")],
        [],
    )
    with pytest.raises(
        MissingWordList, match=r"no chosen OCR language has a word list \('glg', 'lat'\)"
    ):
        word_lists_of_choice(["glg", "lat"])
