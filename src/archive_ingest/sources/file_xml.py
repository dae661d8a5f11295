"""Dublin Core (oai_dc) and JATS metadata files -> SourceRecord fields."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Literal

from archive_ingest.errors import SourceError
from archive_ingest.identifiers import normalise_issn
from archive_ingest.models import Creator, Identifier, PageRange, Relation
from archive_ingest.refs import PID_RE
from archive_ingest.sources.file_fields import (
    DC_NS,
    ROLES,
    XLINK_NS,
    XML_LANG,
    classify_identifier,
    find_oai_dc,
    languages_of,
    parse_xml,
    text_of,
)
from archive_ingest.sources.normalise import iso_date, language_code, normalise_doi


def map_dublin_core(raw: bytes) -> dict[str, Any]:
    """An oai_dc record (or any element with dc: children) -> SourceRecord fields."""
    root = parse_xml(raw)
    record = find_oai_dc(root)
    if record is None:
        record = root
    notes: list[str] = []

    def all_of(name: str) -> list[ET.Element]:
        return record.findall(f"{{{DC_NS}}}{name}")

    titles = [(t, text_of(t)) for t in all_of("title")]
    titles = [(t, text) for t, text in titles if text]
    if not titles:
        raise SourceError("Dublin Core record has no dc:title")
    title = titles[0][1] or ""
    translated: dict[str, str] = {}
    for element, text in titles[1:]:
        code = language_code(element.get(XML_LANG))
        if code and text and code not in translated:
            translated[code] = text
    creators = [Creator(name=n) for n in (text_of(e) for e in all_of("creator")) if n]
    creators += [
        Creator(name=n, role="other") for n in (text_of(e) for e in all_of("contributor")) if n
    ]
    dates = [d for d in (text_of(e) for e in all_of("date")) if d]
    date = next((iso_date(d) for d in dates if iso_date(d)), None)
    if dates and not date:
        notes.append(f"dc:date {dates[0]!r} is not an ISO 8601 date; ignored")
    identifiers: list[Identifier] = []
    for text in (text_of(e) for e in all_of("identifier")):
        if not text:
            continue
        ident, note = classify_identifier(text)
        if note:
            notes.append(note)
        if ident and ident not in identifiers:
            identifiers.append(ident)
    rights = [r for r in (text_of(e) for e in all_of("rights")) if r]
    urls = [r for r in rights if r.lower().startswith(("http://", "https://"))]
    statements = [r for r in rights if r not in urls]
    sources = [s for s in (text_of(e) for e in all_of("source")) if s]
    if sources:
        notes.append("dc:source: " + "; ".join(sources))
    landing = next((i.value for i in identifiers if i.scheme == "url"), None)
    return {
        "title": title,
        "translated_titles": translated,
        "creators": creators,
        "publisher": text_of(next(iter(all_of("publisher")), None)),
        "date": date,
        "languages": languages_of([text_of(e) for e in all_of("language") if text_of(e)], notes),
        "identifiers": identifiers,
        "description": text_of(next(iter(all_of("description")), None)),
        "subjects": [s for s in (text_of(e) for e in all_of("subject")) if s],
        "licence_statement": statements[0] if statements else (urls[0] if urls else None),
        "licence_url": urls[0] if urls else None,
        "landing_url": landing,
        "notes": notes,
    }


def map_jats(raw: bytes) -> dict[str, Any]:
    """JATS ``<article>`` front matter -> SourceRecord fields."""
    root = parse_xml(raw)
    meta = root.find("front/article-meta")
    if meta is None:
        raise SourceError("JATS XML has no front/article-meta")
    journal_meta = root.find("front/journal-meta")
    notes: list[str] = []
    title = text_of(meta.find("title-group/article-title"))
    if not title:
        raise SourceError("JATS XML has no article-title")
    article_lang = language_code(root.get(XML_LANG))
    translated: dict[str, str] = {}
    for element in meta.findall("title-group/trans-title-group"):
        code = language_code(element.get(XML_LANG))
        text = text_of(element.find("trans-title"))
        if code and text:
            translated.setdefault(code, text)

    affiliations = {
        aff.get("id"): text_of(aff.find("institution[@content-type='orgname']")) or text_of(aff)
        for aff in meta.iter("aff")
    }
    creators: list[Creator] = []
    for contrib in meta.findall("contrib-group/contrib"):
        kind = (contrib.get("contrib-type") or "author").lower()
        role = kind if kind in ROLES else "other"
        name_el = contrib.find("name")
        collab = text_of(contrib.find("collab"))
        if name_el is not None:
            surname, given = text_of(name_el.find("surname")), text_of(name_el.find("given-names"))
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
                text_of(i)
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
        year = text_of(pub_date.find("year"))
        month = text_of(pub_date.find("month"))
        day = text_of(pub_date.find("day"))
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
        text = text_of(article_id)
        if not text:
            continue
        if kind == "doi" and (doi := normalise_doi(text)):
            identifiers.append(Identifier(scheme="doi", value=doi))
        elif kind == "publisher-id" and PID_RE.fullmatch(text.upper()):
            identifiers.append(Identifier(scheme="scielo-pid", value=text.upper()))
    journal_ids: list[Identifier] = []
    if journal_meta is not None:
        for issn in journal_meta.findall("issn"):
            value = normalise_issn(text_of(issn))
            if value is None:
                continue
            pub_type = issn.get("pub-type") or issn.get("publication-format") or ""
            scheme: Literal["issn", "eissn"] = (
                "eissn" if pub_type in ("epub", "electronic") else "issn"
            )
            journal_ids.append(Identifier(scheme=scheme, value=value))

    licence_el = meta.find("permissions/license")
    licence_url = licence_el.get(f"{{{XLINK_NS}}}href") if licence_el is not None else None
    licence_text = text_of(licence_el.find("license-p")) if licence_el is not None else None
    first, last = text_of(meta.find("fpage")), text_of(meta.find("lpage"))
    keywords = [
        k
        for group in meta.findall("kwd-group")
        if language_code(group.get(XML_LANG)) in (None, article_lang)
        for k in (text_of(kwd) for kwd in group.findall("kwd"))
        if k
    ]
    publisher = None
    journal_title = None
    if journal_meta is not None:
        publisher = text_of(journal_meta.find("publisher/publisher-name"))
        journal_title = text_of(journal_meta.find("journal-title-group/journal-title"))
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
            volume=text_of(meta.find("volume")),
            issue=text_of(meta.find("issue")),
        )
        if journal_title or journal_ids
        else None,
        "description": text_of(meta.find("abstract")),
        "subjects": keywords,
        "licence_statement": licence_text or licence_url,
        "licence_url": licence_url,
        "notes": notes,
    }
