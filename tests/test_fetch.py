"""Streamed download: digests in one read, size limits, retries only where they help."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from archive_ingest.errors import ContentError, FetchError
from archive_ingest.http import SourceHttp
from archive_ingest.settings import Settings
from archive_ingest.sources import allowed_hosts
from archive_ingest_demo.scielo_sample import SampleScieloServer

CHAPTER_PDF = "/id/37t/pdf/ribeiro-9788523205607-01.pdf"


def test_digests_match_the_bytes_and_part_file_is_gone(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    dest = tmp_path / "x.pdf"
    result = source_http.download(scielo_book.url(CHAPTER_PDF), dest)
    body = dest.read_bytes()
    assert body.startswith(b"%PDF-")
    assert result.digests is not None
    assert result.digests.size == len(body)
    assert result.digests.sha256 == hashlib.sha256(body).hexdigest()
    assert result.digests.sha512 == hashlib.sha512(body).hexdigest()
    assert result.digests.md5 is None  # not computed (docs/DECISIONS.md D11)
    assert result.etag and result.last_modified
    assert not (tmp_path / "x.pdf.part").exists()


def test_oversize_is_refused(
    scielo_book: SampleScieloServer, scielo_settings: Settings, tmp_path: Path
) -> None:
    small = scielo_settings.model_copy(update={"fetch_max_bytes": 100})
    with (
        SourceHttp(small, allowed_hosts(small)) as http,
        pytest.raises(FetchError, match="over the size limit"),
    ):
        http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "a.pdf")
    assert not list(tmp_path.glob("*.pdf*"))


def test_404_is_final_and_not_retried(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    scielo_book.clear_requests()
    with pytest.raises(FetchError, match="HTTP 404") as info:
        source_http.download(
            scielo_book.url("/id/37t/pdf/missing-9788523205607-09.pdf"), tmp_path / "m.pdf"
        )
    assert info.value.status == 404 and not info.value.transient
    assert len(scielo_book.requests) == 1


def test_5xx_then_success(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    scielo_book.inject(CHAPTER_PDF, status=503, times=2)
    result = source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "r.pdf")
    assert result.attempts == 3 and result.digests is not None


def test_html_error_page_as_pdf_is_refused_with_a_reason(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    scielo_book.inject(CHAPTER_PDF, html_as_pdf=True, times=10)
    with pytest.raises(ContentError, match=r"HTML/XML page .*not a PDF"):
        source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "h.pdf")
    assert not (tmp_path / "h.pdf").exists()


def test_off_host_redirect_and_off_host_url_are_refused(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    scielo_book.inject(CHAPTER_PDF, redirect_to="http://127.0.0.2:9/evil.pdf", times=10)
    with pytest.raises(FetchError, match="redirects off the allowed hosts"):
        source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "o.pdf")
    with pytest.raises(FetchError, match="not a configured source host"):
        source_http.download("http://127.0.0.2:9/x.pdf", tmp_path / "p.pdf")
    with pytest.raises(FetchError, match="non-HTTP"):
        source_http.get_bytes("file:///etc/passwd")
