"""The per-page gate on hand-made texts (pure: no OCR run)."""

from __future__ import annotations

import pytest

from archive_ingest.ocr.dictionary import MissingWordList, load_word_list
from archive_ingest.ocr.gate import GateThresholds, decide_page
from archive_ingest.ocr.hocr import HocrPage

TRUE = (
    "Workers from the factories of Maipú and Cerrillos met every week in the union hall to "
    "discuss the closures, the transport of goods and the defence of the industrial belt. "
    "Many of them had never spoken in a public assembly before, yet within a few months the "
    "committee organised the distribution of food and the protection of the machines."
)
LIGHT = TRUE.replace("came", "carne").replace("closures", "dosures").replace("food", "fooel")
HEAVY = (
    "W0rkers frorn the fac~tories of Maip and Cerri1los rnet every w eek in the un|on hal1 to "
    "discu ss the c1osures, tlie transp^rt of goocls and the clefence of the industria1 be!t. "
    "Many of thern had nevcr spoken in a pub lic assemb1y before, yet with;in a few rnonths "
    "the cornrnittee organ|sed the distri bution of f0od and the protect ion of the rnachines."
)


def _known():  # type: ignore[no-untyped-def]
    return load_word_list("en").__contains__


def _fresh(text: str, conf: float = 92.0) -> HocrPage:
    return HocrPage(text=text, word_confidences=tuple(conf for _ in text.split()))


def test_heavy_damage_is_replaced() -> None:
    verdict = decide_page("scanned", HEAVY, _fresh(TRUE), _known())
    assert verdict.decision == "fresh-ocr"
    assert verdict.old is not None and verdict.new is not None
    assert verdict.old.dictionary_ratio < verdict.new.dictionary_ratio  # type: ignore[operator]
    assert verdict.old.garbage_rate > 0.1  # type: ignore[operator]
    assert verdict.review is None


def test_light_damage_keeps_the_old_layer_when_ocr_is_no_clear_win() -> None:
    # fresh OCR with its own, different small errors: the tie goes to the old layer
    fresh = TRUE.replace("Maipú", "Maipti").replace("assembly", "asembly")
    verdict = decide_page("scanned", LIGHT, _fresh(fresh), _known())
    assert verdict.decision == "kept-layer", verdict.reason


def test_margin_is_what_separates_the_two() -> None:
    lax = GateThresholds(margin=0.0)
    fresh = TRUE.replace("Maipú", "Maipti")
    strict = decide_page("scanned", LIGHT, _fresh(fresh), _known())
    eager = decide_page("scanned", LIGHT, _fresh(TRUE), _known(), lax)
    assert strict.decision == "kept-layer"
    assert eager.decision == "fresh-ocr"


def test_pages_without_a_layer_always_get_ocr() -> None:
    verdict = decide_page("no-text", "", _fresh(TRUE, conf=30.0), _known())
    assert verdict.decision == "fresh-ocr"
    assert verdict.old is None
    assert "confidence 30" in (verdict.review or "")  # but a person should look


def test_untrusted_or_empty_ocr_never_replaces_a_layer() -> None:
    assert decide_page("scanned", HEAVY, _fresh(TRUE, conf=20.0), _known()).decision == (
        "kept-layer"
    )
    assert decide_page("scanned", HEAVY, _fresh(""), _known()).decision == "kept-layer"
    assert decide_page("scanned", HEAVY, None, _known()).decision == "kept-layer"


def test_ocr_that_lost_text_does_not_win() -> None:
    half = " ".join(TRUE.split()[: len(TRUE.split()) // 2])
    verdict = decide_page("scanned", HEAVY, _fresh(half), _known())
    assert verdict.decision == "kept-layer"
    assert "lost text" in verdict.reason


def test_old_layer_missing_text_loses() -> None:
    first_line = " ".join(TRUE.split()[8:18])  # ordinary words only: scores as well as OCR
    verdict = decide_page("scanned", first_line, _fresh(TRUE), _known())
    assert verdict.decision == "fresh-ocr"
    assert "misses text" in verdict.reason


def test_born_digital_pages_are_never_judged_by_ocr() -> None:
    verdict = decide_page("born-digital", HEAVY, _fresh(TRUE), _known())
    assert verdict.decision == "born-digital"
    assert verdict.new is None and verdict.review is None


def test_poor_kept_text_is_flagged_for_review() -> None:
    # both bad: the old layer stays (OCR confidence too low) and is flagged
    verdict = decide_page("scanned", HEAVY, _fresh(HEAVY, conf=35.0), _known())
    assert verdict.decision == "kept-layer"
    assert verdict.review is not None and "garbage rate" in verdict.review


# damage made of non-words only, no odd characters: what the garbage rate cannot see
NON_WORDS = (
    TRUE.replace("from", "frorn")
    .replace("met", "rnet")
    .replace("the ", "tlie ")
    .replace("goods", "goocls")
    .replace("defence", "clefence")
    .replace("months", "rnonths")
    .replace("committee", "cornrnittee")
    .replace("machines", "rnachines")
)


def test_non_word_damage_is_replaced() -> None:
    verdict = decide_page("scanned", NON_WORDS, _fresh(TRUE), _known())
    assert verdict.old is not None and verdict.old.garbage_rate == 0.0
    assert verdict.decision == "fresh-ocr", verdict.reason


def test_without_a_word_list_the_gate_refuses() -> None:
    # a missing word signal scored as perfect kept exactly this layer
    with pytest.raises(MissingWordList, match="no word list"):
        decide_page("scanned", NON_WORDS, _fresh(TRUE), None)  # type: ignore[arg-type]
