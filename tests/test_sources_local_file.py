"""``file:PATH`` + ``--metadata``: our JSON, Dublin Core (oai_dc) and JATS; hostile XML refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from archive_ingest.errors import SourceError
from archive_ingest.models import Creator
from archive_ingest.refs import parse_ref
from archive_ingest.sources.file_fields import classify_identifier
from archive_ingest.sources.local_file import (
    file_record_id,
    map_local_metadata,
    metadata_format,
    resolve_file,
)
from tests.support.scielo_fixtures import fixture

SHA = hashlib.sha256(b"%PDF-1.4 sample").hexdigest()
RID = file_record_id(SHA)


def test_file_record_id() -> None:
    assert file_record_id(SHA.upper()) == "file-" + SHA[:24]
    with pytest.raises(ValueError):
        file_record_id("abc")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("local-metadata.json", "json"), ("oai_dc.xml", "oai_dc"), ("jats.xml", "jats")],
)
def test_format_detection(name: str, fmt: str) -> None:
    assert metadata_format(fixture(name)) == fmt


def test_own_json_shape() -> None:
    record = map_local_metadata(
        fixture("local-metadata.json"), record_id=RID, source="file:/in/x.pdf", pdf_sha256=SHA
    )
    assert record.record_id == RID
    assert record.source_kind == "file"
    assert record.source == "file:/in/x.pdf"
    assert record.title == "Saúde e ambiente no semiárido: um relatório de campo"
    assert record.translated_titles == {
        "en": "Health and environment in the semi-arid region: a field report"
    }
    assert record.creators == [
        Creator(
            name="Oliveira, Ana Beatriz",
            role="author",
            affiliation="Fiocruz",
            orcid="0000-0002-1825-0097",
        ),
        Creator(name="Grupo de Pesquisa em Saúde Ambiental", role="author", corporate=True),
        Creator(name="Pereira, Lucas"),
    ]
    assert record.publisher == "Editora Fiocruz"
    assert record.date == "2019-06"
    assert record.languages == ["pt"]  # "por" mapped to ISO 639-1
    assert record.identifier("doi") == "10.7476/9786557080000.0003"
    assert record.identifier("isbn") == "9788575410001"
    assert record.identifier("sha256") == SHA
    assert record.pages is not None and (record.pages.first, record.pages.last) == ("45", "60")
    assert record.is_part_of is not None and record.is_part_of.title == "Saúde no semiárido"
    assert record.subjects == ["saúde ambiental", "semiárido"]
    assert record.licence_statement == "CC BY 4.0"
    assert record.licence_url == "https://creativecommons.org/licenses/by/4.0/"
    assert record.landing_url == "https://example.org/items/45"
    assert record.missing == []
    notes = "\n".join(record.notes)
    assert "wrong check digit" in notes  # the fixture's ISBN is deliberately wrong
    assert "shelf_mark" in notes
    assert [(r.name, r.media_type) for r in record.raw_metadata] == [
        ("metadata.json", "application/json")
    ]
    assert record.raw_metadata[0].content == fixture("local-metadata.json")


def test_minimal_json_lists_what_is_missing() -> None:
    record = map_local_metadata(b'{"title": "Only a title"}', record_id=RID, source="file:x.pdf")
    assert record.title == "Only a title"
    assert record.missing == ["creators", "date", "languages", "licence_statement"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{}", "no 'title'"),
        (b"[1]", "must be an object"),
        (b'{"title": ', "not valid JSON"),
        (b"plain text", "neither JSON nor XML"),
    ],
)
def test_bad_json(raw: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        map_local_metadata(raw, record_id=RID, source="file:x.pdf")


def test_json_oddities_become_notes() -> None:
    raw = (
        b'{"title": "T", "creators": ["A", {"name": "B", "role": "illustrator"}, 5],'
        b' "date": "yesterday", "languages": ["xx"], "pages": [1],'
        b' "identifiers": {"isbn": "123", "foo": "bar", "doi": "nope"}}'
    )
    record = map_local_metadata(raw, record_id=RID, source="file:x.pdf")
    assert [(c.name, c.role) for c in record.creators] == [("A", "author"), ("B", "other")]
    assert record.date is None and record.languages == [] and record.pages is None
    assert record.identifiers == []
    assert len(record.notes) == 8


def test_oai_dc_record() -> None:
    record = map_local_metadata(fixture("oai_dc.xml"), record_id=RID, source="file:x.pdf")
    assert record.title == "Desigualdades sociais e saúde no Brasil"
    assert record.translated_titles == {"en": "Social inequalities and health in Brazil"}
    assert [c.name for c in record.creators] == [
        "Barata, Rita Barradas",
        "Almeida Filho, Naomar de",
    ]
    assert record.publisher and record.publisher.startswith("Escola Nacional")
    assert record.date == "2008-01"
    assert record.languages == ["pt"]
    assert record.identifier("doi") == "10.1590/S0102-311X2008000100001"
    assert record.identifier("scielo-pid") == "S0102-311X2008000100001"
    assert (
        record.identifier(
            "url",
        )
        is not None
    )
    assert record.landing_url == record.identifier("url")
    assert record.subjects == ["Desigualdades em Saúde", "Iniquidade Social"]
    assert record.licence_statement == "Creative Commons Attribution 4.0 International"
    assert record.licence_url == "http://creativecommons.org/licenses/by/4.0/"
    notes = "\n".join(record.notes)
    assert "dc:source: Cadernos de Saúde Pública v.24 n.1 2008" in notes
    assert "'shelf A-12' of unknown kind" in notes
    assert record.raw_metadata[0].name == "oai_dc.xml"


def test_bare_dc_container() -> None:
    raw = (
        b'<record xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title>'
        b"<dc:creator>C</dc:creator><dc:contributor>K</dc:contributor><dc:date>2001</dc:date>"
        b"<dc:identifier>ISBN 978-85-99662-84-7</dc:identifier></record>"
    )
    assert metadata_format(raw) == "dc"
    record = map_local_metadata(raw, record_id=RID, source="file:x.pdf")
    assert [(c.name, c.role) for c in record.creators] == [("C", "author"), ("K", "other")]
    assert record.date == "2001"
    assert record.identifier("isbn") == "9788599662847"


def test_jats_front_matter() -> None:
    record = map_local_metadata(fixture("jats.xml"), record_id=RID, source="file:x.pdf")
    assert record.title == "Gestión del agua en comunidades altoandinas"
    assert record.translated_titles == {"en": "Water management in high Andean communities"}
    assert record.creators == [
        Creator(
            name="Quispe Mamani, Rosa",
            orcid="0000-0001-2345-6789",
            affiliation="Pontificia Universidad Católica del Perú",
        ),
        Creator(name="Colectivo Agua Andina", corporate=True),
    ]
    assert record.date == "2022-06-15"
    assert record.languages == ["es"]
    assert record.identifier("doi") == "10.18800/kawsaypacha.202201.002"
    assert record.identifier("scielo-pid") == "S2709-36892022000100034"
    assert record.identifier("eissn") == "2709-3689"
    assert record.identifier("issn") == "2523-2894"
    assert record.pages is not None and (record.pages.first, record.pages.last) == ("34", "52")
    assert record.is_part_of is not None
    assert record.is_part_of.title == "Kawsaypacha: Sociedad y Medio Ambiente"
    assert (record.is_part_of.volume, record.is_part_of.issue) == ("1", "9")
    assert record.publisher == "Pontificia Universidad Católica del Perú"
    assert record.licence_url == "http://creativecommons.org/licenses/by/4.0/"
    assert record.licence_statement and record.licence_statement.startswith("Este es un artículo")
    assert record.subjects == ["agua", "comunidades campesinas"]
    assert record.description == "Se analiza la gestión comunitaria del agua en los Andes."
    assert record.missing == []


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&lol2;</dc:title></oai_dc:dc>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<article><front><article-meta><title-group><article-title>&xxe;</article-title>
</title-group></article-meta></front></article>"""


@pytest.mark.parametrize("raw", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_hostile_xml_is_refused(raw: bytes) -> None:
    with pytest.raises(SourceError, match="refused"):
        map_local_metadata(raw, record_id=RID, source="file:x.pdf")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<dc><unclosed></dc>", "not well-formed"),
        (b"<mods><titleInfo/></mods>", "neither Dublin Core"),
        (
            b'<r xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>C</dc:creator></r>',
            "no dc:title",
        ),
        (b"<article><front><article-meta/></front></article>", "no article-title"),
    ],
)
def test_bad_xml(raw: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        map_local_metadata(raw, record_id=RID, source="file:x.pdf")


@pytest.mark.parametrize(
    ("value", "scheme"),
    [
        ("10.1590/x", "doi"),
        ("https://doi.org/10.1590/x", "doi"),
        ("urn:isbn:9788599662847", "isbn"),
        ("ISSN 2179-975X", "issn"),
        ("S2179-975X2011000300002", "scielo-pid"),
        ("https://example.org/a", "url"),
        ("9788599662847", "isbn"),
    ],
)
def test_classify_identifier(value: str, scheme: str) -> None:
    ident, note = classify_identifier(value)
    assert ident is not None and ident.scheme == scheme, note


def test_resolve_file_reads_the_metadata_file(tmp_path: Path) -> None:
    meta = tmp_path / "meta.json"
    meta.write_bytes(fixture("local-metadata.json"))
    ref = parse_ref(f"file:{tmp_path / 'x.pdf'}")
    record = resolve_file(ref, meta, SHA)
    assert record.record_id == RID
    assert record.source == f"file:{tmp_path / 'x.pdf'}"
    assert record.title.startswith("Saúde e ambiente")


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_resolve_file_errors(tmp_path: Path, kind: str) -> None:
    meta = tmp_path / "meta.json"
    if kind == "directory":
        meta.mkdir()
    with pytest.raises(SourceError, match="not found" if kind == "missing" else "directory"):
        resolve_file(parse_ref("file:x.pdf"), meta, SHA)


def test_resolve_file_respects_the_metadata_size_limit(tmp_path: Path, home: Path) -> None:
    from archive_ingest.settings import Settings

    meta = tmp_path / "meta.json"
    meta.write_bytes(fixture("local-metadata.json"))
    with pytest.raises(SourceError, match="over 100"):
        resolve_file(parse_ref("file:x.pdf"), meta, SHA, Settings(fetch_metadata_max_bytes=100))


def test_resolve_file_needs_a_file_ref(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not a file reference"):
        resolve_file(parse_ref("scielo-books:37t"), tmp_path / "m.json", SHA)
