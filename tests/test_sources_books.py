"""SciELO Books mapping: book JSON, book page, chapter records (pure functions, no network)."""

from __future__ import annotations

import json

import pytest

from archive_ingest.errors import SourceError
from archive_ingest.models import Creator
from archive_ingest.sources.book_json import map_book_json, parse_book_creators
from archive_ingest.sources.book_listing import parse_books_list, parse_changes_feed
from archive_ingest.sources.book_page import parse_book_page
from archive_ingest.sources.scielo_books import chapter_record, merge_book_page
from tests.support.scielo_fixtures import fixture

BASE = "http://127.0.0.1:8123"
TITLE_37T = (
    "Compreendendo a complexidade socioespacial contemporânea: o território como categoria de "
    "diálogo interdisciplinar"
)


# --- book JSON ------------------------------------------------------------------------------


def test_book_json_maps_every_field() -> None:
    record = map_book_json(fixture("book-37t.json"), base_url=BASE, sbid="37t")
    assert record.record_id == "scielo-books-37t"
    assert record.source == "scielo-books:37t"
    assert record.source_kind == "scielo-books-book"
    assert record.title == TITLE_37T
    assert record.creators == [
        Creator(name="Ribeiro, Maria Teresa Franco", role="organizer"),
        Creator(name="Milani, Carlos Roberto Sanchez", role="organizer"),
    ]
    assert record.publisher == "EDUFBA"
    assert record.date == "2009"
    assert record.languages == ["pt"]
    assert record.identifier("isbn") == "9788523205607"
    assert record.identifier("eisbn") is None  # "" in the JSON
    assert record.identifier("scielo-sbid") == "37t"
    assert record.description and record.description.startswith("O livro constrói")
    assert record.licence_statement == "CC BY-NC-SA 3.0"
    assert record.licence_url is None
    # the JSON says http://books.scielo.org/...: rebased onto the configured base
    assert record.pdf_urls == {"": f"{BASE}/id/37t/pdf/ribeiro-9788523205607.pdf"}
    assert record.landing_url == f"{BASE}/id/37t"
    assert record.missing == []
    assert record.notes == []


def test_book_json_with_missing_fields_lists_them() -> None:
    record = map_book_json(fixture("book-missing-fields.json"), base_url=BASE)
    assert record.record_id == "scielo-books-x7k2q"
    assert record.title == "Memórias do movimento operário"
    assert record.creators == []
    assert record.publisher is None
    assert record.licence_statement is None  # absent: "not stated", not a disagreement
    assert record.pdf_urls == {}
    assert set(record.missing) == {
        "creators", "publisher", "date", "languages", "isbn", "description",
        "licence_statement", "pdf_urls",
    }  # fmt: skip


def test_couchdb_record_shape_is_understood() -> None:
    record = map_book_json(fixture("book-couchdb-record.json"), base_url=BASE, sbid="37t")
    assert [c.name for c in record.creators] == [
        "Ribeiro, Maria Teresa Franco",
        "Milani, Carlos Roberto Sanchez",
    ]
    assert record.identifier("isbn") == "9788523205607"
    assert record.pages is not None and record.pages.count == 312
    # pdf_file names a CouchDB attachment: the URL follows SciELO's naming rule
    assert record.pdf_urls == {"": f"{BASE}/id/37t/pdf/ribeiro-9788523205607.pdf"}
    assert any("naming rule" in note for note in record.notes)


@pytest.mark.parametrize(
    ("creators", "expected"),
    [
        ({"organizer": [["A, B", None]]}, [("organizer", "A, B")]),
        ({"editor": ["A, B", "C, D"]}, [("editor", "A, B"), ("editor", "C, D")]),
        ([{"role": "translator", "full_name": "E, F"}], [("translator", "E, F")]),
        ([[["role", "other"], ["full_name", "G"], ["link_resume", None]]], [("other", "G")]),
        (None, []),
    ],
)
def test_every_creators_shape(creators: object, expected: list[tuple[str, str]]) -> None:
    pairs, notes = parse_book_creators(creators)
    assert pairs == expected
    assert notes == []


def test_roles_corporate_and_unknown() -> None:
    data = json.loads(fixture("book-37t.json"))
    data["creators"] = {
        "individual_author": [["Silva, João", None]],
        "corporate_author": [["Fundação Oswaldo Cruz", None]],
        "illustrator": [["Lima, Ana", None]],
    }
    record = map_book_json(json.dumps(data).encode(), base_url=BASE)
    assert record.creators == [
        Creator(name="Silva, João", role="author"),
        Creator(name="Fundação Oswaldo Cruz", role="author", corporate=True),
        Creator(name="Lima, Ana", role="other"),
    ]
    assert any("illustrator" in note for note in record.notes)


def test_wrong_isbn_check_digit_is_kept_and_noted() -> None:
    data = json.loads(fixture("book-37t.json"))
    data["pisbn"] = "978-85-232-0560-8"
    data["eisbn"] = "not-an-isbn"
    record = map_book_json(json.dumps(data).encode(), base_url=BASE)
    assert record.identifier("isbn") == "9788523205608"
    assert any("9788523205608 has a wrong check digit" in note for note in record.notes)
    assert record.identifier("eisbn") is None
    assert any("'not-an-isbn' is not an ISBN" in note for note in record.notes)


def test_bad_year_and_language_are_noted() -> None:
    data = json.loads(fixture("book-37t.json"))
    data["year"] = "s.d."
    data["language"] = "xx"
    record = map_book_json(json.dumps(data).encode(), base_url=BASE)
    assert record.date is None and record.languages == []
    assert {"date", "languages"} <= set(record.missing)
    assert len(record.notes) == 2


def test_unusable_pdf_link_is_noted_not_followed() -> None:
    data = json.loads(fixture("book-37t.json"))
    data["pdf_file"]["uri"] = "file:///etc/passwd"
    record = map_book_json(json.dumps(data).encode(), base_url=BASE)
    assert record.pdf_urls == {}
    assert "pdf_urls" in record.missing
    assert any("non-HTTP" in note for note in record.notes)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "book JSON is empty"),
        (b"<html><body>502 Bad Gateway</body></html>", "not valid JSON (looks like an HTML page)"),
        (b'{"_id": "37t", "title": ', "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"title": "x"}', "has no _id"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_malformed_book_json(raw: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        map_book_json(raw, base_url=BASE)


def test_book_json_for_another_book_is_refused() -> None:
    with pytest.raises(SourceError, match="describes book '37t', not the requested 'abc12'"):
        map_book_json(fixture("book-37t.json"), base_url=BASE, sbid="abc12")


# --- book page ------------------------------------------------------------------------------


def test_book_page_fields_and_chapters() -> None:
    page = parse_book_page(fixture("book-page-37t.html"))
    assert page.title == TITLE_37T
    assert page.authors == ("Ribeiro, Maria Teresa Franco", "Milani, Carlos Roberto Sanchez")
    assert page.publisher == "EDUFBA"
    assert page.publication_date == "2009"
    assert page.isbn == "9788523205607"
    assert page.pdf_url == "http://books.scielo.org/id/37t/pdf/ribeiro-9788523205607.pdf"
    # Portuguese interface labels
    assert page.fields == {
        "publisher": "EDUFBA",
        "language": "Português",
        "year": "2009",
        "pages": "312",
        "isbn": "9788523205607",
    }
    assert page.creators == (
        ("organizer", "Ribeiro, Maria Teresa Franco; Milani, Carlos Roberto Sanchez"),
    )
    assert page.synopsis and page.synopsis.startswith("O livro constrói")
    assert page.download_links == ("/id/37t/pdf/ribeiro-9788523205607.pdf",)
    assert [(c.order, c.title) for c in page.chapters] == [
        ("00", "Pré-textuais"),
        ("01", "Apresentação"),
        ("02", "O território como categoria de diálogo interdisciplinar & suas fronteiras"),
        ("03", "Desenvolvimento territorial e políticas públicas"),
    ]
    assert page.chapter("2") is not None
    assert page.chapter("02").pdf_href == "/id/37t/pdf/ribeiro-9788523205607-02.pdf"  # type: ignore[union-attr]
    assert page.chapter("03").pdf_href is None  # type: ignore[union-attr]
    assert page.chapter("04") is None


def test_book_page_order_from_preview_link_then_row() -> None:
    html = b"""<html><head><meta name="citation_title" content="T"></head><body>
    <div class="tableContents"><table>
    <tr><td class="chpTitle">From preview</td><td><a class="preview" href="/id/x/07">P</a></td></tr>
    <tr><td class="chpTitle">From row</td></tr>
    <tr><td class="other">not a chapter</td></tr>
    </table></div></body></html>"""
    page = parse_book_page(html)
    assert [(c.order, c.title) for c in page.chapters] == [
        ("07", "From preview"),
        ("01", "From row"),
    ]


def test_book_page_with_an_xml_declaration() -> None:
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        '<head><meta name="citation_title" content="Título" /></head><body/></html>'
    )
    assert parse_book_page(xhtml.encode()).title == "Título"


def test_book_page_in_latin1_is_decoded_with_a_warning() -> None:
    html = "<html><body><div class='bookDetail'><h3>Introdução</h3></div></body></html>"
    page = parse_book_page(html.encode("latin-1"))
    assert page.title == "Introdução"
    assert page.warnings


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"%PDF-1.4\n\x00\x01\x02binary", "binary data"),
        (b'{"_id": "37t"}', "not a SciELO Books book page"),
        (b"<html><body><p>Not Found</p></body></html>", "no citation_title"),
    ],
)
def test_malformed_book_page(raw: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_book_page(raw)


def test_merge_book_page_fills_what_the_json_lacked() -> None:
    book = map_book_json(fixture("book-missing-fields.json"), base_url=BASE)
    page = parse_book_page(fixture("book-page-37t.html"))
    merged = merge_book_page(book, page, base_url=BASE)
    assert merged.title == "Memórias do movimento operário"  # the JSON's title is kept
    assert any("differs from the book JSON title" in n for n in merged.notes)
    assert [(c.name, c.role) for c in merged.creators] == [
        ("Ribeiro, Maria Teresa Franco", "organizer"),
        ("Milani, Carlos Roberto Sanchez", "organizer"),
    ]
    assert merged.publisher == "EDUFBA"
    assert merged.date == "2009"
    assert merged.languages == ["pt"]
    assert merged.identifier("isbn") == "9788523205607"
    assert merged.pages is not None and merged.pages.count == 312
    assert merged.description and merged.description.startswith("O livro")
    assert merged.pdf_urls == {"": f"{BASE}/id/37t/pdf/ribeiro-9788523205607.pdf"}
    assert merged.missing == ["licence_statement"]


def test_merge_book_page_notes_isbn_disagreement() -> None:
    data = json.loads(fixture("book-37t.json"))
    data["pisbn"] = "9788599662847"
    book = map_book_json(json.dumps(data).encode(), base_url=BASE)
    merged = merge_book_page(book, parse_book_page(fixture("book-page-37t.html")), base_url=BASE)
    assert merged.identifier("isbn") == "9788599662847"
    assert any("differs from the book JSON's 9788599662847" in n for n in merged.notes)


# --- chapters -------------------------------------------------------------------------------


def test_chapter_record_from_book_and_page() -> None:
    book = map_book_json(fixture("book-37t.json"), base_url=BASE, sbid="37t")
    page = parse_book_page(fixture("book-page-37t.html"))
    book = merge_book_page(book, page, base_url=BASE)
    chapter = chapter_record(book, page, "2", base_url=BASE)
    assert chapter.record_id == "scielo-books-37t-02"
    assert chapter.source == "scielo-books:37t/02"
    assert chapter.source_kind == "scielo-books-chapter"
    assert (
        chapter.title == "O território como categoria de diálogo interdisciplinar & suas fronteiras"
    )
    assert chapter.pdf_urls == {"": f"{BASE}/id/37t/pdf/ribeiro-9788523205607-02.pdf"}
    assert chapter.landing_url == f"{BASE}/id/37t/02"
    assert chapter.licence_statement == "CC BY-NC-SA 3.0"
    assert chapter.publisher == "EDUFBA" and chapter.date == "2009"
    assert chapter.languages == ["pt"]
    assert chapter.is_part_of is not None
    assert chapter.is_part_of.title == TITLE_37T
    assert chapter.is_part_of.kind == "book"
    assert {i.scheme for i in chapter.is_part_of.identifiers} == {"isbn", "scielo-sbid"}
    assert [c.name for c in chapter.is_part_of.creators] == [c.name for c in book.creators]
    # creators and pages only come from the chapter PDF's first page
    assert chapter.creators == [] and chapter.pages is None
    assert chapter.missing == ["creators", "pages"]


def test_chapter_without_pdf_link() -> None:
    book = map_book_json(fixture("book-37t.json"), base_url=BASE, sbid="37t")
    page = parse_book_page(fixture("book-page-37t.html"))
    chapter = chapter_record(book, page, "03", base_url=BASE)
    assert chapter.pdf_urls == {}
    assert "pdf_urls" in chapter.missing
    assert any("without a PDF link" in n for n in chapter.notes)


def test_unknown_chapter_is_a_clear_error() -> None:
    book = map_book_json(fixture("book-37t.json"), base_url=BASE, sbid="37t")
    page = parse_book_page(fixture("book-page-37t.html"))
    with pytest.raises(SourceError, match=r"no chapter 09 .*\(chapters: 00, 01, 02, 03\)"):
        chapter_record(book, page, "09", base_url=BASE)


# --- listings -------------------------------------------------------------------------------


def test_changes_feed() -> None:
    changes, last = parse_changes_feed(fixture("changes.json"))
    assert last == "2205"
    assert [(c.seq, c.id, c.deleted) for c in changes] == [
        ("2198", "37t", False),
        ("2201", "0a1b2c3d4e5f60718293a4b5c6d7e8f9", False),
        ("2205", "x7k2q", True),
    ]


@pytest.mark.parametrize("raw", [b"{}", b'{"results": [{"seq": 1}]}', b"[]"])
def test_malformed_changes_feed(raw: bytes) -> None:
    with pytest.raises(SourceError):
        parse_changes_feed(raw)


def test_books_list() -> None:
    listing = json.dumps(
        [json.loads(fixture("book-37t.json")), json.loads(fixture("book-missing-fields.json"))]
    ).encode()
    assert parse_books_list(listing) == ["37t", "x7k2q"]
    with pytest.raises(SourceError, match="not a JSON list"):
        parse_books_list(b"{}")
