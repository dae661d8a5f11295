"""Mappings from the publisher's words to the vocabularies the records use.

Pure tables and small functions: creator roles to Dublin Core element + MARC relator
code, item kinds to DCMI / COAR types and METS div types, identifiers to URIs.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, replace

from archive_ingest.identifiers import normalise_doi, normalise_issn
from archive_ingest.models import Creator, Identifier, SourceRecord
from archive_ingest.records.text import clean_line, clean_uri


@dataclass(frozen=True)
class RoleMapping:
    dc_element: str  # "creator" or "contributor"
    marc: str  # MARC relator code (https://id.loc.gov/vocabulary/relators)


#: Only authors are dc:creator (as the issue asks); every other role is dc:contributor.
#: SciELO's "organizer" (organizador) compiles an edited volume: MARC "edc", editor of
#: compilation. Unknown roles become "ctb" (contributor) and keep their own word in MODS.
ROLE_MAP: dict[str, RoleMapping] = {
    "author": RoleMapping("creator", "aut"),
    "individual_author": RoleMapping("creator", "aut"),
    "corporate_author": RoleMapping("creator", "aut"),
    "organizer": RoleMapping("contributor", "edc"),
    "editor": RoleMapping("contributor", "edt"),
    "coordinator": RoleMapping("contributor", "edt"),
    "translator": RoleMapping("contributor", "trl"),
    "collaborator": RoleMapping("contributor", "ctb"),
    "contributor": RoleMapping("contributor", "ctb"),
    "compiler": RoleMapping("contributor", "com"),
    "illustrator": RoleMapping("contributor", "ill"),
    "reviewer": RoleMapping("contributor", "rev"),
}
_OTHER_ROLE = RoleMapping("contributor", "ctb")


def role_mapping(creator: Creator) -> RoleMapping:
    key = creator.role.strip().lower().replace(" ", "_").replace("-", "_")
    return ROLE_MAP.get(key, _OTHER_ROLE)


@dataclass(frozen=True)
class KindMapping:
    genre: str  # COAR resource type label
    coar_uri: str  # COAR resource type URI
    div_type: str  # METS logical div TYPE of the item


KIND_MAP: dict[str, KindMapping] = {
    "scielo-books-book": KindMapping("book", "http://purl.org/coar/resource_type/c_2f33", "book"),
    "scielo-books-chapter": KindMapping(
        "book part", "http://purl.org/coar/resource_type/c_3248", "chapter"
    ),
    "scielo-article": KindMapping(
        "journal article", "http://purl.org/coar/resource_type/c_6501", "article"
    ),
    "file": KindMapping("text", "http://purl.org/coar/resource_type/c_18cf", "document"),
}

COAR_TYPE = "http://purl.org/coar/resource_type/"

#: COAR resource types (v1.1, the vocabulary of the 4.0 schema) by ``SourceRecord.document_type``
#: (ArticleMeta's v71 as xylose names it; SciELO's two-letter v71 codes too). Types COAR 1.1
#: has no narrower term for (brief report, case report, news, ...) fall back to the source kind.
#: COAR 1.1 has no press release and no erratum/corrigendum/addendum: those are "other" (c_1843).
COAR_DOCUMENT_TYPES: dict[str, tuple[str, str]] = {
    "research-article": ("c_6501", "journal article"),
    "oa": ("c_6501", "journal article"),
    "review-article": ("c_dcae04bc", "review article"),
    "ra": ("c_dcae04bc", "review article"),
    "editorial": ("c_b239", "editorial"),
    "ed": ("c_b239", "editorial"),
    "letter": ("c_545b", "letter to the editor"),
    "le": ("c_545b", "letter to the editor"),
    "book-review": ("c_ba08", "book review"),
    "rc": ("c_ba08", "book review"),
    "press-release": ("c_1843", "other"),
    "pr": ("c_1843", "other"),
    "correction": ("c_1843", "other"),
    "addendum": ("c_1843", "other"),
    "erratum": ("c_1843", "other"),
    "er": ("c_1843", "other"),
}


def document_coar_type(document_type: str | None) -> tuple[str, str] | None:
    """(COAR URI, label) of the publisher's document type; None when COAR has no narrower
    term for it (or none is given): the source kind's type holds then."""
    key = (document_type or "").strip().lower().replace("_", "-")
    found = COAR_DOCUMENT_TYPES.get(key)
    return (COAR_TYPE + found[0], found[1]) if found else None


#: METS div TYPE of the larger work, by Relation.kind
PARENT_DIV_TYPE = {
    "book": "book",
    "journal-issue": "issue",
    "journal": "journal",
    "series": "series",
}


#: an open licence: a Creative Commons licence, CC0 or the Public Domain Mark
_OPEN_LICENCE = re.compile(
    r"^https?://creativecommons\.org/(?:licenses/[a-z-]+/|publicdomain/(?:zero|mark)/)",
    re.IGNORECASE,
)


def is_open_access(licence_uri: str | None) -> bool:
    """Whether a validated licence URI makes the item open access: the one rule behind the
    openAccess right in dc.xml, the access copy announced in oai_dc and oai_openaire (and served
    by ``/access``), and the ``openaire``/``driver`` sets."""
    uri = clean_uri(licence_uri)
    return uri is not None and _OPEN_LICENCE.match(uri) is not None


def kind_mapping(record: SourceRecord) -> KindMapping:
    """The item kind's types; the COAR type (label and URI) follows the publisher's document
    type when COAR names it, as oai_openaire's resource type does (an erratum is "other", not
    "journal article", in dc.xml, the METS and oai_openaire alike)."""
    kind = KIND_MAP[record.source_kind]
    by_document = document_coar_type(record.document_type)
    if by_document is None:
        return kind
    return replace(kind, coar_uri=by_document[0], genre=by_document[1])


def _isbn_digits(value: str) -> str:
    return re.sub(r"[^0-9Xx]", "", value).upper()


def identifier_uri(ident: Identifier) -> str | None:
    """The identifier as a URI when it has a standard URI form, else ``None``.

    ISBN and ISSN as URNs (RFC 3187, RFC 3044), DOI as https://doi.org/ (the DOI
    Handbook's display form), URLs as given, a SHA-256 as an RFC 6920 ``ni:`` URI.
    """
    value = clean_line(ident.value)
    if value is None:
        return None
    if ident.scheme in ("isbn", "eisbn"):
        digits = _isbn_digits(value)
        return f"urn:isbn:{digits}" if len(digits) in (10, 13) else None
    if ident.scheme in ("issn", "eissn"):
        issn = normalise_issn(value)
        return f"urn:issn:{issn}" if issn else None
    if ident.scheme == "doi":
        doi = normalise_doi(value)
        return clean_uri(f"https://doi.org/{doi}") if doi else None
    if ident.scheme == "url":
        return clean_uri(value)
    if ident.scheme == "sha256" and re.fullmatch(r"[0-9a-fA-F]{64}", value):
        b64 = base64.urlsafe_b64encode(bytes.fromhex(value)).decode("ascii").rstrip("=")
        return f"ni:///sha-256;{b64}"
    return None


def identifier_text(ident: Identifier) -> str | None:
    """How an identifier reads when it has no URI form (SciELO PID, SBID, odd values)."""
    value = clean_line(ident.value)
    if value is None:
        return None
    labels = {"scielo-pid": "SciELO PID", "scielo-sbid": "SciELO Books ID"}
    return f"{labels.get(ident.scheme, ident.scheme)}: {value}"


#: MODS identifier/@type values (MODS "standard identifier source codes" where they exist)
MODS_IDENTIFIER_TYPE = {
    "isbn": "isbn",
    "eisbn": "isbn",
    "issn": "issn",
    "eissn": "issn",
    "doi": "doi",
    "url": "uri",
    "scielo-pid": "local",
    "scielo-sbid": "local",
    "sha256": "local",
}
