"""Property tests for the metadata mappers: whatever bytes a publisher (or a local
metadata file) sends, ``map_book_json``, ``map_articlemeta``, ``parse_book_page`` and
``map_local_metadata`` return a mapped record or raise ``SourceError`` with a reason - never
another exception. Inputs: arbitrary bytes, and real fixtures with fields replaced by arbitrary
JSON values / text (so the mappers' deeper code is reached, not only the JSON parser).

The licence parser's properties are in tests/test_licence_properties.py, the records writers'
(DC/METS valid whatever Unicode goes in) in tests/test_records_unicode.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_ingest.errors import SourceError
from archive_ingest.models import SourceRecord
from archive_ingest.sources.book_json import map_book_json
from archive_ingest.sources.book_page import BookPage, parse_book_page
from archive_ingest.sources.local_file import map_local_metadata
from archive_ingest.sources.scielo_articles import map_articlemeta
from tests.support.scielo_fixtures import FIXTURES

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
odd_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Z", "C")),
    max_size=60,
)


def _mappers() -> dict[str, Callable[[bytes], object]]:
    return {
        # called as the resolver calls them: with the id that was asked for
        "book_json": lambda raw: map_book_json(raw, sbid="37t"),
        "articlemeta": lambda raw: map_articlemeta(
            raw,
            site_base="https://www.scielo.br",
            collection="scl",
            pid="S2179-975X2011000300002",
        ),
        "book_page": parse_book_page,
        "local": lambda raw: map_local_metadata(raw, record_id="file-fuzz", source="file:x.pdf"),
    }


def outcome(mapper: Callable[[bytes], object], raw: bytes) -> object:
    """The mapped value or the SourceError; any other exception fails the test."""
    try:
        result = mapper(raw)
    except SourceError as exc:
        assert str(exc).strip(), "a refusal must carry a reason"
        return exc
    assert isinstance(result, SourceRecord | BookPage), type(result)
    return result


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:5]):
            found += _paths(child, (*prefix, index))
    return found


def _replace(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replace(doc[head], rest, new)}
    copy = list(doc)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def mutated(doc: Any) -> st.SearchStrategy[bytes]:
    """The document with 1-4 of its nodes replaced by arbitrary JSON values."""
    paths = _paths(doc)[1:]

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        out = doc
        for _ in range(draw(st.integers(1, 4))):
            path = draw(st.sampled_from(paths))
            try:
                out = _replace(out, path, draw(json_values | odd_text))
            except (KeyError, IndexError, TypeError):
                continue
        return json.dumps(out, ensure_ascii=draw(st.booleans())).encode("utf-8")

    return build()


BOOK = json.loads((FIXTURES / "book-37t.json").read_text("utf-8"))
ARTICLE = json.loads((FIXTURES / "articlemeta-v540.json").read_text("utf-8"))
LOCAL = {
    "kind": "chapter",
    "title": "Capítulo 1",
    "creators": [{"name": "Souza, Helena", "role": "author"}],
    "date": "2012",
    "language": "pt",
    "publisher": "EDUFBA",
    "identifiers": [{"scheme": "isbn", "value": "9788523212346"}],
    "licence": "CC BY 4.0",
    "book": {"title": "Territórios", "isbn": "9788523212346"},
}
PAGE = (FIXTURES / "book-page-37t.html").read_bytes()


def test_fixtures_map_cleanly() -> None:
    """The unmutated fixtures are accepted (so the mutations below start from valid input)."""
    assert isinstance(outcome(_mappers()["book_json"], json.dumps(BOOK).encode()), SourceRecord)
    assert isinstance(
        outcome(_mappers()["articlemeta"], json.dumps(ARTICLE).encode()), SourceRecord
    )
    assert isinstance(outcome(_mappers()["book_page"], PAGE), BookPage)
    assert isinstance(outcome(_mappers()["local"], json.dumps(LOCAL).encode()), SourceRecord)


@pytest.mark.parametrize("name", sorted(_mappers()))
@FUZZ
@given(raw=st.binary(max_size=2048))
def test_any_bytes_map_or_are_refused(name: str, raw: bytes) -> None:
    outcome(_mappers()[name], raw)


@FUZZ
@given(raw=mutated(BOOK))
def test_book_json_mutations(raw: bytes) -> None:
    outcome(_mappers()["book_json"], raw)


@FUZZ
@given(raw=mutated(ARTICLE))
def test_articlemeta_mutations(raw: bytes) -> None:
    outcome(_mappers()["articlemeta"], raw)


@FUZZ
@given(raw=mutated(LOCAL))
def test_local_json_mutations(raw: bytes) -> None:
    outcome(_mappers()["local"], raw)


@FUZZ
@given(
    title=odd_text,
    creator=odd_text,
    date=odd_text,
    extra=st.sampled_from(
        [
            "",
            "<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>",
            "<!DOCTYPE r [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;'>]>",
        ]
    ),
)
def test_local_dublin_core_with_any_text(title: str, creator: str, date: str, extra: str) -> None:
    def esc(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;")

    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>{extra}'
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{esc(title)}</dc:title><dc:creator>{esc(creator)}</dc:creator>"
        f"<dc:date>{esc(date)}</dc:date></oai_dc:dc>"
    )
    result = outcome(_mappers()["local"], xml.encode("utf-8", "surrogatepass"))
    if extra:
        assert isinstance(result, SourceError), "a DTD in metadata must be refused"


@FUZZ
@given(title=odd_text, position=st.integers(0, len(PAGE)))
def test_book_page_with_inserted_text(title: str, position: int) -> None:
    raw = PAGE[:position] + title.encode("utf-8", "surrogatepass") + PAGE[position:]
    outcome(_mappers()["book_page"], raw)
