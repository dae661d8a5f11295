"""/review/health through FastAPI's TestClient (SQLite and PostgreSQL): who may see it, the
review CSP and no inline style, an empty archive, and the figures of a known archive in the
page. The page in a real browser (layout, screenshot) is tests/test_health_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import utcnow
from archive_ingest.review import users
from archive_ingest.review.headers import SAFE_HEADERS
from archive_ingest.review.schema import ReviewUser
from archive_ingest.settings import Settings
from archive_ingest.web import create_app
from tests.support.health import seed_archive
from tests.support.review import PASSWORD, csrf_of

CHART_IDS = ("chart-daily", "chart-queue", "chart-coverage", "chart-copies")


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url="http://127.0.0.1")


@pytest.fixture
def settings(home: object, database_url: str) -> Iterator[Settings]:
    cat = Catalogue.open(database_url)
    try:
        users.add_user(cat, "ana", "archivist", PASSWORD)
        users.add_user(cat, "root", "admin", PASSWORD)
        users.add_user(cat, "rui", "archivist", PASSWORD)
        with cat.session() as session:  # a role the page does not admit (none exists yet)
            session.execute(
                update(ReviewUser).where(ReviewUser.name == "rui").values(role="reviewer")
            )
    finally:
        cat.close()
    yield Settings(database_url=database_url)


def login(client: TestClient, name: str) -> None:
    page = client.get("/review/login")
    r = client.post(
        "/review/login",
        data={"username": name, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_who_may_see_it(settings: Settings) -> None:
    with _client(settings) as client:
        r = client.get("/review/health", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/review/login?next=%2Freview%2Fhealth"
        login(client, "rui")
        r = client.get("/review/health")
        assert r.status_code == 403 and "Archivists and admins only" in r.text
        assert "chart-daily" not in r.text and 'href="/review/health"' not in r.text
    for name in ("ana", "root"):
        with _client(settings) as client:
            login(client, name)
            queue = client.get("/review/")
            assert 'href="/review/health"' in queue.text  # linked from the navigation
            r = client.get("/review/health")
            assert r.status_code == 200
            for chart in CHART_IDS:
                assert f'id="{chart}"' in r.text


def test_csp_holds_and_nothing_inline(settings: Settings) -> None:
    with _client(settings) as client:
        login(client, "ana")
        r = client.get("/review/health")
    assert r.headers["content-security-policy"] == SAFE_HEADERS["Content-Security-Policy"]
    assert "<script" not in r.text and "style=" not in r.text and "<style" not in r.text
    assert not re.search(r"\son[a-z]+=", r.text)  # no event handler attributes


def test_an_empty_archive_renders(settings: Settings) -> None:
    with _client(settings) as client:
        login(client, "ana")
        text = client.get("/review/health").text
    for note in (
        "No version reached a final state in the last 30 days",
        "Nothing waiting for review",
        "No stored objects yet",
        "No copies recorded yet",
    ):
        assert note in text
    assert text.count('class="segment') == 0


def test_the_figures_of_a_known_archive(settings: Settings) -> None:
    cat = Catalogue.open(settings.effective_database_url)
    try:
        seed_archive(cat, utcnow())
    finally:
        cat.close()
    with _client(settings) as client:
        login(client, "ana")
        text = client.get("/review/health").text
    assert '<tr data-target="primary">' in text and '<tr data-target="offsite">' in text
    row = re.search(r'<tr data-target="offsite">(.*?)</tr>', text, re.S)
    assert row is not None
    cells = dict(re.findall(r'data-status="(\w+)">(\d+)<', row.group(1)))
    assert cells == {
        "verified": "2",
        "failed": "1",
        "damaged": "0",
        "lost": "0",
        "missing": "1",
        "objects": "6",  # two copies of three objects (the failed one holds none)
    }
    assert 'data-bytes="1200"' in row.group(1)  # 100 + 200 + 300 bytes, twice
    glance = re.search(r'id="glance-items">(.*?)</div>', text, re.S)
    assert glance is not None and '<dd class="value">8</dd>' in glance.group(1)
    assert "deposited 4, failed 1, needs_review 2, rejected 1" in glance.group(1)
    assert "75% of 12" in text  # primary: 9 of 12 objects re-hashed within 30 days
    assert "50% of 6" in text and "66% of 18" in text  # offsite, and both targets together
