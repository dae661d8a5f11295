"""Every fetched URL derives from the configured bases; metadata URLs are rebased onto them."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_ingest.errors import SourceError
from archive_ingest.settings import Settings
from archive_ingest.sources.urls import (
    COLLECTION_SITES,
    allowed_hosts,
    article_site_base,
    articlemeta_url,
    book_json_url,
    book_page_url,
    changes_url,
    chapter_page_url,
    host_of,
    rebase_url,
)


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "http://books.scielo.org/id/37t/pdf/ribeiro-9788523205607.pdf",
            "http://127.0.0.1:8123",
            "http://127.0.0.1:8123/id/37t/pdf/ribeiro-9788523205607.pdf",
        ),
        (
            "/id/37t/pdf/ribeiro-9788523205607-02.pdf",
            "https://books.scielo.org",
            "https://books.scielo.org/id/37t/pdf/ribeiro-9788523205607-02.pdf",
        ),
        (
            "http://www.scielo.br/scielo.php?script=sci_arttext&pid=S1&tlng=en#top",
            "https://mirror.example.org/scielo/",
            "https://mirror.example.org/scielo/scielo.php?script=sci_arttext&pid=S1&tlng=en",
        ),
        ("//evil.example/x.pdf", "https://books.scielo.org", "https://books.scielo.org/x.pdf"),
        ("https://evil.example:8443/a b.pdf", "http://h", "http://h/a b.pdf"),
    ],
)
def test_rebase_keeps_path_and_query_only(url: str, base: str, expected: str) -> None:
    assert rebase_url(url, base) == expected


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "javascript:alert(1)", "data:application/pdf;base64,JVBERi0=", "a.pdf"],
)
def test_rebase_refuses_non_http(url: str) -> None:
    with pytest.raises(SourceError):
        rebase_url(url, "https://books.scielo.org")


def test_rebase_refuses_control_characters() -> None:
    with pytest.raises(SourceError, match="control characters"):
        rebase_url("/id/37t\r\nHost: evil", "https://books.scielo.org")


def test_host_of_drops_default_ports_only() -> None:
    assert host_of("https://books.scielo.org") == "books.scielo.org"
    assert host_of("https://books.scielo.org:443/") == "books.scielo.org"
    assert host_of("http://127.0.0.1:8123") == "127.0.0.1:8123"
    assert host_of("http://Articlemeta.SciELO.org:80") == "articlemeta.scielo.org"


def test_allowed_hosts_without_article_site_lists_every_collection(home: Path) -> None:
    hosts = allowed_hosts(Settings())
    assert {"books.scielo.org", "articlemeta.scielo.org", "www.scielo.br"} <= hosts
    assert {host_of(site) for site in COLLECTION_SITES.values()} <= hosts


def test_allowed_hosts_with_article_site_is_exactly_the_bases(home: Path) -> None:
    settings = Settings(
        scielo_books_url="http://127.0.0.1:9001",
        scielo_articlemeta_url="http://127.0.0.1:9002/am",
        scielo_articles_url="http://127.0.0.1:9003",
        extra_allowed_hosts=["Mirror.example.org "],
    )
    assert allowed_hosts(settings) == frozenset(
        {"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003", "mirror.example.org"}
    )


def test_article_site_base(home: Path) -> None:
    assert article_site_base(Settings(), "spa") == "https://www.scielosp.org"
    assert article_site_base(Settings(), "per") == "https://www.scielo.org.pe"
    configured = Settings(scielo_articles_url="http://127.0.0.1:9003/")
    assert article_site_base(configured, "zzz") == "http://127.0.0.1:9003"
    with pytest.raises(SourceError, match="ARCHIVE_INGEST_SCIELO_ARTICLES_URL"):
        article_site_base(Settings(), "zzz")


def test_url_builders() -> None:
    base = "http://127.0.0.1:9001/"
    assert book_json_url(base, "37t") == "http://127.0.0.1:9001/api/v1/book/37t/"
    assert book_page_url(base, "37t") == "http://127.0.0.1:9001/id/37t"
    assert chapter_page_url(base, "37t", "05") == "http://127.0.0.1:9001/id/37t/05"
    assert changes_url(base, 2198) == "http://127.0.0.1:9001/api/v1/changes/?since=2198"
    assert (
        articlemeta_url("https://articlemeta.scielo.org", "scl", "S2179-975X2011000300002")
        == "https://articlemeta.scielo.org/api/v1/article/"
        "?collection=scl&code=S2179-975X2011000300002"
    )
