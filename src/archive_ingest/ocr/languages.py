"""Which Tesseract languages to OCR a page with.

Metadata gives ISO 639-1 codes ("pt"); Tesseract wants its own ("por"). Several languages are
combined (``por+eng``) when the metadata lists several or when the old text layer clearly
contains another language (a Portuguese chapter with an English abstract): re-OCR with the
wrong language loses accents ("Maipú" read as "Maipu"). Unknown or uninstalled languages are
dropped with a warning; with nothing left, the configured fallback is used. The text-quality
gate judges text with the word lists of the chosen languages (``dictionary.py``):
``word_list_for`` refuses (``MissingWordList``) a language without one instead of guessing,
and ``word_lists_of_choice`` splits a choice into the lists there are and the languages without
one (the OCR stage sends such an item to review, and fails when no chosen language has a list).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from archive_ingest.errors import OcrError
from archive_ingest.ocr.dictionary import (
    MissingWordList,
    WordList,
    load_word_list,
    word_list_languages,
)
from archive_ingest.ocr.quality import is_word_token, tokens

# ISO 639-1 -> Tesseract traineddata name (the usual scholarly languages of SciELO and more)
ISO_TO_TESSERACT: dict[str, str] = {
    "pt": "por",
    "es": "spa",
    "en": "eng",
    "fr": "fra",
    "de": "deu",
    "it": "ita",
    "ca": "cat",
    "gl": "glg",
    "eu": "eus",
    "la": "lat",
    "nl": "nld",
    "ru": "rus",
    "zh": "chi_sim",
    "ja": "jpn",
    "ar": "ara",
    "he": "heb",
    "el": "ell",
    "pl": "pol",
    "ro": "ron",
    "tr": "tur",
}
TESSERACT_TO_ISO: dict[str, str] = {v: k for k, v in ISO_TO_TESSERACT.items()}
_TESSERACT_CODE_RE = re.compile(r"^[a-z]{3}(_[a-z]+)?$")

# text-based detection: a language joins when this share of the words belongs to it, a word
# belonging to the language in which it is DETECT_DOMINANCE times more common than in any
# language already chosen (frequency lists know loanwords: "the" is in the Portuguese list)
DETECT_MIN_WORDS = 30
DETECT_MIN_EXCLUSIVE_SHARE = 0.15
DETECT_MIN_WORD_LENGTH = 3
DETECT_DOMINANCE = 10.0


@dataclass
class LanguageChoice:
    """The Tesseract languages chosen, where each came from, and what was dropped and why."""

    tesseract: list[str]
    from_metadata: list[str] = field(default_factory=list)
    from_text: list[str] = field(default_factory=list)
    fallback_used: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def joined(self) -> str:
        return "+".join(self.tesseract)


def to_tesseract(code: str) -> str | None:
    """One metadata language code to a Tesseract code ("pt", "pt-BR", "por" -> "por")."""
    code = code.strip().lower().replace("-", "_")
    if not code:
        return None
    primary = code.split("_")[0]
    if primary in ISO_TO_TESSERACT:
        return ISO_TO_TESSERACT[primary]
    if _TESSERACT_CODE_RE.match(code):
        return code  # already a Tesseract name ("por", "chi_sim")
    return None


@lru_cache(maxsize=4)
def _installed(tessdata_prefix: str | None) -> frozenset[str]:
    try:
        proc = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=60, check=False
        )
    except FileNotFoundError as exc:
        raise OcrError("tesseract is not installed (Debian package tesseract-ocr)") from exc
    except subprocess.TimeoutExpired as exc:
        raise OcrError("tesseract --list-langs did not answer within 60 s") from exc
    lines = (proc.stdout + "\n" + proc.stderr).splitlines()
    return frozenset(
        ln.strip() for ln in lines if ln.strip() and " " not in ln.strip() and ln.strip() != "osd"
    )


def installed_languages() -> frozenset[str]:
    """Tesseract's installed languages (``osd`` excluded), cached per TESSDATA_PREFIX."""
    return _installed(os.environ.get("TESSDATA_PREFIX"))


def word_list_for(tesseract: str) -> WordList:
    """The word list the gate judges text in a Tesseract language with.

    Raises ``MissingWordList`` (with the language named) when there is none: a missing quality
    signal must never pass for a good one.
    """
    iso = TESSERACT_TO_ISO.get(tesseract)
    if iso is None or iso not in word_list_languages():
        raise MissingWordList(
            f"no word list for the OCR language {tesseract!r}: the text-quality gate cannot"
            f" judge text in it (word lists: {', '.join(word_list_tesseract_languages())})"
        )
    return load_word_list(iso)


def word_list_tesseract_languages() -> list[str]:
    """The Tesseract languages that have a word list, sorted."""
    langs = word_list_languages()
    return sorted(tess for iso, tess in ISO_TO_TESSERACT.items() if iso in langs)


def word_lists_for(tesseract_languages: Iterable[str]) -> dict[str, WordList]:
    """Word lists of those languages that have one (for detecting languages in a text)."""
    have = set(word_list_tesseract_languages())
    return {tess: word_list_for(tess) for tess in sorted(tesseract_languages) if tess in have}


def word_lists_of_choice(tesseract_languages: Sequence[str]) -> tuple[list[WordList], list[str]]:
    """The word lists of the chosen languages that have one, and the languages without one.

    Raises ``MissingWordList`` naming every language when none has a list: the gate would have
    no word signal at all, and a missing signal must never pass for a good one.
    """
    lists: list[WordList] = []
    missing: list[str] = []
    problems: list[str] = []
    for tess in tesseract_languages:
        try:
            lists.append(word_list_for(tess))
        except MissingWordList as exc:
            missing.append(tess)
            problems.append(str(exc))
    if not lists:
        raise MissingWordList(
            f"no chosen OCR language has a word list ({', '.join(map(repr, missing))}): the"
            f" text-quality gate cannot judge the text. {'; '.join(problems)}"
        )
    return lists, missing


def choose_languages(
    metadata: Sequence[str],
    fallback: Sequence[str],
    installed: Iterable[str],
    *,
    detected: Sequence[str] = (),
) -> LanguageChoice:
    """Map metadata languages, add languages detected in the text, fall back when needed.

    Pure: ``installed`` is passed in. Order matters to Tesseract (the first is primary):
    metadata order first, then detected languages.
    """
    available = set(installed)
    choice = LanguageChoice(tesseract=[])
    for code in metadata:
        tess = to_tesseract(code)
        if tess is None:
            choice.warnings.append(f"unknown language code {code!r} in the metadata: ignored")
        elif tess not in available:
            choice.warnings.append(
                f"language {code!r} ({tess}) has no installed Tesseract model: ignored"
                f" (install tesseract-ocr-{tess.replace('_', '-')})"
            )
        elif tess not in choice.tesseract:
            choice.tesseract.append(tess)
            choice.from_metadata.append(tess)
    for tess in detected:
        if tess in available and tess not in choice.tesseract:
            choice.tesseract.append(tess)
            choice.from_text.append(tess)
    if not choice.tesseract:
        for code in fallback:
            tess = to_tesseract(code)
            if tess and tess in available and tess not in choice.tesseract:
                choice.tesseract.append(tess)
        if not choice.tesseract:
            raise OcrError(
                f"no usable OCR language: metadata {list(metadata)!r}, fallback {list(fallback)!r},"
                f" installed Tesseract languages {sorted(available)!r}"
            )
        choice.fallback_used = True
        choice.warnings.append(
            f"no usable language in the metadata {list(metadata)!r}: fallback {choice.joined}"
        )
    return choice


def detect_languages(
    text: str,
    dictionaries: Mapping[str, WordList],
    already: Sequence[str],
) -> list[str]:
    """Languages (Tesseract codes) the text clearly contains besides ``already``.

    A language counts when at least ``DETECT_MIN_EXCLUSIVE_SHARE`` of the words (3+ letters)
    are ``DETECT_DOMINANCE`` times more common in it than in every language chosen so far
    (``already``, then each one found, clearest first):
    shared function words ("de", "a") and a few foreign names do not trigger it, an English
    abstract in a Portuguese chapter does. With nothing ``already`` chosen, the language most
    words are commonest in is taken first (when it is so for at least half of them).
    """
    words = [
        t.lower() for t in tokens(text) if is_word_token(t) and len(t) >= DETECT_MIN_WORD_LENGTH
    ]
    if len(words) < DETECT_MIN_WORDS or not dictionaries:
        return []
    chosen = [lang for lang in already if lang in dictionaries]
    found: list[str] = []
    if not chosen:
        commonest: dict[str, int] = {}
        for w in words:
            best = max(dictionaries, key=lambda lang: dictionaries[lang].frequency(w))
            if dictionaries[best].frequency(w) > 0:
                commonest[best] = commonest.get(best, 0) + 1
        if not commonest:
            return []
        best_lang = max(commonest, key=lambda lang: commonest[lang])
        if commonest[best_lang] < 0.5 * len(words):
            return []
        chosen.append(best_lang)
        found.append(best_lang)
    while True:  # the clearest language first, then judge the rest against it too (pt vs es)
        shares = {
            lang: _exclusive_share(words, dictionaries, lang, chosen)
            for lang in dictionaries
            if lang not in chosen and lang not in already
        }
        if not shares:
            return found
        lang = max(shares, key=lambda candidate: shares[candidate])
        if shares[lang] < DETECT_MIN_EXCLUSIVE_SHARE:
            return found
        chosen.append(lang)
        found.append(lang)


def _exclusive_share(
    words: Sequence[str], dictionaries: Mapping[str, WordList], lang: str, chosen: Sequence[str]
) -> float:
    d = dictionaries[lang]
    exclusive = sum(
        1
        for w in words
        if d.frequency(w) > DETECT_DOMINANCE * max(dictionaries[c].frequency(w) for c in chosen)
    )
    return exclusive / len(words)
