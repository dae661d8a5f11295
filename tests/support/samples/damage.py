"""Deterministic OCR-style damage for the invisible text layer of "scanned" sample pages.

Pure functions: given the true lines of a page, a damage level and a seeded ``random.Random``,
return the lines a poor scanner OCR would have produced. The line structure is kept (one damaged
line per true line) so the layer can be placed over the page image line by line.

- ``none``: the exact text.
- ``light``: a few realistic confusions as seen in real SciELO scans: "m"->"rn" ("carne" for
  "came"), "cl"->"d" ("dose" for "close"), "l"->"1" ("c1inics"), lost diacritics, "rn"->"m",
  "e"->"c", "h"->"li".
- ``heavy``: many: the light ones plus garbage characters, split and merged words, wrong and
  dropped letters.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Sequence
from typing import Literal

Damage = Literal["none", "light", "heavy"]

# (pattern, replacement) pairs of real OCR confusions, most common first
_CONFUSIONS: tuple[tuple[str, str], ...] = (
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
)
_GARBAGE = "~^'|*;:,._-°«»"
_WRONG_LETTERS = "aceimnorsuvwl1!"

LIGHT_WORD_RATE = 0.015
LIGHT_DIACRITIC_RATE = 0.12
LIGHT_MIN_CHANGES = 3
HEAVY_WORD_RATE = 0.65


def strip_one_diacritic(word: str, rng: random.Random) -> str:
    """Drop the accent of one accented letter ("Maipú" -> "Maipu"), as poor OCR does."""
    positions = [i for i, ch in enumerate(word) if _base_letter(ch) != ch]
    if not positions:
        return word
    i = rng.choice(positions)
    return word[:i] + _base_letter(word[i]) + word[i + 1 :]


def confuse(word: str, rng: random.Random) -> str:
    """Apply one realistic character confusion that fits the word, or return it unchanged."""
    options = [(a, b) for a, b in _CONFUSIONS if a in word]
    if not options:
        return word
    a, b = rng.choice(options)
    starts = [i for i in range(len(word)) if word.startswith(a, i)]
    i = rng.choice(starts)
    return word[:i] + b + word[i + len(a) :]


def damage_lines(lines: Sequence[str], level: Damage, rng: random.Random) -> list[str]:
    """Damage a page's lines. Same number of lines out as in; deterministic for a given ``rng``."""
    if level == "none":
        return list(lines)
    if level not in ("light", "heavy"):
        raise ValueError(f"unknown damage level {level!r}; use none, light or heavy")
    words = [line.split(" ") for line in lines]
    changed = 0
    for line_words in words:
        for j, word in enumerate(line_words):
            if not word:
                continue
            new = _damage_word(word, level, rng)
            if new != word:
                line_words[j] = new
                changed += 1
    if level == "light":
        # a real "few errors" layer always has some: top up to a minimum, deterministically
        candidates = [
            (i, j)
            for i, line_words in enumerate(words)
            for j, word in enumerate(line_words)
            if word and confuse(word, random.Random(0)) != word
        ]
        rng.shuffle(candidates)
        for i, j in candidates[: max(0, LIGHT_MIN_CHANGES - changed)]:
            words[i][j] = confuse(words[i][j], rng)
    out = [" ".join(line_words) for line_words in words]
    if level == "heavy":
        out = [_merge_words(line, rng) for line in out]
    return out


def _damage_word(word: str, level: Damage, rng: random.Random) -> str:
    if level == "light":
        if _base_letter_word(word) != word and rng.random() < LIGHT_DIACRITIC_RATE:
            return strip_one_diacritic(word, rng)
        if rng.random() < LIGHT_WORD_RATE:
            return confuse(word, rng)
        return word
    if rng.random() >= HEAVY_WORD_RATE:
        return word
    ops: list[Callable[[str, random.Random], str]] = [
        confuse,
        confuse,
        strip_one_diacritic,
        _garbage,
        _split,
        _wrong_letter,
        _drop_letter,
    ]
    for _ in range(rng.choice((1, 2, 2, 3))):
        word = rng.choice(ops)(word, rng)
    return word


def _garbage(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word) + 1)
    junk = "".join(rng.choice(_GARBAGE) for _ in range(rng.choice((1, 1, 2))))
    return word[:i] + junk + word[i:]


def _split(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(2, len(word) - 1)
    return word[:i] + " " + word[i:]


def _wrong_letter(word: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    if not letters:
        return word
    i = rng.choice(letters)
    return word[:i] + rng.choice(_WRONG_LETTERS) + word[i + 1 :]


def _drop_letter(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(len(word))
    return word[:i] + word[i + 1 :]


def _merge_words(line: str, rng: random.Random) -> str:
    parts = line.split(" ")
    if len(parts) < 3 or rng.random() > 0.5:
        return line
    i = rng.randrange(len(parts) - 1)
    return " ".join([*parts[:i], parts[i] + parts[i + 1], *parts[i + 2 :]])


def _base_letter(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    return decomposed[0] if decomposed else ch


def _base_letter_word(word: str) -> str:
    return "".join(_base_letter(ch) for ch in word)
