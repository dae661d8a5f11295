"""The licence statement printed on a PDF's first page, in English, Portuguese and Spanish.

SciELO Books prints one statement per language on page one, e.g.::

    ... is licensed under a Creative Commons Attribution-Non Commercial-ShareAlike 3.0 Unported.
    ... é publicado sob a licença Creative Commons Atribuição - Uso Não Comercial - Partilha
    nos Mesmos Termos 3.0 Não adaptada.
    ... está bajo licencia de la licencia Creative Commons Reconocimento-NoComercial-
    CompartirIgual 3.0 Unported.

Each "Creative Commons" is an anchor; the words after it are read as licence elements, a
version and a port (or "Unported"/"International"). Each statement becomes one claim, with its
language, so statements that contradict each other within one PDF show up as a disagreement.
Licence URLs and codes ("CC BY 4.0") on the page are claims too.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter

from archive_ingest.licence.claims import (
    MAX_CLAIMS,
    Taken,
    dedupe,
    limit,
    plain_claim,
    reading_claim,
)
from archive_ingest.licence.codes import (
    MAX_TEXT,
    code_readings,
    non_cc_claims,
    url_readings,
)
from archive_ingest.licence.fold import Folded, fold
from archive_ingest.licence.model import LicenceClaim, Source, Strength
from archive_ingest.licence.table import licence_table
from archive_ingest.licence.vocabulary import (
    LANGUAGE_CUES,
    LICENCE_WORD,
    element_of,
    element_regex,
    port_code_for,
    port_phrase_regex,
)

_ANCHOR_RE = re.compile(r"creative\s?-?\s?commons(?!\s?\.\s?org)")
_LEAD_RE = re.compile(r"\s?(?:" + LICENCE_WORD + r"\s?)?[:(,\-]?\s?")
_SEP_RE = re.compile(r"\s?[-,/+]?\s?")
_VERSION_RE = re.compile(
    r"\s?(?:-\s?)?(?:" + LICENCE_WORD + r"\s?)?(?:v(?:ersion|ersao)?\.?\s?)?"
    r"(?P<major>\d)(?:\s?[.,]\s?(?P<minor>\d))?(?![\d])"
)
_TAIL_RE = re.compile(r"\s?\)?\s?(?:" + LICENCE_WORD + r")(?![a-z])")
_PORT_CODE_RE = re.compile(r"\s?(?:-\s?)?\(?(?P<code>[a-z]{2,8})\)?(?![a-z])")
_UNKNOWN_WORD_RE = re.compile(r"\s?-\s?(?P<word>[a-z]{2,})")
_NEXT_WORD_RE = re.compile(r"\s?(?P<word>[a-z]+)")
_CODE_NEAR_RE = re.compile(r"\s?\(?\s?cc(?:[\s_-]?(?:by|nc|nd|sa|0|zero)(?![a-z])|0)")
_CUES = [(lang, re.compile(pattern)) for lang, pattern in LANGUAGE_CUES]

#: words that may follow "Creative Commons" when no particular licence is named
_FUNCTION_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "or",
        "the",
        "is",
        "are",
        "was",
        "which",
        "that",
        "to",
        "for",
        "of",
        "in",
        "on",
        "with",
        "as",
        "it",
        "its",
        "this",
        "these",
        "license",
        "licence",
        "licenses",
        "licences",
        "licensed",
        "licenca",
        "licencas",
        "licencia",
        "licencias",
        "e",
        "o",
        "os",
        "de",
        "do",
        "da",
        "dos",
        "das",
        "que",
        "para",
        "com",
        "em",
        "ou",
        "sob",
        "no",
        "na",
        "nos",
        "nas",
        "y",
        "el",
        "la",
        "los",
        "las",
        "del",
        "con",
        "en",
        "bajo",
        "es",
        "esta",
    }
)


def parse_licence_statement(
    text: str, *, source: Source = "pdf", locator: str | None = "page 1"
) -> list[LicenceClaim]:
    """Every licence statement, licence URL and licence code in a page's text, as claims.

    One claim per statement (so a trilingual SciELO page gives three), each with its
    language and the exact span of the original text. An unambiguous statement (elements and
    version read) is strong evidence; "a Creative Commons licence" with no details is
    partial; words after "Creative Commons" that cannot be read give an ``unrecognised``
    claim. Explicit non-CC statements ("Todos os direitos reservados") are claims too.
    Never raises on text.
    """
    if not text or not text.strip():
        return []
    f = fold(text[:MAX_TEXT])
    return statement_claims(f, source=source, locator=locator, strength="strong")


def statement_claims(
    f: Folded, *, source: Source, locator: str | None, strength: Strength
) -> list[LicenceClaim]:
    """All readings of a folded text, statements first (used for PDF pages and XMP text)."""
    taken = Taken()
    claims = url_readings(f, source=source, locator=locator, taken=taken)
    statements = statement_readings(
        f, source=source, locator=locator, taken=taken, complete_strength=strength
    )
    codes = code_readings(f, source=source, locator=locator, strength=strength, taken=taken)
    codes = [c for c in codes if not _echoes(c, statements)]
    claims += statements + codes
    claims += non_cc_claims(f, source=source, locator=locator, strength=strength, taken=taken)
    claims.sort(key=lambda c: c.text_span.start if c.text_span else -1)
    return limit(dedupe(claims), source=source, locator=locator)


def _echoes(code: LicenceClaim, statements: list[LicenceClaim]) -> bool:
    """A code right after a statement that names the same licence ("... License (CC BY 4.0)")."""
    if code.text_span is None or code.kind != "cc":
        return False
    for s in statements:
        if s.canonical_uri != code.canonical_uri or s.text_span is None:
            continue
        if 0 <= code.text_span.start - s.text_span.end <= 4:
            return True
    return False


def statement_readings(
    f: Folded,
    *,
    source: Source,
    locator: str | None,
    taken: Taken,
    complete_strength: Strength,
) -> list[LicenceClaim]:
    """Claims for every "Creative Commons <elements> <version> <port>" statement."""
    text = f.text
    claims: list[LicenceClaim] = []
    for anchor in _ANCHOR_RE.finditer(text):
        if taken.covers(anchor.start()):
            continue
        claim = _read_statement(
            f, anchor, source=source, locator=locator, complete_strength=complete_strength
        )
        if claim is None:
            continue
        claims.append(claim)
        if claim.text_span is not None:
            # first folded index whose original position is past the span (origin is sorted)
            taken.add(anchor.start(), bisect.bisect_left(f.origin, claim.text_span.end))
        if len(claims) >= MAX_CLAIMS:
            break
    return claims


def _read_statement(
    f: Folded,
    anchor: re.Match[str],
    *,
    source: Source,
    locator: str | None,
    complete_strength: Strength,
) -> LicenceClaim | None:
    text = f.text
    after_lead = _LEAD_RE.match(text, anchor.end())
    pos = after_lead.end() if after_lead else anchor.end()
    start_of_words = pos
    elements: list[str] = []
    languages: list[str] = []
    last_end = anchor.end()
    regex = element_regex()
    while True:
        m = regex.match(text, pos)
        if not m:
            break
        element, language = element_of(m)
        elements.append(element)
        if language:
            languages.append(language)
        last_end = m.end()
        sep = _SEP_RE.match(text, last_end)
        pos = sep.end() if sep else last_end
    pos = last_end if elements else start_of_words

    if elements:
        unknown = _UNKNOWN_WORD_RE.match(text, last_end)
        if unknown and not _VERSION_RE.match(text, last_end):
            end = unknown.end()
            after = _VERSION_RE.match(text, end)
            if after:
                end = after.end()
            return plain_claim(
                source=source,
                kind="unrecognised",
                problem=f"unrecognised licence term {unknown.group('word')!r} "
                "in a Creative Commons licence statement",
                folded=f,
                start=anchor.start(),
                end=end,
                locator=locator,
            )

    version: str | None = None
    port: str | None = None
    m = _VERSION_RE.match(text, pos)
    if m and elements:  # "Creative Commons 4.0" alone names no licence
        version = f"{m.group('major')}.{m.group('minor') or '0'}"
        last_end = pos = m.end()
        port_match = port_phrase_regex().match(text, pos)
        if port_match:
            if port_match.group("port"):
                port = port_code_for(port_match.group("port"))
            last_end = pos = port_match.end()
        else:
            code = _PORT_CODE_RE.match(text, pos)
            if code and _is_upper_port(f, code):
                port = code.group("code")
                last_end = pos = code.end()
        tail = _TAIL_RE.match(text, pos)
        if tail:
            last_end = tail.end()
    elif elements:
        tail = _TAIL_RE.match(text, last_end)
        if tail:
            last_end = tail.end()

    if not elements and version is None:
        if _CODE_NEAR_RE.match(text, start_of_words):
            return None  # "Creative Commons (CC BY 4.0)": the code reader takes it
        word = _NEXT_WORD_RE.match(text, start_of_words)
        if word and word.group("word") not in _FUNCTION_WORDS:
            end = word.end()
            for _ in range(2):
                more = _NEXT_WORD_RE.match(text, end)
                if more:
                    end = more.end()
            return plain_claim(
                source=source,
                kind="unrecognised",
                problem="a Creative Commons licence statement that could not be read",
                folded=f,
                start=anchor.start(),
                end=end,
                locator=locator,
            )
        end = after_lead.end() if after_lead else anchor.end()
        while end > anchor.end() and text[end - 1] in " ,:(-":
            end -= 1
        return reading_claim(
            source=source,
            folded=f,
            start=anchor.start(),
            end=end,
            elements=(),
            version=None,
            port=None,
            strength="weak",
            locator=locator,
            language=_language(f, anchor.start(), []),
        )

    return reading_claim(
        source=source,
        folded=f,
        start=anchor.start(),
        end=last_end,
        elements=elements,
        version=version,
        port=port,
        strength=complete_strength,
        locator=locator,
        language=_language(f, anchor.start(), languages),
    )


def _is_upper_port(f: Folded, m: re.Match[str]) -> bool:
    code = m.group("code")
    if code not in licence_table().jurisdictions:
        return False
    original = f.original_slice(m.start("code"), m.end("code"))
    return original.isupper()


def _language(f: Folded, anchor_start: int, element_languages: list[str]) -> str | None:
    """The statement's language: from the words before "Creative Commons" in its sentence,
    else from the language of its element names."""
    text = f.text
    window_start = max(0, anchor_start - 200)
    window = text[window_start:anchor_start]
    boundary = max(window.rfind(". "), window.rfind("! "), window.rfind("? "), window.rfind("; "))
    if boundary >= 0:
        window = window[boundary + 2 :]
    scores = Counter({lang: len(regex.findall(window)) for lang, regex in _CUES})
    ranked = scores.most_common()
    if ranked and ranked[0][1] > 0 and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    if element_languages:
        counts = Counter(element_languages).most_common()
        if len(counts) == 1 or counts[0][1] > counts[1][1]:
            return counts[0][0]
    return None
