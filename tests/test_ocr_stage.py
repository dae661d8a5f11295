"""The whole OCR stage with real OCRmyPDF and Tesseract on generated SciELO-like chapters.

Each generated chapter is OCRed once per module (2 jobs, 2 scanned pages) and the tests read
the outputs. Ground truth comes from the sample generator, so CER is measured, not guessed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from archive_ingest.errors import OcrError, PdfError
from archive_ingest.ocr import OcrResult, cer, run_ocr_stage
from archive_ingest.ocr.dictionary import source
from archive_ingest.ocr.engine import command, pdfa_options
from archive_ingest.ocr.pages import analyse_pdf
from archive_ingest.settings import Settings
from tests.support.ocr import make_reportlab_default_pdf, page_images, processes_mentioning
from tests.support.samples import (
    SampleChapter,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_sample_chapter,
    make_unembedded_font_pdf,
)
from tests.support.samples.corpus import page_text


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Run:
    sample: SampleChapter
    sha_before: str
    out: Path
    result: OcrResult
    home: Path

    @property
    def kept_pages(self) -> list[str]:
        return (self.out / self.result.text_path).read_text(encoding="utf-8").split("\f")

    def scanned_cer(self, texts: list[str]) -> float:
        """CER over the scanned pages taken together (the chapter's body)."""
        pages = self.sample.scanned_pages
        truth = "\n".join(self.sample.true_texts[i] for i in pages)
        return cer(truth, "\n".join(texts[i] for i in pages))


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARCHIVE_INGEST_CONFIG", str(home / "absent.toml"))
        yield Settings(home=home, ocr_jobs=2)


def _run(tmp: Path, settings: Settings, **kwargs: object) -> Run:
    sample = make_sample_chapter(tmp / "chapter.pdf", scanned_pages=2, **kwargs)  # type: ignore[arg-type]
    sha = _sha256(sample.path)
    out = tmp / "out"
    result = run_ocr_stage(sample.path, out, [sample.language], settings)
    return Run(sample, sha, out, result, settings.home)


@pytest.fixture(scope="module")
def heavy(tmp_path_factory: pytest.TempPathFactory, module_settings: Settings) -> Run:
    return _run(tmp_path_factory.mktemp("heavy"), module_settings, language="pt", damage="heavy")


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory, module_settings: Settings) -> Run:
    return _run(
        tmp_path_factory.mktemp("light"),
        module_settings,
        language="en",
        damage="light",
        image_mode="bilevel",
        seed=3,
    )


# --- the "done when" criteria ----------------------------------------------------------------


@pytest.mark.slow
def test_heavy_damage_kept_text_beats_the_damaged_layer(heavy: Run) -> None:
    old = heavy.scanned_cer(heavy.sample.layer_texts)
    kept = heavy.scanned_cer(heavy.kept_pages)
    assert old > 0.05  # the layer really is damaged
    assert kept < old / 3, (kept, old)
    for i in heavy.sample.scanned_pages:
        page = heavy.result.pages[i]
        assert page.kind == "scanned" and page.decision == "fresh-ocr", page
        truth = heavy.sample.true_texts[i]
        assert cer(truth, heavy.kept_pages[i]) < cer(truth, heavy.sample.layer_texts[i])
    assert heavy.result.needs_review_reasons == []


@pytest.mark.slow
def test_light_damage_kept_text_is_no_worse_than_the_layer(light: Run) -> None:
    old = light.scanned_cer(light.sample.layer_texts)
    kept = light.scanned_cer(light.kept_pages)
    assert 0 < old < 0.03  # lightly damaged
    assert kept <= old + 0.001, (kept, old)  # within 0.1 percentage point
    assert light.result.needs_review_reasons == []


# --- what must never change ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["heavy", "light"])
def test_original_is_unchanged(name: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(name)
    assert _sha256(run.sample.path) == run.sha_before
    assert run.result.original_sha256 == run.sha_before


@pytest.mark.slow
@pytest.mark.parametrize("name", ["heavy", "light"])
def test_born_digital_page_is_untouched(name: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(name)
    assert run.result.pages[0].kind == "born-digital"
    assert run.result.pages[0].decision == "born-digital"
    access = run.out / run.result.access_path
    original_text = PdfReader(run.sample.path).pages[0].extract_text()
    assert PdfReader(access).pages[0].extract_text() == original_text
    assert run.kept_pages[0] == original_text
    with pikepdf.open(run.sample.path) as a, pikepdf.open(access) as b:
        assert a.pages[0].Contents.read_bytes() == b.pages[0].Contents.read_bytes()
        fonts_a = {str(f.BaseFont) for f in a.pages[0].Resources.Font.values()}
        fonts_b = {str(f.BaseFont) for f in b.pages[0].Resources.Font.values()}
        assert fonts_a == fonts_b


@pytest.mark.slow
@pytest.mark.parametrize("name", ["heavy", "light"])
def test_scanned_images_are_not_reencoded(name: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(name)
    before = page_images(run.sample.path)
    after = page_images(run.out / run.result.access_path)
    assert [len(p) for p in before] == [0, 1, 1]
    assert after == before


def test_image_check_notices_a_reencoded_image(tmp_path: Path) -> None:
    """The check above can fail: a JPEG saved again (what --force-ocr does) is caught."""
    import io

    from PIL import Image

    sample = make_sample_chapter(tmp_path / "c.pdf", scanned_pages=1, damage="none")
    with pikepdf.open(sample.path) as pdf:
        image = next(iter(pdf.pages[1].Resources.XObject.values()))
        pil = Image.open(io.BytesIO(image.read_raw_bytes()))  # the JPEG as stored
        buffer = io.BytesIO()
        pil.save(buffer, format="JPEG", quality=75)
        image.write(buffer.getvalue(), filter=pikepdf.Name.DCTDecode)
        pdf.save(tmp_path / "reencoded.pdf")
    assert page_images(tmp_path / "reencoded.pdf") != page_images(sample.path)


# --- outputs --------------------------------------------------------------------------------


@pytest.mark.slow
def test_outputs_report_and_events(heavy: Run) -> None:
    result, out = heavy.result, heavy.out
    stem = heavy.sample.path.stem
    assert result.access_path == f"access/{stem}.pdf"
    assert result.text_path == f"text/{stem}.txt"
    assert result.hocr_paths == ["ocr/page-0002.hocr", "ocr/page-0003.hocr"]
    assert result.access_format == "PDF/A-2b" and result.access_is_pdfa
    with pikepdf.open(out / result.access_path) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
    assert any("/Trans" in change for change in result.cleanup)
    assert len(heavy.kept_pages) == 3
    for rel in result.hocr_paths:
        data = (out / rel).read_bytes()
        assert b"ocrx_word" in data and b"x_wconf" in data
        assert b"/tmp" not in data and str(out).encode() not in data  # no local paths
    assert sorted(p.name for p in out.iterdir()) == ["access", "ocr", "text"]
    assert list((heavy.home / "tmp").iterdir()) == []  # work folder removed

    report = json.loads((out / result.report_path).read_text(encoding="utf-8"))
    assert [p["decision"] for p in report["pages"]] == ["born-digital", "fresh-ocr", "fresh-ocr"]
    assert [p["kind"] for p in report["pages"]] == ["born-digital", "scanned", "scanned"]
    page2 = report["pages"][1]
    assert page2["old"]["dictionary_ratio"] < page2["new"]["dictionary_ratio"]
    assert page2["old"]["garbage_rate"] > page2["new"]["garbage_rate"]
    assert page2["new"]["mean_word_confidence"] > 60
    assert page2["new"]["chars"] > 200
    assert report["languages"] == ["por"]
    assert report["access"]["format"] == "PDF/A-2b"

    transcription, normalization = result.events
    assert transcription.event_type == "transcription"
    detail = transcription.outcome_detail
    tesseract_version = subprocess.run(
        ["tesseract", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert detail["engine"]["tesseract"] == tesseract_version
    assert detail["engine"]["ocrmypdf"] == metadata.version("ocrmypdf")
    assert detail["languages"]["tesseract"] == ["por"]
    assert "redo" in detail["options"] and "--pages" in detail["options"]
    assert detail["word_lists"] == [f"pt ({source()})"]  # the gate's word signal, recorded
    assert detail["decisions"] == {"born-digital": 1, "fresh-ocr": 2}
    assert detail["timings"]["ocr"] > 0 and detail["timings"]["total"] >= detail["timings"]["ocr"]
    assert normalization.event_type == "normalization"
    assert normalization.outcome == "success"
    assert normalization.outcome_detail["format"] == "PDF/A-2b"


# --- messy inputs ---------------------------------------------------------------------------


@pytest.mark.slow
def test_unembedded_font_pdf_falls_back_to_a_plain_pdf(tmp_path: Path, settings: Settings) -> None:
    sample = make_unembedded_font_pdf(tmp_path / "helvetica.pdf")
    result = run_ocr_stage(sample.path, tmp_path / "out", ["en"], settings)
    access = tmp_path / "out" / result.access_path
    assert access.is_file()
    assert result.access_format == "PDF" and not result.access_is_pdfa
    assert "not embedded" in result.access_format_reason
    assert "Ghostscript" in result.access_format_reason
    assert any("plain PDF" in w for w in result.warnings)
    assert result.pages[0].decision == "born-digital" and result.hocr_paths == []
    assert (
        PdfReader(access).pages[0].extract_text() == PdfReader(sample.path).pages[0].extract_text()
    )
    assert result.events[1].outcome == "warning"


@pytest.mark.slow
def test_reportlab_defaults_are_cleaned_into_pdfa(tmp_path: Path, settings: Settings) -> None:
    source = make_reportlab_default_pdf(tmp_path / "rl.pdf", scanned_text=page_text("pt", 0, 1))
    # without the clean-up, OCRmyPDF's internal backend refuses the file (exit code 10)
    raw = subprocess.run(
        command(pdfa_options(), source, tmp_path / "raw-pdfa.pdf"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert raw.returncode == 10, raw.stderr[-2000:]
    assert "/Trans" in raw.stderr or "not embedded" in raw.stderr

    result = run_ocr_stage(source, tmp_path / "out", ["pt"], settings)
    assert result.access_format == "PDF/A-2b", result.access_format_reason
    assert any("empty text objects" in c for c in result.cleanup)
    assert any("/Trans" in c for c in result.cleanup)
    assert result.pages[1].decision == "fresh-ocr"


@pytest.mark.slow
def test_pages_without_text_get_ocr(tmp_path: Path, settings: Settings) -> None:
    sample = make_image_only_pdf(tmp_path / "scan.pdf", pages=1, language="es")
    result = run_ocr_stage(sample.path, tmp_path / "out", ["es"], settings)
    assert [(p.kind, p.decision) for p in result.pages] == [("no-text", "fresh-ocr")]
    assert result.pages[0].old is None and result.pages[0].new is not None
    kept = (tmp_path / "out" / result.text_path).read_text(encoding="utf-8")
    assert cer(sample.true_texts[0], kept) < 0.03
    assert result.languages == ["spa"]
    assert page_images(tmp_path / "out" / result.access_path) == page_images(sample.path)


# --- process control --------------------------------------------------------------------------


@pytest.mark.slow
def test_timeout_kills_ocrmypdf_and_tesseract(tmp_path: Path, settings: Settings) -> None:
    # 16 heavy scanned pages take Tesseract well over 15 s even on a fast machine, and 15 s lets
    # OCRmyPDF start Tesseract on a loaded one (5 s did not, at load 4 on 2 cores)
    sample = make_sample_chapter(tmp_path / "long.pdf", scanned_pages=16, damage="heavy")
    sha_before = _sha256(sample.path)
    out = tmp_path / "out"
    marker = str(settings.home / "tmp")  # OCRmyPDF's temp folder, so tesseract's command line
    tiny = settings.model_copy(update={"ocr_timeout_seconds": 15, "ocr_jobs": 1})
    seen: set[str] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for _pid, cmdline in processes_mentioning(marker):
                seen.add(Path(cmdline.split()[0]).name)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        with pytest.raises(OcrError, match="did not finish within 15 s and was killed"):
            run_ocr_stage(sample.path, out, ["en"], tiny)
    finally:
        stop.set()
        watcher.join()
    assert time.monotonic() - started < 60
    assert "tesseract" in seen, seen  # Tesseract was running when the timeout struck
    assert processes_mentioning(marker) == []  # nothing survived
    assert list((settings.home / "tmp").iterdir()) == []  # work folder removed
    assert _sha256(sample.path) == sha_before


def test_busy_machine_means_no_slot(tmp_path: Path, settings: Settings) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", scanned_pages=1, damage="light")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from archive_ingest.ocr.process import ocr_slot\n"
            "with ocr_slot(Path(sys.argv[1]), 1, timeout=5):\n"
            "    print('held', flush=True); time.sleep(60)",
            str(settings.home / "locks"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        quick = settings.model_copy(update={"ocr_timeout_seconds": 1, "ocr_max_concurrent": 1})
        with pytest.raises(OcrError, match="no OCR slot became free"):
            run_ocr_stage(sample.path, tmp_path / "out", ["en"], quick)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


# --- bad input ------------------------------------------------------------------------------


def test_missing_original(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(OcrError, match="not found"):
        run_ocr_stage(tmp_path / "nope.pdf", tmp_path / "out", ["en"], settings)


def test_encrypted_original(tmp_path: Path, settings: Settings) -> None:
    path = make_encrypted_pdf(tmp_path / "enc.pdf")
    with pytest.raises(PdfError, match="encrypted"):
        run_ocr_stage(path, tmp_path / "out", ["en"], settings)


def test_output_may_not_overwrite_the_original(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "access").mkdir()
    sample = make_sample_chapter(tmp_path / "access" / "c.pdf", scanned_pages=1)
    with pytest.raises(OcrError, match="overwrite the original"):
        run_ocr_stage(sample.path, tmp_path, ["en"], settings)


def test_page_kinds(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", scanned_pages=2, damage="light")
    layers = analyse_pdf(sample.path)
    assert [layer.kind for layer in layers] == ["born-digital", "scanned", "scanned"]
    assert [layer.images for layer in layers] == [0, 1, 1]
    assert layers[0].visible_chars > 0 and layers[1].invisible_chars > 0
    assert layers[1].visible_chars == 0
    assert cer(sample.layer_texts[1], layers[1].old_text) < 0.01
