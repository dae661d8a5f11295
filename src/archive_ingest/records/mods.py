"""MODS 3.8: where the creators' roles live (Dublin Core has none).

A deliberately small MODS record in its own METS dmdSec: titles, every name with the
publisher's role word *and* a MARC relator code, the host (book or journal issue) with its
own names, identifiers and the page range, language, origin, genre and the licence as
``accessCondition``. It is schema-checked like everything else in the METS.
"""

from __future__ import annotations

from lxml import etree

from archive_ingest.models import Creator, Identifier
from archive_ingest.records.dc import DcValues
from archive_ingest.records.model import PackageDescription
from archive_ingest.records.text import clean_line, clean_uri
from archive_ingest.records.vocab import MODS_IDENTIFIER_TYPE, role_mapping
from archive_ingest.records.xmlutil import MODS_NS, XLINK_NS, XML_NS, q, sub


def _m(local: str) -> str:
    return q(MODS_NS, local)


def _names(parent: etree._Element, creators: tuple[Creator, ...] | list[Creator]) -> None:
    for creator in creators:
        name_text = clean_line(creator.name)
        if name_text is None:
            continue
        name = sub(
            parent, _m("name"), attrib={"type": "corporate" if creator.corporate else "personal"}
        )
        sub(name, _m("namePart"), name_text)
        if creator.affiliation:
            sub(name, _m("affiliation"), creator.affiliation)
        role = sub(name, _m("role"))
        sub(
            role,
            _m("roleTerm"),
            role_mapping(creator).marc,
            attrib={
                "type": "code",
                "authority": "marcrelator",
                "authorityURI": "http://id.loc.gov/vocabulary/relators",
            },
        )
        sub(role, _m("roleTerm"), creator.role, attrib={"type": "text"})
        if creator.orcid:
            sub(name, _m("nameIdentifier"), creator.orcid, attrib={"type": "orcid"})


def _identifiers(
    parent: etree._Element, identifiers: tuple[Identifier, ...] | list[Identifier]
) -> None:
    for ident in identifiers:
        sub(
            parent,
            _m("identifier"),
            ident.value,
            attrib={"type": MODS_IDENTIFIER_TYPE[ident.scheme]},
        )


def mods_element(
    desc: PackageDescription, parent: etree._Element, values: DcValues
) -> etree._Element:
    """Append the ``mods:mods`` record to ``parent`` (a METS ``xmlData``)."""
    record = desc.record
    mods = sub(parent, _m("mods"), attrib={"version": "3.8"})
    title_info = sub(mods, _m("titleInfo"), attrib={q(XML_NS, "lang"): values.title_lang})
    sub(title_info, _m("title"), values.title)
    for lang, title in values.translated_titles:
        info = sub(mods, _m("titleInfo"), attrib={"type": "translated", q(XML_NS, "lang"): lang})
        sub(info, _m("title"), title)
    _names(mods, record.creators)
    sub(mods, _m("typeOfResource"), "text")
    sub(mods, _m("genre"), values.genre, attrib={"authority": "coar", "valueURI": values.coar_uri})
    if values.publisher or values.date:
        origin = sub(mods, _m("originInfo"), attrib={"eventType": "publication"})
        if values.publisher:
            sub(origin, _m("publisher"), values.publisher)
        if values.date:
            sub(
                origin,
                _m("dateIssued"),
                values.date,
                attrib={"encoding": "w3cdtf", "keyDate": "yes"},
            )
    for code in values.languages:
        language = sub(mods, _m("language"))
        sub(language, _m("languageTerm"), code, attrib={"type": "code", "authority": "iso639-3"})
    if values.media_type or desc.page_count:
        physical = sub(mods, _m("physicalDescription"))
        if values.media_type:
            sub(physical, _m("internetMediaType"), values.media_type)
        if desc.page_count:
            sub(physical, _m("extent"), f"{desc.page_count} pages", attrib={"unit": "pages"})
    if values.description:
        sub(mods, _m("abstract"), values.description, block=True)
    for subject in values.subjects:
        sub(sub(mods, _m("subject")), _m("topic"), subject)
    parent_work = record.is_part_of
    if parent_work is not None:
        host = sub(mods, _m("relatedItem"), attrib={"type": "host"})
        if values.part_of_title:
            sub(sub(host, _m("titleInfo")), _m("title"), values.part_of_title)
        _names(host, parent_work.creators)
        _identifiers(host, parent_work.identifiers)
        host_url = clean_uri(parent_work.url)
        if host_url:
            sub(sub(host, _m("location")), _m("url"), host_url)
        pages = record.pages
        if pages is not None or parent_work.volume or parent_work.issue:
            part = sub(host, _m("part"))
            for kind, number in (("volume", parent_work.volume), ("issue", parent_work.issue)):
                if number:
                    sub(sub(part, _m("detail"), attrib={"type": kind}), _m("number"), number)
            if pages is not None and (pages.first or pages.count):
                extent = sub(part, _m("extent"), attrib={"unit": "pages"})
                if pages.first:
                    sub(extent, _m("start"), pages.first)
                if pages.last:
                    sub(extent, _m("end"), pages.last)
                if pages.count:
                    sub(extent, _m("total"), pages.count)
    _identifiers(mods, record.identifiers)
    landing = clean_uri(record.landing_url)
    if landing:
        sub(
            sub(mods, _m("location")),
            _m("url"),
            landing,
            attrib={"usage": "primary", "access": "object in context"},
        )
    if values.licence_uri or values.rights_text:
        sub(
            mods,
            _m("accessCondition"),
            values.rights_text or values.licence_uri,
            block=True,
            attrib={"type": "use and reproduction", q(XLINK_NS, "href"): values.licence_uri},
        )
    return mods
