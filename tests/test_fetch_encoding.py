"""Compressed answers: stacked Content-Encodings are refused, decoded bytes are bounded as raw
bytes are, and memory stays small while a decompression bomb is refused.

Every answer comes from the real sample SciELO server (a fault serves the encoded body); the
fetches are the real ``SourceHttp``; memory is measured with tracemalloc in this process and,
for a whole ``archive-ingest ingest``, as the peak RSS of the child process (``os.wait4``).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import FetchError
from archive_ingest.http import SourceHttp
from archive_ingest.settings import Settings
from archive_ingest.sources import allowed_hosts
from archive_ingest_demo.scielo_sample import SampleScieloServer
from archive_ingest_demo.scielo_sample.faults import gzip_bomb

CHAPTER_PDF = "/id/37t/pdf/ribeiro-9788523205607-01.pdf"
BOOK_JSON = "/api/v1/book/37t/"
MiB = 1024 * 1024
#: what a refused bomb may cost the client at most (the bombs below decode to 100-647 MiB)
PEAK_LIMIT = 24 * MiB

T = TypeVar("T")


@pytest.fixture(scope="module")
def double_bomb() -> bytes:
    """About a kilobyte, gzipped twice, that decodes to 647 MiB."""
    return gzip_bomb(647 * MiB, layers=2)


@pytest.fixture(scope="module")
def single_bomb() -> bytes:
    """About 100 KB, gzipped once, that decodes to 100 MiB."""
    return gzip_bomb(100 * MiB)


def _peak(action: Callable[[], T]) -> tuple[T | BaseException, int]:
    """Run ``action``; its result (or the exception it raised) and its peak traced memory."""
    tracemalloc.start()
    try:
        outcome: T | BaseException = action()
    except BaseException as exc:  # the refusal is the expected outcome
        outcome = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome, peak


@pytest.fixture
def small_limits(scielo_settings: Settings) -> Iterator[SourceHttp]:
    settings = scielo_settings.model_copy(
        update={"fetch_max_bytes": 4 * MiB, "fetch_metadata_max_bytes": 1 * MiB}
    )
    with SourceHttp(settings, allowed_hosts(settings)) as http:
        yield http


def test_double_gzip_download_is_refused_without_inflating(
    scielo_book: SampleScieloServer, source_http: SourceHttp, double_bomb: bytes, tmp_path: Path
) -> None:
    scielo_book.inject(CHAPTER_PDF, encoded_body=double_bomb, content_encoding="gzip, gzip")
    url = scielo_book.url(CHAPTER_PDF)
    outcome, peak = _peak(lambda: source_http.download(url, tmp_path / "in" / "a"))
    assert isinstance(outcome, FetchError), outcome
    assert "Content-Encoding" in str(outcome) and "gzip, gzip" in str(outcome)
    assert not outcome.transient  # refused, not retried
    assert len(scielo_book.requests_for(CHAPTER_PDF)) == 1
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.0f} MiB"
    assert not list((tmp_path / "in").iterdir())  # no .part left behind


def test_single_gzip_download_over_the_limit_is_stopped_at_the_limit(
    scielo_book: SampleScieloServer, small_limits: SourceHttp, single_bomb: bytes, tmp_path: Path
) -> None:
    scielo_book.inject(CHAPTER_PDF, encoded_body=single_bomb, content_encoding="gzip")
    url = scielo_book.url(CHAPTER_PDF)
    outcome, peak = _peak(lambda: small_limits.download(url, tmp_path / "in" / "a"))
    assert isinstance(outcome, FetchError), outcome
    assert "over the size limit of 4,194,304 bytes" in str(outcome)
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.0f} MiB"
    assert not list((tmp_path / "in").iterdir())  # no .part left behind


def test_metadata_bombs_are_refused_without_inflating(
    scielo_book: SampleScieloServer,
    small_limits: SourceHttp,
    double_bomb: bytes,
    single_bomb: bytes,
) -> None:
    url = scielo_book.url(BOOK_JSON)
    scielo_book.inject(BOOK_JSON, encoded_body=double_bomb, content_encoding="gzip,gzip")
    outcome, peak = _peak(lambda: small_limits.get_bytes(url))
    assert isinstance(outcome, FetchError) and "Content-Encoding" in str(outcome), outcome
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.0f} MiB"

    scielo_book.inject(BOOK_JSON, encoded_body=single_bomb, content_encoding="gzip")
    outcome, peak = _peak(lambda: small_limits.get_bytes(url))
    assert isinstance(outcome, FetchError) and "over the" in str(outcome), outcome
    assert "1,048,576 bytes" in str(outcome)
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.0f} MiB"


def test_an_honest_gzip_answer_is_decoded(
    scielo_book: SampleScieloServer, source_http: SourceHttp, tmp_path: Path
) -> None:
    """The bound does not cost correctness: gzip and deflate bodies decode to the same bytes,
    digests are of the decoded bytes, and a short compressed body is a (transient) failure."""
    plain = source_http.get_bytes(scielo_book.url(BOOK_JSON)).content
    scielo_book.inject(BOOK_JSON, encoded_body=gzip.compress(plain), content_encoding="gzip")
    assert source_http.get_bytes(scielo_book.url(BOOK_JSON)).content == plain
    scielo_book.inject(BOOK_JSON, encoded_body=zlib.compress(plain), content_encoding="deflate")
    assert source_http.get_bytes(scielo_book.url(BOOK_JSON)).content == plain

    pdf = source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "plain.pdf")
    body = (tmp_path / "plain.pdf").read_bytes()
    scielo_book.inject(CHAPTER_PDF, encoded_body=gzip.compress(body), content_encoding="gzip")
    zipped = source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "zipped.pdf")
    assert zipped.digests == pdf.digests

    cut = gzip.compress(body)[:-20]
    scielo_book.inject(CHAPTER_PDF, encoded_body=cut, content_encoding="gzip")
    with pytest.raises(FetchError, match=r"incomplete|truncated") as info:
        source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "cut.pdf")
    assert info.value.transient


def test_a_padded_gzip_answer_is_decoded_as_its_members(
    scielo_book: SampleScieloServer,
    source_http: SourceHttp,
    small_limits: SourceHttp,
    single_bomb: bytes,
    tmp_path: Path,
) -> None:
    """Bytes after a complete gzip member that are no member (servers pad with zeros or leave
    garbage) end the body, as in urllib3, instead of failing every retry; a real second member
    is still decoded, and still counts against the size limit."""
    pdf = source_http.download(scielo_book.url(CHAPTER_PDF), tmp_path / "plain.pdf")
    body = (tmp_path / "plain.pdf").read_bytes()
    url = scielo_book.url(CHAPTER_PDF)
    trailers = {
        "zeros": b"\0" * 4096,
        "one zero": b"\0",
        "garbage": b"<!-- served by a proxy -->\r\n",
        "gzip magic, then garbage": b"\x1f\x8b" + b"\xff" * 64,
    }
    for name, trailer in trailers.items():
        scielo_book.inject(CHAPTER_PDF, encoded_body=gzip.compress(body) + trailer)
        got = source_http.download(url, tmp_path / f"{name}.pdf")
        assert got.digests == pdf.digests, name
    plain = source_http.get_bytes(scielo_book.url(BOOK_JSON)).content
    scielo_book.inject(BOOK_JSON, encoded_body=gzip.compress(plain) + b"\0" * 16)
    assert source_http.get_bytes(scielo_book.url(BOOK_JSON)).content == plain

    half = len(body) // 2  # two real members: both decoded
    members = gzip.compress(body[:half]) + gzip.compress(body[half:]) + b"\0" * 8
    scielo_book.inject(CHAPTER_PDF, encoded_body=members)
    assert source_http.download(url, tmp_path / "two.pdf").digests == pdf.digests

    # a bomb as the second member is stopped at the limit, as the first one is
    scielo_book.inject(CHAPTER_PDF, encoded_body=gzip.compress(body) + single_bomb)
    outcome, peak = _peak(lambda: small_limits.download(url, tmp_path / "in" / "a"))
    assert isinstance(outcome, FetchError), outcome
    assert "over the size limit of 4,194,304 bytes" in str(outcome)
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.0f} MiB"

    # a second member cut short is still an incomplete body, not a shorter one
    cut = gzip.compress(body[:half]) + gzip.compress(body[half:])[:-20]
    scielo_book.inject(CHAPTER_PDF, encoded_body=cut)
    with pytest.raises(FetchError, match=r"incomplete|truncated") as info:
        source_http.download(url, tmp_path / "cut.pdf")
    assert info.value.transient


def _ingest_peak_rss(env: dict[str, str], out_dir: Path) -> tuple[int, str, str, int]:
    """``archive-ingest ingest`` of one chapter in a child process: (exit code, stdout, stderr,
    the child's peak RSS in bytes, from wait4)."""
    out_dir.mkdir()
    out_path, err_path = out_dir / "stdout", out_dir / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as errs:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "ingest", "scielo-books:37t/01"],
            stdout=out,
            stderr=errs,
            env=env,
        )
    watchdog = threading.Timer(300, proc.kill)
    watchdog.start()
    try:  # wait4: this child's own resource usage, peak RSS included
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        watchdog.cancel()
    return (
        os.waitstatus_to_exitcode(status),
        out_path.read_text(),
        err_path.read_text(errors="replace"),
        usage.ru_maxrss * 1024,  # KiB on Linux
    )


def test_ingest_of_a_bombed_chapter_fails_with_a_reason_and_small_memory(
    scielo_book: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    double_bomb: bytes,
    tmp_path: Path,
) -> None:
    """The real command: ``archive-ingest ingest`` in a child process; the item ends failed
    with the refusal as its reason, and the child's peak RSS stays near that of the same
    command failing on an ordinary 404, far below the bomb's 647 MiB."""
    env = dict(os.environ)
    for key, value in scielo_book.settings_overrides().items():
        env[f"ARCHIVE_INGEST_{key.upper()}"] = str(value)
    env["ARCHIVE_INGEST_FETCH_RETRIES"] = "0"
    env["PREFECT_API_URL"] = prefect_api_url
    # the command's own peak (Prefect, word lists, ...) varies with the machine: measure it
    scielo_book.inject(CHAPTER_PDF, status=404)
    code, _, stderr, baseline = _ingest_peak_rss(env, tmp_path / "baseline")
    assert code == 1, stderr
    scielo_book.inject(CHAPTER_PDF, encoded_body=double_bomb, content_encoding="gzip, gzip")
    code, stdout, stderr, peak_rss = _ingest_peak_rss(env, tmp_path / "bomb")
    # holding the inflated bomb would add 647 MiB (the old client peaked at 2,085 MiB)
    assert peak_rss < baseline + 128 * MiB, (
        f"child peak RSS {peak_rss / MiB:.0f} MiB, {baseline / MiB:.0f} MiB on a 404"
    )
    assert code == 1, stderr
    result = json.loads(stdout.splitlines()[0])
    assert result["state"] == "failed"
    assert "Content-Encoding" in result["reasons"][0], result
    catalogue = Catalogue.open(seaweed_settings.effective_database_url)
    try:
        item = catalogue.get_item("scielo-books-37t-01")
        assert item is not None and item.state == "failed"
    finally:
        catalogue.close()
