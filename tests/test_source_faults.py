"""Source faults through the local SciELO server's fault injection.

- the fetcher (real ``SourceHttp``): transient faults (connection reset, truncated body, a
  body that stalls past the read timeout, 503) are retried and the retry succeeds;
- the pipeline (one multi-REF ``archive-ingest ingest``): faults that persist end each item
  ``failed`` with a reason naming the fault, recorded in the catalogue; the batch goes on;
  a fault that clears on the retry lets the item through; a redirect to another host is
  refused (no SSRF). 404, HTML-as-PDF, oversize and off-host redirects of the fetcher alone
  are in tests/test_fetch.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import FetchError
from archive_ingest.http import SourceHttp
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.samples import make_encrypted_pdf

SBID = "flt1"

TRANSIENT: dict[str, dict[str, Any]] = {
    "reset": {"reset": True, "times": 1},
    "truncated": {"truncate_to": 100, "times": 1},
    "stalled-body": {"body_delay": 3.5, "times": 1},
    "503": {"status": 503, "times": 1},
    "wrong-length": {"content_length": 10_000_000, "times": 1},
}


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_transient_faults_are_retried(
    fault: str,
    scielo_book: SampleScieloServer,
    source_http: SourceHttp,
    tmp_path: Path,
) -> None:
    path = "/id/37t/pdf/ribeiro-9788523205607-02.pdf"
    assert scielo_book.requests_for(path) == []
    scielo_book.inject(path, **TRANSIENT[fault])
    got = source_http.download(scielo_book.url(path), tmp_path / "x.pdf")
    assert got.attempts == 2, got
    assert got.path is not None and got.path.read_bytes().startswith(b"%PDF-")
    assert len(scielo_book.requests_for(path)) == 2
    assert not (tmp_path / "x.pdf.part").exists()


def test_persistent_truncation_is_a_failure_with_a_reason(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    path = "/id/37t/pdf/ribeiro-9788523205607-02.pdf"
    scielo_book.inject(path, truncate_to=100)
    with pytest.raises(FetchError) as failed:
        source_http.download(scielo_book.url(path), tmp_path / "x.pdf")
    assert "complete message body (received 100 bytes" in str(failed.value)
    assert len(scielo_book.requests_for(path)) == 3  # 1 + fetch_retries=2
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x.pdf.part").exists()


# (chapter, fault, expected state, reason substring)
PIPELINE: list[tuple[int, dict[str, Any], str, str]] = [
    (1, {"status": 503}, "failed", "HTTP 503"),
    (2, {"reset": True}, "failed", "network error"),
    (3, {"truncate_to": 200}, "failed", "complete message body (received 200 bytes"),
    (4, {"body_delay": 3.5}, "failed", "timed out"),
    (5, {"content_length": 10_000_000}, "failed", "bytes, expected 10000000)"),
    (6, {"status": 502, "times": 1}, "failed", "encrypted"),  # retried, then inspected
    (7, {"redirect_to": "http://127.0.0.2:9/x.pdf"}, "failed", "off the allowed hosts"),
]


@pytest.mark.slow
def test_pipeline_records_source_failures_and_goes_on(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    tmp_path: Path,
) -> None:
    pdf = make_encrypted_pdf(tmp_path / "enc.pdf", user_password="")
    scielo_catalogue.add_book(
        SBID, title="Falhas", isbn="9788523212346", year="2012", use_licence="CC BY 4.0"
    )
    for order, fault, _, _ in PIPELINE:
        scielo_catalogue.add_chapter(SBID, order, title=f"Capítulo {order}", pdf_path=pdf)
        scielo_server.inject(scielo_catalogue.books[SBID].chapter_pdf_path(f"{order:02d}"), **fault)
    env = dict(os.environ)
    for key, value in scielo_server.settings_overrides().items():
        env[f"ARCHIVE_INGEST_{key.upper()}"] = str(value)
    env.update(
        PREFECT_API_URL=prefect_api_url,
        ARCHIVE_INGEST_FETCH_RETRIES="1",
        ARCHIVE_INGEST_FETCH_BACKOFF_SECONDS="0",
        ARCHIVE_INGEST_FETCH_READ_TIMEOUT="2",
    )
    refs = [f"scielo-books:{SBID}/{order:02d}" for order, _, _, _ in PIPELINE]
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "ingest", *refs],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(results) == len(PIPELINE), proc.stderr[-3000:]
    assert proc.returncode == 1
    catalogue = Catalogue.open(seaweed_settings.effective_database_url)
    try:
        for (order, _, state, reason), result in zip(PIPELINE, results, strict=True):
            assert result["state"] == state, (order, result)
            assert reason in result["reasons"][0], (order, result["reasons"])
            item = catalogue.get_item(f"scielo-books-{SBID}-{order:02d}")
            assert item is not None and item.state == state
            assert reason in (item.reasons or [""])[0]
    finally:
        catalogue.close()
    # the off-host redirect target was never contacted (it would have been refused anyway)
    path = scielo_catalogue.books[SBID].chapter_pdf_path("07")
    assert all(r.path == path for r in scielo_server.requests_for(path))
