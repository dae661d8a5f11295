"""Resolving every REF kind over real HTTP: the sample SciELO server on 127.0.0.1 and the
project's real fetcher (``archive_ingest.http.SourceHttp``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pypdf
import pytest

from archive_ingest.errors import FetchError, SourceError
from archive_ingest.http import SourceHttp
from archive_ingest.refs import parse_ref
from archive_ingest.settings import Settings
from archive_ingest.sources import (
    allowed_hosts,
    enrich_chapter_from_pdf_text,
    file_record_id,
    resolve,
    resolve_record,
)
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.scielo_fixtures import FIXTURES

PID = "S2179-975X2011000300002"


@pytest.fixture
def book_server(scielo_book: SampleScieloServer) -> SampleScieloServer:
    return scielo_book


def test_book(book_server: SampleScieloServer, scielo_settings: Settings, source_http) -> None:
    record = resolve_record(parse_ref("scielo-books:37t"), scielo_settings, source_http)
    base = book_server.base_url
    assert record.record_id == "scielo-books-37t"
    assert record.title.startswith("Compreendendo a complexidade")
    assert [c.role for c in record.creators] == ["organizer", "organizer"]
    assert record.identifier("isbn") == "9788523205607"
    assert record.pages is not None and record.pages.count == 312  # from the book page
    # the book JSON names http://books.scielo.org: the request went to the configured base
    assert record.pdf_urls == {"": f"{base}/id/37t/pdf/ribeiro-9788523205607.pdf"}
    assert record.licence_statement == "CC BY-NC-SA 3.0"
    assert [(r.name, r.media_type, r.url) for r in record.raw_metadata] == [
        ("book.json", "application/json", f"{base}/api/v1/book/37t/"),
        ("book-page.html", "text/html", f"{base}/id/37t"),
    ]
    assert record.raw_metadata[0].content.startswith(b'{"publisher": "EDUFBA"')
    assert record.missing == []
    assert [r.target for r in book_server.requests] == ["/api/v1/book/37t/", "/id/37t"]
    assert book_server.requests[0].headers["accept"] == "application/json"
    assert book_server.requests[0].headers["user-agent"] == scielo_settings.user_agent


def test_chapter_then_enriched_from_its_pdf(
    book_server: SampleScieloServer, scielo_settings: Settings, source_http: SourceHttp
) -> None:
    record = resolve(parse_ref("scielo-books:37t/2"), scielo_settings, source_http)
    assert record.record_id == "scielo-books-37t-02"
    assert record.title == "O território como categoria"
    assert record.missing == ["creators", "pages"]
    pdf_url = record.primary_pdf_url()
    assert pdf_url == f"{book_server.base_url}/id/37t/pdf/ribeiro-9788523205607-02.pdf"
    pdf = source_http.get_bytes(pdf_url, max_bytes=10_000_000).content
    first_page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    enriched = enrich_chapter_from_pdf_text(record, first_page)
    assert [c.name for c in enriched.creators] == ["HAESBAERT, R."]
    assert enriched.pages is not None and (enriched.pages.first, enriched.pages.last) == (
        "15",
        "40",
    )
    assert enriched.missing == []


def test_chapter_url_ref(
    book_server: SampleScieloServer, scielo_settings: Settings, source_http
) -> None:
    ref = parse_ref(
        f"{book_server.base_url}/id/37t/pdf/ribeiro-9788523205607-01.pdf",
        books_hosts=(book_server.host,),
    )
    record = resolve(ref, scielo_settings, source_http)
    assert record.source == "scielo-books:37t/01"
    assert record.title == "Apresentação"


def test_missing_book_and_chapter(
    book_server: SampleScieloServer, scielo_settings: Settings, source_http
) -> None:
    with pytest.raises(SourceError, match=r"SciELO Books has no book 'zz9' .*HTTP 404"):
        resolve(parse_ref("scielo-books:zz9"), scielo_settings, source_http)
    with pytest.raises(SourceError, match="no chapter 07"):
        resolve(parse_ref("scielo-books:37t/07"), scielo_settings, source_http)


def test_book_survives_a_missing_book_page(
    book_server: SampleScieloServer, scielo_settings: Settings, source_http
) -> None:
    book_server.inject("/id/37t", status=404)
    record = resolve(parse_ref("scielo-books:37t"), scielo_settings, source_http)
    assert record.pages is None  # only the page gives it
    assert any("book page not used" in n for n in record.notes)
    assert [r.name for r in record.raw_metadata] == ["book.json"]


def test_chapter_needs_its_book_page(
    book_server: SampleScieloServer, scielo_settings: Settings, source_http
) -> None:
    book_server.inject("/id/37t", status=404)
    with pytest.raises(SourceError, match="no book page"):
        resolve(parse_ref("scielo-books:37t/01"), scielo_settings, source_http)


def test_transient_failures_are_retried(
    book_server: SampleScieloServer, scielo_settings: Settings, source_http
) -> None:
    fault = book_server.inject("/api/v1/book/37t/", status=503, times=2)
    record = resolve(parse_ref("scielo-books:37t/01"), scielo_settings, source_http)
    assert record.title == "Apresentação"
    assert fault.hits == 2
    assert len(book_server.requests_for("/api/v1/book/37t/")) == 3


def test_persistent_5xx_stays_a_transient_fetch_error(
    book_server: SampleScieloServer, scielo_settings: Settings, source_http
) -> None:
    book_server.inject("/api/v1/book/37t/", status=500)
    with pytest.raises(FetchError) as caught:
        resolve(parse_ref("scielo-books:37t"), scielo_settings, source_http)
    assert caught.value.transient and caught.value.status == 500


def test_html_instead_of_json_is_a_source_error(
    book_server: SampleScieloServer, scielo_settings: Settings, source_http
) -> None:
    book_server.inject("/api/v1/book/37t/", html_as_pdf=True)
    with pytest.raises(SourceError, match="book JSON is not valid JSON"):
        resolve(parse_ref("scielo-books:37t"), scielo_settings, source_http)


def test_article(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    scielo_settings: Settings,
    source_http,
    make_pdf,
) -> None:
    pdf = make_pdf("article")
    document = (FIXTURES / "articlemeta-license.json").read_text(encoding="utf-8")
    scielo_catalogue.add_article("scl", PID, document=json.loads(document), pdfs={"en": pdf})
    record = resolve(parse_ref(f"scielo-article:scl/{PID}"), scielo_settings, source_http)
    assert record.record_id == "scielo-scl-s2179-975x2011000300002"
    assert record.licence_statement == "by/4.0"
    assert record.raw_metadata[0].name == "articlemeta.json"
    assert record.raw_metadata[0].url == (
        f"{scielo_server.base_url}/api/v1/article/?collection=scl&code={PID}"
    )
    url = record.pdf_urls["en"]
    assert url == f"{scielo_server.base_url}/pdf/alb/v23n3/alb_aop_230302.pdf"
    assert source_http.get_bytes(url).content == pdf


def test_article_built_by_the_catalogue(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    scielo_settings: Settings,
    source_http,
    make_pdf,
) -> None:
    pid = "S1807-59322024000100001"
    scielo_catalogue.add_article(
        "spa", pid, license=None, article_v540=None, with_fulltexts=False,
        pdfs={"en": make_pdf("derived path")},
    )  # fmt: skip
    record = resolve(parse_ref(f"scielo-article:spa/{pid}"), scielo_settings, source_http)
    # journal v541 fallback: the bare code BY-NC as SciELO words it (version 4.0, as xylose)
    assert record.licence_url == "http://creativecommons.org/licenses/by-nc/4.0/"
    assert record.licence_statement is not None and "NonCommercial 4.0" in record.licence_statement
    url = record.pdf_urls["en"]
    assert url == f"{scielo_server.base_url}/pdf/alb/v23n3/a02v23n3.pdf"
    assert source_http.get_bytes(url).content.startswith(b"%PDF-")


def test_unknown_article_is_not_found(
    scielo_server: SampleScieloServer, scielo_settings: Settings, source_http
) -> None:
    with pytest.raises(SourceError, match=f"ArticleMeta has no article {PID} in collection scl"):
        resolve(parse_ref(f"scielo-article:scl/{PID}"), scielo_settings, source_http)


def test_article_pdf_goes_to_the_collection_site_when_no_site_is_set(
    home: Path, scielo_catalogue: SampleCatalogue, scielo_server: SampleScieloServer
) -> None:
    document = json.loads((FIXTURES / "articlemeta-license.json").read_text(encoding="utf-8"))
    scielo_catalogue.add_article("scl", PID, document=document)
    settings = Settings(
        scielo_books_url=scielo_server.base_url, scielo_articlemeta_url=scielo_server.base_url
    )
    with SourceHttp(settings, allowed_hosts(settings)) as http:
        record = resolve(parse_ref(f"scielo-article:scl/{PID}"), settings, http)
    assert record.pdf_urls["en"] == "https://www.scielo.br/pdf/alb/v23n3/alb_aop_230302.pdf"
    assert "www.scielo.br" in allowed_hosts(settings)


def test_file_ref(tmp_path: Path, scielo_settings: Settings, source_http) -> None:
    meta = tmp_path / "meta.xml"
    meta.write_bytes((FIXTURES / "oai_dc.xml").read_bytes())
    sha = "ab" * 32
    ref = parse_ref(f"file:{tmp_path / 'in.pdf'}")
    record = resolve(ref, scielo_settings, source_http, metadata_file=meta, pdf_sha256=sha)
    assert record.record_id == file_record_id(sha)
    assert record.identifier("sha256") == sha
    with pytest.raises(SourceError, match="needs --metadata"):
        resolve(ref, scielo_settings, source_http)
    with pytest.raises(SourceError, match="SHA-256 is needed"):
        resolve(ref, scielo_settings, source_http, metadata_file=meta)
