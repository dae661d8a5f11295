"""Licence evidence in a PDF's XMP packet: xmpRights:WebStatement, cc:license, UsageTerms.

The packet comes from an untrusted file, so it is parsed with defusedxml and *no* DTD is
allowed: an XMP packet never needs one, and a DTD is how XML external-entity (XXE) and
entity-expansion ("billion laughs") attacks are delivered. Such a packet is not read at all and
is reported as a ``refused`` claim.

Strength: a creativecommons.org URL is strong evidence wherever it sits; licence text in
UsageTerms/dc:rights or a non-URL cc:license is weak (XMP templates are often copied without
care). ``xmpRights:Marked`` is recorded as a note on every XMP claim, never as a claim.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from archive_ingest.licence.claims import plain_claim
from archive_ingest.licence.fold import fold
from archive_ingest.licence.model import LicenceClaim
from archive_ingest.licence.statement import statement_claims
from archive_ingest.licence.values import value_claims

XMP_RIGHTS = "http://ns.adobe.com/xap/1.0/rights/"
CC_NAMESPACES = ("http://creativecommons.org/ns#", "http://web.resource.org/cc/")
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
#: a larger "XMP packet" is not what it claims to be
MAX_XMP_BYTES = 4 * 1024 * 1024

_URL_FIELDS = {f"{{{XMP_RIGHTS}}}WebStatement": "xmpRights:WebStatement"} | {
    f"{{{ns}}}license": "cc:license" for ns in CC_NAMESPACES
}
_TEXT_FIELDS = {
    f"{{{XMP_RIGHTS}}}UsageTerms": "xmpRights:UsageTerms",
    f"{{{DC}}}rights": "dc:rights",
}
_MARKED = f"{{{XMP_RIGHTS}}}Marked"


def parse_xmp(xmp: str | bytes) -> list[LicenceClaim]:
    """Licence claims from an XMP packet (possibly none). Never raises on any input."""
    if not xmp or not xmp.strip():
        return []
    data = xmp.encode("utf-8", "replace") if isinstance(xmp, str) else xmp
    if len(data) > MAX_XMP_BYTES:
        return [
            plain_claim(
                source="xmp",
                kind="refused",
                problem=f"the XMP packet is {len(data)} bytes, more than any XMP packet needs; "
                "it was not read",
                locator="XMP packet",
            )
        ]
    try:
        root = fromstring(data.lstrip(), forbid_dtd=True)
    except DefusedXmlException as exc:
        return [
            plain_claim(
                source="xmp",
                kind="refused",
                problem="the XMP packet declares a DTD or entities (the shape of an XXE or "
                f"entity-expansion attack); it was not read ({type(exc).__name__})",
                locator="XMP packet",
            )
        ]
    except (ET.ParseError, ValueError, UnicodeError, LookupError) as exc:
        return [
            plain_claim(
                source="xmp",
                kind="unrecognised",
                problem=f"the XMP packet is not well-formed XML ({_short(exc)})",
                locator="XMP packet",
            )
        ]
    return _claims_from_tree(root)


def _claims_from_tree(root: ET.Element) -> list[LicenceClaim]:
    url_values: list[tuple[str, str]] = []
    text_values: list[tuple[str, str]] = []
    marked: str | None = None
    for el in root.iter():
        for attr, value in el.attrib.items():
            if attr in _URL_FIELDS:
                url_values.append((_URL_FIELDS[attr], value))
            elif attr in _TEXT_FIELDS:
                text_values.append((_TEXT_FIELDS[attr], value))
            elif attr == _MARKED:
                marked = value.strip()
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _URL_FIELDS:
            value = el.get(f"{{{RDF}}}resource") or "".join(el.itertext())
            url_values.append((_URL_FIELDS[tag], value))
        elif tag in _TEXT_FIELDS:
            items = [li for li in el.iter(f"{{{RDF}}}li") if "".join(li.itertext()).strip()]
            texts = ["".join(li.itertext()) for li in items] or ["".join(el.itertext())]
            for text in texts:
                text_values.append((_TEXT_FIELDS[tag], text))
        elif tag == _MARKED:
            marked = "".join(el.itertext()).strip()

    note = f"xmpRights:Marked={marked}" if marked else None
    claims: list[LicenceClaim] = []
    for locator, value in url_values:
        value = value.strip()
        if not value:
            continue
        found = value_claims(value, source="xmp", locator=locator, strength="weak")
        if not found:
            f = fold(value)
            found = [
                plain_claim(
                    source="xmp",
                    kind="unrecognised",
                    problem=f"{locator} names no licence",
                    folded=f,
                    start=0,
                    end=len(f.text),
                    locator=locator,
                )
            ]
        claims += found
    for locator, value in text_values:
        if value.strip():
            claims += statement_claims(fold(value), source="xmp", locator=locator, strength="weak")
    if note:
        claims = [c.model_copy(update={"note": _join(c.note, note)}) for c in claims]
    return claims


def _join(a: str | None, b: str) -> str:
    return f"{a}; {b}" if a else b


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
