"""OpenAIRE Guidelines for Literature Repositories v4 (``oai_openaire``): one ``oaire:resource``.

A pure function of what the catalogue holds for a deposited version: the stored
:class:`SourceRecord`, the licence URI and the access copy (size, media type, SHA-256) with the
URL it is served at. The OAI-PMH layer (``oai/store.py``) calls it at publish time with a
placeholder for the URL, which depends on the public baseURL and is filled in per response.

Schema: ``schemas/xsd/openaire4/openaire.xsd`` (the official 4.0 schema, vendored unchanged).
That schema checks element names and controlled values only, not presence: this builder
always writes the guidelines' mandatory fields (titles, language when known, resource type,
identifier, access rights). Mapping, field by field, in docs/OAI.md.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache

from lxml import etree

from archive_ingest.errors import PackageError
from archive_ingest.identifiers import normalise_doi, normalise_issn
from archive_ingest.models import Creator, Identifier, SourceRecord
from archive_ingest.records.dc import languages_639_3, w3cdtf_date
from archive_ingest.records.languages import bcp47, xml_lang
from archive_ingest.records.schemas import compile_schema, parse_record
from archive_ingest.records.text import clean_block, clean_line, clean_uri, require_line
from archive_ingest.records.vocab import (
    COAR_TYPE,
    KIND_MAP,
    document_coar_type,
    is_open_access,
    role_mapping,
)
from archive_ingest.records.xmlutil import DC_NS, XML_NS, XSI_NS, q, serialise, sub

OAIRE_NS = "http://namespace.openaire.eu/schema/oaire/"
DATACITE_NS = "http://datacite.org/schema/kernel-4"
OPENAIRE_SCHEMA = "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"
OPENAIRE_SCHEMA_LOCATION = f"{OAIRE_NS} {OPENAIRE_SCHEMA}"
NSMAP_OPENAIRE: dict[str | None, str] = {
    None: OAIRE_NS,
    "datacite": DATACITE_NS,
    "dc": DC_NS,
    "xsi": XSI_NS,
}
#: the schema a single record is validated against (relative to schemas/xsd/)
SCHEMA_FILE = "openaire4/openaire.xsd"

OPEN_ACCESS = "http://purl.org/coar/access_right/c_abf2"
METADATA_ONLY = "http://purl.org/coar/access_right/c_14cb"
#: COAR version: the publisher's PDF (what SciELO serves) is the version of record
VERSION_OF_RECORD = "http://purl.org/coar/version/c_970fb48d4fbd8a85"

#: DataCite contributorType by the publisher's role (anything else: Other)
CONTRIBUTOR_TYPES = {"organizer": "Editor", "editor": "Editor", "coordinator": "Editor"}
_ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")
_CC = re.compile(
    r"^https?://creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/(\d\.\d)/", re.IGNORECASE
)


@dataclass(frozen=True)
class AccessCopy:
    """The version's access copy as the catalogue lists it, and where it is served."""

    url: str
    size: int
    media_type: str
    sha256: str


def coar_resource_type(source_kind: str, document_type: str | None = None) -> tuple[str, str]:
    """(COAR URI, label) for an item: its document type when known, else its source kind."""
    by_document = document_coar_type(document_type)
    if by_document is not None:
        return by_document
    kind = KIND_MAP.get(source_kind)  # the type dc.xml and the METS give the same item
    return (kind.coar_uri, kind.genre) if kind else (COAR_TYPE + "c_1843", "other")


def licence_label(uri: str) -> str:
    """``CC BY-NC-SA 3.0`` for a Creative Commons URI, ``CC0 1.0``, the URI itself otherwise."""
    m = _CC.match(uri)
    if not m:
        return uri
    kind, code, version = m.group(1).lower(), m.group(2).lower(), m.group(3)
    if kind == "publicdomain":
        return f"CC0 {version}" if code == "zero" else f"Public Domain Mark {version}"
    return f"CC {code.upper()} {version}"


def orcid_uri(value: str | None) -> str | None:
    """``https://orcid.org/0000-0002-1825-0097`` from any way of writing the iD; None if none."""
    m = _ORCID.search((value or "").upper())
    return f"https://orcid.org/{m.group(1)}" if m else None


def _d(local: str) -> str:
    return q(DATACITE_NS, local)


def _o(local: str) -> str:
    return q(OAIRE_NS, local)


def _person(parent: etree._Element, tag: str, creator: Creator, name: str) -> etree._Element:
    node = etree.SubElement(parent, _d(tag))
    sub(
        node,
        _d(f"{tag}Name"),
        name,
        attrib={"nameType": "Organizational" if creator.corporate else "Personal"},
    )
    if orcid := orcid_uri(creator.orcid):
        sub(
            node,
            _d("nameIdentifier"),
            orcid,
            attrib={"nameIdentifierScheme": "ORCID", "schemeURI": "https://orcid.org"},
        )
    if affiliation := clean_line(creator.affiliation):
        sub(node, _d("affiliation"), affiliation)
    return node


def _isbn(value: str) -> str | None:
    digits = re.sub(r"[^0-9Xx]", "", value).upper()
    return digits if len(digits) in (10, 13) else None


def _alternate(ident: Identifier) -> tuple[str, str] | None:
    """(alternateIdentifierType, value) for one of the item's own identifiers."""
    value = clean_line(ident.value)
    if value is None:
        return None
    if ident.scheme == "doi":
        doi = normalise_doi(value)
        return ("DOI", doi) if doi else None
    if ident.scheme in ("isbn", "eisbn"):
        isbn = _isbn(value)
        return ("ISBN", isbn) if isbn else None
    if ident.scheme == "url":
        uri = clean_uri(value)
        return ("URL", uri) if uri else None
    labels = {"scielo-pid": "SciELO PID", "scielo-sbid": "SciELO Books ID", "sha256": "SHA-256"}
    if ident.scheme in labels:
        return labels[ident.scheme], value
    return None  # ISSNs are the journal's: related identifiers


def _related(ident: Identifier) -> tuple[str, str] | None:
    """(relatedIdentifierType, value) for an identifier of the larger work (IsPartOf)."""
    value = clean_line(ident.value)
    if value is None:
        return None
    if ident.scheme in ("issn", "eissn"):
        issn = normalise_issn(value)
        kind = "PISSN" if ident.scheme == "issn" else "EISSN"
        return (kind, issn) if issn else None
    if ident.scheme in ("isbn", "eisbn"):
        isbn = _isbn(value)
        return ("ISBN", isbn) if isbn else None
    if ident.scheme == "doi":
        doi = normalise_doi(value)
        return ("DOI", doi) if doi else None
    if ident.scheme == "url":
        uri = clean_uri(value)
        return ("URL", uri) if uri else None
    return None


def _unique(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(pairs))


def openaire_element(
    record: SourceRecord, *, licence_uri: str | None, access: AccessCopy | None
) -> etree._Element:
    """The ``oaire:resource`` element of one deposited version.

    ``access`` is the access copy served to harvesters; it is announced (``oaire:file``) only
    when the item is open access (``records/vocab.is_open_access``: a Creative Commons
    licence, CC0 or the Public Domain Mark). The resource type follows the
    publisher's document type when the record names one (editorial, press release ...).
    """
    root = etree.Element(_o("resource"), nsmap=NSMAP_OPENAIRE)
    root.set(q(XSI_NS, "schemaLocation"), OPENAIRE_SCHEMA_LOCATION)
    languages = languages_639_3(record)
    title_lang = bcp47(languages[0]) if languages else None
    date = w3cdtf_date(record.date)
    licence = clean_uri(licence_uri)
    open_access = is_open_access(licence_uri)
    served = access if open_access else None

    title = require_line(record.title, "title")
    titles = etree.SubElement(root, _d("titles"))
    sub(titles, _d("title"), title, attrib={q(XML_NS, "lang"): title_lang})
    for lang, raw in sorted(record.translated_titles.items()):
        text = clean_line(raw)
        if text and text != title:
            sub(
                titles,
                _d("title"),
                text,
                attrib={"titleType": "TranslatedTitle", q(XML_NS, "lang"): xml_lang(lang)},
            )

    authors: list[tuple[Creator, str]] = []
    others: list[tuple[Creator, str]] = []
    for creator in record.creators:
        name = clean_line(creator.name)
        if name is None:
            continue
        if role_mapping(creator).dc_element == "creator":
            authors.append((creator, name))
        else:
            others.append((creator, name))
    if authors:
        node = etree.SubElement(root, _d("creators"))
        for creator, name in authors:
            _person(node, "creator", creator, name)
    if others:
        node = etree.SubElement(root, _d("contributors"))
        for creator, name in others:
            role = creator.role.strip().lower()
            person = _person(node, "contributor", creator, name)
            person.set("contributorType", CONTRIBUTOR_TYPES.get(role, "Other"))

    # funding: SourceRecord carries none (no source maps it), so no oaire:fundingReferences

    doi = next(
        (d for i in record.identifiers if i.scheme == "doi" and (d := normalise_doi(i.value))), None
    )
    primary = ("DOI", doi) if doi else ("URL", served.url) if served else None
    alternates = [a for i in record.identifiers if (a := _alternate(i)) is not None]
    if served is not None and doi:
        alternates.append(("URL", served.url))
    landing = clean_uri(record.landing_url)
    if landing:
        alternates.append(("URL", landing))
    if primary is None:  # neither DOI nor served copy: the landing page, else any URL we have
        urls = [a for a in alternates if a[0] == "URL"]
        if not urls:
            raise PackageError(
                f"record {record.record_id!r} has no DOI, URL or served access copy: "
                "an OpenAIRE record needs an identifier"
            )
        primary = urls[0]
    alternates = [a for a in _unique(alternates) if a != primary]
    if alternates:
        node = etree.SubElement(root, _d("alternateIdentifiers"))
        for kind, value in alternates:
            sub(node, _d("alternateIdentifier"), value, attrib={"alternateIdentifierType": kind})

    parent = record.is_part_of
    if parent is not None:
        related = [r for i in parent.identifiers if (r := _related(i)) is not None]
        if url := clean_uri(parent.url):
            related.append(("URL", url))
        related = _unique(related)
        if related:
            node = etree.SubElement(root, _d("relatedIdentifiers"))
            for kind, value in related:
                sub(
                    node,
                    _d("relatedIdentifier"),
                    value,
                    attrib={"relatedIdentifierType": kind, "relationType": "IsPartOf"},
                )

    if date:
        dates = etree.SubElement(root, _d("dates"))
        sub(dates, _d("date"), date, attrib={"dateType": "Issued"})

    for lang in languages:
        sub(root, q(DC_NS, "language"), lang)
    if publisher := clean_line(record.publisher):
        sub(root, q(DC_NS, "publisher"), publisher)

    uri, label = coar_resource_type(record.source_kind, record.document_type)
    sub(
        root,
        _o("resourceType"),
        label,
        attrib={"resourceTypeGeneral": "literature", "uri": uri},
    )
    if description := clean_block(record.description):
        sub(
            root,
            q(DC_NS, "description"),
            description,
            block=True,
            attrib={q(XML_NS, "lang"): title_lang},
        )
    if served is not None:
        sub(root, q(DC_NS, "format"), served.media_type)

    sub(root, _d("identifier"), primary[1], attrib={"identifierType": primary[0]})
    sub(
        root,
        _d("rights"),
        "open access" if open_access else "metadata only access",
        attrib={"rightsURI": OPEN_ACCESS if open_access else METADATA_ONLY},
    )
    if source := clean_uri(record.primary_pdf_url()):
        sub(root, q(DC_NS, "source"), source)

    subjects = list(dict.fromkeys(s for raw in record.subjects if (s := clean_line(raw))))
    if subjects:
        node = etree.SubElement(root, _d("subjects"))
        for subject in subjects:
            sub(node, _d("subject"), subject)

    sizes = []
    if served is not None:
        sizes.append(f"{served.size} bytes")
    if record.pages is not None and record.pages.count:
        sizes.append(f"{record.pages.count} pages")
    if sizes:
        node = etree.SubElement(root, _d("sizes"))
        for size in sizes:
            sub(node, _d("size"), size)

    if parent is not None:
        if parent_title := clean_line(parent.title):
            sub(root, _o("citationTitle"), parent_title)
        if volume := clean_line(parent.volume):
            sub(root, _o("citationVolume"), volume)
        if issue := clean_line(parent.issue):
            sub(root, _o("citationIssue"), issue)
    if record.pages is not None:
        if first := clean_line(record.pages.first):
            sub(root, _o("citationStartPage"), first)
        if last := clean_line(record.pages.last):
            sub(root, _o("citationEndPage"), last)

    if record.source_kind != "file":  # the publisher's PDF: SciELO's version of record
        sub(root, _o("version"), "VoR", attrib={"uri": VERSION_OF_RECORD})
    if served is not None:
        sub(
            root,
            _o("file"),
            served.url,
            attrib={
                "accessRightsURI": OPEN_ACCESS,
                "mimeType": served.media_type,
                "objectType": "fulltext",
            },
        )
    if licence is not None:
        sub(
            root,
            _o("licenseCondition"),
            licence_label(licence),
            attrib={"uri": licence, "startDate": date},
        )
    return root


def build_openaire(
    record: SourceRecord, *, licence_uri: str | None, access: AccessCopy | None
) -> bytes:
    """The ``oai_openaire`` record of one deposited version, as bytes (fixed serialisation)."""
    return serialise(openaire_element(record, licence_uri=licence_uri, access=access))


_LOCK = threading.Lock()


@cache
def _schema() -> etree.XMLSchema:
    schema, _ = compile_schema(SCHEMA_FILE)
    return schema


def openaire_errors(xml: bytes) -> list[str]:
    """Every XSD error of one ``oai_openaire`` record against the official 4.0 schema."""
    tree = parse_record(xml, "oai_openaire record")
    schema = _schema()
    with _LOCK:  # lxml keeps the last error log on the schema object
        if schema.validate(tree):
            return []
        return [f"line {e.line}: {e.message}" for e in schema.error_log]
