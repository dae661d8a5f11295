"""The sample generator: ground truth is exact, page one is SciELO's, the damage is realistic."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pikepdf
import pypdf
import pytest

from tests.support.samples import (
    licence_names,
    licence_statements,
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
from tests.support.samples.chapter import chapter_citation, citation_name
from tests.support.samples.damage import damage_lines

OCRMYPDF = Path(sys.executable).with_name("ocrmypdf")


def norm(text: str) -> str:
    return " ".join(text.split())


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def text_render_modes(page: pikepdf.Page) -> set[int]:
    return {
        int(operands[0]) for operands, op in pikepdf.parse_content_stream(page) if str(op) == "Tr"
    }


@pytest.mark.parametrize("damage", ["none", "light", "heavy"])
def test_text_layer_holds_exactly_the_recorded_damaged_text(tmp_path: Path, damage: str) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", damage=damage, seed=7)  # type: ignore[arg-type]
    reader = pypdf.PdfReader(sample.path)
    assert len(reader.pages) == 3 == len(sample.true_texts) == len(sample.layer_texts)
    assert sample.scanned_pages == [1, 2]
    for page, layer in zip(reader.pages, sample.layer_texts, strict=True):
        assert norm(page.extract_text()) == norm(layer)
    assert sample.layer_texts[0] == sample.true_texts[0]  # born-digital page: exact
    if damage == "none":
        assert sample.layer_texts == sample.true_texts
    else:
        assert all(sample.layer_texts[i] != sample.true_texts[i] for i in (1, 2))


def test_page_one_is_scielos_citation_and_trilingual_licence(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf")
    first = norm(pypdf.PdfReader(sample.path).pages[0].extract_text())
    assert first.startswith("SciELO Books / SciELO Livros / SciELO Libros")
    assert (
        "PABLO. Building the Industrial Cordons: Maipú-Cerrillos. In HENFREY, C., and SORJ, B. "
        "Chilean Voices: activists describe their experiences of the Popular Unity Period "
        "[online]. Rio de Janeiro: Centro Edelstein de Pesquisas Sociais, 2008. pp. 40-52. "
        "ISBN: 978-85-99662-84-7. Available from SciELO Books <http://books.scielo.org>."
    ) in first
    assert (
        "All the contents of this chapter, except where otherwise noted, is licensed under a "
        "Creative Commons Attribution-Non Commercial-ShareAlike 3.0 Unported."
    ) in first
    assert (
        "Todo o conteúdo deste capítulo, exceto quando houver ressalva, é publicado sob a "
        "licença Creative Commons Atribuição - Uso Não Comercial - Partilha nos Mesmos Termos "
        "3.0 Não adaptada."
    ) in first
    assert (
        "Todo el contenido de este capítulo, excepto donde se indique lo contrario, está bajo "
        "licencia de la licencia Creative Commons Reconocimento-NoComercial-CompartirIgual 3.0 "
        "Unported."
    ) in first
    assert sample.licence_id == "by-nc-sa/3.0"
    assert sample.licence_url == "http://creativecommons.org/licenses/by-nc-sa/3.0/"
    assert norm(sample.licence_statement) in first


def test_licence_wording_follows_the_licence_id() -> None:
    by4 = licence_statements("by/4.0")
    assert by4["en"].endswith("licensed under a Creative Commons Attribution 4.0 International.")
    assert by4["pt"].endswith("Creative Commons Atribuição 4.0 Internacional.")
    assert by4["es"].endswith("Creative Commons Atribución 4.0 Internacional.")
    names = licence_names("BY-NC-ND/3.0")
    assert names["en"] == "Creative Commons Attribution-Non Commercial-NoDerivs 3.0 Unported"
    assert "Não adaptada" in names["pt"]
    assert licence_statements("by/4.0", work="book")["en"].startswith(
        "All the contents of this work"
    )
    with pytest.raises(ValueError, match="not a Creative Commons licence id"):
        licence_statements("all rights reserved")
    with pytest.raises(ValueError, match="version"):
        licence_statements("by/9.0")


def test_licence_override_is_printed_verbatim(tmp_path: Path) -> None:
    statement = "© 2008 the authors. All rights reserved. Reprinted with permission."
    sample = make_sample_chapter(tmp_path / "c.pdf", licence=statement, scanned_pages=0)
    first = norm(pypdf.PdfReader(sample.path).pages[0].extract_text())
    assert statement in first
    assert "Creative Commons" not in first
    assert sample.licence_id is None and sample.licence_url is None
    assert len(pypdf.PdfReader(sample.path).pages) == 1


def test_citation_names_follow_scielo_style() -> None:
    assert citation_name("Pablo") == "PABLO"
    assert citation_name("Henfrey, Colin") == "HENFREY, C."
    assert citation_name("Maria Teresa Ribeiro") == "RIBEIRO, M.T."
    assert citation_name("Ribeiro,  Maria Teresa Franco") == "RIBEIRO, M.T.F."
    citation = chapter_citation(
        creators=["Silva, Ana", "Souza, João Carlos"],
        title="Saúde e território?",
        editors=[],
        book_title="Cidades médias",
        city="Salvador",
        publisher="EDUFBA",
        year=2009,
        pages=(1, 20),
        isbn="978-85-232-0560-7",
    )
    assert citation.startswith("SILVA, A., and SOUZA, J.C. Saúde e território? In Cidades médias")
    assert "Salvador: EDUFBA, 2009. pp. 1-20. ISBN: 978-85-232-0560-7." in citation


def test_light_damage_is_only_realistic_ocr_confusions(tmp_path: Path) -> None:
    confusions = {
        ("m", "rn"),
        ("cl", "d"),
        ("l", "1"),
        ("rn", "m"),
        ("d", "cl"),
        ("e", "c"),
        ("h", "li"),
        ("ri", "n"),
        ("u", "ii"),
        ("O", "0"),
        ("I", "l"),
    }
    seen_kinds: set[str] = set()
    for seed in range(4):
        sample = make_sample_chapter(
            tmp_path / f"c{seed}.pdf", damage="light", seed=seed, language="pt"
        )
        for truth, layer in zip(sample.true_texts[1:], sample.layer_texts[1:], strict=True):
            assert similarity(truth, layer) > 0.97  # a few errors, not many
            true_words, layer_words = truth.split(), layer.split()
            assert len(true_words) == len(layer_words)  # no split or merged words
            diffs = [(t, w) for t, w in zip(true_words, layer_words, strict=True) if t != w]
            assert len(diffs) >= 3
            for t, w in diffs:
                if fold(t) == w or (fold(t) == fold(w) and len(t) == len(w)):
                    seen_kinds.add("diacritic")
                    continue
                explained = any(
                    t[i:].startswith(a) and t[:i] + b + t[i + len(a) :] == w
                    for a, b in confusions
                    for i in range(len(t))
                )
                assert explained, f"{t!r} -> {w!r} is not a known OCR confusion"
                seen_kinds.add("confusion")
    assert seen_kinds == {"diacritic", "confusion"}


def test_heavy_damage_is_much_worse_than_light(tmp_path: Path) -> None:
    light = make_sample_chapter(tmp_path / "l.pdf", damage="light", seed=2)
    heavy = make_sample_chapter(tmp_path / "h.pdf", damage="heavy", seed=2)
    assert light.true_texts == heavy.true_texts
    for i in (1, 2):
        truth = heavy.true_texts[i]
        assert similarity(truth, heavy.layer_texts[i]) < similarity(truth, light.layer_texts[i])
        assert similarity(truth, heavy.layer_texts[i]) < 0.93
        assert len(truth.split()) != len(heavy.layer_texts[i].split())  # split/merged words


def test_damage_lines_keeps_line_structure_and_is_deterministic() -> None:
    import random

    lines = ["The workers came close to the clinics of Maipú.", "", "Another line"]
    for level in ("none", "light", "heavy"):
        a = damage_lines(lines, level, random.Random(5))  # type: ignore[arg-type]
        b = damage_lines(lines, level, random.Random(5))  # type: ignore[arg-type]
        assert a == b and len(a) == len(lines) and a[1] == ""
    with pytest.raises(ValueError, match="unknown damage level"):
        damage_lines(lines, "medium", random.Random(0))  # type: ignore[arg-type]


def test_same_seed_same_bytes_other_seed_other_text(tmp_path: Path) -> None:
    a = make_sample_chapter(tmp_path / "a.pdf", seed=11)
    b = make_sample_chapter(tmp_path / "b.pdf", seed=11)
    c = make_sample_chapter(tmp_path / "c.pdf", seed=12)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.layer_texts == b.layer_texts
    assert c.true_texts[1:] != a.true_texts[1:]


@pytest.mark.parametrize("language", ["en", "pt", "es"])
def test_body_text_is_in_the_chapter_language_with_diacritics(
    tmp_path: Path, language: str
) -> None:
    markers = {"en": " the ", "pt": " não ", "es": " los "}
    sample = make_sample_chapter(tmp_path / "c.pdf", language=language, damage="none")  # type: ignore[arg-type]
    body = " ".join(sample.true_texts[1:])
    assert re.search(r"[áéíóúãõçñ]", body)
    assert markers[language] in f" {body.lower()} "
    assert sample.true_texts[1].splitlines()[0] == "40"  # the book's page number
    assert sample.true_texts[2].splitlines()[0] == "41"


def test_body_texts_are_used_and_cut_to_the_page(tmp_path: Path) -> None:
    long_text = " ".join(["Texto"] * 2000)
    sample = make_sample_chapter(
        tmp_path / "c.pdf", body_texts=["Uma página curta.", long_text], damage="none"
    )
    assert sample.true_texts[1] == "40\nUma página curta."
    page2_words = sample.true_texts[2].split()[1:]
    assert 100 < len(page2_words) < 2000
    assert norm(pypdf.PdfReader(sample.path).pages[2].extract_text()) == norm(sample.true_texts[2])


def test_page_structure_scans_with_invisible_text_and_embedded_fonts(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", scanned_pages=3)
    with pikepdf.open(sample.path) as pdf:
        first, *scans = pdf.pages
        assert text_render_modes(first) <= {0} and not list(first.get_images())
        width, height = (float(v) for v in first.mediabox[2:])
        for page in scans:
            assert text_render_modes(page) == {3}
            (image,) = (pikepdf.PdfImage(x) for x in page.get_images().values())
            assert image.width / (width / 72) == pytest.approx(300, abs=1)
            assert image.height / (height / 72) == pytest.approx(300, abs=1)
            assert image.colorspace == "/DeviceGray"
            assert "/DCTDecode" in str(image.filters)
            assert isinstance(page.obj.get("/Trans"), pikepdf.Dictionary)  # messy, on purpose
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                assert "/FontFile2" in obj  # every font embedded
        base_fonts = {
            str(o.get("/BaseFont"))
            for o in pdf.objects
            if isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/Font"
        }
        assert base_fonts and all("DejaVu" in f for f in base_fonts)


def test_bilevel_scans(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", image_mode="bilevel", scanned_pages=1)
    with pikepdf.open(sample.path) as pdf:
        (image,) = (pikepdf.PdfImage(x) for x in pdf.pages[1].get_images().values())
        assert image.bits_per_component == 1
    assert norm(pypdf.PdfReader(sample.path).pages[1].extract_text()) == norm(sample.layer_texts[1])


def test_clean_removes_the_empty_trans_key(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", clean=True)
    with pikepdf.open(sample.path) as pdf:
        assert all("/Trans" not in page.obj for page in pdf.pages)
    assert norm(pypdf.PdfReader(sample.path).pages[1].extract_text()) == norm(sample.layer_texts[1])


def test_generating_a_three_page_chapter_is_fast(tmp_path: Path) -> None:
    make_sample_chapter(tmp_path / "warm.pdf", scanned_pages=1)  # font loading
    started = time.perf_counter()
    make_sample_chapter(tmp_path / "c.pdf", scanned_pages=2)
    assert time.perf_counter() - started < 2.0


@pytest.mark.slow
def test_ocrmypdf_pdfa_internal_backend_refuses_messy_and_accepts_clean(tmp_path: Path) -> None:
    """The raw sample is messy the way environment-notes.md describes (exit 10 on the internal
    PDF/A backend); the cleaned variant converts. OCR itself is skipped to keep this fast."""
    assert OCRMYPDF.exists(), f"ocrmypdf not found next to {sys.executable}"
    results = {}
    for clean in (False, True):
        sample = make_sample_chapter(tmp_path / f"in-{clean}.pdf", clean=clean, damage="light")
        out = tmp_path / f"out-{clean}.pdf"
        proc = subprocess.run(
            [
                str(OCRMYPDF),
                "--skip-text",
                "--tesseract-timeout",
                "0",
                "--output-type",
                "pdfa-2",
                "--pdfa-backend",
                "internal",
                "-l",
                "eng",
                str(sample.path),
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        results[clean] = (proc.returncode, proc.stderr)
        if clean:
            assert proc.returncode == 0, proc.stderr
            assert norm(pypdf.PdfReader(out).pages[1].extract_text()) == norm(sample.layer_texts[1])
    assert results[False][0] == 10, results[False][1]
    assert "/Trans" in results[False][1]


def test_born_digital_pdf_has_only_visible_text(tmp_path: Path) -> None:
    sample = make_born_digital_pdf(tmp_path / "b.pdf", pages=2, language="es")
    reader = pypdf.PdfReader(sample.path)
    assert [norm(p.extract_text()) for p in reader.pages] == [norm(t) for t in sample.true_texts]
    with pikepdf.open(sample.path) as pdf:
        for page in pdf.pages:
            assert not list(page.get_images())
            assert text_render_modes(page) <= {0}
    assert sample.scanned_pages == []


def test_image_only_pdf_has_no_text(tmp_path: Path) -> None:
    sample = make_image_only_pdf(tmp_path / "i.pdf", pages=2)
    reader = pypdf.PdfReader(sample.path)
    assert [p.extract_text().strip() for p in reader.pages] == ["", ""]
    assert all(len(t) > 200 for t in sample.true_texts)
    assert sample.layer_texts == ["", ""]
    with pikepdf.open(sample.path) as pdf:
        assert all(len(list(p.get_images())) == 1 for p in pdf.pages)


def test_unembedded_font_pdf(tmp_path: Path) -> None:
    sample = make_unembedded_font_pdf(tmp_path / "u.pdf")
    with pikepdf.open(sample.path) as pdf:
        fonts = [
            o
            for o in pdf.objects
            if isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/Font"
        ]
        assert [str(f.BaseFont) for f in fonts] == ["/Helvetica"]
        assert "/FontDescriptor" not in fonts[0]
    assert norm(pypdf.PdfReader(sample.path).pages[0].extract_text()) == norm(sample.true_texts[0])


def test_encrypted_pdf_opens_with_empty_password_but_is_encrypted(tmp_path: Path) -> None:
    path = make_encrypted_pdf(tmp_path / "e.pdf")
    reader = pypdf.PdfReader(path)
    assert reader.is_encrypted
    with pikepdf.open(path) as pdf:
        assert pdf.is_encrypted
    locked = make_encrypted_pdf(tmp_path / "l.pdf", user_password="secret")
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(locked)
    assert not list(tmp_path.glob("*.plain.pdf"))


def test_truncated_pdf_has_no_end(tmp_path: Path) -> None:
    path = make_truncated_pdf(tmp_path / "t.pdf", keep=0.5)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" not in data and b"startxref" not in data
    with pytest.raises(ValueError, match="keep"):
        make_truncated_pdf(tmp_path / "x.pdf", keep=1.5)


def test_javascript_and_embedded_file_pdfs(tmp_path: Path) -> None:
    js = make_pdf_with_javascript(tmp_path / "js.pdf", script="app.alert(1);")
    with pikepdf.open(js) as pdf:
        assert pdf.Root.OpenAction.S == "/JavaScript"
        assert str(pdf.Root.OpenAction.JS) == "app.alert(1);"
        assert "/JavaScript" in pdf.Root.Names
    ef = make_pdf_with_embedded_file(tmp_path / "ef.pdf", name="x.csv", data=b"a,b\n")
    with pikepdf.open(ef) as pdf:
        assert list(pdf.attachments) == ["x.csv"]
        assert pdf.attachments["x.csv"].get_file().read_bytes() == b"a,b\n"


def test_make_xmp_writes_rights_metadata(tmp_path: Path) -> None:
    sample = make_sample_chapter(tmp_path / "c.pdf", scanned_pages=0)
    url = "http://creativecommons.org/licenses/by-nc-sa/3.0/"
    out = make_xmp(
        sample.path,
        licence_url=url,
        rights="CC BY-NC-SA 3.0",
        title="T",
        creators=["Pablo"],
        output=tmp_path / "x.pdf",
    )
    with pikepdf.open(sample.path) as pdf:
        assert "/Metadata" not in pdf.Root  # the input is left alone when output is given
    with pikepdf.open(out) as pdf:
        xmp = pdf.Root.Metadata.read_bytes().decode()
        meta = pdf.open_metadata()
        assert meta["xmpRights:WebStatement"] == url
        assert meta["xmpRights:Marked"] == "True"
        assert meta["dc:rights"] == "CC BY-NC-SA 3.0"
        assert pdf.docinfo["/Title"] == "Building the Industrial Cordons: Maipú-Cerrillos"
    assert f'<cc:license xmlns:cc="http://creativecommons.org/ns#">{url}</cc:license>' in xmp
    other = make_xmp(sample.path, licence_url=url, web_statement="http://example.org/terms")
    with pikepdf.open(other) as pdf:
        assert pdf.open_metadata()["xmpRights:WebStatement"] == "http://example.org/terms"
