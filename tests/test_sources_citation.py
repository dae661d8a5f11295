"""SciELO's citation page (a chapter PDF's page one): parsing it and completing a chapter."""

from __future__ import annotations

import pytest

from archive_ingest.models import Creator, Identifier, PageRange, Relation, SourceRecord
from archive_ingest.sources.base import finish
from archive_ingest.sources.citation_page import (
    enrich_chapter_from_pdf_text,
    join_lines,
    parse_citation_page,
    split_creators,
)
from tests.support.scielo_fixtures import FIXTURES


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_english_citation_page() -> None:
    page = parse_citation_page(text("citation-en.txt"))
    assert page.creators == ("PABLO",)
    assert page.creators_role is None
    assert page.chapter_title == "Building the Industrial Cordons: Maipú-Cerrillos"
    assert page.book_creators == ("HENFREY, C.", "SORJ, B.")
    assert page.book_title == (
        "Chilean Voices: activists describe their experiences of the Popular Unity Period"
    )
    assert (page.city, page.publisher, page.year) == (
        "Rio de Janeiro",
        "Centro Edelstein de Pesquisas Sociais",
        "2008",
    )
    assert page.pages == ("40", "52")
    assert page.isbn == "9788599662847"
    assert page.doi is None
    assert page.citation and page.citation.startswith("PABLO. Building")
    assert page.citation.endswith("Available from SciELO Books <http://books.scielo.org>.")
    assert list(page.licence_statements) == ["en", "pt", "es"]
    assert page.licence_statements["en"] == (
        "All the contents of this chapter, except where otherwise noted, is licensed under a "
        "Creative Commons Attribution-Non Commercial-ShareAlike 3.0 Unported."
    )
    assert page.licence_statements["pt"].endswith("Partilha nos Mesmos Termos 3.0 Não adaptada.")
    assert "Reconocimento-NoComercial-CompartirIgual" in page.licence_statements["es"]


def test_portuguese_citation_page() -> None:
    page = parse_citation_page(text("citation-pt.txt"))
    assert page.creators == ("RIBEIRO, MTF.", "MILANI, CRS.")
    assert page.chapter_title == "Apresentação"
    assert page.book_creators == ("RIBEIRO, MTF.", "MILANI, CRS.")
    assert page.book_creators_role == "organizer"
    assert page.book_title is not None and page.book_title.startswith("Compreendendo")
    assert (page.city, page.publisher, page.year) == ("Salvador", "EDUFBA", "2009")
    assert page.pages == ("7", "13")
    assert page.isbn == "9788523205607"  # broken across two lines at a hyphen
    assert set(page.licence_statements) == {"en", "pt", "es"}


def test_spanish_citation_page() -> None:
    page = parse_citation_page(text("citation-es.txt"))
    assert page.creators == ("DAZA, E.", "ORTIZ CRESPO, A.")
    assert page.chapter_title == "La ciudad y sus bordes: expansión urbana en los Andes"
    assert page.book_creators == ("GARCÍA LÓPEZ, J.", "DE LA CRUZ, M. A.")
    assert page.book_creators_role == "editor"
    assert page.book_title == "Ciudades andinas: territorio, memoria y poder"
    assert (page.city, page.publisher, page.year) == ("Quito", "Editorial Abya-Yala", "2020")
    assert page.pages == ("311", "330")
    assert page.isbn == "9789978105689"
    assert page.doi == "10.7476/9789978105689.0017"
    assert page.licence_statements["es"].startswith("Todo el contenido de esta obra")
    assert page.licence_statements["pt"].startswith("Todo o conteúdo deste trabalho")


def test_page_without_a_citation() -> None:
    page = parse_citation_page("Capítulo 1\nIntrodução\n\nO texto começa aqui, sem citação.")
    assert page.creators == ()
    assert page.chapter_title is None
    assert page.pages is None and page.isbn is None
    assert page.licence_statements == {}


def test_empty_page() -> None:
    page = parse_citation_page("")
    assert page.citation is None and page.licence_statements == {}


@pytest.mark.parametrize(
    ("value", "names", "role", "rest"),
    [
        ("PABLO. Title here", ["PABLO"], None, "Title here"),
        ("SILVA, J. e SOUZA, M. Título", ["SILVA, J.", "SOUZA, M."], None, "Título"),
        ("SILVA, J.A.; LIMA, B. T", ["SILVA, J.A.", "LIMA, B."], None, "T"),
        ("SILVA, J., et al. T", ["SILVA, J.", "et al."], None, "T"),
        ("SILVA, J.. T", ["SILVA, J."], None, "T"),
        ("SILVA, J., org. T", ["SILVA, J."], "organizer", "T"),
        ("SILVA, J. (Coord.) T", ["SILVA, J."], "coordinator", "T"),
        ("A history of things", [], None, "A history of things"),
        ("Chilean Voices: x", [], None, "Chilean Voices: x"),
    ],
)
def test_split_creators(value: str, names: list[str], role: str | None, rest: str) -> None:
    assert split_creators(value) == (names, role, rest)


def test_join_lines_keeps_hyphens_and_drops_soft_hyphens() -> None:
    assert join_lines("Maipú-\nCerrillos\r\nand  more\n\nend") == "Maipú-Cerrillos and more end"
    assert join_lines("inter\u00addisciplinar") == "interdisciplinar"


def _chapter(**overrides: object) -> SourceRecord:
    fields: dict[str, object] = {
        "record_id": "scielo-books-cv001-04",
        "source": "scielo-books:cv001/04",
        "source_kind": "scielo-books-chapter",
        "title": "Building the Industrial Cordons: Maipú-Cerrillos",
        "publisher": "Centro Edelstein de Pesquisas Sociais",
        "date": "2008",
        "languages": ["en"],
        "licence_statement": "CC BY-NC-SA 3.0",
        "pdf_urls": {"": "http://127.0.0.1:1/id/cv001/pdf/henfrey-9788599662847-04.pdf"},
        "is_part_of": Relation(
            title="Chilean Voices: activists describe their experiences of the Popular Unity "
            "Period",
            identifiers=(Identifier(scheme="isbn", value="9788599662847"),),
        ),
    }
    fields.update(overrides)
    return finish(SourceRecord(**fields))  # type: ignore[arg-type]


def test_enrich_fills_creators_and_pages() -> None:
    record = _chapter()
    assert record.missing == ["creators", "pages"]
    enriched = enrich_chapter_from_pdf_text(record, text("citation-en.txt"))
    assert enriched.creators == [Creator(name="PABLO", role="author")]
    assert enriched.pages == PageRange(first="40", last="52", count=13)
    assert enriched.missing == []
    assert enriched.title == record.title
    assert enriched.licence_statement == "CC BY-NC-SA 3.0"  # never overwritten from the PDF
    assert enriched.notes == [
        "creators, page range read from the SciELO citation on the PDF's first page"
    ]
    assert record.creators == []  # the input record is not changed


def test_enrich_notes_every_disagreement() -> None:
    record = _chapter(
        title="Building the Cordons",
        date="2009",
        publisher="EDUFBA",
        is_part_of=Relation(
            title="Another book", identifiers=(Identifier(scheme="isbn", value="9788523205607"),)
        ),
    )
    enriched = enrich_chapter_from_pdf_text(record, text("citation-en.txt"))
    notes = "\n".join(enriched.notes)
    assert "chapter title on the PDF's first page" in notes
    assert "book title on the PDF's first page" in notes
    assert "ISBN 9788599662847 on the PDF's first page is not the book's (9788523205607)" in notes
    assert "year 2008 on the PDF's first page differs from 2009" in notes
    assert "publisher on the PDF's first page" in notes
    assert enriched.title == "Building the Cordons"  # the book page's title stays


def test_enrich_does_not_replace_known_creators_but_notes_a_difference() -> None:
    record = _chapter(creators=[Creator(name="Somebody Else")])
    enriched = enrich_chapter_from_pdf_text(record, text("citation-en.txt"))
    assert enriched.creators == [Creator(name="Somebody Else")]
    assert any("creators on the PDF's first page (PABLO) differ" in n for n in enriched.notes)


def test_enrich_adds_a_printed_chapter_doi() -> None:
    record = _chapter(title="La ciudad y sus bordes: expansión urbana en los Andes")
    enriched = enrich_chapter_from_pdf_text(record, text("citation-es.txt"))
    assert enriched.identifier("doi") == "10.7476/9789978105689.0017"
    assert [c.name for c in enriched.creators] == ["DAZA, E.", "ORTIZ CRESPO, A."]


@pytest.mark.parametrize(
    ("first_page", "note"),
    [
        ("", "no SciELO citation found"),
        ("lowercase text only, no citation here", "not in the expected form"),
    ],
)
def test_enrich_without_a_usable_citation(first_page: str, note: str) -> None:
    record = _chapter()
    enriched = enrich_chapter_from_pdf_text(record, first_page)
    assert enriched.creators == [] and enriched.pages is None
    assert enriched.missing == ["creators", "pages"]
    assert any(note in n for n in enriched.notes)
