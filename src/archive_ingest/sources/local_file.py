"""A PDF that arrived by hand: ``file:PATH`` with ``--metadata FILE.json|FILE.xml``.

The metadata file may be:

* our own simple JSON (documented in docs/SOURCES.md)::

      {"title": "...", "creators": [{"name": "Silva, J.", "role": "author"}, "Souza, M."],
       "publisher": "...", "date": "2020-05", "languages": ["pt"],
       "identifiers": [{"scheme": "isbn", "value": "978..."}] or {"doi": "10.1/x"},
       "pages": {"first": "40", "last": "52"} or "40-52",
       "is_part_of": {"title": "...", "kind": "book", "identifiers": {"isbn": "..."}},
       "description": "...", "subjects": ["..."], "licence": "CC BY 4.0",
       "licence_url": "https://creativecommons.org/licenses/by/4.0/", "landing_url": "https://…",
       "translated_titles": {"en": "..."}}

* Dublin Core XML: an ``oai_dc:dc`` record (alone or inside an OAI-PMH response) or any
  element whose children are ``dc:`` elements;
* JATS XML (``<article>`` with ``front/article-meta``), as SciELO publishes it.

XML is parsed with defusedxml (no DTDs, no entities, no network). The record id is
``file-`` + the first 24 hex digits of the PDF's SHA-256 — computed by the caller, who hashes
the PDF anyway (:func:`file_record_id`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Literal, cast, get_args

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from archive_ingest.errors import SourceError
from archive_ingest.models import (
    Creator,
    Identifier,
    IdentifierScheme,
    PageRange,
    RawMetadata,
    Relation,
    SourceRecord,
)
from archive_ingest.refs import PID_RE, ItemRef
from archive_ingest.settings import Settings
from archive_ingest.sources.base import finish, isbn_identifier, load_json
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
MAX_METADATA_BYTES = 20 * 1024 * 1024

_SCHEMES: frozenset[str] = frozenset(get_args(IdentifierScheme))
_ROLES = frozenset(
    {"author", "organizer", "editor", "translator", "coordinator", "collaborator", "other"}
)
_JSON_KEYS = frozenset(
    {
        "title", "translated_titles", "creators", "publisher", "date", "languages", "language",
        "identifiers", "pages", "is_part_of", "description", "subjects", "licence", "license",
        "licence_statement", "licence_url", "license_url", "landing_url",
    }
)  # fmt: skip
_ISSN_RE = re.compile(r"^(?:ISSN\s*:?\s*)?([0-9]{4}-?[0-9]{3}[0-9Xx])$", re.IGNORECASE)


def file_record_id(pdf_sha256: str) -> str:
    """``file-`` + the first 24 hex digits of the PDF's SHA-256."""
    digest = pdf_sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"not a SHA-256 hex digest: {pdf_sha256!r}")
    return f"file-{digest[:24]}"


# --- detection ------------------------------------------------------------------------------


def metadata_format(raw: bytes) -> str:
    """``json``, ``oai_dc``, ``dc`` or ``jats`` (raises :class:`SourceError` otherwise)."""
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        return "json"
    if head == b"<":
        root = _parse_xml(raw)
        if _find_oai_dc(root) is not None:
            return "oai_dc"
        if _local(root.tag) == "article" and root.find("front") is not None:
            return "jats"
        if any(child.tag.startswith(f"{{{DC_NS}}}") for child in root):
            return "dc"
        raise SourceError(
            f"metadata XML with root <{_local(root.tag)}> is neither Dublin Core (oai_dc) nor JATS"
        )
    raise SourceError("metadata file is neither JSON nor XML")


def _parse_xml(raw: bytes) -> ET.Element:
    try:
        return DET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SourceError(
            f"metadata XML refused: {type(exc).__name__} (DTDs and entities are not allowed)"
        ) from None
    except ET.ParseError as exc:
        raise SourceError(f"metadata XML is not well-formed: {exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find_oai_dc(root: ET.Element) -> ET.Element | None:
    if root.tag == f"{{{OAI_DC_NS}}}dc":
        return root
    return root.find(f".//{{{OAI_DC_NS}}}dc")


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    return clean_text("".join(element.itertext()))


# --- identifiers ----------------------------------------------------------------------------


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
    issn = _ISSN_RE.match(text)
    if issn and text.upper().startswith("ISSN"):
        return Identifier(scheme="issn", value=_issn_form(issn.group(1))), None
    if text.lower().startswith(("http://", "https://")):
        return Identifier(scheme="url", value=text), None
    isbn = normalise_isbn(text)
    if isbn is not None and isbn.problem != "not 10 or 13 digits":
        return isbn_identifier("isbn", text, "metadata")
    return None, f"identifier {text!r} of unknown kind; ignored"


def _issn_form(value: str) -> str:
    digits = value.replace("-", "").upper()
    return f"{digits[:4]}-{digits[4:]}"


def _scheme_identifier(scheme: str, value: str) -> tuple[Identifier | None, str | None]:
    scheme = scheme.strip().lower()
    if scheme not in _SCHEMES:
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


# --- our JSON -------------------------------------------------------------------------------


def _json_identifiers(value: Any, notes: list[str]) -> list[Identifier]:
    pairs: list[tuple[str | None, str]] = []
    if isinstance(value, dict):
        pairs = [(str(k), str(v)) for k, v in value.items() if isinstance(v, str | int)]
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("value"), str):
                pairs.append((str(item.get("scheme") or ""), item["value"]))
            elif isinstance(item, str):
                pairs.append((None, item))
    elif value is not None:
        notes.append("identifiers in an unknown shape; ignored")
    out: list[Identifier] = []
    for scheme, text in pairs:
        ident, note = _scheme_identifier(scheme, text) if scheme else classify_identifier(text)
        if note:
            notes.append(note)
        if ident:
            out.append(ident)
    return out


def _json_creators(value: Any, notes: list[str]) -> list[Creator]:
    creators: list[Creator] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str) and clean_text(item):
            creators.append(Creator(name=clean_text(item) or ""))
        elif isinstance(item, dict) and clean_text(item.get("name")):
            role = (clean_text(item.get("role")) or "author").lower()
            if role not in _ROLES:
                notes.append(f"creator role {role!r} unknown; kept as other")
                role = "other"
            creators.append(
                Creator(
                    name=clean_text(item["name"]) or "",
                    role=role,
                    corporate=bool(item.get("corporate", False)),
                    affiliation=clean_text(item.get("affiliation")),
                    orcid=clean_text(item.get("orcid")),
                )
            )
        else:
            notes.append(f"creator entry {str(item)[:60]!r} not understood; ignored")
    if value is not None and not isinstance(value, list):
        notes.append("creators is not a list; ignored")
    return creators


def _json_pages(value: Any, notes: list[str]) -> PageRange | None:
    if isinstance(value, dict):
        first, last = (
            clean_text(str(value.get("first") or "")),
            clean_text(str(value.get("last") or "")),
        )
        count = value.get("count")
        return PageRange(first=first, last=last, count=count if isinstance(count, int) else None)
    if isinstance(value, str) and value.strip():
        bounds = re.split(r"\s*[-–]\s*", value.strip(), maxsplit=1)
        return PageRange(first=bounds[0], last=bounds[1] if len(bounds) > 1 else None)
    if isinstance(value, int):
        return PageRange(count=value)
    if value is not None:
        notes.append("pages in an unknown shape; ignored")
    return None


def _languages(values: list[Any], notes: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        code = language_code(value)
        if code is None:
            notes.append(f"language {value!r} is not a known language; ignored")
        elif code not in out:
            out.append(code)
    return out


def _date(value: Any, notes: list[str]) -> str | None:
    if value is None:
        return None
    date = iso_date(value if isinstance(value, str | int) else None)
    if date is None:
        notes.append(f"date {value!r} is not an ISO 8601 date; ignored")
    return date


def map_local_json(raw: bytes) -> dict[str, Any]:
    """Our simple JSON shape -> SourceRecord fields (without id/source)."""
    data = load_json(raw, "metadata JSON")
    if not isinstance(data, dict):
        raise SourceError("metadata JSON must be an object with at least a 'title'")
    notes: list[str] = []
    unknown = sorted(set(data) - _JSON_KEYS)
    if unknown:
        notes.append(f"metadata JSON fields not understood and ignored: {', '.join(unknown)}")
    title = clean_text(data.get("title"))
    if not title:
        raise SourceError("metadata JSON has no 'title'")
    langs = data.get("languages", data.get("language"))
    languages = _languages(langs if isinstance(langs, list) else [langs] if langs else [], notes)
    relation = None
    part = data.get("is_part_of")
    if isinstance(part, dict):
        kind = part.get("kind", "book")
        if kind not in ("book", "journal-issue", "journal", "series"):
            notes.append(f"is_part_of kind {kind!r} unknown; 'book' assumed")
            kind = "book"
        relation = Relation(
            title=clean_text(part.get("title")),
            identifiers=tuple(_json_identifiers(part.get("identifiers"), notes)),
            url=clean_text(part.get("url")),
            creators=tuple(_json_creators(part.get("creators"), notes)),
            kind=kind,
            volume=clean_text(str(part["volume"])) if part.get("volume") else None,
            issue=clean_text(str(part["issue"])) if part.get("issue") else None,
        )
    translated = data.get("translated_titles")
    translated_titles: dict[str, str] = {}
    if isinstance(translated, dict):
        for lang, text in translated.items():
            code = language_code(lang)
            if code and clean_text(text):
                translated_titles[code] = clean_text(text) or ""
    subjects = data.get("subjects")
    licence = clean_text(
        data.get("licence") or data.get("license") or data.get("licence_statement")
    )
    licence_url = clean_text(data.get("licence_url") or data.get("license_url"))
    if licence_url is None and licence and licence.lower().startswith(("http://", "https://")):
        licence_url = licence
    return {
        "title": title,
        "translated_titles": translated_titles,
        "creators": _json_creators(data.get("creators"), notes),
        "publisher": clean_text(data.get("publisher")),
        "date": _date(data.get("date"), notes),
        "languages": languages,
        "identifiers": _json_identifiers(data.get("identifiers"), notes),
        "pages": _json_pages(data.get("pages"), notes),
        "is_part_of": relation,
        "description": clean_text(data.get("description")),
        "subjects": [s for s in (clean_text(x) for x in subjects or []) if s]
        if isinstance(subjects, list)
        else [],
        "licence_statement": licence,
        "licence_url": licence_url,
        "landing_url": clean_text(data.get("landing_url")),
        "notes": notes,
    }


# --- Dublin Core ----------------------------------------------------------------------------


def map_dublin_core(raw: bytes) -> dict[str, Any]:
    """An oai_dc record (or any element with dc: children) -> SourceRecord fields."""
    root = _parse_xml(raw)
    record = _find_oai_dc(root)
    if record is None:
        record = root
    notes: list[str] = []

    def all_of(name: str) -> list[ET.Element]:
        return record.findall(f"{{{DC_NS}}}{name}")

    titles = [(t, _text(t)) for t in all_of("title")]
    titles = [(t, text) for t, text in titles if text]
    if not titles:
        raise SourceError("Dublin Core record has no dc:title")
    title = titles[0][1] or ""
    translated: dict[str, str] = {}
    for element, text in titles[1:]:
        code = language_code(element.get(XML_LANG))
        if code and text and code not in translated:
            translated[code] = text
    creators = [Creator(name=n) for n in (_text(e) for e in all_of("creator")) if n]
    creators += [
        Creator(name=n, role="other") for n in (_text(e) for e in all_of("contributor")) if n
    ]
    dates = [d for d in (_text(e) for e in all_of("date")) if d]
    date = next((iso_date(d) for d in dates if iso_date(d)), None)
    if dates and not date:
        notes.append(f"dc:date {dates[0]!r} is not an ISO 8601 date; ignored")
    identifiers: list[Identifier] = []
    for text in (_text(e) for e in all_of("identifier")):
        if not text:
            continue
        ident, note = classify_identifier(text)
        if note:
            notes.append(note)
        if ident and ident not in identifiers:
            identifiers.append(ident)
    rights = [r for r in (_text(e) for e in all_of("rights")) if r]
    urls = [r for r in rights if r.lower().startswith(("http://", "https://"))]
    statements = [r for r in rights if r not in urls]
    sources = [s for s in (_text(e) for e in all_of("source")) if s]
    if sources:
        notes.append("dc:source: " + "; ".join(sources))
    landing = next((i.value for i in identifiers if i.scheme == "url"), None)
    return {
        "title": title,
        "translated_titles": translated,
        "creators": creators,
        "publisher": _text(next(iter(all_of("publisher")), None)),
        "date": date,
        "languages": _languages([_text(e) for e in all_of("language") if _text(e)], notes),
        "identifiers": identifiers,
        "description": _text(next(iter(all_of("description")), None)),
        "subjects": [s for s in (_text(e) for e in all_of("subject")) if s],
        "licence_statement": statements[0] if statements else (urls[0] if urls else None),
        "licence_url": urls[0] if urls else None,
        "landing_url": landing,
        "notes": notes,
    }


# --- JATS -----------------------------------------------------------------------------------


def map_jats(raw: bytes) -> dict[str, Any]:
    """JATS ``<article>`` front matter -> SourceRecord fields."""
    root = _parse_xml(raw)
    meta = root.find("front/article-meta")
    if meta is None:
        raise SourceError("JATS XML has no front/article-meta")
    journal_meta = root.find("front/journal-meta")
    notes: list[str] = []
    title = _text(meta.find("title-group/article-title"))
    if not title:
        raise SourceError("JATS XML has no article-title")
    article_lang = language_code(root.get(XML_LANG))
    translated: dict[str, str] = {}
    for element in meta.findall("title-group/trans-title-group"):
        code = language_code(element.get(XML_LANG))
        text = _text(element.find("trans-title"))
        if code and text:
            translated.setdefault(code, text)

    affiliations = {
        aff.get("id"): _text(aff.find("institution[@content-type='orgname']")) or _text(aff)
        for aff in meta.iter("aff")
    }
    creators: list[Creator] = []
    for contrib in meta.findall("contrib-group/contrib"):
        kind = (contrib.get("contrib-type") or "author").lower()
        role = kind if kind in _ROLES else "other"
        name_el = contrib.find("name")
        collab = _text(contrib.find("collab"))
        if name_el is not None:
            surname, given = _text(name_el.find("surname")), _text(name_el.find("given-names"))
            name = ", ".join(p for p in (surname, given) if p)
            corporate = False
        elif collab:
            name, corporate = collab, True
        else:
            continue
        if not name:
            continue
        orcid = next(
            (
                _text(i)
                for i in contrib.findall("contrib-id")
                if (i.get("contrib-id-type") or "").lower() == "orcid"
            ),
            None,
        )
        refs = [x.get("rid") for x in contrib.findall("xref") if x.get("ref-type") == "aff"]
        affiliation = "; ".join(a for r in refs if (a := affiliations.get(r))) or None
        creators.append(
            Creator(name=name, role=role, corporate=corporate, affiliation=affiliation, orcid=orcid)
        )

    date = None
    for pub_date in meta.findall("pub-date"):
        year = _text(pub_date.find("year"))
        month = _text(pub_date.find("month"))
        day = _text(pub_date.find("day"))
        parts = [year or ""]
        if month and month.isdigit():
            parts.append(f"{int(month):02d}")
            if day and day.isdigit():
                parts.append(f"{int(day):02d}")
        candidate = iso_date("-".join(parts))
        if candidate and (date is None or len(candidate) > len(date)):
            date = candidate

    identifiers: list[Identifier] = []
    for article_id in meta.findall("article-id"):
        kind = (article_id.get("pub-id-type") or "").lower()
        text = _text(article_id)
        if not text:
            continue
        if kind == "doi" and (doi := normalise_doi(text)):
            identifiers.append(Identifier(scheme="doi", value=doi))
        elif kind == "publisher-id" and PID_RE.fullmatch(text.upper()):
            identifiers.append(Identifier(scheme="scielo-pid", value=text.upper()))
    journal_ids: list[Identifier] = []
    if journal_meta is not None:
        for issn in journal_meta.findall("issn"):
            match = _ISSN_RE.match(_text(issn) or "")
            if not match:
                continue
            pub_type = issn.get("pub-type") or issn.get("publication-format") or ""
            scheme: Literal["issn", "eissn"] = (
                "eissn" if pub_type in ("epub", "electronic") else "issn"
            )
            journal_ids.append(Identifier(scheme=scheme, value=_issn_form(match.group(1))))

    licence_el = meta.find("permissions/license")
    licence_url = licence_el.get(f"{{{XLINK_NS}}}href") if licence_el is not None else None
    licence_text = _text(licence_el.find("license-p")) if licence_el is not None else None
    first, last = _text(meta.find("fpage")), _text(meta.find("lpage"))
    keywords = [
        k
        for group in meta.findall("kwd-group")
        if language_code(group.get(XML_LANG)) in (None, article_lang)
        for k in (_text(kwd) for kwd in group.findall("kwd"))
        if k
    ]
    publisher = None
    journal_title = None
    if journal_meta is not None:
        publisher = _text(journal_meta.find("publisher/publisher-name"))
        journal_title = _text(journal_meta.find("journal-title-group/journal-title"))
    return {
        "title": title,
        "translated_titles": translated,
        "creators": creators,
        "publisher": publisher,
        "date": date,
        "languages": [article_lang] if article_lang else [],
        "identifiers": identifiers + journal_ids,
        "pages": PageRange(first=first, last=last) if first or last else None,
        "is_part_of": Relation(
            title=journal_title,
            identifiers=tuple(journal_ids),
            kind="journal-issue",
            volume=_text(meta.find("volume")),
            issue=_text(meta.find("issue")),
        )
        if journal_title or journal_ids
        else None,
        "description": _text(meta.find("abstract")),
        "subjects": keywords,
        "licence_statement": licence_text or licence_url,
        "licence_url": licence_url,
        "notes": notes,
    }


# --- the record -----------------------------------------------------------------------------

_MAPPERS = {
    "json": map_local_json,
    "oai_dc": map_dublin_core,
    "dc": map_dublin_core,
    "jats": map_jats,
}
_RAW_NAMES = {
    "json": ("metadata.json", "application/json"),
    "oai_dc": ("oai_dc.xml", "application/xml"),
    "dc": ("dc.xml", "application/xml"),
    "jats": ("jats.xml", "application/xml"),
}


def map_local_metadata(
    raw: bytes, *, record_id: str, source: str, pdf_sha256: str | None = None
) -> SourceRecord:
    """Map a hand-supplied metadata file (any of the accepted formats) to a ``file`` record."""
    fmt = metadata_format(raw)
    fields = _MAPPERS[fmt](raw)
    identifiers: list[Identifier] = list(fields.pop("identifiers", []))
    if pdf_sha256:
        identifiers.append(Identifier(scheme="sha256", value=pdf_sha256.lower()))
    name, media_type = _RAW_NAMES[fmt]
    return finish(
        SourceRecord(
            record_id=record_id,
            source=source,
            source_kind="file",
            identifiers=identifiers,
            raw_metadata=[RawMetadata(name=name, media_type=media_type, content=raw)],
            **fields,
        )
    )


def resolve_file(
    ref: ItemRef,
    metadata_file: Path,
    pdf_sha256: str,
    settings: Settings | None = None,
    *,
    record_id: str | None = None,
) -> SourceRecord:
    """``file:PATH`` + ``--metadata FILE``: read the metadata file and map it.

    ``pdf_sha256`` is the hex SHA-256 of the PDF (the caller hashes it while copying it in);
    the record id is ``file-`` + its first 24 hex digits unless ``record_id`` is given.
    """
    if ref.kind != "file":
        raise SourceError(f"not a file reference: {ref.canonical}")
    limit = settings.fetch_metadata_max_bytes if settings is not None else MAX_METADATA_BYTES
    try:
        size = metadata_file.stat().st_size
        if size > limit:
            raise SourceError(f"metadata file {metadata_file} is {size:,} bytes, over {limit:,}")
        raw = metadata_file.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"metadata file not found: {metadata_file}") from None
    except IsADirectoryError:
        raise SourceError(f"metadata path is a directory, not a file: {metadata_file}") from None
    except PermissionError:
        raise SourceError(f"metadata file not readable: {metadata_file}") from None
    return map_local_metadata(
        raw,
        record_id=record_id or file_record_id(pdf_sha256),
        source=ref.canonical,
        pdf_sha256=pdf_sha256,
    )
