"""Pure parts of the OCR stage: CER, text figures, word lists, hOCR parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_ingest.errors import OcrError
from archive_ingest.ocr.dictionary import Lexicon, load_word_list
from archive_ingest.ocr.hocr import parse_hocr, scrub_image_path
from archive_ingest.ocr.quality import (
    cer,
    is_garbage,
    levenshtein,
    normalise,
    text_figures,
    tokens,
)


def _naive_levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdeéú ~1", max_size=80), st.text(alphabet="abcdeéú ~1", max_size=80))
def test_levenshtein_matches_the_textbook_algorithm(a: str, b: str) -> None:
    assert levenshtein(a, b) == _naive_levenshtein(a, b)
    assert levenshtein(a, b) == levenshtein(b, a)


def test_levenshtein_handles_whole_pages_fast() -> None:
    import time

    a = "A pesquisa em saúde pública no Brasil mostrou resultados. " * 60
    b = a.replace("saúde", "saude").replace("no ", "n0 ")
    start = time.perf_counter()
    assert levenshtein(a, b) == 120
    assert time.perf_counter() - start < 1.0


def test_cer_examples() -> None:
    assert cer("the same", "the same") == 0.0
    assert cer("came", "carne") == pytest.approx(2 / 4)
    assert cer("Maipú", "Maipu") == pytest.approx(1 / 5)  # a lost accent is an error
    assert cer("", "") == 0.0
    assert cer("", "x") == 1.0
    # whitespace and line breaks do not count; ligatures are normalised
    assert cer("a  b\nc", "a b c") == 0.0
    assert cer("ﬁnal", "final") == 0.0


def test_normalise() -> None:
    assert normalise("  co\u00adoperate \n\t now ") == "cooperate now"


@pytest.mark.parametrize(
    ("token", "garbage"),
    [
        ("c1inics", True),
        ("sa{de", True),
        ("pes~quisa", True),
        ("~", True),
        ("a|b", True),
        ("sa:de", True),
        ("clinics", False),
        ("1990", False),
        ("1990-2010", False),
        ("COVID-19", False),
        ("1º", False),
        ("19th", False),
        ("http://books.scielo.org", False),
        ("bem-estar", False),
        ("d'água", False),
    ],
)
def test_garbage_tokens(token: str, garbage: bool) -> None:
    assert is_garbage(token) is garbage


def test_tokens_strip_punctuation_but_keep_odd_symbols() -> None:
    assert tokens('"Maipú," (1972) – ~ | * x.') == ["Maipú", "1972", "~", "|", "*", "x"]


def test_text_figures() -> None:
    known = {"the", "workers", "came", "to", "factory"}.__contains__
    clean = text_figures("The workers came to the factory.", lambda w: known(w.lower()))
    assert clean.dictionary_ratio == 1.0
    assert clean.garbage_rate == 0.0
    damaged = text_figures("Tlie w0rkers carne t~ the factory.", lambda w: known(w.lower()))
    assert damaged.dictionary_ratio is not None and damaged.dictionary_ratio < 0.7
    assert damaged.garbage_rate is not None and damaged.garbage_rate >= 2 / 6
    empty = text_figures("", None)
    assert (empty.chars, empty.dictionary_ratio, empty.garbage_rate) == (0, None, None)


# --- word lists (more in test_ocr_word_lists.py) -------------------------------------------


def test_lexicon_combines_languages() -> None:
    lexicon = Lexicon([load_word_list("pt"), load_word_list("en")])
    assert lexicon.known("saúde") and lexicon.known("clinics")
    assert not lexicon.known("c1inics")
    assert not Lexicon([])


# --- hOCR -------------------------------------------------------------------------------------

HOCR = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head><title></title></head>
 <body>
  <div class='ocr_page' id='page_1'
       title='image "/tmp/ocrmypdf.io.x1/000002_ocr.png"; bbox 0 0 10 10'>
   <div class='ocr_carea'><p class='ocr_par' lang='por'>
     <span class='ocr_line'><span class='ocrx_word' title='bbox 1 1 2 2; x_wconf 96'>A</span>
       <span class='ocrx_word' title='bbox 1 1 2 2; x_wconf 90'>pesquisa</span></span>
     <span class='ocr_line'>
       <span class='ocrx_word' title='bbox 1 1 2 2; x_wconf 60'>saúde</span></span>
   </p><p class='ocr_par'>
     <span class='ocr_header'>
       <span class='ocrx_word' title='bbox 1 1 2 2; x_wconf 30'>Fim</span></span>
   </p></div>
  </div>
 </body>
</html>
""".encode()


def test_parse_hocr_text_and_confidences() -> None:
    page = parse_hocr(HOCR)
    assert page.text == "A pesquisa\nsaúde\n\nFim"
    assert page.word_confidences == (96.0, 90.0, 60.0, 30.0)
    assert page.mean_confidence == pytest.approx(69.0)
    assert page.words == 4


def test_hocr_parser_is_hardened() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<html xmlns="http://www.w3.org/1999/xhtml"><body><p class='ocr_par'><span class='ocr_line'>
<span class='ocrx_word' title='x_wconf 90'>&b;&ext;</span></span></p></body></html>"""
    try:
        page = parse_hocr(bomb)
    except OcrError:
        return  # refusing is fine too
    assert "aaaaaaaaaa" not in page.text and "root:" not in page.text


def test_unreadable_hocr_is_an_ocr_error() -> None:
    with pytest.raises(OcrError, match="unreadable hOCR"):
        parse_hocr(b"<html><body><p>")


def test_scrub_image_path_removes_local_paths() -> None:
    scrubbed = scrub_image_path(HOCR, "page-0002")
    assert b"/tmp/ocrmypdf" not in scrubbed
    assert b'image "page-0002"' in scrubbed
    assert parse_hocr(scrubbed).text == parse_hocr(HOCR).text
