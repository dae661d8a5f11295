"""Licence codes and URLs as publishers' metadata gives them.

SciELO Books' ``use_licence`` ("CC BY-NC-SA 3.0"), ArticleMeta's ``license`` ("by/4.0",
"by-nc/3.0"), ArticleMeta ``v540`` HTML (``<a href=".../licenses/by/4.0/">``), JATS
``<license xlink:href>`` (given the href), SPDX identifiers ("CC-BY-NC-SA-3.0", "CC0-1.0",
"CC-BY-3.0-BR"), and hand-typed variants ("CC-BY 4.0", "cc_by_4", "CC BY 4.0 Brasil").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive_ingest.licence.claims import (
    MAX_CLAIMS,
    Taken,
    plain_claim,
    reading_claim,
)
from archive_ingest.licence.fold import Folded
from archive_ingest.licence.model import LicenceClaim, Source, Strength
from archive_ingest.licence.noncc import find_non_cc
from archive_ingest.licence.table import CC_URL_RE, licence_table, normalise_version, url_parts
from archive_ingest.licence.vocabulary import port_code_for, port_phrase_regex

#: longest text a parser reads; longer input is cut (a licence field or page one is far
#: shorter, and this bounds the work done on hostile input)
MAX_TEXT = 100_000

_TOKEN_RE = re.compile(r"[a-z0-9+]+(?:[.,][0-9]+)?")
_VERSION_TOKEN_RE = re.compile(r"v?(\d)(?:[.,](\d))?")
_CODE_ELEMENTS = frozenset({"by", "nc", "nd", "sa"})
_SPECIAL_UNITS = frozenset({"sampling", "sampling+", "devnations"})
_VERSION_WORDS = frozenset({"v", "ver", "version", "versao"})


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    sep: str  # the characters between the previous token and this one


def _tokens(folded: str) -> list[_Token]:
    out: list[_Token] = []
    prev_end = 0
    for m in _TOKEN_RE.finditer(folded):
        out.append(_Token(m.group(), m.start(), m.end(), folded[prev_end : m.start()]))
        prev_end = m.end()
    return out


def _joined(sep: str) -> bool:
    """Tokens separated only by hyphens, underscores, slashes or one space belong together."""
    return len(sep) <= 3 and all(c in " -_/" for c in sep)


def code_readings(
    f: Folded, *, source: Source, locator: str | None, strength: Strength, taken: Taken
) -> list[LicenceClaim]:
    """Licence codes ("CC BY-NC 4.0", "by-nc/4.0", "CC0-1.0", "cc_by_4") in folded text."""
    toks = _tokens(f.text)
    claims: list[LicenceClaim] = []
    i = 0
    while i < len(toks):
        if taken.covers(toks[i].start):
            i += 1
            continue
        read = _read_code(f, toks, i)
        if read is None:
            i += 1
            continue
        last, elements, version, port = read
        claims.append(
            reading_claim(
                source=source,
                folded=f,
                start=toks[i].start,
                end=toks[last].end,
                elements=elements,
                version=version,
                port=port,
                strength=strength,
                locator=locator,
            )
        )
        taken.add(toks[i].start, toks[last].end)
        i = last + 1
        if len(claims) >= MAX_CLAIMS:
            break
    return claims


def _read_code(
    f: Folded, toks: list[_Token], i: int
) -> tuple[int, list[str], str | None, str | None] | None:
    """Read one code starting at token i: (last token index, elements, version, port)."""
    n = len(toks)
    j = i
    prefix = False
    elements: list[str] = []
    t = toks[j].text
    if t == "cc":
        prefix = True
        j += 1
    elif t == "creative" and _words(toks, j, ("creative", "commons")):
        prefix = True
        j += 2
    elif t == "cc0":
        prefix = True
        elements = ["zero"]
        j += 1
    if j >= n or (prefix and j > i and not elements and not _joined(toks[j].sep)):
        return None if not elements else (j - 1, elements, None, None)
    last = j - 1
    if not elements:
        t = toks[j].text
        if prefix and t in ("0", "zero"):
            elements = ["zero"]
            last = j
        elif t == "pdm":
            elements = ["mark"]
            last = j
        elif prefix and t == "pddc":
            return j, ["certification"], "1.0", "us"
        elif t == "certification" and j + 1 < n and _is_version(toks, j + 1):
            elements = ["certification"]  # "CERTIFICATION 1.0 US", CC's own identifier
            last = j
        elif t == "public" and _words(toks, j, ("public", "domain", "mark")):
            elements = ["mark"]
            last = j + 2
        elif t == "by" or (prefix and (t in _CODE_ELEMENTS or t in _SPECIAL_UNITS)):
            elements = [t]
            last = j
            k = j + 1
            while k < n and _joined(toks[k].sep) and "/" not in toks[k].sep:
                u = toks[k].text
                if u in _CODE_ELEMENTS or u in _SPECIAL_UNITS:
                    elements.append(u)
                elif (
                    u.isalpha()
                    and len(u) == 2
                    and toks[k].sep.strip(" ") in ("-", "_")
                    and k + 1 < n
                    and _is_version(toks, k + 1)
                ):
                    elements.append(u)  # an unknown element: "by-xx/3.0"
                else:
                    break
                last = k
                k += 1
        else:
            return None
    # A bare "by" is an English word: only a code with a prefix, more than one element or a
    # "/version" after it counts.
    k = last + 1
    has_version = k < n and _joined(toks[k].sep) and _is_version(toks, k)
    bare = not prefix and len(elements) < 2 and elements not in (["mark"], ["certification"])
    if bare and not (has_version and "/" in toks[k].sep):
        return None
    version: str | None = None
    if has_version:
        if toks[k].text in _VERSION_WORDS:
            k += 1
        version = normalise_version(toks[k].text)
        last = k
        k += 1
    port: str | None = None
    if version is not None and k < n:
        port_read = _read_port(f, toks, k)
        if port_read is not None:
            last_port, port = port_read
            last = max(last, last_port)
    return last, elements, version, port


def _words(toks: list[_Token], j: int, words: tuple[str, ...]) -> bool:
    if j + len(words) > len(toks):
        return False
    return all(
        toks[j + x].text == w and (x == 0 or _joined(toks[j + x].sep)) for x, w in enumerate(words)
    )


def _is_version(toks: list[_Token], k: int) -> bool:
    t = toks[k].text
    if t in _VERSION_WORDS and k + 1 < len(toks):
        t = toks[k + 1].text
    return _VERSION_TOKEN_RE.fullmatch(t) is not None


def _read_port(f: Folded, toks: list[_Token], k: int) -> tuple[int, str | None] | None:
    """A port after a version: a jurisdiction code (upper case or "-"/"/"-joined) or a name.

    Returns (last token index, port or None for "unported"/"international"), or None when
    nothing port-like follows.
    """
    tok = toks[k]
    if not _joined(tok.sep):
        return None
    table = licence_table()
    original = f.original_slice(tok.start, tok.end)
    if tok.text in table.jurisdictions and (original.isupper() or tok.sep in ("-", "_", "/")):
        return k, tok.text
    m = port_phrase_regex().match(f.text, toks[k - 1].end)
    if m:
        end = m.end()
        last = k
        while last + 1 < len(toks) and toks[last + 1].end <= end:
            last += 1
        if m.group("noport"):
            return last, None
        return last, port_code_for(m.group("port"))
    return None


def url_readings(
    f: Folded, *, source: Source, locator: str | None, taken: Taken
) -> list[LicenceClaim]:
    """Every creativecommons.org licence URL: strong evidence wherever it appears."""
    claims: list[LicenceClaim] = []
    for m in CC_URL_RE.finditer(f.text):
        if len(claims) >= MAX_CLAIMS:
            break
        parts = url_parts(m.group("path"))
        end = m.end()
        while end > m.start() and f.text[end - 1] in ".,;:":
            end -= 1
        taken.add(m.start(), end)
        if parts.unit is None:
            claims.append(
                plain_claim(
                    source=source,
                    kind="partial",
                    problem="a creativecommons.org link that names no licence",
                    folded=f,
                    start=m.start(),
                    end=end,
                    locator=locator,
                )
            )
            continue
        version: str | None = parts.version
        if parts.raw_version is not None and parts.version is None:
            version = parts.raw_version  # "by/5" stays visible as a fake version
        claims.append(
            reading_claim(
                source=source,
                folded=f,
                start=m.start(),
                end=end,
                elements=parts.elements,
                version=version,
                port=parts.port,
                strength="strong",
                locator=locator,
                note="url",
            )
        )
    return claims


def non_cc_claims(
    f: Folded, *, source: Source, locator: str | None, strength: Strength, taken: Taken
) -> list[LicenceClaim]:
    claims: list[LicenceClaim] = []
    for hit in find_non_cc(f.text):
        if taken.covers(hit.start):
            continue
        if len(claims) >= MAX_CLAIMS:
            break
        claims.append(
            plain_claim(
                source=source,
                kind="non_cc",
                problem=f"{hit.name}: not a Creative Commons licence",
                folded=f,
                start=hit.start,
                end=hit.end,
                locator=locator,
                strength=strength,
            )
        )
    return claims
