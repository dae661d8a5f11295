"""The one page analysis is bounded for inspection and OCR alike: a content stream that
decodes to more than ``MAX_CONTENT_BYTES`` is never handed to a parser, and each filter's
decoded size is counted without holding more than the limit."""

from __future__ import annotations

import base64
import tracemalloc
import zlib
from pathlib import Path

import pikepdf
import pytest
from pypdf._codecs._codecs import LzwCodec

from archive_ingest.ocr.pages import analyse_pdf
from archive_ingest.pdf.bounds import MAX_CONTENT_BYTES
from archive_ingest.pdf.inspection import inspect_pdf
from archive_ingest.pdf.pages import page_layers, page_texts
from archive_ingest.pdf.streams import decoded_size

TEXT = b"BT /F1 12 Tf 72 720 Td (Hello visible text) Tj ET"


def _font(pdf: pikepdf.Pdf, base: str = "Helvetica") -> pikepdf.Object:
    return pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name("/" + base)
        )
    )


def _bomb(pdf: pikepdf.Pdf, tail: bytes = TEXT) -> pikepdf.Stream:
    """A content stream of a few dozen KiB that decodes to more than ``MAX_CONTENT_BYTES``."""
    stream = pikepdf.Stream(pdf, b"")
    body = b" " * (MAX_CONTENT_BYTES + 1024 * 1024) + tail
    stream.write(zlib.compress(body, 9), filter=pikepdf.Name.FlateDecode)
    return stream


def _two_pages(path: Path, *, bomb_in_form: bool = False) -> Path:
    """Page 1 draws visible text; page 2 draws the same text behind a decompression bomb (in
    its content stream, or in a form it draws)."""
    with pikepdf.new() as pdf:
        for _ in range(2):
            pdf.add_blank_page(page_size=(612, 792))
        font = _font(pdf)
        for page in pdf.pages:
            page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        pdf.pages[0].Contents = pdf.make_stream(TEXT)
        if bomb_in_form:
            form = _bomb(pdf)
            form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
            form.BBox = [0, 0, 612, 792]
            form.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
            pdf.pages[1].Resources.XObject = pikepdf.Dictionary(Fm1=pdf.make_indirect(form))
            pdf.pages[1].Contents = pdf.make_stream(b"q /Fm1 Do Q")
        else:
            pdf.pages[1].Contents = pdf.make_indirect(_bomb(pdf))
        pdf.save(path)
    assert path.stat().st_size < 1024 * 1024
    return path


@pytest.mark.parametrize("bomb_in_form", [False, True], ids=["page", "form"])
def test_ocr_analysis_does_not_read_a_page_over_the_content_bound(
    tmp_path: Path, bomb_in_form: bool
) -> None:
    path = _two_pages(tmp_path / "bomb.pdf", bomb_in_form=bomb_in_form)
    tracemalloc.start()
    try:
        first, second = analyse_pdf(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024**2, f"analysis peaked at {peak / 1024**2:.1f} MiB"
    assert first.kind == "born-digital" and "Hello visible text" in first.old_text
    assert first.warnings == ()
    # not parsed, not given to OCR, its text not read: the page stays as it is
    assert second.kind == "born-digital" and second.old_text == ""
    assert second.visible_chars == 0
    assert second.warnings == (
        f"page 2: content over {MAX_CONTENT_BYTES} bytes not analysed; the page is kept as it is",
    )


def test_inspection_bounds_the_same_page_the_same_way(tmp_path: Path) -> None:
    path = _two_pages(tmp_path / "bomb.pdf")
    result = inspect_pdf(path)
    assert result.page_count == 2
    assert result.text_chars_per_page == [len("Hellovisibletext"), 0]
    assert "page 2: content walk stopped at a safety limit" in result.warnings
    assert (
        f"page 2: content decodes to over {MAX_CONTENT_BYTES} bytes, not read for text"
        in result.warnings
    )
    first, second = page_layers(path)
    assert not first.oversized and first.kind == "born-digital"
    assert second.oversized and second.truncated and second.visible_glyphs == 0
    assert page_texts(path)[1] == ""


def test_glyphless_font_text_is_an_ocr_layer_for_ocr_and_visible_for_inspection(
    tmp_path: Path,
) -> None:
    """Tesseract's own renderer draws its text in GlyphLessFont; drawn in a visible mode,
    the OCR stage still counts it as a scanner's layer, the inspection as visible text."""
    path = tmp_path / "glyphless.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        page = pdf.pages[0]
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=_font(pdf, "GlyphLessFont")))
        page.Contents = pdf.make_stream(TEXT)
        pdf.save(path)
    (layer,) = analyse_pdf(path)
    assert layer.kind == "scanned" and layer.visible_chars == 0
    assert layer.invisible_chars == len("Hello visible text")
    (walked,) = page_layers(path)
    assert walked.visible_glyphs == walked.ocr_font_glyphs == len("Hello visible text")
    assert walked.kind == "born-digital"


# --- decoded sizes ----------------------------------------------------------------------------


_OWNER = pikepdf.new()  # a stream lives only as long as its Pdf


def _stream(encoded: bytes, filters: list[str], parms: object = None) -> pikepdf.Stream:
    stream = pikepdf.Stream(_OWNER, b"")
    names = [pikepdf.Name(f) for f in filters]
    chosen = names[0] if len(names) == 1 else pikepdf.Array(names) if names else None
    stream.write(encoded, filter=chosen, decode_parms=parms)  # type: ignore[arg-type]
    return stream


def _run_length(data: bytes) -> bytes:
    out = bytearray()
    for at in range(0, len(data), 128):
        chunk = data[at : at + 128]
        out += bytes([len(chunk) - 1]) + chunk
    return bytes(out + b"\x80")


DATA = b"q 1 0 0 1 0 0 cm BT /F1 12 Tf (some content) Tj ET Q\n" * 500


@pytest.mark.parametrize(
    ("encoded", "filters"),
    [
        (DATA, []),
        (zlib.compress(DATA), ["/FlateDecode"]),
        (zlib.compress(DATA), ["/Fl"]),
        (LzwCodec().encode(DATA), ["/LZWDecode"]),
        (_run_length(DATA), ["/RunLengthDecode"]),
        (DATA.hex().encode() + b">", ["/ASCIIHexDecode"]),
        (base64.a85encode(zlib.compress(DATA)) + b"~>", ["/ASCII85Decode", "/FlateDecode"]),
    ],
    ids=["none", "flate", "fl", "lzw", "runlength", "hex", "a85-flate"],
)
def test_decoded_size_of_each_filter(encoded: bytes, filters: list[str]) -> None:
    stream = _stream(encoded, filters)
    assert decoded_size(stream, 10 * len(DATA)) == len(DATA)
    if len(encoded) <= len(DATA):  # raw data over the limit is over it, whatever it decodes to
        assert decoded_size(stream, len(DATA)) == len(DATA)
    assert decoded_size(stream, len(DATA) - 1) == len(DATA)  # limit + 1: over


def test_decoded_size_of_what_qpdf_would_not_decode_and_what_it_cannot_bound() -> None:
    limit = 10 * len(DATA)
    # qpdf does not decode an image codec (or an unknown filter) when it parses content
    assert decoded_size(_stream(b"\xff\xd8\xff", ["/DCTDecode"]), limit) == 0
    assert decoded_size(_stream(zlib.compress(DATA), ["/FlateDecoee"]), limit) == 0
    flate = zlib.compress(DATA)
    stacked = _stream(flate, ["/FlateDecode"] * 5)
    assert decoded_size(stacked, limit) == limit + 1
    predictor = pikepdf.Array([pikepdf.Dictionary(Predictor=12, Columns=4), None])
    chained = _stream(flate, ["/FlateDecode", "/ASCIIHexDecode"], predictor)
    assert decoded_size(chained, limit) == limit + 1
    # a predictor on the last filter only ever shrinks the data: counted as is
    last = _stream(flate, ["/FlateDecode"], pikepdf.Dictionary(Predictor=12, Columns=4))
    assert decoded_size(last, limit) == len(DATA)


def test_decoded_size_of_damaged_data() -> None:
    cut = zlib.compress(DATA)[: len(zlib.compress(DATA)) // 2]
    counted = decoded_size(_stream(cut, ["/FlateDecode"]), len(DATA))
    assert 0 < counted < len(DATA)  # what decodes before the damage, as qpdf sees it too
    broken_lzw = _stream(b"\xff" * 64, ["/LZWDecode"])
    assert decoded_size(broken_lzw, 1024) == 1025  # undecodable: its worst case is over
