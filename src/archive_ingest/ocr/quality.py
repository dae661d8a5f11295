"""Text-quality figures computable without ground truth, and the CER used to check them.

The gate (``gate.py``) compares an old text layer with fresh OCR using these figures:

- **dictionary ratio**: the share of word tokens found in a dictionary of the page's
  languages (hunspell word lists, see ``dictionary.py``). Damaged OCR makes non-words.
- **garbage rate**: the share of tokens that no clean text has: characters outside letters,
  digits and ordinary punctuation ("sa{de", "~"), or digit/letter mixtures ("c1inics").
- **mean word confidence**: Tesseract's own ``x_wconf`` (fresh OCR only; ``hocr.py``).

``cer`` (character error rate, Levenshtein distance over normalised text) needs the true
text, so it is used by tests and the benchmark only, never by the gate.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_SPACE_RE = re.compile(r"\s+")
# ordinary punctuation found around or inside clean words
_EDGE_PUNCT = "\"'“”‘’«»()[]{}.,;:!?¿¡—–-…/*†‡§"
# punctuation that stands alone in clean text ("1990 – 2010", "« x »")
_LONE_PUNCT_OK = frozenset({"-", "–", "—", "…", "/", '"', "«", "»", "“", "”", "§", "†", "(", ")"})
_ODD_CHAR_RE = re.compile(r"[^\w'’\-–./,:%°ºª+@&=?]|_")
_LETTER_PUNCT_LETTER_RE = re.compile(r"[^\W\d_][,:;°«»*|^~][^\W\d_]")
_PART_SPLIT_RE = re.compile(r"[-–/.,:'’]")
_DIGIT_LETTER_OK_RE = re.compile(
    r"^(\d+([ºª°]|st|nd|rd|th|s|a|o|as|os|er|ème|e|km|kg|mg|ml|cm|mm|m|g|h|min|x)?)$"
    r"|^([A-Z]{1,4}\d+[a-z]?)$"  # codes: "B12", "H5"
    r"|^(\d+[a-z])$",  # "12a" (list items, footnotes)
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Unicode NFKC (ligatures, width variants), soft hyphens removed, whitespace collapsed.

    Case, accents and punctuation are kept: a lost accent is an error we want to count.
    """
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    return _SPACE_RE.sub(" ", text).strip()


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions all cost 1).

    Myers/Hyyrö bit-parallel algorithm on Python integers: one pass over ``b`` with
    len(a)-bit words, so whole pages (thousands of characters) take milliseconds.
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    m = len(a)
    full = (1 << m) - 1
    last = 1 << (m - 1)
    peq: dict[str, int] = {}
    for i, ch in enumerate(a):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    pv, mv, score = full, 0, m
    for ch in b:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & full) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
    return score


def cer(ref: str, hyp: str) -> float:
    """Character error rate of ``hyp`` against the true text ``ref`` (0.0 = identical).

    Both texts are normalised first (``normalise``). An empty reference gives 0.0 for an empty
    hypothesis and 1.0 otherwise, so the value stays usable in averages.
    """
    r, h = normalise(ref), normalise(hyp)
    if not r:
        return 0.0 if not h else 1.0
    return levenshtein(r, h) / len(r)


def tokens(text: str) -> list[str]:
    """Whitespace tokens with surrounding punctuation removed; lone odd symbols kept."""
    out = []
    for raw in text.split():
        token = raw.strip(_EDGE_PUNCT)
        if token:
            out.append(token)
        elif raw not in _LONE_PUNCT_OK:
            out.append(raw)  # a lone "*", "~", "|", "." is a speck read as text: garbage
    return out


def is_garbage(token: str) -> bool:
    """A token clean text would not contain: odd symbols, or digits glued to letters."""
    if _ODD_CHAR_RE.search(token) or _LETTER_PUNCT_LETTER_RE.search(token):
        return True
    for part in _PART_SPLIT_RE.split(token):
        has_digit = any(ch.isdigit() for ch in part)
        has_alpha = any(ch.isalpha() for ch in part)
        if has_digit and has_alpha and not _DIGIT_LETTER_OK_RE.match(part):
            return True
    return False


def word_parts(token: str) -> list[str]:
    """The alphabetic words a token stands for ("bem-estar" -> itself and its parts)."""
    return [p for p in re.split(r"[-–'’/]", token) if p]


def is_word_token(token: str) -> bool:
    """Letters only (hyphens/apostrophes allowed inside): what a dictionary can judge."""
    parts = word_parts(token)
    return bool(parts) and all(p.isalpha() for p in parts)


@dataclass(frozen=True)
class TextFigures:
    """The ground-truth-free figures of one text (one page's layer)."""

    chars: int  # non-space characters
    tokens: int
    word_tokens: int
    dictionary_ratio: float | None  # None: no dictionary or no words
    garbage_rate: float | None  # None: no tokens


def text_figures(text: str, known: Callable[[str], bool] | None) -> TextFigures:
    """Figures for ``text``; ``known(word)`` says whether a word is in the page's dictionary."""
    toks = tokens(text)
    words = [t for t in toks if is_word_token(t)]
    garbage = sum(1 for t in toks if is_garbage(t))
    ratio: float | None = None
    if known is not None and words:
        hits = sum(1 for w in words if _known_token(w, known))
        ratio = hits / len(words)
    return TextFigures(
        chars=sum(1 for ch in text if not ch.isspace()),
        tokens=len(toks),
        word_tokens=len(words),
        dictionary_ratio=ratio,
        garbage_rate=(garbage / len(toks)) if toks else None,
    )


def _known_token(token: str, known: Callable[[str], bool]) -> bool:
    if known(token):
        return True
    parts = word_parts(token)
    return len(parts) > 1 and all(known(p) for p in parts)


def mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None
