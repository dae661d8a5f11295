"""The /review web layer through FastAPI's TestClient: login, sessions, CSRF, roles, escaping,
rate limiting, safe headers. The catalogue runs on SQLite and PostgreSQL. Behaviour that needs a
real server process (revocation replayed, sprays, two processes, headers on every response)
is in test_review_served.py."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import State
from archive_ingest.review import users
from archive_ingest.review.security import COOKIE
from archive_ingest.settings import Settings
from archive_ingest.web import create_app
from tests.support.review import PASSWORD, csrf_of

EVIL = '<script>alert("x")</script> Título'


@pytest.fixture
def web(home: object, database_url: str) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(database_url=database_url, web_login_max_attempts=3)
    cat = Catalogue.open(database_url)
    try:
        users.add_user(cat, "ana", "archivist", PASSWORD)
        users.add_user(cat, "root", "admin", PASSWORD)
        cat.ensure_item(
            "scielo-books-evil-01",
            source="scielo-books:evil/01",
            source_kind="scielo-books-chapter",
            title=EVIL,
        )
        cat.new_version("scielo-books-evil-01", original_sha256=None, work_dir=None)
        cat.set_state(
            "scielo-books-evil-01", State.NEEDS_REVIEW, ["licence: sources disagree"], version=1
        )
    finally:
        cat.close()
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client, settings


def login(client: TestClient, name: str = "ana", password: str = PASSWORD) -> object:
    page = client.get("/review/login")
    return client.post(
        "/review/login",
        data={
            "username": name,
            "password": password,
            "csrf_token": csrf_of(page.text),
            "next": "/review/",
        },
        follow_redirects=False,
    )


def test_anonymous_sees_nothing(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    for path in (
        "/review/",
        "/review/item/scielo-books-evil-01",
        "/review/admin/users",
        "/review/item/scielo-books-evil-01/v1/file/original",
    ):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/review/login")
    r = client.post(
        "/review/item/scielo-books-evil-01/reject", data={"reason": "x"}, follow_redirects=False
    )
    assert r.status_code == 403  # no session, no token
    assert "alert" not in client.get("/review/login").text


def test_login_cookie_and_logout(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    r = login(client)
    assert r.status_code == 303 and r.headers["location"] == "/review/"
    cookie = r.headers["set-cookie"]
    assert (
        COOKIE in cookie
        and "HttpOnly" in cookie
        and "SameSite=strict" in cookie.replace("samesite", "SameSite")
    )
    assert "Secure" not in cookie  # plain http on loopback, setting "auto"
    queue = client.get("/review/")
    assert queue.status_code == 200 and "scielo-books-evil-01" in queue.text
    assert queue.headers["x-frame-options"] == "DENY"
    assert "script-src 'none'" in queue.headers["content-security-policy"]
    r = client.post(
        "/review/logout", data={"csrf_token": csrf_of(queue.text)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.get("/review/", follow_redirects=False).status_code == 303


def test_secure_cookie_setting(home: object, database_url: str) -> None:
    settings = Settings(database_url=database_url, web_cookie_secure="always")
    with TestClient(create_app(settings)) as client:
        assert "Secure" in client.get("/review/login").headers["set-cookie"]
    with TestClient(
        create_app(Settings(database_url=database_url)), base_url="https://review.example"
    ) as client:
        assert "Secure" in client.get("/review/login").headers["set-cookie"]


def test_generated_secret_is_private(web: tuple[TestClient, Settings]) -> None:
    _, settings = web
    path = settings.home / "web-session-secret"
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_wrong_password_and_rate_limit(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    for _ in range(3):
        assert login(client, password="wrong password").status_code == 401
    # the fourth attempt is refused even with the right password
    assert login(client).status_code == 429
    # another user from the same address is not blocked
    assert login(client, "root").status_code == 303


def test_csrf_required_on_every_form(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    assert login(client).status_code == 303
    page = client.get("/review/item/scielo-books-evil-01")
    token = csrf_of(page.text)
    for path, data in (
        ("/review/item/scielo-books-evil-01/reject", {"reason": "dup"}),
        ("/review/item/scielo-books-evil-01/approve", {}),
        ("/review/item/scielo-books-evil-01/edit", {"title": "x"}),
        ("/review/admin/users", {"op": "add", "name": "x", "role": "admin", "password": PASSWORD}),
        ("/review/logout", {}),
    ):
        assert client.post(path, data=data, follow_redirects=False).status_code == 403
        wrong = {**data, "csrf_token": token[:-2] + "xx"}
        assert client.post(path, data=wrong, follow_redirects=False).status_code == 403
    # with the token the same rejection goes through
    r = client.post(
        "/review/item/scielo-books-evil-01/reject",
        data={"reason": "dup", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "rejected" in client.get(r.headers["location"]).text


def test_login_form_needs_csrf(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    r = client.post(
        "/review/login", data={"username": "ana", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 403


def test_script_in_title_renders_as_text(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    login(client)
    for path in ("/review/", "/review/item/scielo-books-evil-01"):
        html = client.get(path).text
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_roles(web: tuple[TestClient, Settings]) -> None:
    client, settings = web
    login(client)
    assert client.get("/review/admin/users").status_code == 403
    token = csrf_of(client.get("/review/").text)
    r = client.post(
        "/review/admin/users",
        data={
            "csrf_token": token,
            "op": "add",
            "name": "eve",
            "role": "admin",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 403
    client.cookies.clear()
    login(client, "root")
    page = client.get("/review/admin/users")
    assert page.status_code == 200 and "ana" in page.text
    r = client.post(
        "/review/admin/users",
        data={
            "csrf_token": csrf_of(page.text),
            "op": "add",
            "name": "eve",
            "role": "archivist",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 200 and "User added." in r.text and "<td>eve</td>" in r.text
    r = client.post(
        "/review/admin/users",
        data={"csrf_token": csrf_of(page.text), "op": "disable", "name": "ana"},
    )
    assert "User disabled" in r.text
    r = client.post(
        "/review/admin/users",
        data={"csrf_token": csrf_of(page.text), "op": "add", "name": "bad name!", "role": "x"},
    )
    assert r.status_code == 400 and "a user name is" in r.text  # shown, not put in a URL
    cat = Catalogue.open(settings.effective_database_url)
    try:
        assert users.authenticate(cat, "eve", PASSWORD) is not None
        assert users.authenticate(cat, "ana", PASSWORD) is None
    finally:
        cat.close()


def test_disabled_user_session_ends(web: tuple[TestClient, Settings]) -> None:
    client, settings = web
    login(client)
    assert client.get("/review/", follow_redirects=False).status_code == 200
    cat = Catalogue.open(settings.effective_database_url)
    try:
        users.set_password(cat, "ana", "another long password")
    finally:
        cat.close()
    assert client.get("/review/", follow_redirects=False).status_code == 303


def test_open_redirect_refused(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    page = client.get("/review/login?next=//evil.example/")
    assert 'value="/review/"' in page.text
    r = client.post(
        "/review/login",
        data={
            "username": "ana",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/review/"


def test_an_item_that_failed_before_any_version_has_a_readable_page(
    web: tuple[TestClient, Settings],
) -> None:
    client, settings = web
    cat = Catalogue.open(settings.effective_database_url)
    try:
        cat.ensure_item("scielo-books-zzz9-01", source="scielo-books:zzz9/01", source_kind="x")
        cat.set_state("scielo-books-zzz9-01", State.FAILED, ["SciELO Books has no book 'zzz9'"])
    finally:
        cat.close()
    login(client)
    html = client.get("/review/item/scielo-books-zzz9-01").text
    assert '<h1 id="title">scielo-books:zzz9/01</h1>' in html  # not "None"
    assert "no version yet" in html and "v0" not in html
    assert "/file/original" not in html and "SciELO Books has no book" in html


def _hash_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("review-hash")}


def test_the_apps_threads_end_with_the_app(home: object, database_url: str) -> None:
    """Each application's password-hashing threads stop when it shuts down (tests and `serve`
    restarts make many applications in one process); one started again hashes afresh."""
    settings = Settings(database_url=database_url)
    cat = Catalogue.open(database_url)
    try:
        users.add_user(cat, "ana", "archivist", PASSWORD)
    finally:
        cat.close()
    before = _hash_threads()
    app = create_app(settings)
    for _ in range(2):  # the same application, shut down and started again
        with TestClient(app, base_url="http://127.0.0.1") as client:
            assert login(client).status_code == 303
            assert _hash_threads() - before, "no hashing thread: the login hashed elsewhere"
        assert not {t for t in _hash_threads() - before if t.is_alive()}
