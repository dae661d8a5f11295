"""The clean-up pass that lets OCRmyPDF's internal PDF/A backend accept real-world PDFs."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pypdf import PdfReader

from archive_ingest.ocr.cleanup import clean_for_pdfa, font_is_embedded
from tests.support.ocr import make_reportlab_default_pdf
from tests.support.samples import make_unembedded_font_pdf


def _fonts(pdf: pikepdf.Pdf) -> list[tuple[str, bool]]:
    out = []
    for page in pdf.pages:
        fonts = page.obj.get("/Resources", {}).get("/Font", {})
        out.extend((str(f.get("/BaseFont")), font_is_embedded(f)) for f in fonts.values())
    return out


def _texts(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def _images(path: Path) -> list[bytes]:
    with pikepdf.open(path) as pdf:
        return [
            img.read_raw_bytes()
            for page in pdf.pages
            for img in page.obj.Resources.get("/XObject", {}).values()
            if img.get("/Subtype") == "/Image"
        ]


def test_reportlab_output_is_cleaned_without_changing_what_pages_show(tmp_path: Path) -> None:
    source = make_reportlab_default_pdf(
        tmp_path / "in.pdf",
        scanned_text="Texto da página digitalizada.",
        damage="light",
        licence_line="Licence: Creative Commons Atribuição 4.0",
    )
    with pikepdf.open(source) as pdf:
        assert all("/Trans" in page.obj for page in pdf.pages)
        assert ("/Helvetica", False) in _fonts(pdf)
    before = source.read_bytes()

    report = clean_for_pdfa(source, tmp_path / "out.pdf")

    assert source.read_bytes() == before  # the source is only read
    assert report.empty_trans_removed == [1, 2]
    assert report.empty_text_objects_removed == [1, 2]
    assert len(report.changes) == 3
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert not any("/Trans" in page.obj for page in pdf.pages)
        fonts = _fonts(pdf)
        assert fonts and all(embedded for _, embedded in fonts)
    assert _texts(tmp_path / "out.pdf") == _texts(source)
    assert _images(tmp_path / "out.pdf") == _images(source)


def test_a_font_that_draws_text_is_left_alone(tmp_path: Path) -> None:
    sample = make_unembedded_font_pdf(tmp_path / "in.pdf")
    report = clean_for_pdfa(sample.path, tmp_path / "out.pdf")
    assert report.empty_text_objects_removed == []
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert ("/Helvetica", False) in _fonts(pdf)
    assert _texts(tmp_path / "out.pdf") == _texts(sample.path)


def test_an_empty_text_object_later_text_relies_on_is_kept(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    content = b"BT /F1 12 Tf 14 TL ET\nBT 72 700 Td (uses the font set above) Tj ET\n"
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 612, 792],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(content),
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(tmp_path / "in.pdf")
    report = clean_for_pdfa(tmp_path / "in.pdf", tmp_path / "out.pdf")
    assert report.empty_text_objects_removed == []
    with pikepdf.open(tmp_path / "out.pdf") as out:
        assert b"/F1 12 Tf" in out.pages[0].Contents.read_bytes()
