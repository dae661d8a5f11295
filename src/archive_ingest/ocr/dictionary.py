"""Word lists for the dictionary-ratio signal, shipped inside the ``wordfreq`` wheel.

The gate's strongest signal is the share of words a dictionary knows. Its word lists must be
there wherever the package installs (a venv, another distribution, a slim container), so they
come from a PyPI package, not from the operating system: ``wordfreq`` ships frequency lists
(many sources, inflected forms included, case-folded) inside its wheel. A word counts as known
when its frequency is at least ``MIN_ZIPF`` (about once in ten million words): rarer entries
include common OCR debris ("tlie" for "the"). Only wordfreq's "large" lists are used, and only
for languages written with spaces between words (the gate tokenises on whitespace).

Words are compared lower-cased (we judge OCR output, not spelling or capitalisation). A
language without a list is an error (``MissingWordList``), never a silent "every word is
fine": the caller refuses to judge text it cannot judge. docs/DECISIONS.md says why wordfreq.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

import wordfreq

from archive_ingest.errors import OcrError

PACKAGE = "wordfreq"
WORDLIST = "large"
MIN_ZIPF = 2.0
# languages without spaces between words: a whitespace token is not a word there
_UNSPACED = frozenset({"zh", "ja", "ko", "th"})


class MissingWordList(OcrError):
    """No word list for a language: the text-quality gate cannot judge text in it."""


@dataclass(frozen=True)
class WordList:
    """One language's words, reduced to "is this a word?" (``word in word_list``)."""

    language: str  # ISO 639-1
    source: str  # where the words came from ("wordfreq 3.1.1 large, zipf >= 2.0")
    frequencies: Mapping[str, float]  # lower-cased word -> share of all words in the language

    @property
    def name(self) -> str:
        return f"{self.language} ({self.source})"

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or not word:
            return False
        return _key(word) in self.frequencies

    def __len__(self) -> int:
        return len(self.frequencies)

    def frequency(self, word: str) -> float:
        """How common the word is (0.0 when it is not in the list)."""
        return self.frequencies.get(_key(word), 0.0)


def _key(word: str) -> str:
    return word.lower().replace("’", "'")


class Lexicon:
    """Several word lists at once (a page may mix languages): a word is known if any knows it."""

    def __init__(self, word_lists: Sequence[WordList]):
        self.word_lists = tuple(word_lists)

    @property
    def names(self) -> list[str]:
        return [w.name for w in self.word_lists]

    def __bool__(self) -> bool:
        return bool(self.word_lists)

    def known(self, word: str) -> bool:
        return any(word in w for w in self.word_lists)


@lru_cache(maxsize=1)
def word_list_languages() -> frozenset[str]:
    """The ISO 639-1 languages that have a word list."""
    return frozenset(wordfreq.available_languages(WORDLIST)) - _UNSPACED


def source() -> str:
    """The package, version and cut-off the word lists come from (recorded by the OCR stage)."""
    return f"{PACKAGE} {metadata.version(PACKAGE)} {WORDLIST}, zipf >= {MIN_ZIPF}"


@lru_cache(maxsize=16)
def load_word_list(iso639_1: str) -> WordList:
    """The word list of a language, cached per process (about 0.2 s and 100k words each).

    Raises ``MissingWordList`` when the language has none.
    """
    if iso639_1 not in word_list_languages():
        raise MissingWordList(
            f"no word list for language {iso639_1!r}: the text-quality gate cannot judge its"
            f" text ({source()} has {', '.join(sorted(word_list_languages()))})"
        )
    threshold = 10 ** (MIN_ZIPF - 9)  # zipf = log10(frequency per billion words)
    try:
        frequencies = wordfreq.get_frequency_dict(iso639_1, wordlist=WORDLIST)
        words = {w: f for w, f in frequencies.items() if f >= threshold}
    except (OSError, ValueError, LookupError) as exc:  # a damaged or stripped installation
        raise MissingWordList(
            f"the word list for {iso639_1!r} cannot be read from {source()}: {exc}"
        ) from exc
    if not words:
        raise MissingWordList(f"the word list for {iso639_1!r} in {source()} is empty")
    return WordList(language=iso639_1, source=source(), frequencies=words)
