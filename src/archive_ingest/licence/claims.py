"""Turn what a parser read (elements, version, port, a span) into a :class:`LicenceClaim`.

One place decides what a reading *is*: a real licence (checked against the table), a partial
mention, a licence that does not exist, or a non-CC licence, so that the three parsers agree.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import TypedDict

from archive_ingest.licence.fold import Folded
from archive_ingest.licence.model import ClaimKind, LicenceClaim, Source, Strength, TextSpan
from archive_ingest.licence.table import (
    ELEMENT_ORDER,
    PUBLIC_DOMAIN_UNITS,
    SOFTWARE_UNITS,
    licence_table,
    order_elements,
)

#: at most this many claims are read from one text; more is not a licence statement
MAX_CLAIMS = 50


class Taken:
    """Parts of a folded text already read by one reader, so that another does not re-read
    them (a URL is not also a "Creative Commons" statement). Merged, sorted intervals:
    lookups stay logarithmic on long, hostile input."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        if end <= start:
            return
        i = bisect.bisect_left(self._starts, start)
        # merge with the previous interval when they touch or overlap
        if i > 0 and self._ends[i - 1] >= start:
            i -= 1
            start = self._starts[i]
            end = max(end, self._ends[i])
            del self._starts[i], self._ends[i]
        while i < len(self._starts) and self._starts[i] <= end:
            end = max(end, self._ends[i])
            del self._starts[i], self._ends[i]
        self._starts.insert(i, start)
        self._ends.insert(i, end)

    def covers(self, pos: int) -> bool:
        i = bisect.bisect_right(self._starts, pos) - 1
        return i >= 0 and pos < self._ends[i]


class _Reading(TypedDict):
    """The fields every claim made from one reading shares."""

    source: Source
    locator: str | None
    text_span: TextSpan
    language: str | None
    note: str | None
    elements: tuple[str, ...]
    version: str | None
    port: str | None


def span_of(folded: Folded, start: int, end: int) -> TextSpan:
    a, b = folded.span(start, end)
    return TextSpan(start=a, end=b, text=folded.original[a:b])


def reading_claim(
    *,
    source: Source,
    folded: Folded,
    start: int,
    end: int,
    elements: Iterable[str],
    version: str | None,
    port: str | None,
    strength: Strength,
    locator: str | None = None,
    language: str | None = None,
    note: str | None = None,
) -> LicenceClaim:
    """The claim for one reading of a licence at ``folded.text[start:end]``.

    CC0 and the Public Domain Mark exist in one version only, so "CC0" without a version is
    complete; "CC BY" without a version is not (it is partial evidence).
    """
    els = order_elements(elements)
    span = span_of(folded, start, end)
    common: _Reading = {
        "source": source,
        "locator": locator,
        "text_span": span,
        "language": language,
        "note": note,
        "elements": els,
        "version": version,
        "port": port,
    }
    table = licence_table()
    software = SOFTWARE_UNITS & set(els)
    if software:
        name = "/".join(sorted(s.upper() for s in software))
        return LicenceClaim(
            kind="non_cc",
            strength=strength,
            problem=f"{name} is a software licence, not a Creative Commons licence",
            **common,
        )
    if not els:
        return LicenceClaim(
            kind="partial",
            strength="weak",
            problem="names Creative Commons but not which licence",
            **common,
        )
    unknown = [e for e in els if e not in ELEMENT_ORDER]
    if version is None and not unknown and set(els) <= PUBLIC_DOMAIN_UNITS and len(els) == 1:
        only = table.versions_for(els)
        if len(only) == 1:
            version = only[0]
            common["version"] = version
    if version is None and not unknown and table.versions_for(els):
        return LicenceClaim(
            kind="partial",
            strength="weak",
            problem="no licence version is stated",
            **common,
        )
    lic = table.find(els, version, port)
    if lic is not None:
        return LicenceClaim(kind="cc", canonical_uri=lic.uri, strength=strength, **common)
    why = table.why_not_real(els, version, port)
    return LicenceClaim(
        kind="not_real",
        strength=strength,
        problem=f"not a real Creative Commons licence: {why}",
        **common,
    )


def plain_claim(
    *,
    source: Source,
    kind: ClaimKind,
    problem: str | None,
    folded: Folded | None = None,
    start: int = 0,
    end: int = 0,
    locator: str | None = None,
    strength: Strength = "weak",
    note: str | None = None,
) -> LicenceClaim:
    """A claim that names no licence: non-CC, unrecognised, refused or not stated."""
    span = span_of(folded, start, end) if folded is not None and end > start else None
    return LicenceClaim(
        source=source,
        kind=kind,
        problem=problem,
        text_span=span,
        locator=locator,
        strength=strength,
        note=note,
    )


def dedupe(claims: list[LicenceClaim]) -> list[LicenceClaim]:
    """Drop repeated readings of the same licence, the same way, from one text (e.g. an
    HTML link whose text repeats its href); keep the first span."""
    seen: set[tuple[object, ...]] = set()
    out: list[LicenceClaim] = []
    for c in claims:
        key = (
            c.source,
            c.locator,
            c.kind,
            c.canonical_uri,
            c.elements,
            c.version,
            c.port,
            c.language,
            c.note,
            c.problem if c.kind in ("non_cc", "unrecognised") else None,
        )
        if c.kind in ("cc", "partial", "not_real") and key in seen:
            continue
        seen.add(key)
        out.append(c)
    return out


def limit(claims: list[LicenceClaim], *, source: Source, locator: str | None) -> list[LicenceClaim]:
    """At most MAX_CLAIMS claims from one text, plus one saying the rest was not read."""
    if len(claims) <= MAX_CLAIMS:
        return claims
    return [
        *claims[:MAX_CLAIMS],
        plain_claim(
            source=source,
            kind="unrecognised",
            problem=f"more than {MAX_CLAIMS} licence mentions in one text; the rest was not read",
            locator=locator,
        ),
    ]
