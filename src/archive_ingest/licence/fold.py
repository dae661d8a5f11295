"""Fold text for matching while remembering where every folded character came from.

Licence statements arrive from PDF text extraction: mixed case, missing or extra spaces, line
breaks in mid-phrase, words hyphenated across lines, typographic dashes, ligatures and (in
OCR output or hand-typed metadata) missing diacritics. The parsers match against a *folded*
copy (lower case, no diacritics, one kind of hyphen, single spaces) and use the offset map to
report the span of the *original* text, so the archivist sees exactly what the source said.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Every dash a PDF may give us, mapped to "-" (U+00AD soft hyphen is dropped entirely).
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_SOFT_HYPHEN = "\u00ad"
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


@dataclass(frozen=True)
class Folded:
    """A folded text and, for each folded character, the index of its original character."""

    original: str
    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` range of the folded text back onto the original text."""
        if end <= start or not self.origin:
            first = self.origin[start] if start < len(self.origin) else len(self.original)
            return first, first
        return self.origin[start], self.origin[end - 1] + 1

    def original_slice(self, start: int, end: int) -> str:
        a, b = self.span(start, end)
        return self.original[a:b]


def _fold_char(ch: str) -> str:
    if ch in _DASHES:
        return "-"
    if ch == _SOFT_HYPHEN or ch in _ZERO_WIDTH:
        return ""
    if ch.isspace():
        return " "
    decomposed = unicodedata.normalize("NFKD", ch)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.lower()


def fold(text: str) -> Folded:
    """Fold ``text``: lower case, no diacritics, "-" for every dash, single spaces.

    A hyphen at the end of a line followed by a lower-case letter is a word broken by the
    typesetter ("Comer-\\ncial") and is joined; elsewhere the hyphen is kept ("Attribution-\\n
    NonCommercial", URLs such as ".../by-\\nnc/4.0/").
    """
    out: list[str] = []
    origin: list[int] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch in _DASHES or ch == "-":
            j = i + 1
            while j < n and text[j] in " \t\r":
                j += 1
            if j < n and text[j] == "\n":
                k = j + 1
                while k < n and text[k].isspace():
                    k += 1
                if k < n and text[k].islower() and not _inside_url(out):
                    i = k  # drop hyphen and line break: the word continues
                    continue
        folded = _fold_char(ch)
        for c in folded:
            if c == " " and (not out or out[-1] == " "):
                continue
            out.append(c)
            origin.append(i)
        i += 1
    while out and out[-1] == " ":
        out.pop()
        origin.pop()
    return Folded(original=text, text="".join(out), origin=tuple(origin))


def _inside_url(out: list[str]) -> bool:
    """Whether the token being built (since the last space) looks like part of a URL."""
    token: list[str] = []
    for c in reversed(out):
        if c == " ":
            break
        token.append(c)
        if len(token) > 200:
            break
    word = "".join(reversed(token))
    return "/" in word or "creativecommons" in word or "www." in word


def strip_accents_lower(text: str) -> str:
    """Fold a short label (a port name, a vocabulary word) the same way as :func:`fold`."""
    return fold(text).text
