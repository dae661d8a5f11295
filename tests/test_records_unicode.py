"""Unicode oddities never produce invalid XML: they are cleaned, or refused with a reason.

Property tests (hypothesis) feed titles, names, descriptions, event details, licence texts
and file paths made of ordinary text mixed with every kind of trouble: NUL and other C0/C1
controls, lone surrogates, U+FFFE/U+FFFF and other noncharacters, BOMs, right-to-left
scripts and bidi controls, combining marks, XML metacharacters. Whatever goes in, the
result is either a :class:`PackageError` or records that validate.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from archive_ingest.errors import PackageError
from archive_ingest.models import Creator, Event
from archive_ingest.records import (
    build_dc,
    build_mets,
    clean_block,
    clean_line,
    validate_dc,
    validate_mets,
)
from archive_ingest.records.text import is_xml_safe
from archive_ingest.records.xmlutil import XPATH_NS
from tests.support.records import at, chapter_description, chapter_events, chapter_record

ODDITIES = [
    "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
    "\ud800", "\udbff", "\udc00", "\udfff",
    "\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff", "\ufeff",
    "\u202e", "\u202d", "\u200f", "\u200e", "\u2066", "\u2067", "\u2069", "\u061c",
    "\u05e9\u05dc\u05d5\u05dd", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\u0301", "\u0338", "e\u0301", "\u1100\u1161", "\u0fb2\u0f71",
    "\u2028", "\u2029", "\t", "\n", "\r", "\r\n", " ", "\xa0",
    "&", "<", ">", "]]>", '"', "'", "&amp;", "\U0001f600", "\U0001d54f",
]  # fmt: skip
# Pieces, not single characters: some oddities are sequences (CRLF, base + combining mark).
odd_text = st.lists(
    st.one_of(st.characters(), st.sampled_from(ODDITIES)), min_size=0, max_size=30
).map("".join)
odd_nonempty = odd_text.filter(lambda s: len(s) > 0)


def _has_surrogate(*values: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for value in values for c in value)


def _parse(xml: bytes) -> etree._Element:
    # A strict parser with no recovery: the bytes must be well-formed XML 1.0.
    return etree.fromstring(xml, etree.XMLParser(recover=False, resolve_entities=False))


# --- cleaning rules, by example -------------------------------------------------------------


def test_rtl_text_is_kept_as_it_is() -> None:
    title = "\u05e9\u05dc\u05d5\u05dd \u0639\u0627\u0644\u0645"
    desc = chapter_description(record=chapter_record(title=title))
    root = _parse(build_dc(desc))
    assert root.xpath("string(dc:title[1])", namespaces=XPATH_NS) == title


def test_combining_marks_are_composed_nfc() -> None:
    desc = chapter_description(record=chapter_record(title="Maipu\u0301 e Cerrillos"))
    xml = build_dc(desc)
    validate_dc(xml)
    assert "Maipú e Cerrillos".encode() in xml
    assert "u\u0301".encode() not in xml


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("A\x00B", "AB"),
        ("A\ufffeB\uffff", "AB"),
        ("\ufeffTitle", "Title"),
        ("Line\none\ttab", "Line one tab"),
        ("C1\x85control\x9f", "C1control"),
        ("  spaced   out  ", "spaced out"),
    ],
)
def test_illegal_characters_are_removed(raw: str, clean: str) -> None:
    assert clean_line(raw) == clean
    desc = chapter_description(record=chapter_record(title=raw))
    xml = build_mets(desc)
    validate_mets(xml)
    assert _parse(xml).get("LABEL") == clean


def test_lone_surrogates_that_get_into_a_record_are_removed() -> None:
    desc = chapter_description(record=chapter_record(title="Maip\ud800u"))
    xml = build_mets(desc)
    validate_mets(xml)
    assert _parse(xml).get("LABEL") == "Maipu"


def test_a_title_of_nothing_but_illegal_characters_is_refused() -> None:
    desc = chapter_description(record=chapter_record(title="\x00\ufffe\uffff \x1f"))
    with pytest.raises(PackageError, match="title is empty"):
        build_dc(desc)
    with pytest.raises(PackageError, match="title is empty"):
        build_mets(desc)


def test_descriptions_keep_their_line_breaks() -> None:
    assert clean_block("one\r\ntwo\u2028three\x00\n\n\n\nfour") == "one\ntwo\nthree\n\nfour"


# --- properties ------------------------------------------------------------------------------

_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(title=odd_text, name=odd_nonempty, description=odd_text, publisher=odd_text)
def test_dc_is_valid_or_refused(title: str, name: str, description: str, publisher: str) -> None:
    try:
        record = chapter_record(
            title=title,
            creators=[Creator(name=name, role="author")],
            description=description,
            publisher=publisher,
            translated_titles={"en": title + "!"},
            subjects=[title, name],
        )
    except ValidationError:
        # pydantic-core sometimes cannot hold a lone surrogate: then the model refuses it
        assert _has_surrogate(title, name, description, publisher)
        return
    try:
        xml = build_dc(chapter_description(record=record))
    except PackageError as exc:
        assert "title is empty" in str(exc)
        assert clean_line(title) is None
        return
    root = _parse(xml)
    validate_dc(xml)
    assert root.xpath("string(dc:title[1])", namespaces=XPATH_NS) == clean_line(title)
    assert all(is_xml_safe(t) for t in root.itertext())
    cleaned = clean_line(title) or ""
    assert cleaned == unicodedata.normalize("NFC", cleaned)


@_SETTINGS
@given(
    title=odd_text,
    name=odd_nonempty,
    detail=odd_text,
    agent=odd_nonempty,
    statement=odd_text,
    organization=odd_nonempty,
    note_value=odd_text,
    decision=odd_nonempty,
)
def test_mets_is_valid_or_refused(
    title: str,
    name: str,
    detail: str,
    agent: str,
    statement: str,
    organization: str,
    note_value: str,
    decision: str,
) -> None:
    try:
        record = chapter_record(
            title=title, creators=[Creator(name=name, role="organizer", affiliation=name)]
        )
    except ValidationError:
        assert _has_surrogate(title, name)
        return
    events = [
        *chapter_events(),
        Event(
            event_type="review decision",
            agent=agent,
            agent_type="person",
            detail=detail,
            outcome_detail={"note": note_value, name: 1},
            datetime=at(40),
        ),
    ]
    pages = [{"page": 1, "kind": "born-digital", "decision": decision}]
    try:
        desc = chapter_description(
            record=record,
            events=events,
            rights_statement=statement,
            licence_label=statement,
            organization=organization,
            ocr_pages=pages,
        )
        xml = build_mets(desc)
    except ValidationError:
        assert _has_surrogate(detail, agent, statement, organization, note_value, decision)
        return
    except PackageError as exc:
        assert "is empty" in str(exc)
        return
    root = _parse(xml)
    validate_mets(xml)
    assert all(is_xml_safe(t) for t in root.itertext())
    assert all(is_xml_safe(v) for e in root.iter() for v in e.attrib.values())


@_SETTINGS
@given(path=odd_nonempty)
def test_odd_file_paths_are_refused_or_valid(path: str) -> None:
    desc = chapter_description()
    files = [f.model_copy(update={"path": path}) if f.role == "text" else f for f in desc.files]
    try:
        xml = build_mets(desc.model_copy(update={"files": files}))
    except PackageError:
        return
    validate_mets(xml)
