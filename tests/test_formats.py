"""Format identification with the real Siegfried (pygfried) on real files of each kind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pikepdf
import pygfried
import pytest

from archive_ingest import formats
from archive_ingest.errors import ContentError
from archive_ingest.formats import FormatToolError, identify, parse_result, siegfried_versions
from tests.support.samples import (
    make_born_digital_pdf,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_sample_chapter,
)

OCRMYPDF = Path(sys.executable).with_name("ocrmypdf")


def test_pdf_versions(tmp_path: Path) -> None:
    chapter = identify(make_sample_chapter(tmp_path / "c.pdf", scanned_pages=1).path)
    assert (chapter.puid, chapter.format_version, chapter.media_type) == (
        "fmt/17",
        "1.3",
        "application/pdf",
    )
    assert chapter.format_name == "Acrobat PDF 1.3 - Portable Document Format"
    assert "byte match" in chapter.basis and chapter.warning == ""

    path = make_born_digital_pdf(tmp_path / "b.pdf", pages=1).path
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.save(path, force_version="1.4")
    assert identify(path).puid == "fmt/18"
    assert identify(make_encrypted_pdf(tmp_path / "e.pdf")).puid == "fmt/276"  # PDF 1.7


@pytest.mark.slow
def test_pdfa_2b_from_ocrmypdf(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", clean=True, damage="light")
    out = tmp_path / "a.pdf"
    subprocess.run(
        [str(OCRMYPDF), "--skip-text", "--tesseract-timeout", "0", "--output-type", "pdfa-2",
         "--pdfa-backend", "internal", "-l", "eng", str(sample.path), str(out)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    result = identify(out)
    # PRONOM: fmt/476 is PDF/A-2a, fmt/477 PDF/A-2b, fmt/478 PDF/A-2u
    assert (result.puid, result.format_version) == ("fmt/477", "2b")
    assert result.format_name == "Acrobat PDF/A - Portable Document Format"


def test_text_xml_json(tmp_path: Path) -> None:
    text = tmp_path / "page.txt"
    text.write_text("Ação e reação em São Paulo: a formação dos cordões.\n", encoding="utf-8")
    result = identify(text)
    assert (result.puid, result.media_type) == ("x-fmt/111", "text/plain")
    assert "UTF-8" in result.basis

    xml = tmp_path / "mets.xml"
    xml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<mets xmlns="http://www.loc.gov/METS/"/>'
    )
    assert identify(xml).puid == "fmt/101"
    assert identify(xml).format_version == "1.0"

    # no XML declaration: PRONOM's signature cannot match; parsing proves it is XML 1.0
    bare = tmp_path / "oai_dc.xml"
    bare.write_text('<dc xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title></dc>')
    result = identify(bare)
    assert (result.puid, result.format_version, result.tool) == ("fmt/101", "1.0", "lxml")
    assert "identified by parsing" in result.warning and "Siegfried" in result.basis
    for name, body in (("broken.xml", "<dc><unclosed></dc>"), ("angle.txt", "<3 not markup")):
        other = tmp_path / name
        other.write_text(body)
        assert identify(other).tool == "siegfried"  # not XML: Siegfried's answer stands
    assert identify(tmp_path / "broken.xml").puid != "fmt/101"

    data = tmp_path / "book.json"
    data.write_text(json.dumps({"_id": "37t", "title": "Compreendendo"}))
    result = identify(data)
    assert (result.puid, result.media_type) == ("fmt/817", "application/json")
    assert "extension only" in result.warning  # JSON has no magic bytes


@pytest.mark.slow
def test_images_and_tesseract_hocr(tmp_path: Path) -> None:
    scans = make_image_only_pdf(tmp_path / "s.pdf", pages=1)
    with pikepdf.open(scans.path) as pdf:
        (xobject,) = pdf.pages[0].get_images().values()
        jpeg = Path(pikepdf.PdfImage(xobject).extract_to(fileprefix=str(tmp_path / "scan")))
    assert jpeg.suffix == ".jpg"
    assert identify(jpeg).media_type == "image/jpeg"
    assert identify(jpeg).puid in {"fmt/43", "fmt/44"}  # JFIF 1.01 / 1.02
    subprocess.run(
        ["tesseract", str(jpeg), str(tmp_path / "page"), "-l", "eng", "hocr"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    hocr = tmp_path / "page.hocr"
    assert "ocr-system" in hocr.read_text(encoding="utf-8")
    result = identify(hocr)  # Tesseract writes XHTML 1.0 Transitional
    assert (result.puid, result.media_type) == ("fmt/102", "application/xhtml+xml")
    assert "extension mismatch" in result.warning
    html = tmp_path / "page.html"
    html.write_text("<!DOCTYPE html>\n<html><head><title>p</title></head><body></body></html>")
    assert identify(html).puid == "fmt/471"  # HTML 5


def test_unknown_empty_and_missing(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(256)) * 8)
    unknown = identify(blob)
    assert unknown.puid is None and unknown.format_name is None and unknown.media_type is None
    assert "no match" in unknown.warning

    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = identify(empty)
    assert "empty source" in result.warning
    assert str(tmp_path) not in result.warning

    with pytest.raises(ContentError, match=r"no such file"):
        identify(tmp_path / "absent.pdf")


def test_tool_version_names_siegfried_and_signatures(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("x\n")
    result = identify(text)
    assert result.tool == "siegfried"
    assert result.siegfried_version == pygfried.version()
    assert result.signature_version.startswith("DROID_SignatureFile_V")
    assert "container-signature" in result.signature_version
    assert result.tool_version == f"{pygfried.version()} ({result.signature_version})"
    assert result.agent == f"siegfried {result.tool_version}"
    assert siegfried_versions() == (pygfried.version(), result.signature_version)


def test_parse_result_is_pure_and_hides_local_paths() -> None:
    path = Path("/srv/work/item/data/x.pdf")
    result = {
        "siegfried": "9.9.9",
        "identifiers": [{"name": "pronom", "details": "DROID_SignatureFile_V1.xml"}],
        "files": [{"filename": str(path), "errors": f"open {path}: permission denied",
                   "matches": []}],
    }  # fmt: skip
    with pytest.raises(ContentError) as info:
        parse_result(result, path)
    assert "/srv/work" not in str(info.value) and "x.pdf" in str(info.value)
    with pytest.raises(FormatToolError, match="no result"):
        parse_result({"files": []}, path)


def test_missing_pygfried_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("x\n")
    monkeypatch.setitem(sys.modules, "pygfried", None)  # makes `import pygfried` fail
    formats._scanner.cache_clear()
    try:
        with pytest.raises(FormatToolError, match="pip install pygfried"):
            identify(text)
    finally:
        formats._scanner.cache_clear()
