"""Dublin Core: the oai_dc record of a SciELO chapter, validated against the official XSD."""

from __future__ import annotations

import pytest
from lxml import etree

from archive_ingest.errors import PackageError
from archive_ingest.models import Creator, Identifier, PageRange
from archive_ingest.oai.sets import record_sets
from archive_ingest.records import build_dc, build_mets, validate_dc, validate_mets
from archive_ingest.records.vocab import is_open_access
from archive_ingest.records.xmlutil import XPATH_NS
from tests.support.records import CC_BY_NC_SA_30, chapter_description, chapter_record


def _dc(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def _values(root: etree._Element, name: str) -> list[str]:
    return [e.text or "" for e in root.xpath(f"dc:{name}", namespaces=XPATH_NS)]


def test_chapter_dc_validates_against_the_official_oai_dc_schema() -> None:
    xml = build_dc(chapter_description())
    validate_dc(xml)  # raises on any schema or profile error
    root = _dc(xml)
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')


def test_chapter_dc_carries_every_field_the_issue_lists() -> None:
    root = _dc(build_dc(chapter_description()))
    titles = root.xpath("dc:title", namespaces=XPATH_NS)
    assert titles[0].text == "Construindo os cordões industriais: Maipú-Cerrillos"
    assert titles[0].get("{http://www.w3.org/XML/1998/namespace}lang") == "pt"
    assert titles[1].get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    # authors are creators; organizers are contributors (roles are kept in MODS)
    assert _values(root, "creator") == ["Pablo"]
    assert _values(root, "contributor") == ["Henfrey, Colin", "Sorj, Bernardo"]
    assert _values(root, "publisher") == ["Centro Edelstein de Pesquisas Sociais"]
    assert _values(root, "date") == ["2008"]
    assert _values(root, "type") == [
        "Text",
        "book part",
        "info:eu-repo/semantics/bookPart",
        "info:eu-repo/semantics/publishedVersion",
    ]
    assert _values(root, "format") == ["application/pdf", "pp. 40-52"]
    assert _values(root, "language") == ["por"]  # ISO 639-3, from the publisher's "pt"
    assert "https://doi.org/10.7476/9788599662847.0005" in _values(root, "identifier")
    assert "http://books.scielo.org/id/37t/05" in _values(root, "identifier")
    assert _values(root, "source") == [
        "http://books.scielo.org/id/37t/pdf/henfrey-9788599662847-05.pdf"
    ]
    # isPartOf the book: its ISBN as a URN and its URL
    assert _values(root, "relation") == ["urn:isbn:9788599662847", "http://books.scielo.org/id/37t"]
    rights = _values(root, "rights")
    assert rights[0] == CC_BY_NC_SA_30
    assert "ShareAlike 3.0 Unported" in rights[1]
    assert rights[2:] == ["info:eu-repo/semantics/openAccess"]
    assert _values(root, "description")[0].endswith("\nSantiago, 1972.")
    assert _values(root, "subject") == ["Unidade Popular", "Chile"]


def test_book_isbn_and_eisbn_become_identifiers_of_a_book_record() -> None:
    record = chapter_record(
        record_id="scielo-books-37t",
        source="scielo-books:37t",
        source_kind="scielo-books-book",
        is_part_of=None,
        pages=None,
        identifiers=[
            Identifier(scheme="isbn", value="978-85-99662-84-7"),
            Identifier(scheme="eisbn", value="9788599662854"),
            Identifier(scheme="scielo-sbid", value="37t"),
        ],
    )
    desc = chapter_description(record=record)
    root = _dc(build_dc(desc))
    validate_mets(build_mets(desc))  # a book with no larger work: one logical div
    identifiers = _values(root, "identifier")
    assert identifiers[:2] == ["urn:isbn:9788599662847", "urn:isbn:9788599662854"]
    assert "SciELO Books ID: 37t" in identifiers
    assert _values(root, "type") == [
        "Text",
        "book",
        "info:eu-repo/semantics/book",
        "info:eu-repo/semantics/publishedVersion",
    ]
    assert _values(root, "relation") == []


def test_licence_uri_is_absent_when_no_licence_was_validated() -> None:
    desc = chapter_description(licence_uri=None, licence_label=None, licence_outcome="needs_review")
    root = _dc(build_dc(desc))
    assert CC_BY_NC_SA_30 not in _values(root, "rights")
    assert "info:eu-repo/semantics/openAccess" not in _values(root, "rights")
    validate_dc(build_dc(desc))  # the publisher's statement alone keeps DC-04


def test_a_bogus_dc_element_fails_validation() -> None:
    xml = build_dc(chapter_description()).replace(
        b"<dc:date>2008</dc:date>", b"<dc:date>2008</dc:date><dc:bogus>x</dc:bogus>"
    )
    with pytest.raises(PackageError, match=r"line \d+: .*bogus.*not expected"):
        validate_dc(xml)


def test_a_foreign_namespace_inside_oai_dc_fails_validation() -> None:
    xml = build_dc(chapter_description()).replace(
        b"<dc:date>",
        b'<dcterms:license xmlns:dcterms="http://purl.org/dc/terms/">x</dcterms:license><dc:date>',
    )
    with pytest.raises(PackageError, match="license"):
        validate_dc(xml)


def test_dc_profile_rules_are_checked_beyond_the_xsd() -> None:
    xml = build_dc(chapter_description()).replace(
        b"<dc:language>por</dc:language>", b"<dc:language>pt-BR</dc:language>"
    )
    with pytest.raises(PackageError, match=r"\[DC-03\]"):
        validate_dc(xml)


def test_every_problem_is_listed_not_just_the_first() -> None:
    xml = (
        build_dc(chapter_description())
        .replace(b"<dc:language>por</dc:language>", b"<dc:language>portuguese</dc:language>")
        .replace(b"<dc:date>2008</dc:date>", b"<dc:bogus/>")
    )
    with pytest.raises(PackageError) as info:
        validate_dc(xml)
    assert "2 problems" in str(info.value)
    assert "DC-03" in str(info.value) and "bogus" in str(info.value)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<oai_dc:dc", "not well-formed"),
        (
            b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>',
            "DOCTYPE",
        ),
        (b"<x/>", r"DC-01.*not oai_dc:dc"),
    ],
)
def test_untrusted_or_wrong_documents_are_refused(xml: bytes, message: str) -> None:
    with pytest.raises(PackageError, match=message):
        validate_dc(xml)


def test_validate_wants_bytes() -> None:
    with pytest.raises(PackageError, match="bytes"):
        validate_dc("<x/>")  # type: ignore[arg-type]


def test_bad_date_is_refused_with_a_reason() -> None:
    desc = chapter_description(record=chapter_record(date="2008-13"))
    with pytest.raises(PackageError, match="not ISO 8601"):
        build_dc(desc)


def test_unknown_language_code_is_refused() -> None:
    desc = chapter_description(record=chapter_record(languages=["xx"]))
    with pytest.raises(PackageError, match="unknown ISO 639-1"):
        build_dc(desc)


def test_corporate_author_is_a_creator_and_translator_a_contributor() -> None:
    record = chapter_record(
        creators=[
            Creator(name="Fiocruz", role="corporate_author", corporate=True),
            Creator(name="Souza, Ana", role="translator"),
        ]
    )
    root = _dc(build_dc(chapter_description(record=record)))
    assert _values(root, "creator") == ["Fiocruz"]
    assert _values(root, "contributor") == ["Souza, Ana"]


def test_a_record_without_any_identifier_is_refused() -> None:
    record = chapter_record(identifiers=[], landing_url=None)
    with pytest.raises(PackageError, match="no identifier"):
        build_dc(chapter_description(record=record))


def test_no_licence_at_all_is_said_in_dc_rights() -> None:
    desc = chapter_description(
        licence_uri=None, licence_label=None, rights_statement=None, licence_outcome="needs_review"
    )
    xml = build_dc(desc)
    validate_dc(xml)
    assert _values(_dc(xml), "rights") == [
        "No licence statement found (licence check: needs_review)."
    ]


@pytest.mark.parametrize(
    ("source_kind", "document_type", "expected", "published"),
    [
        ("scielo-books-chapter", None, "bookPart", True),
        ("scielo-books-book", None, "book", True),
        ("scielo-article", None, "article", True),
        ("scielo-article", "research-article", "article", True),
        ("scielo-article", "undefined", "article", True),
        ("scielo-article", "book-review", "review", True),
        ("scielo-article", "editorial", "other", True),
        ("scielo-article", "Correction", "other", True),
        ("file", None, "other", False),
        ("file", "research-article", "article", False),
    ],
)
def test_dc_type_carries_the_driver_publication_type(
    source_kind: str, document_type: str | None, expected: str, published: bool
) -> None:
    record = chapter_record(source_kind=source_kind, document_type=document_type)
    xml = build_dc(chapter_description(record=record))
    validate_dc(xml)
    types = _values(_dc(xml), "type")
    assert types[0] == "Text"
    driver = [t for t in types if t.startswith("info:eu-repo/semantics/")]
    version = ["info:eu-repo/semantics/publishedVersion"] if published else []
    assert driver == [f"info:eu-repo/semantics/{expected}", *version]


@pytest.mark.parametrize(
    ("pages", "extent"),
    [
        (PageRange(first="40", last="52"), "pp. 40-52"),
        (PageRange(first="1", last="1"), "p. 1"),  # one page: not "pp. 1-1"
        (PageRange(first="7"), "p. 7"),
        (PageRange(count=12), "12 p."),
    ],
)
def test_pages_are_written_as_a_citation_writes_them(pages: PageRange, extent: str) -> None:
    desc = chapter_description(record=chapter_record(pages=pages))
    root = _dc(build_dc(desc))
    assert extent in _values(root, "format")
    assert "pp. 1-1" not in build_dc(desc).decode()
    validate_dc(build_dc(desc))


@pytest.mark.parametrize(
    ("uri", "open_access"),
    [
        ("https://creativecommons.org/licenses/by-nc/4.0/", True),
        ("http://creativecommons.org/licenses/by/3.0/br/", True),
        ("https://creativecommons.org/publicdomain/zero/1.0/", True),
        ("https://creativecommons.org/publicdomain/mark/1.0/", True),
        ("https://www.gnu.org/licenses/fdl-1.3.html", False),  # not an open-access licence here
        ("https://example.org/creativecommons.org/licenses/by/4.0/", False),
        (None, False),
    ],
)
def test_one_open_access_rule_for_dc_rights_sets_and_the_access_copy(
    uri: str | None, open_access: bool
) -> None:
    """dc.xml's openAccess right, the oai_openaire access right and file, /access and the
    openaire/driver sets all ask is_open_access."""
    assert is_open_access(uri) is open_access
    desc = chapter_description(licence_uri=uri)
    rights = _values(_dc(build_dc(desc)), "rights")
    assert ("info:eu-repo/semantics/openAccess" in rights) is open_access
    sets = record_sets(
        source_kind="scielo-books-chapter", licence_uri=uri, publisher=None, full_text=True
    )
    assert ("openaire" in sets and "driver" in sets) is open_access
