"""Dublin Core: simple DC in an oai_dc container, and a qualified-DC container.

Two forms because one cannot carry everything and stay schema-valid:

* ``oai_dc:dc`` (OAI-PMH's container, the 15 ``dc:`` elements only, its XSD allows no
  other namespace). Written standalone as ``data/dc.xml`` and embedded in the METS
  dmdSec. The licence URI goes into ``dc:rights`` here. For harvesters of open-access
  literature (OpenAIRE, BASE, CORE) ``dc:type`` carries, beside DCMI ``Text`` and the COAR
  label, the DRIVER publication type (``info:eu-repo/semantics/article``, ``bookPart``,
  ``book``, ``review``, ``other``) and for a publisher's PDF ``publishedVersion``; with a
  validated licence ``dc:rights`` also says ``info:eu-repo/semantics/openAccess``.
* ``aiqdc:qualifieddc`` (DCMI's qualified-DC container type declared in the project's
  namespace, schemas/xsd/archive-ingest-qdc.xsd). Embedded in a second METS dmdSec; it
  holds ``dcterms:license``, ``dcterms:isPartOf``, ``dcterms:extent``,
  ``dcterms:bibliographicCitation`` and encoding schemes (``xsi:type="dcterms:W3CDTF"``,
  ``dcterms:ISO639-3``, ``dcterms:URI`` ...) that the validator checks.

DC has no roles: authors are ``dc:creator``, everyone else ``dc:contributor``; the roles
themselves (with MARC relator codes) are kept in the METS MODS dmdSec (:mod:`.mods`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from lxml import etree

from archive_ingest.errors import PackageError
from archive_ingest.models import FileInfo, SourceRecord
from archive_ingest.records.languages import bcp47, to_iso639_3, xml_lang
from archive_ingest.records.model import PackageDescription
from archive_ingest.records.text import clean_block, clean_line, clean_uri, require_line
from archive_ingest.records.vocab import (
    identifier_text,
    identifier_uri,
    is_open_access,
    kind_mapping,
    role_mapping,
)
from archive_ingest.records.xmlutil import (
    AIQDC_NS,
    DC_NS,
    DCTERMS_NS,
    NSMAP_DC,
    OAI_DC_NS,
    OAI_DC_SCHEMA_LOCATION,
    XML_NS,
    XSI_NS,
    q,
    serialise,
    sub,
)

_DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")

#: the DRIVER / OpenAIRE (``info:eu-repo/semantics/``) vocabulary that OAI-PMH harvesters of
#: open-access literature (OpenAIRE, BASE, CORE) read from ``dc:type`` and ``dc:rights``
EU_REPO = "info:eu-repo/semantics/"
#: the publication type by source kind ...
DRIVER_KIND_TYPES = {
    "scielo-books-book": "book",
    "scielo-books-chapter": "bookPart",
    "scielo-article": "article",
    "file": "other",
}
#: ... unless the publisher's document type says otherwise (ArticleMeta v71 as xylose names
#: it; "undefined" and types not listed keep the kind's)
DRIVER_DOCUMENT_TYPES = {
    "research-article": "article",
    "review-article": "article",
    "case-report": "article",
    "brief-report": "article",
    "rapid-communication": "article",
    "article-commentary": "article",
    "book-review": "review",
    "editorial": "other",
    "letter": "other",
    "news": "other",
    "press-release": "other",
    "correction": "other",
    "addendum": "other",
    "abstract": "other",
}
#: kinds whose PDF is the publisher's version of record (a local file may be anything)
PUBLISHED_KINDS = frozenset({"scielo-books-book", "scielo-books-chapter", "scielo-article"})


def driver_type(record: SourceRecord) -> str:
    """The DRIVER publication type URI (``info:eu-repo/semantics/article`` ...)."""
    kind = DRIVER_KIND_TYPES.get(record.source_kind, "other")
    document_type = (record.document_type or "").strip().lower()
    return EU_REPO + DRIVER_DOCUMENT_TYPES.get(document_type, kind)


def driver_version(record: SourceRecord) -> str | None:
    """``info:eu-repo/semantics/publishedVersion`` for a publisher's PDF, else None."""
    return EU_REPO + "publishedVersion" if record.source_kind in PUBLISHED_KINDS else None


def _unique(values: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def w3cdtf_date(value: str | None) -> str | None:
    """The record's date if it is W3CDTF (YYYY, YYYY-MM, YYYY-MM-DD); refuse anything else."""
    text = clean_line(value)
    if text is None:
        return None
    ok = _DATE_RE.fullmatch(text) is not None
    if ok and len(text) > 4:
        try:
            dt.date.fromisoformat(text if len(text) == 10 else f"{text}-01")
        except ValueError:
            ok = False
    if not ok:
        raise PackageError(f"record date {value!r} is not ISO 8601 YYYY, YYYY-MM or YYYY-MM-DD")
    return text


def languages_639_3(record: SourceRecord) -> list[str]:
    return _unique(to_iso639_3(code) for code in record.languages)


def page_extent(pages: str) -> str:
    """A page label as a citation writes it: "pp. 40-52", "p. 7", or a count ("12 p.")."""
    if "-" in pages:
        return f"pp. {pages}"
    return pages if pages.endswith(" p.") else f"p. {pages}"


def original_file(files: list[FileInfo]) -> FileInfo | None:
    originals = [f for f in files if f.role == "original"]
    return originals[0] if len(originals) == 1 else None


class DcValues:
    """Every DC value of a package, cleaned and decided once for both containers."""

    def __init__(self, desc: PackageDescription) -> None:
        record = desc.record
        self.title = require_line(record.title, "title")
        langs = languages_639_3(record)
        self.languages = langs
        self.title_lang = bcp47(langs[0]) if langs else None
        self.translated_titles = [
            (xml_lang(lang), title)
            for lang, raw in sorted(record.translated_titles.items())
            if (title := clean_line(raw)) and title != self.title
        ]
        self.creators: list[str] = []
        self.contributors: list[str] = []
        for creator in record.creators:
            name = clean_line(creator.name)
            if name is None:
                continue
            if role_mapping(creator).dc_element == "creator":
                self.creators.append(name)
            else:
                self.contributors.append(name)
        self.subjects = _unique(clean_line(s) for s in record.subjects)
        self.description = clean_block(record.description)
        self.publisher = clean_line(record.publisher)
        self.date = w3cdtf_date(record.date)
        kind = kind_mapping(record)
        self.genre = kind.genre
        self.coar_uri = kind.coar_uri
        self.driver_type = driver_type(record)
        self.driver_version = driver_version(record)
        original = original_file(desc.files)
        self.media_type = clean_line(original.media_type) if original else None
        self.identifier_uris = _unique(
            [*(identifier_uri(i) for i in record.identifiers), clean_uri(record.landing_url)]
        )
        self.identifier_texts = _unique(
            identifier_text(i) for i in record.identifiers if identifier_uri(i) is None
        )
        if not self.identifier_uris and not self.identifier_texts:
            raise PackageError(
                f"record {record.record_id!r} has no identifier (DOI, ISBN, URL, SHA-256 ...): "
                "a Dublin Core record needs at least one"
            )
        self.source = clean_uri(record.primary_pdf_url())
        parent = record.is_part_of
        self.part_of_uris: list[str] = []
        self.part_of_title: str | None = None
        #: where in a journal: "v. 23, n. 3 suppl 1" (None: no volume and no issue)
        self.part_of_issue: str | None = None
        if parent is not None:
            self.part_of_uris = _unique(
                [*(identifier_uri(i) for i in parent.identifiers), clean_uri(parent.url)]
            )
            self.part_of_title = clean_line(parent.title)
            volume, issue = clean_line(parent.volume), clean_line(parent.issue)
            where = [f"v. {volume}" if volume else None, f"n. {issue}" if issue else None]
            self.part_of_issue = ", ".join(w for w in where if w) or None
        self.pages = clean_line(record.pages.label()) if record.pages else None
        self.licence_uri = clean_uri(desc.licence_uri)
        self.rights_text = clean_block(desc.rights_statement) or clean_line(desc.licence_label)
        if self.rights_text is None and self.licence_uri is None:
            # Say so rather than say nothing: a record without dc:rights reads as "unknown".
            outcome = clean_line(desc.licence_outcome) or "unknown"
            self.rights_text = f"No licence statement found (licence check: {outcome})."
        if desc.licence_uri and self.licence_uri is None:
            raise PackageError(f"licence URI {desc.licence_uri!r} is not an absolute URI")
        # the access level: a validated (Creative Commons) licence is open access; without
        # one nothing is claimed
        self.access_rights = EU_REPO + "openAccess" if is_open_access(self.licence_uri) else None

    def citation(self) -> str | None:
        """A short citation of a part in its larger work (``dcterms:bibliographicCitation``)."""
        if self.part_of_title is None:
            return None
        whole = ", ".join(p for p in (self.part_of_title, self.part_of_issue) if p)
        parts = [f"{self.title}. In: {whole}."]
        imprint = ", ".join(p for p in (self.publisher, self.date) if p)
        if imprint:
            parts.append(f"{imprint}.")
        if self.pages:
            parts.append(f"{page_extent(self.pages)}.")
        return " ".join(parts)


def oai_dc_element(
    desc: PackageDescription,
    parent: etree._Element | None = None,
    values: DcValues | None = None,
) -> etree._Element:
    """The ``oai_dc:dc`` element (the 15 simple DC elements, nothing else).

    Appended to ``parent`` (whose root declares the namespaces) when given, else a new
    root element that declares its own.
    """
    v = values or DcValues(desc)
    if parent is None:
        root = etree.Element(q(OAI_DC_NS, "dc"), nsmap=NSMAP_DC)
    else:
        root = etree.SubElement(parent, q(OAI_DC_NS, "dc"))

    def dc(name: str, text: str | None, *, lang: str | None = None, block: bool = False) -> None:
        if text:
            sub(root, q(DC_NS, name), text, block=block, attrib={q(XML_NS, "lang"): lang})

    dc("title", v.title, lang=v.title_lang)
    for lang, title in v.translated_titles:
        dc("title", title, lang=lang)
    for name in v.creators:
        dc("creator", name)
    for subject in v.subjects:
        dc("subject", subject)
    dc("description", v.description, lang=v.title_lang, block=True)
    dc("publisher", v.publisher)
    for name in v.contributors:
        dc("contributor", name)
    dc("date", v.date)
    dc("type", "Text")
    dc("type", v.genre)
    dc("type", v.driver_type)
    dc("type", v.driver_version)
    dc("format", v.media_type)
    # Simple DC has no extent element; its format element covers "size", so the page range
    # (pp. 40-52) or page count goes there, and the part's relation to its whole in dc:relation.
    dc("format", page_extent(v.pages) if v.pages else None)
    for ident in [*v.identifier_uris, *v.identifier_texts]:
        dc("identifier", ident)
    dc("source", v.source)
    for lang in v.languages:
        dc("language", lang)
    for uri in v.part_of_uris:
        dc("relation", uri)
    if not v.part_of_uris and v.part_of_title:
        dc("relation", v.part_of_title)
    dc("rights", v.licence_uri)
    dc("rights", v.rights_text, block=True)
    dc("rights", v.access_rights)
    return root


def qualified_dc_element(
    desc: PackageDescription, parent: etree._Element, values: DcValues | None = None
) -> etree._Element:
    """The ``aiqdc:qualifieddc`` container with ``dcterms:`` elements and encoding schemes.

    Always appended to ``parent`` (a METS ``xmlData``): the ``xsi:type`` values name the
    ``dcterms`` prefix, which the METS root declares.
    """
    v = values or DcValues(desc)
    root = etree.SubElement(parent, q(AIQDC_NS, "qualifieddc"))

    def term(
        name: str,
        text: str | None,
        *,
        scheme: str | None = None,
        lang: str | None = None,
        block: bool = False,
    ) -> None:
        if text:
            attrib: dict[str, str | int | None] = {
                q(XSI_NS, "type"): f"dcterms:{scheme}" if scheme else None,
                q(XML_NS, "lang"): lang,
            }
            sub(root, q(DCTERMS_NS, name), text, block=block, attrib=attrib)

    term("title", v.title, lang=v.title_lang)
    for lang, title in v.translated_titles:
        term("alternative", title, lang=lang)
    for name in v.creators:
        term("creator", name)
    for name in v.contributors:
        term("contributor", name)
    for subject in v.subjects:
        term("subject", subject)
    term("abstract", v.description, lang=v.title_lang, block=True)
    term("publisher", v.publisher)
    term("issued", v.date, scheme="W3CDTF")
    term("type", "Text", scheme="DCMIType")
    term("type", v.coar_uri, scheme="URI")
    term("format", v.media_type, scheme="IMT")
    term("extent", page_extent(v.pages) if v.pages else None)
    for uri in v.identifier_uris:
        term("identifier", uri, scheme="URI")
    for text in v.identifier_texts:
        term("identifier", text)
    term("source", v.source, scheme="URI")
    for lang in v.languages:
        term("language", lang, scheme="ISO639-3")
    for uri in v.part_of_uris:
        term("isPartOf", uri, scheme="URI")
    term("isPartOf", v.part_of_title)
    term("bibliographicCitation", v.citation())
    term("license", v.licence_uri, scheme="URI")
    term("rights", v.rights_text, block=True)
    return root


def build_dc(desc: PackageDescription) -> bytes:
    """``data/dc.xml``: the package's simple Dublin Core as an ``oai_dc:dc`` document."""
    root = oai_dc_element(desc)
    root.set(q(XSI_NS, "schemaLocation"), OAI_DC_SCHEMA_LOCATION)
    return serialise(root)
