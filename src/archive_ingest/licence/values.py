"""A metadata value's licences: every reading of a licence field, in the order they apply.

The readers are in :mod:`archive_ingest.licence.codes` (URLs, codes, SPDX identifiers, non-CC
statements) and :mod:`archive_ingest.licence.statement` (licence names in words); this module
combines them for one value, HTML snippets included.
"""

from __future__ import annotations

import re

from archive_ingest.licence.claims import Taken, dedupe, limit
from archive_ingest.licence.codes import MAX_TEXT, code_readings, non_cc_claims, url_readings
from archive_ingest.licence.fold import Folded, fold
from archive_ingest.licence.model import LicenceClaim, Source, Strength
from archive_ingest.licence.statement import statement_readings

_TAG_RE = re.compile(r"<[^>]*>")
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{1,10});")
_HREF_RE = re.compile(r"""(?i)\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")


def _blank_markup(text: str) -> str:
    """Replace tags and entities by spaces of the same length (offsets stay valid)."""
    text = _TAG_RE.sub(lambda m: " " * len(m.group()), text)
    return _ENTITY_RE.sub(lambda m: " " * len(m.group()), text)


def parse_licence_code(
    text: str, *, source: Source = "metadata", locator: str | None = None
) -> list[LicenceClaim]:
    """Every licence a publisher metadata value states, as claims (possibly none).

    Reads, in order: ``href`` targets of HTML snippets (ArticleMeta v540), creativecommons.org
    URLs, licence codes and SPDX identifiers, and, when none of those is present, licence
    names in words ("Creative Commons Attribution 4.0 International"). Explicit non-CC
    statements ("All rights reserved", "GPL-3.0") are reported too. Never raises on text.
    """
    return value_claims(text, source=source, locator=locator, strength="strong")


def value_claims(
    text: str, *, source: Source, locator: str | None, strength: Strength
) -> list[LicenceClaim]:
    """:func:`parse_licence_code` with the strength of a complete reading chosen by the caller
    (XMP text fields are weak evidence; creativecommons.org URLs are always strong)."""
    if not text or not text.strip():
        return []
    text = text[:MAX_TEXT]
    claims: list[LicenceClaim] = []
    looks_like_html = "<" in text and ">" in text
    if looks_like_html:
        for m in _HREF_RE.finditer(text):
            value = next(g for g in m.groups() if g is not None)
            offset = next(m.start(x) for x in (1, 2, 3) if m.group(x) is not None)
            f = fold(value)
            for c in url_readings(f, source=source, locator=locator, taken=Taken()):
                claims.append(_shift(c, offset, text))
        text_for_words = _blank_markup(text)
    else:
        text_for_words = text
    f = fold(text_for_words)
    f = Folded(original=text, text=f.text, origin=f.origin)
    taken = Taken()
    # hrefs were read above; URLs in the visible text are read here
    claims += url_readings(f, source=source, locator=locator, taken=taken)
    claims += code_readings(f, source=source, locator=locator, strength=strength, taken=taken)
    if not any(c.kind in ("cc", "not_real") for c in claims):
        claims += statement_readings(
            f, source=source, locator=locator, taken=taken, complete_strength=strength
        )
    claims += non_cc_claims(f, source=source, locator=locator, strength=strength, taken=taken)
    return limit(dedupe(claims), source=source, locator=locator)


def _shift(claim: LicenceClaim, offset: int, text: str) -> LicenceClaim:
    if claim.text_span is None:
        return claim
    start = claim.text_span.start + offset
    end = claim.text_span.end + offset
    span = claim.text_span.model_copy(update={"start": start, "end": end, "text": text[start:end]})
    return claim.model_copy(update={"text_span": span})
