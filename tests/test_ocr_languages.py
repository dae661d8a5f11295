"""Metadata languages -> Tesseract languages, and languages found in the old text layer."""

from __future__ import annotations

import pytest

from archive_ingest.errors import OcrError
from archive_ingest.ocr.dictionary import load_word_list
from archive_ingest.ocr.languages import (
    choose_languages,
    detect_languages,
    installed_languages,
    to_tesseract,
)
from tests.support.samples.corpus import page_text

INSTALLED = frozenset({"eng", "por", "spa"})


@pytest.mark.parametrize(
    ("code", "tesseract"),
    [
        ("pt", "por"),
        ("es", "spa"),
        ("en", "eng"),
        ("pt-BR", "por"),
        ("PT_br", "por"),
        ("fr", "fra"),
        ("por", "por"),
        ("chi_sim", "chi_sim"),
        ("", None),
        ("x", None),
    ],
)
def test_to_tesseract(code: str, tesseract: str | None) -> None:
    assert to_tesseract(code) == tesseract


def test_scielo_languages_map_and_combine_in_order() -> None:
    choice = choose_languages(["pt", "en", "pt-BR"], ["eng"], INSTALLED)
    assert choice.tesseract == ["por", "eng"]
    assert choice.joined == "por+eng"
    assert choice.from_metadata == ["por", "eng"]
    assert not choice.fallback_used and not choice.warnings


def test_detected_languages_are_appended() -> None:
    choice = choose_languages(["es"], ["eng"], INSTALLED, detected=["eng", "spa", "deu"])
    assert choice.tesseract == ["spa", "eng"]
    assert choice.from_text == ["eng"]


def test_uninstalled_and_unknown_languages_fall_back_with_warnings() -> None:
    choice = choose_languages(["fr", "zz-ZZ"], ["en"], INSTALLED)
    assert choice.tesseract == ["eng"]
    assert choice.fallback_used
    joined = " ".join(choice.warnings)
    assert "tesseract-ocr-fra" in joined and "'zz-ZZ'" in joined and "fallback eng" in joined


def test_nothing_usable_is_a_clear_error() -> None:
    with pytest.raises(OcrError, match="no usable OCR language"):
        choose_languages(["fr"], ["de"], INSTALLED)


def test_installed_languages_are_real() -> None:
    langs = installed_languages()
    assert {"eng", "por", "spa"} <= langs, "install tesseract-ocr-eng, -por and -spa"
    assert "osd" not in langs


def _dictionaries():  # type: ignore[no-untyped-def]
    return {
        tess: load_word_list(iso) for tess, iso in (("eng", "en"), ("por", "pt"), ("spa", "es"))
    }


def test_text_in_the_metadata_language_adds_nothing() -> None:
    dictionaries = _dictionaries()
    for lang, tess in (("pt", "por"), ("es", "spa"), ("en", "eng")):
        text = "\n".join(page_text(lang, i, 0) for i in range(2))
        assert detect_languages(text, dictionaries, [tess]) == [], lang


def test_an_english_abstract_in_a_portuguese_chapter_adds_english() -> None:
    dictionaries = _dictionaries()
    text = page_text("pt", 0, 0) + "\n" + page_text("en", 0, 0)
    assert detect_languages(text, dictionaries, ["por"]) == ["eng"]


def test_without_metadata_the_text_names_the_language() -> None:
    dictionaries = _dictionaries()
    assert detect_languages(page_text("es", 1, 3), dictionaries, []) == ["spa"]
    assert detect_languages("too short to tell", dictionaries, []) == []
