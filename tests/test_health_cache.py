"""The health page's data is read at most once per 30 s per process, one read at a time
(review/health_cache.py): a cache with a clock the test moves, threads asking at once, and
the real page (TestClient, SQLite and PostgreSQL) not re-reading an archive that changed
within the 30 s."""

from __future__ import annotations

import threading
import time

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import utcnow
from archive_ingest.review.health_cache import HEALTH_CACHE_SECONDS, Cached
from archive_ingest.settings import Settings
from tests.support.health import seed_archive
from tests.test_health_page import _client, login, settings  # noqa: F401  (the fixture)


def test_a_value_is_reused_until_it_is_30_seconds_old() -> None:
    now = [100.0]
    reads: list[int] = []

    def read() -> int:
        reads.append(1)
        return len(reads)

    cached = Cached(read, clock=lambda: now[0])
    assert cached.get() == 1
    now[0] += HEALTH_CACHE_SECONDS - 0.5
    assert cached.get() == 1 and len(reads) == 1
    now[0] += 1.0
    assert cached.get() == 2 and len(reads) == 2


def test_requests_at_once_wait_for_one_read() -> None:
    reads: list[int] = []
    inside = threading.Event()

    def slow_read() -> int:
        reads.append(1)
        inside.set()
        time.sleep(0.5)
        return len(reads)

    cached = Cached(slow_read)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cached.get())) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(reads) == 1
    assert results == [1] * 6


def test_a_failed_read_is_not_cached() -> None:
    calls: list[int] = []

    def read() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return 7

    cached = Cached(read)
    with pytest.raises(RuntimeError):
        cached.get()
    assert cached.get() == 7


def test_the_page_shows_the_same_figures_within_30_seconds(settings: Settings) -> None:  # noqa: F811
    with _client(settings) as client:
        login(client, "ana")
        before = client.get("/review/health").text
        cat = Catalogue.open(settings.effective_database_url)
        try:
            seed_archive(cat, utcnow())
        finally:
            cat.close()
        again = client.get("/review/health").text
    assert "No copies recorded yet" in before
    assert "No copies recorded yet" in again  # not read again: the page's data is cached
    with _client(settings) as fresh:  # another process (a new app) reads the archive now
        login(fresh, "ana")
        assert "No copies recorded yet" not in fresh.get("/review/health").text
