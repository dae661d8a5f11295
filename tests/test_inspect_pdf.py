"""PDF inspection against generated PDFs with known structure, and against hostile ones."""

from __future__ import annotations

import time
from pathlib import Path

import pikepdf
import pytest

from archive_ingest.errors import PdfError
from archive_ingest.pdf.inspection import inspect_pdf
from archive_ingest.pdf.pages import PageLayer, page_layer_kind, page_layers, page_texts
from tests.support.samples import (
    make_born_digital_pdf,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_pdf_with_embedded_file,
    make_pdf_with_javascript,
    make_sample_chapter,
    make_truncated_pdf,
    make_unembedded_font_pdf,
    make_xmp,
)


def norm(text: str) -> str:
    return " ".join(text.split())


def non_space(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def test_sample_chapter(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", scanned_pages=3, damage="light")
    result = inspect_pdf(sample.path)
    assert result.page_count == 4
    assert result.pdf_version == "1.3"  # what reportlab writes
    assert not result.encrypted
    assert result.text_chars_per_page == [non_space(t) for t in sample.layer_texts]
    assert result.pages_with_text == 4
    assert result.invisible_text_pages == [1, 2, 3]
    assert result.images_per_page == [0, 1, 1, 1]
    assert result.fonts_per_page[0] == ["AAAAAA+DejaVuSans-Bold", "AAAAAA+DejaVuSans"]
    assert all(fonts == ["AAAAAA+DejaVuSerif"] for fonts in result.fonts_per_page[1:])
    assert norm(result.first_page_text) == norm(sample.true_texts[0])
    assert "Creative Commons Attribution-Non Commercial-ShareAlike 3.0" in norm(
        result.first_page_text
    )
    assert result.info["Title"] == "Building the Industrial Cordons: Maipú-Cerrillos"
    assert result.info["Author"] == "Pablo"
    assert not result.has_xmp and result.xmp is None
    assert not result.has_javascript and not result.has_embedded_files
    assert result.warnings == []


def test_page_texts_and_layers_of_a_chapter(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", damage="heavy")
    assert [norm(t) for t in page_texts(sample.path)] == [norm(t) for t in sample.layer_texts]
    layers = page_layers(sample.path)
    assert [layer.kind for layer in layers] == ["born-digital", "scanned", "scanned"]
    assert layers[0].visible_glyphs > 500 and layers[0].invisible_glyphs == 0
    for layer in layers[1:]:
        assert layer.visible_glyphs == 0 and layer.invisible_glyphs > 300
        assert layer.images == 1 and layer.image_coverage == pytest.approx(1.0, abs=0.01)


def test_born_digital_image_only_and_unembedded(tmp_path: Path) -> None:
    born = inspect_pdf(make_born_digital_pdf(tmp_path / "b.pdf", pages=2).path)
    assert born.invisible_text_pages == [] and born.images_per_page == [0, 0]
    assert born.pages_with_text == 2

    scans = make_image_only_pdf(tmp_path / "i.pdf", pages=2)
    scanned = inspect_pdf(scans.path)
    assert scanned.text_chars_per_page == [0, 0] and scanned.pages_with_text == 0
    assert scanned.images_per_page == [1, 1] and scanned.fonts_per_page == [[], []]
    layers = page_layers(scans.path)
    assert [layer.kind for layer in layers] == ["scanned", "scanned"]
    assert all(layer.invisible_glyphs == 0 for layer in layers)

    unembedded = inspect_pdf(make_unembedded_font_pdf(tmp_path / "u.pdf").path)
    assert unembedded.fonts_per_page == [["Helvetica"]]
    assert "page 1: font Helvetica is not embedded" in unembedded.warnings


def test_page_layer_kind_rules() -> None:
    assert page_layer_kind(PageLayer(0, visible_glyphs=10)) == "born-digital"
    assert page_layer_kind(PageLayer(0, images=1, image_coverage=0.95)) == "scanned"
    assert (
        page_layer_kind(PageLayer(0, invisible_glyphs=50, images=1, image_coverage=1.0))
        == "scanned"
    )
    assert page_layer_kind(PageLayer(0, visible_glyphs=5, images=1, image_coverage=1.0)) == "mixed"
    assert page_layer_kind(PageLayer(0, images=2, image_coverage=0.3)) == "other"
    assert page_layer_kind(PageLayer(0, visible_glyphs=9, images=1, image_coverage=0.3)) == (
        "born-digital"
    )
    assert page_layer_kind(PageLayer(0)) == "empty"


def test_encrypted_pdfs_are_refused(tmp_path: Path) -> None:
    open_one = make_encrypted_pdf(tmp_path / "open.pdf")
    with pytest.raises(PdfError, match=r"PDF is encrypted .*opens without a password"):
        inspect_pdf(open_one)
    with pytest.raises(PdfError, match="PDF is encrypted"):
        page_texts(open_one)
    recorded = inspect_pdf(open_one, allow_encrypted=True)
    assert recorded.encrypted and recorded.page_count == 1 and recorded.pages_with_text == 1
    locked = make_encrypted_pdf(tmp_path / "locked.pdf", user_password="s3cret-pw")
    with pytest.raises(PdfError, match="needs a password") as info:
        inspect_pdf(locked, allow_encrypted=True)
    assert "s3cret-pw" not in str(info.value)


def test_truncated_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(PdfError, match=r"PDF is truncated or corrupt: no %%EOF"):
        inspect_pdf(make_truncated_pdf(tmp_path / "t.pdf"))
    sample = make_sample_chapter(tmp_path / "c.pdf", scanned_pages=1)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(sample.path.read_bytes()[:50_000] + b"\n%%EOF\n")  # a fake end
    with pytest.raises(PdfError, match="PDF is truncated or corrupt"):
        inspect_pdf(cut)
    garbage = tmp_path / "g.pdf"
    garbage.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    with pytest.raises(PdfError, match="PDF is truncated or corrupt"):
        inspect_pdf(garbage)
    html = tmp_path / "h.pdf"
    html.write_bytes(b"<!DOCTYPE html><html><body>Not found</body></html>")
    with pytest.raises(PdfError, match="not a PDF"):
        inspect_pdf(html)
    empty = tmp_path / "e.pdf"
    empty.write_bytes(b"")
    with pytest.raises(PdfError, match="empty"):
        inspect_pdf(empty)
    with pytest.raises(PdfError, match=r"not found: missing\.pdf"):
        inspect_pdf(tmp_path / "missing.pdf")


def test_damaged_xref_is_recovered_with_warnings_without_local_paths(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", scanned_pages=1, damage="none")
    data = sample.path.read_bytes()
    at = data.rindex(b"startxref")
    offset = int(data[at + 9 :].split()[0])
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(data[:at] + b"startxref\n%d\n%%%%EOF\n" % (offset + 7))
    result = inspect_pdf(damaged)
    assert result.page_count == 2
    assert result.text_chars_per_page == [non_space(t) for t in sample.true_texts]
    assert any("qpdf" in w and "damaged" in w for w in result.warnings)
    assert any(w.startswith("pypdf:") for w in result.warnings)
    assert not any(str(tmp_path) in w for w in result.warnings)


def test_javascript_embedded_files_and_open_action(tmp_path: Path) -> None:
    js = inspect_pdf(make_pdf_with_javascript(tmp_path / "js.pdf"))
    assert js.has_javascript and not js.has_embedded_files
    assert "document has an /OpenAction (/JavaScript)" in js.warnings
    ef = inspect_pdf(make_pdf_with_embedded_file(tmp_path / "ef.pdf"))
    assert ef.has_embedded_files and not ef.has_javascript

    # JavaScript hidden in a link annotation's action, not in the catalogue
    path = make_born_digital_pdf(tmp_path / "annot.pdf", pages=1).path
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        action = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert(2)")
        annot = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 50, 50], A=action
        )
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))
        pdf.save(path)
    hidden = inspect_pdf(path)
    assert hidden.has_javascript and hidden.warnings == []


def test_xmp_packet_is_returned(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", scanned_pages=0)
    url = "http://creativecommons.org/licenses/by/4.0/"
    make_xmp(sample.path, licence_url=url)
    result = inspect_pdf(sample.path)
    assert result.has_xmp and result.xmp is not None
    assert "<xmpRights:WebStatement" in result.xmp and url in result.xmp
    assert "http://creativecommons.org/ns#" in result.xmp


def test_catalogue_version_overrides_header(tmp_path: Path) -> None:
    path = make_born_digital_pdf(tmp_path / "b.pdf", pages=1).path
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.Root.Version = pikepdf.Name("/1.7")
        pdf.save(path, min_version="1.4")
    result = inspect_pdf(path)
    assert result.pdf_version == "1.7"


def _pdf_with_forms(path: Path, *, self_reference: bool, image_fraction: float = 0.0) -> Path:
    """One page whose text is inside a form XObject (optionally a form drawing itself forever),
    optionally with a small image covering ``image_fraction`` of the page width."""
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(400, 600))
        page = pdf.pages[0]
        font = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Courier
            )
        )
        form = pdf.make_stream(b"BT /F1 12 Tf 10 10 Td (Hello inside a form) Tj ET /Fm1 Do")
        form.Type = pikepdf.Name.XObject
        form.Subtype = pikepdf.Name.Form
        form.BBox = [0, 0, 400, 600]
        form_resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        if self_reference:
            form_resources.XObject = pikepdf.Dictionary(Fm1=form)
        form.Resources = form_resources
        page_xobjects = pikepdf.Dictionary(Fm1=form)
        content = b"q /Fm1 Do Q"
        if image_fraction:
            image = pdf.make_stream(b"\x80" * 16)
            image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
            image.Width, image.Height, image.BitsPerComponent = 4, 4, 8
            image.ColorSpace = pikepdf.Name.DeviceGray
            page_xobjects.Im1 = image
            side = 400 * image_fraction
            content += b" q %.2f 0 0 %.2f 0 0 cm /Im1 Do Q" % (side, side)
        page.Resources = pikepdf.Dictionary(XObject=page_xobjects)
        page.Contents = pdf.make_stream(content)
        pdf.save(path)
    return path


def test_text_inside_forms_and_small_images(tmp_path: Path) -> None:
    path = _pdf_with_forms(tmp_path / "f.pdf", self_reference=False, image_fraction=0.25)
    (layer,) = page_layers(path)
    assert layer.visible_glyphs == len("Hello inside a form")
    assert layer.fonts == ["Courier"] and layer.unembedded_fonts == ["Courier"]
    assert layer.images == 1 and layer.image_coverage == pytest.approx(100 * 100 / (400 * 600))
    assert layer.kind == "born-digital" and not layer.truncated


def test_self_referencing_form_does_not_hang(tmp_path: Path) -> None:
    path = _pdf_with_forms(tmp_path / "loop.pdf", self_reference=True)
    started = time.monotonic()
    result = inspect_pdf(path)
    assert time.monotonic() - started < 10
    assert result.page_count == 1
    assert "page 1: content walk stopped at a safety limit" in result.warnings
    (layer,) = page_layers(path)
    assert layer.truncated and layer.visible_glyphs > 0


def test_per_page_details_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "many.pdf"
    with pikepdf.new() as pdf:
        for _ in range(30):
            pdf.add_blank_page()
        pdf.save(path)
    result = inspect_pdf(path, max_pages=10)
    assert result.page_count == 30
    assert len(result.text_chars_per_page) == len(result.images_per_page) == 10
    assert "per-page details cover the first 10 of 30 pages" in result.warnings
    budget = inspect_pdf(path, time_budget=0.0)
    assert len(budget.text_chars_per_page) < 30
    assert any("time budget" in w for w in budget.warnings)
    assert len(page_texts(path, max_pages=5)) == 5


def test_inspection_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """A 48 MiB PDF of 12 raw 4 MiB images: pypdf must neither read the whole file into memory
    (it does when given a path) nor keep every image it met (its object cache). Python-level
    allocations during the inspection stay below two images (bench/bench_rss.py: 1 GB)."""
    import tracemalloc

    from tests.support.samples import make_large_pdf

    pdf = tmp_path / "large.pdf"
    made = make_large_pdf(pdf, size_mb=48, page_mb=4)
    assert pdf.stat().st_size > 47 * 1024**2 and made["image_pages"] >= 11
    tracemalloc.start()
    try:
        inspection = inspect_pdf(pdf)
        texts = page_texts(pdf)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert inspection.page_count == made["pages"]
    assert "creative" in inspection.first_page_text.lower().replace(" ", "")
    assert len(texts) == made["pages"]
    assert peak < 7 * 1024**2, f"inspection peaked at {peak / 1024**2:.1f} MiB of Python objects"
