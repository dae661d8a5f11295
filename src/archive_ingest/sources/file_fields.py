"""What the three metadata mappers of ``file:`` items share: safe XML parsing, identifier
classification, languages and dates (each problem becomes a note, never an error)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Literal, cast, get_args

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from archive_ingest.errors import SourceError
from archive_ingest.identifiers import normalise_issn
from archive_ingest.models import Identifier, IdentifierScheme
from archive_ingest.refs import PID_RE
from archive_ingest.sources.base import isbn_identifier
from archive_ingest.sources.normalise import (
    clean_text,
    iso_date,
    language_code,
    normalise_doi,
    normalise_isbn,
)

DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

SCHEMES: frozenset[str] = frozenset(get_args(IdentifierScheme))
ROLES = frozenset(
    {"author", "organizer", "editor", "translator", "coordinator", "collaborator", "other"}
)


def parse_xml(raw: bytes) -> ET.Element:
    try:
        return DET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SourceError(
            f"metadata XML refused: {type(exc).__name__} (DTDs and entities are not allowed)"
        ) from None
    except ET.ParseError as exc:
        raise SourceError(f"metadata XML is not well-formed: {exc}") from None


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def find_oai_dc(root: ET.Element) -> ET.Element | None:
    if root.tag == f"{{{OAI_DC_NS}}}dc":
        return root
    return root.find(f".//{{{OAI_DC_NS}}}dc")


def text_of(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    return clean_text("".join(element.itertext()))


def classify_identifier(value: str) -> tuple[Identifier | None, str | None]:
    """Guess the scheme of a bare identifier string (dc:identifier, JSON shorthand)."""
    text = value.strip()
    doi = normalise_doi(text)
    if doi and (text.startswith("10.") or "doi" in text.lower()):
        return Identifier(scheme="doi", value=doi), None
    if text.lower().startswith("urn:isbn:") or text.upper().startswith("ISBN"):
        return isbn_identifier(
            "isbn", text.split(":")[-1] if text.lower().startswith("urn:") else text, "metadata"
        )
    if PID_RE.fullmatch(text.upper()):
        return Identifier(scheme="scielo-pid", value=text.upper()), None
    issn = normalise_issn(text)
    if issn and text.upper().startswith("ISSN"):
        return Identifier(scheme="issn", value=issn), None
    if text.lower().startswith(("http://", "https://")):
        return Identifier(scheme="url", value=text), None
    isbn = normalise_isbn(text)
    if isbn is not None and isbn.problem != "not 10 or 13 digits":
        return isbn_identifier("isbn", text, "metadata")
    return None, f"identifier {text!r} of unknown kind; ignored"


def scheme_identifier(scheme: str, value: str) -> tuple[Identifier | None, str | None]:
    scheme = scheme.strip().lower()
    if scheme not in SCHEMES:
        return None, f"identifier scheme {scheme!r} unknown; {value!r} ignored"
    if scheme in ("isbn", "eisbn"):
        return isbn_identifier(cast(Literal["isbn", "eisbn"], scheme), value, "metadata")
    if scheme == "doi":
        doi = normalise_doi(value)
        return (
            (Identifier(scheme="doi", value=doi), None)
            if doi
            else (None, f"DOI {value!r} is not a DOI; ignored")
        )
    return Identifier(scheme=cast(IdentifierScheme, scheme), value=value.strip()), None


def languages_of(values: list[Any], notes: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        code = language_code(value)
        if code is None:
            notes.append(f"language {value!r} is not a known language; ignored")
        elif code not in out:
            out.append(code)
    return out


def date_of(value: Any, notes: list[str]) -> str | None:
    if value is None:
        return None
    date = iso_date(value if isinstance(value, str | int) else None)
    if date is None:
        notes.append(f"date {value!r} is not an ISO 8601 date; ignored")
    return date
