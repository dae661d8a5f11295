"""The per-page quality gate: keep the old text layer or take fresh OCR.

Re-OCR is not always better. On lightly damaged layers fresh Tesseract output was measured
worse than the old layer (0.44 % vs 0.09 % CER), on badly damaged layers it wins by far. So
each page is scored without ground truth, and fresh OCR must *clearly* beat the old layer:

    score = dictionary ratio - garbage rate        (both 0..1, see ``quality.py``)

In order:

1. no old layer -> fresh OCR (pages without text always get OCR);
2. OCR found no text, or Tesseract does not trust it (mean word confidence below
   ``min_confidence``) -> old layer;
3. OCR lost text: fewer than ``min_fresh_coverage`` x the old layer's characters (a block
   Tesseract did not see; the dictionary cannot notice missing words) -> old layer;
4. OCR scores at least ``margin`` above the old layer -> fresh OCR;
5. the old layer is much shorter than the OCR text (under ``min_old_coverage``) and
   Tesseract is confident -> fresh OCR (the old layer misses text);
6. otherwise the old layer stays (ties go to it: it is what the publisher shipped, and on
   light damage it measured better).

Pages whose kept text still looks poor are flagged for an archivist. The default thresholds
and the measurements behind them are in docs/OCR.md.

The gate never runs without a word list: ``decide_page`` refuses (``MissingWordList``) when
``known`` is missing, because a missing dictionary ratio scored as a perfect one keeps badly
damaged layers whose errors are non-words rather than odd characters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from archive_ingest.errors import OcrError
from archive_ingest.ocr.dictionary import MissingWordList
from archive_ingest.ocr.hocr import HocrPage
from archive_ingest.ocr.pages import PageKind
from archive_ingest.ocr.quality import TextFigures, text_figures

Decision = Literal["kept-layer", "fresh-ocr", "born-digital"]


@dataclass(frozen=True)
class GateThresholds:
    """The gate's knobs (defaults measured on generated pages, see docs/OCR.md)."""

    margin: float = 0.08
    min_confidence: float = 40.0
    min_fresh_coverage: float = 0.85
    min_old_coverage: float = 0.6
    confident: float = 60.0
    # review flags on the kept text
    review_min_dictionary_ratio: float = 0.70
    review_max_garbage_rate: float = 0.10
    review_min_confidence: float = 50.0
    review_min_words: int = 20


DEFAULT_THRESHOLDS = GateThresholds()


@dataclass(frozen=True)
class PageVerdict:
    decision: Decision
    reason: str
    old: TextFigures | None
    new: TextFigures | None
    new_mean_confidence: float | None
    review: str | None  # why the kept text needs a person, or None


def score(figures: TextFigures) -> float | None:
    """Dictionary ratio minus garbage rate.

    A text with tokens but no word at all (numbers, a table) has no ratio to weigh: its
    score is 1 - garbage rate. ``decide_page`` always has a word list, so a missing ratio
    means "no words", never "no dictionary".
    """
    if figures.garbage_rate is None:
        return None
    ratio = figures.dictionary_ratio if figures.dictionary_ratio is not None else 1.0
    return ratio - figures.garbage_rate


def decide_page(
    kind: PageKind,
    old_text: str,
    fresh: HocrPage | None,
    known: Callable[[str], bool],
    thresholds: GateThresholds = DEFAULT_THRESHOLDS,
) -> PageVerdict:
    """Decide one page. Pure: the figures are computed from the two texts only.

    ``known(word)`` is the page languages' word list; without one the gate refuses
    (``MissingWordList``) rather than judge on the garbage rate alone.
    """
    if known is None:
        raise MissingWordList(
            "the text-quality gate has no word list for this page's languages: it cannot"
            " judge the text layer"
        )
    t = thresholds
    if kind == "born-digital":
        figures = text_figures(old_text, known)
        reason = "real fonts: text kept untouched"
        return PageVerdict("born-digital", reason, figures, None, None, None)
    old = text_figures(old_text, known) if old_text.strip() else None
    new = text_figures(fresh.text, known) if fresh is not None else None
    conf = fresh.mean_confidence if fresh is not None else None

    decision: Decision
    if old is None or old.tokens == 0:
        decision = "fresh-ocr"
        reason = "no text layer: OCR" if new and new.tokens else "no text layer, OCR found none"
    elif new is None or new.tokens == 0:
        decision, reason = "kept-layer", "OCR found no text"
    elif conf is not None and conf < t.min_confidence:
        decision, reason = "kept-layer", f"OCR confidence {conf:.0f} < {t.min_confidence:.0f}"
    elif new.chars < t.min_fresh_coverage * old.chars:
        decision = "kept-layer"
        reason = f"OCR lost text: {new.chars} characters vs {old.chars} in the old layer"
    else:
        old_score, new_score = score(old), score(new)
        if old_score is None or new_score is None:  # both have tokens, so a garbage rate
            raise OcrError("text-quality gate: a text with tokens has no garbage rate")
        if new_score >= old_score + t.margin:
            decision = "fresh-ocr"
            reason = f"OCR scores {new_score:.3f} vs old layer {old_score:.3f}"
        elif old.chars < t.min_old_coverage * new.chars and (conf is None or conf >= t.confident):
            decision = "fresh-ocr"
            reason = f"old layer misses text: {old.chars} characters vs {new.chars} from OCR"
        else:
            decision = "kept-layer"
            reason = f"old layer scores {old_score:.3f} vs OCR {new_score:.3f}"
    kept = new if decision == "fresh-ocr" else old
    review = _review(kept, conf if decision == "fresh-ocr" else None, t)
    return PageVerdict(decision, reason, old, new, conf, review)


def _review(kept: TextFigures | None, confidence: float | None, t: GateThresholds) -> str | None:
    if kept is None or kept.word_tokens < t.review_min_words:
        return None  # little or no text (figure, blank page): nothing to judge
    problems = []
    ratio, garbage = kept.dictionary_ratio, kept.garbage_rate
    if ratio is not None and ratio < t.review_min_dictionary_ratio:
        problems.append(f"dictionary ratio {ratio:.2f} < {t.review_min_dictionary_ratio:.2f}")
    if garbage is not None and garbage > t.review_max_garbage_rate:
        problems.append(f"garbage rate {garbage:.2f} > {t.review_max_garbage_rate:.2f}")
    if confidence is not None and confidence < t.review_min_confidence:
        problems.append(f"OCR confidence {confidence:.0f} < {t.review_min_confidence:.0f}")
    return "; ".join(problems) or None
