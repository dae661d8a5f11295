"""The sample SciELO server: faithful shapes, fault injection, request log, conditional GETs."""

from __future__ import annotations

import email.utils
import io
import time
from pathlib import Path

import httpx
import pypdf
import pytest

from archive_ingest.errors import ContentError, FetchError
from archive_ingest.http import SourceHttp
from archive_ingest.refs import parse_ref
from archive_ingest.settings import Settings
from archive_ingest.sources import (
    allowed_hosts,
    enrich_chapter_from_pdf_text,
    parse_book_page,
    parse_books_list,
    parse_changes_feed,
    parse_citation_page,
    resolve,
)
from archive_ingest.sources.normalise import normalise_isbn
from archive_ingest_demo.catalogue import DEMO_SBID, build_demo_catalogue
from archive_ingest_demo.scielo_sample import (
    SampleCatalogue,
    SampleScieloServer,
    articlemeta_document,
)

BOOK_PDF = "/id/37t/pdf/ribeiro-9788523205607.pdf"
CHAPTER_PDF = "/id/37t/pdf/ribeiro-9788523205607-01.pdf"


@pytest.fixture
def client(scielo_book: SampleScieloServer):
    with httpx.Client(base_url=scielo_book.base_url, timeout=5.0) as http:
        yield http


# --- shapes ---------------------------------------------------------------------------------


def test_book_json_has_the_api_shape(client: httpx.Client) -> None:
    response = client.get("/api/v1/book/37t/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    data = response.json()
    assert set(data) == {
        "publisher", "_id", "pisbn", "eisbn", "language", "updated", "cover_thumbnail", "cover",
        "synopsis", "year", "title", "creators", "pdf_file", "use_licence",
    }  # fmt: skip
    assert data["creators"] == {
        "organizer": [
            ["Ribeiro, Maria Teresa Franco", None],
            ["Milani, Carlos Roberto Sanchez", None],
        ]
    }
    # absolute URIs on the public host, as the real API writes them
    assert data["pdf_file"] == {
        "type": "application/pdf",
        "uri": "http://books.scielo.org/id/37t/pdf/ribeiro-9788523205607.pdf",
    }
    time.strptime(data["updated"], "%Y-%m-%d %H:%M:%S.%f")


def test_omitted_fields_and_unknown_book(
    scielo_catalogue: SampleCatalogue, client: httpx.Client
) -> None:
    scielo_catalogue.add_book("x7k2q", title="T", isbn="", omit=("use_licence", "creators"))
    data = client.get("/api/v1/book/x7k2q/").json()
    assert "use_licence" not in data and "creators" not in data and "pdf_file" not in data
    missing = client.get("/api/v1/book/nope1/")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


def test_book_page_parses_like_the_real_one(client: httpx.Client) -> None:
    response = client.get("/id/37t")
    assert response.headers["content-type"] == "text/html; charset=UTF-8"
    page = parse_book_page(response.content)
    assert page.title and page.title.startswith("Compreendendo")
    assert page.pdf_url == "http://books.scielo.org" + BOOK_PDF
    assert page.fields["pages"] == "312" and page.fields["language"] == "Portuguese"
    assert [(c.order, c.title, c.pdf_href) for c in page.chapters] == [
        ("01", "Apresentação", CHAPTER_PDF),
        ("02", "O território como categoria", "/id/37t/pdf/ribeiro-9788523205607-02.pdf"),
        ("03", "Conclusões", None),
    ]


def test_books_list_and_filters(scielo_catalogue: SampleCatalogue, client: httpx.Client) -> None:
    scielo_catalogue.add_book(
        "ab123", title="Antropologia", isbn="9788599662847", publisher="Fiocruz"
    )
    assert parse_books_list(client.get("/api/v1/books/").content) == ["ab123", "37t"]
    only_c = client.get("/api/v1/books/", params={"filter_initial": "c"}).content
    assert parse_books_list(only_c) == ["37t"]
    fiocruz = client.get("/api/v1/books/", params={"filter_publisher": "FIOCRUZ"}).content
    assert parse_books_list(fiocruz) == ["ab123"]


def test_changes_feed_since(scielo_catalogue: SampleCatalogue, client: httpx.Client) -> None:
    changes, last = parse_changes_feed(client.get("/api/v1/changes/?since=0").content)
    assert changes[0].id == "37t"
    assert len(changes) == 4  # the book and its three parts
    assert last == "4"
    scielo_catalogue.update_book("37t", use_licence="CC BY 4.0")
    newer, last2 = parse_changes_feed(client.get(f"/api/v1/changes/?since={last}").content)
    assert [(c.id, c.seq) for c in newer] == [("37t", "5")]
    assert last2 == "5"
    raw = client.get("/api/v1/changes/?since=4").json()
    assert raw["results"][0]["changes"][0]["rev"].startswith("2-")
    scielo_catalogue.remove_book("37t")
    removed, _ = parse_changes_feed(client.get("/api/v1/changes/?since=5").content)
    assert all(c.deleted for c in removed) and len(removed) == 4
    assert client.get("/api/v1/changes/?since=x").status_code == 400


def test_articlemeta_routes(scielo_catalogue: SampleCatalogue, client: httpx.Client) -> None:
    pid = "S2179-975X2011000300002"
    scielo_catalogue.add_article("scl", pid, fulltext_languages=["en", "pt"])
    response = client.get("/api/v1/article/", params={"collection": "scl", "code": pid})
    document = response.json()
    assert document["code"] == pid and document["collection"] == "scl"
    assert document["article"]["v40"] == [{"_": "en"}]
    assert document["license"] == "by/4.0"
    assert document["fulltexts"]["pdf"]["pt"] == (
        "http://www.scielo.br/pdf/alb/v23n3/pt_a02v23n3.pdf"
    )
    unknown = client.get(
        "/api/v1/article/", params={"collection": "scl", "code": "S0000-00002000000000000"}
    )
    assert unknown.status_code == 200 and unknown.content == b"null"
    redirect = client.get("/api/v1/article", params={"collection": "scl", "code": pid})
    assert redirect.status_code == 302
    assert redirect.headers["location"] == f"/api/v1/article/?collection=scl&code={pid}"


def test_articlemeta_document_options() -> None:
    document = articlemeta_document(
        collection="spa",
        pid="s0102-311x2008000100001",
        license=None,
        with_fulltexts=False,
        doi=None,
    )
    assert document["code"] == "S0102-311X2008000100001"
    assert "license" not in document and "fulltexts" not in document and "doi" not in document
    assert document["title"]["v690"] == [{"_": "www.scielosp.org"}]


def test_pdfs_from_bytes_and_paths(
    scielo_catalogue: SampleCatalogue, client: httpx.Client, tmp_path: Path, make_pdf
) -> None:
    assert client.get(BOOK_PDF).content.startswith(b"%PDF-")
    chapter = client.get(CHAPTER_PDF)
    assert chapter.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(chapter.content)).pages[0].extract_text()
    assert parse_citation_page(text).chapter_title == "Apresentação"
    on_disk = tmp_path / "c.pdf"
    on_disk.write_bytes(make_pdf("from a file") * 1)
    scielo_catalogue.add_chapter("37t", 4, title="From disk", pdf_path=on_disk)
    assert client.get("/id/37t/pdf/ribeiro-9788523205607-04.pdf").content == on_disk.read_bytes()
    assert client.get("/id/37t/pdf/ribeiro-9788523205607-03.pdf").status_code == 404  # no PDF
    assert client.get("/id/37t/pdf/wrongname-9788523205607-01.pdf").status_code == 404
    head = client.head(CHAPTER_PDF)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(chapter.content)


def test_catalogue_rejects_bad_arguments(scielo_catalogue: SampleCatalogue, tmp_path: Path) -> None:
    scielo_catalogue.add_book("b1", title="T", isbn="")
    with pytest.raises(ValueError, match="not both"):
        scielo_catalogue.add_chapter("b1", 1, title="x", pdf_bytes=b"%PDF", pdf_path=tmp_path)
    with pytest.raises(FileNotFoundError):
        scielo_catalogue.add_chapter("b1", 1, title="x", pdf_path=tmp_path / "absent.pdf")
    with pytest.raises(AttributeError):
        scielo_catalogue.update_book("b1", colour="red")
    with pytest.raises(KeyError, match="add_book"):
        scielo_catalogue.add_chapter("b2", 1, title="x")


def test_binds_loopback_only(scielo_catalogue: SampleCatalogue) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SampleScieloServer(scielo_catalogue, host="0.0.0.0")
    server = SampleScieloServer(scielo_catalogue)
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server._httpd is not None and server._httpd.server_address[0] == "127.0.0.1"
    server.stop()  # idempotent


# --- request log and conditional requests ---------------------------------------------------


def test_requests_are_recorded(scielo_book: SampleScieloServer, client: httpx.Client) -> None:
    client.get("/api/v1/changes/?since=3", headers={"User-Agent": "polite-bot/1", "X-Test": "1"})
    [request] = scielo_book.requests
    assert (request.method, request.path, request.query) == ("GET", "/api/v1/changes/", "since=3")
    assert request.headers["user-agent"] == "polite-bot/1" and request.headers["x-test"] == "1"
    assert request.target == "/api/v1/changes/?since=3"
    scielo_book.clear_requests()
    assert scielo_book.requests == []


def test_politeness_interval_is_visible_in_the_log(
    scielo_book: SampleScieloServer, home: Path
) -> None:
    settings = Settings(**scielo_book.settings_overrides(), fetch_min_interval_seconds=0.25)
    with SourceHttp(settings, allowed_hosts(settings)) as http:
        resolve(parse_ref("scielo-books:37t"), settings, http)
    first, second = scielo_book.requests
    assert (first.path, second.path) == ("/api/v1/book/37t/", "/id/37t")
    assert second.at - first.at >= 0.2


def test_etag_and_last_modified_give_304(client: httpx.Client) -> None:
    first = client.get(CHAPTER_PDF)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(CHAPTER_PDF, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(CHAPTER_PDF, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(CHAPTER_PDF, headers={"If-Modified-Since": modified}).status_code == 304
    older = email.utils.format_datetime(
        email.utils.parsedate_to_datetime(modified).replace(year=2001), usegmt=True
    )
    assert client.get(CHAPTER_PDF, headers={"If-Modified-Since": older}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110)
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert client.get(CHAPTER_PDF, headers=both).status_code == 200


def test_conditional_download_through_the_real_fetcher(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    url = scielo_book.url(CHAPTER_PDF)
    first = source_http.download(url, tmp_path / "a.pdf")
    assert first.etag and not first.not_modified
    again = source_http.download(
        url, tmp_path / "b.pdf", etag=first.etag, last_modified=first.last_modified
    )
    assert again.not_modified and again.path is None
    sent = scielo_book.requests_for(CHAPTER_PDF)[-1].headers
    assert sent["if-none-match"] == first.etag
    assert sent["if-modified-since"] == first.last_modified


# --- faults ---------------------------------------------------------------------------------


def test_status_then_success(scielo_book: SampleScieloServer, client: httpx.Client) -> None:
    fault = scielo_book.inject(CHAPTER_PDF, status=500, times=2)
    assert [client.get(CHAPTER_PDF).status_code for _ in range(3)] == [500, 500, 200]
    assert fault.hits == 2
    assert [r.fault for r in scielo_book.requests_for(CHAPTER_PDF)] == [True, True, False]
    scielo_book.inject("/id/37t", status=404)
    assert client.get("/id/37t").status_code == 404
    scielo_book.clear_faults()
    assert client.get("/id/37t").status_code == 200


def test_fault_on_path_and_query(scielo_book: SampleScieloServer, client: httpx.Client) -> None:
    scielo_book.inject("/api/v1/changes/?since=7", status=503)
    assert client.get("/api/v1/changes/?since=7").status_code == 503
    assert client.get("/api/v1/changes/?since=8").status_code == 200


def test_retries_get_through_a_flaky_server(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    scielo_book.inject(CHAPTER_PDF, status=503, times=2)
    download = source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "c.pdf")
    assert download.attempts == 3
    assert download.path is not None and download.path.read_bytes().startswith(b"%PDF-")


def test_html_served_as_pdf(
    scielo_book: SampleScieloServer, client: httpx.Client, source_http: SourceHttp, tmp_path: Path
) -> None:
    scielo_book.inject(CHAPTER_PDF, html_as_pdf=True)
    response = client.get(CHAPTER_PDF)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.lstrip().startswith(b"<html>")
    with pytest.raises(ContentError, match="HTML"):
        source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "c.pdf")


def test_slow_answer_times_out(scielo_book: SampleScieloServer, home: Path) -> None:
    settings = Settings(**scielo_book.settings_overrides(), fetch_read_timeout=0.3, fetch_retries=0)
    scielo_book.inject(CHAPTER_PDF, delay=1.5)
    started = time.monotonic()
    with SourceHttp(settings, allowed_hosts(settings)) as http, pytest.raises(FetchError) as caught:
        http.get_bytes(scielo_book.url(CHAPTER_PDF))
    assert caught.value.transient and "timed out" in str(caught.value)
    assert time.monotonic() - started < 1.4


def test_slow_body(scielo_book: SampleScieloServer, client: httpx.Client) -> None:
    scielo_book.inject(CHAPTER_PDF, body_delay=0.3)
    started = time.monotonic()
    assert client.get(CHAPTER_PDF).content.startswith(b"%PDF-")
    assert time.monotonic() - started >= 0.3


def test_wrong_content_length(
    scielo_book: SampleScieloServer, client: httpx.Client, source_http: SourceHttp
) -> None:
    true_length = len(client.get(CHAPTER_PDF).content)
    scielo_book.inject(CHAPTER_PDF, content_length=true_length + 100)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(CHAPTER_PDF)
    scielo_book.inject(CHAPTER_PDF, content_length=true_length + 100, times=3)
    with pytest.raises(FetchError) as caught:
        source_http.get_bytes(scielo_book.url(CHAPTER_PDF))
    assert caught.value.transient


def test_truncated_body(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    scielo_book.inject(CHAPTER_PDF, truncate_to=100)
    with pytest.raises(FetchError):
        source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "c.pdf")
    assert not (tmp_path / "c.pdf").exists()
    assert len(scielo_book.requests_for(CHAPTER_PDF)) == 3  # retried: it may be transient


def test_redirect_to_another_host_is_refused(
    scielo_book: SampleScieloServer, client: httpx.Client, source_http: SourceHttp
) -> None:
    scielo_book.inject(CHAPTER_PDF, redirect_to="http://127.0.0.2:9/steal.pdf")
    response = client.get(CHAPTER_PDF)
    assert response.status_code == 302
    assert response.headers["location"] == "http://127.0.0.2:9/steal.pdf"
    with pytest.raises(FetchError, match="redirects off the allowed hosts"):
        source_http.get_bytes(scielo_book.url(CHAPTER_PDF))


def test_redirect_within_the_host_is_followed(
    scielo_book: SampleScieloServer, source_http: SourceHttp
) -> None:
    scielo_book.inject("/old/chapter.pdf", redirect_to=CHAPTER_PDF)
    result = source_http.get_bytes(scielo_book.url("/old/chapter.pdf"))
    assert result.url == scielo_book.url(CHAPTER_PDF)
    assert result.content.startswith(b"%PDF-")


def test_connection_reset(
    scielo_book: SampleScieloServer, client: httpx.Client, source_http: SourceHttp
) -> None:
    scielo_book.inject(CHAPTER_PDF, reset=True, times=1)
    with pytest.raises(httpx.TransportError):
        client.get(CHAPTER_PDF)
    assert client.get(CHAPTER_PDF).status_code == 200  # the server itself is fine
    scielo_book.inject(CHAPTER_PDF, reset=True)
    with pytest.raises(FetchError) as caught:
        source_http.get_bytes(scielo_book.url(CHAPTER_PDF))
    assert caught.value.transient


# --- the demo catalogue ---------------------------------------------------------------------


def test_demo_catalogue(tmp_path: Path, home: Path) -> None:
    catalogue = build_demo_catalogue(tmp_path / "demo")
    book = catalogue.books[DEMO_SBID]
    isbn = normalise_isbn(book.isbn)
    assert isbn is not None and isbn.valid
    assert book.language == "pt" and book.use_licence == "CC BY-NC-SA 3.0"
    assert sorted(book.chapters) == ["01", "02"]
    with SampleScieloServer(catalogue) as server:
        settings = Settings(**server.settings_overrides())
        statements = {}
        with SourceHttp(settings, allowed_hosts(settings)) as http:
            for nn in ("01", "02"):
                record = resolve(parse_ref(f"scielo-books:{DEMO_SBID}/{nn}"), settings, http)
                pdf = http.get_bytes(record.pdf_urls[""], max_bytes=50_000_000).content
                first = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
                enriched = enrich_chapter_from_pdf_text(record, first)
                assert enriched.missing == [], enriched.notes
                assert enriched.licence_statement == "CC BY-NC-SA 3.0"
                statements[nn] = parse_citation_page(first).licence_statements["en"]
    # chapter 01's PDF agrees with the metadata, chapter 02's does not
    assert "Attribution-Non Commercial-ShareAlike 3.0" in statements["01"]
    assert "ShareAlike" not in statements["02"] and "NoDerivs" in statements["02"]
