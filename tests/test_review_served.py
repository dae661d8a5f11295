"""The review UI and the OAI endpoint served by real `archive-ingest serve` processes, driven by
real HTTP clients (httpx): sessions revoked server side, login sprays limited in the catalogue
(shared by two processes) while OAI keeps answering, security headers on every response, and
no text from a link on any page. The catalogue runs on SQLite and PostgreSQL."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import State
from archive_ingest.review import users
from tests.support.review import PASSWORD, csrf_of
from tests.support.serve import serve_process

RECORD = "scielo-books-msg-01"


@pytest.fixture
def accounts(home: Path, database_url: str) -> str:
    cat = Catalogue.open(database_url)
    try:
        users.add_user(cat, "ana", "archivist", PASSWORD)
        users.add_user(cat, "root", "admin", PASSWORD)
        cat.ensure_item(RECORD, source="scielo-books:msg/01", source_kind="scielo-books-chapter")
        cat.new_version(RECORD, original_sha256=None, work_dir=None)
        cat.set_state(RECORD, State.NEEDS_REVIEW, ["licence: sources disagree"], version=1)
    finally:
        cat.close()
    return database_url


@pytest.fixture
def server(home: Path, accounts: str) -> Iterator[str]:
    with serve_process(home, accounts) as base:
        yield base


def login(
    client: httpx.Client, base: str, name: str = "ana", password: str = PASSWORD, **headers: str
) -> httpx.Response:
    token = csrf_of(client.get(f"{base}/review/login").text)
    return client.post(
        f"{base}/review/login",
        data={"username": name, "password": password, "csrf_token": token, "next": "/review/"},
        headers=headers,
    )


def signed_in(base: str, name: str = "ana") -> tuple[httpx.Client, str]:
    """A client signed in as ``name`` and the value of its session cookie."""
    client = httpx.Client(timeout=60)
    r = login(client, base, name)
    assert r.status_code == 303, r.text
    cookie = client.cookies.get("archive_ingest_review")
    assert cookie
    return client, cookie


def replay(base: str, cookie: str) -> httpx.Response:
    """The queue page requested by another client presenting only ``cookie``."""
    with httpx.Client(timeout=60, cookies={"archive_ingest_review": cookie}) as other:
        return other.get(f"{base}/review/")


def test_a_session_ends_on_the_server_at_logout_password_change_and_disable(
    server: str, accounts: str
) -> None:
    base = server
    client, cookie = signed_in(base)
    try:
        assert replay(base, cookie).status_code == 200  # the cookie alone is the session
        token = csrf_of(client.get(f"{base}/review/").text)
        r = client.post(f"{base}/review/logout", data={"csrf_token": token})
        assert r.status_code == 303
    finally:
        client.close()
    refused = replay(base, cookie)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/review/login")

    cat = Catalogue.open(accounts)
    try:
        client, cookie = signed_in(base)
        client.close()
        assert replay(base, cookie).status_code == 200
        users.set_password(cat, "ana", "another long password")
        assert replay(base, cookie).status_code == 303

        client, cookie = signed_in(base, "root")
        client.close()
        assert replay(base, cookie).status_code == 200
        users.set_active(cat, "root", False)
        assert replay(base, cookie).status_code == 303
        users.set_active(cat, "root", True)  # enabled again: the old session stays ended
        assert replay(base, cookie).status_code == 303
    finally:
        cat.close()


def _spray(base: str, names: list[str], results: list[int], forwarded_for: str = "") -> None:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    with httpx.Client(timeout=120) as client:
        for name in names:
            results.append(login(client, base, name, "not the password", **headers).status_code)


def _identify_ms(client: httpx.Client, base: str) -> float:
    t0 = time.perf_counter()
    r = client.get(f"{base}/oai", params={"verb": "Identify"})
    assert r.status_code == 200 and b"<Identify>" in r.content
    return (time.perf_counter() - t0) * 1000


def test_a_spray_of_unknown_names_is_limited_and_oai_keeps_answering(
    home: Path, accounts: str
) -> None:
    # limits high enough that 20 concurrent logins from 20 clients are all hashed
    with serve_process(
        home,
        accounts,
        web_login_max_attempts=3,
        web_login_max_client_attempts=10,
        web_login_max_total_attempts=1000,
    ) as base:
        # 1. forty logins in flight at once, each from its own client (X-Forwarded-For from
        # loopback is trusted by uvicorn): every one costs a password hash (about 0.1 s), and
        # OAI answers meanwhile without waiting for them
        results: list[int] = []
        threads = [
            threading.Thread(target=_spray, args=(base, [f"ghost-{i}"], results, f"10.0.0.{i}"))
            for i in range(40)
        ]
        during: list[float] = []
        with httpx.Client(timeout=120) as oai:
            _identify_ms(oai, base)
            idle = [_identify_ms(oai, base) for _ in range(20)]  # the same machine, same load
            for t in threads:
                t.start()
            time.sleep(0.5)  # the logins are in the server
            while any(t.is_alive() for t in threads):
                during.append(_identify_ms(oai, base))
            for t in threads:
                t.join(timeout=300)
        assert sorted(set(results)) == [401], results
        assert during, "the logins were over before OAI was asked: nothing measured"
        # only to show the event loop is not blocked, robust on a busy machine: the 90th
        # percentile of Identify during the spray (not its one worst sample) against 20 times
        # the idle median of this very test, with a floor of 1 s. Measured: thousands of
        # samples, p90 5-7 ms; with the hashing on the loop each Identify waited for every hash
        # queued before it, a handful of samples, p90 4.5-5 s. The 2x figure is
        # bench/bench_login_spray.py's.
        bound = max(1000.0, 20 * statistics.median(idle))
        p90 = (
            statistics.quantiles(during, n=10, method="inclusive")[-1] if during[1:] else during[0]
        )
        assert p90 < bound, (bound, sorted(idle), sorted(during))

        # 2. a spray of made-up names from one client: limited per client, not only per name
        results = []
        threads = [
            threading.Thread(
                target=_spray, args=(base, [f"nobody-{i}-{j}" for j in range(3)], results)
            )
            for i in range(10)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert len(results) == 30
        assert results.count(401) <= 10, results
        assert results.count(429) >= 20, results
        # the right password does not get through either while the client is blocked
        with httpx.Client(timeout=60) as client:
            assert login(client, base).status_code == 429
            # another client still can
            assert login(client, base, **{"X-Forwarded-For": "10.9.9.9"}).status_code == 303


def test_two_processes_share_the_login_limiter(home: Path, accounts: str) -> None:
    limits = {"web_login_max_attempts": 2, "web_login_max_client_attempts": 4}
    with (
        serve_process(home, accounts, **limits) as a,
        serve_process(home, accounts, **limits) as b,
        httpx.Client(timeout=60) as client,
    ):
        assert [login(client, a, f"ghost-{n}", "wrong password").status_code for n in range(4)] == [
            401
        ] * 4
        assert login(client, b, "ghost-x", "wrong password").status_code == 429
        assert login(client, b).status_code == 429
        xff = {"X-Forwarded-For": "10.1.1.1"}
        assert login(client, b, "ana", "wrong password", **xff).status_code == 401
        assert login(client, a, "ana", "wrong password", **xff).status_code == 401
        assert login(client, b, "ana", **xff).status_code == 429  # the pair, across both


def _from(address: str) -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.0.0.0/8 address is local)."""
    return httpx.Client(timeout=60, transport=httpx.HTTPTransport(local_address=address))


def test_login_limits_count_the_forwarded_client_of_a_trusted_proxy_only(
    home: Path, accounts: str
) -> None:
    """A reverse proxy that is not on loopback (in compose: the container network's gateway)
    is trusted once named in web_forwarded_allow_ips: its X-Forwarded-For is the client the
    limits count, so one client's failures do not lock out everyone behind the proxy. A client
    at any other address (loopback too, once it is not listed) cannot choose its own address."""
    limits = {"web_login_max_attempts": 3, "web_login_max_client_attempts": 3}
    with serve_process(home, accounts, web_forwarded_allow_ips="127.0.0.2", **limits) as base:
        with _from("127.0.0.2") as proxy:
            mallory = {"X-Forwarded-For": "203.0.113.66"}
            codes = [
                login(proxy, base, f"ghost-{n}", "wrong", **mallory).status_code for n in range(4)
            ]
            assert codes == [401, 401, 401, 429]
            # another client behind the same proxy is not locked out by mallory's failures
            assert login(proxy, base, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 303
        with _from("127.0.0.1") as direct:  # not a trusted proxy: its X-Forwarded-For is ignored
            codes = [
                login(
                    direct, base, f"ghost-{n}", "wrong", **{"X-Forwarded-For": f"10.0.0.{n}"}
                ).status_code
                for n in range(4)
            ]
            assert codes == [401, 401, 401, 429]


@pytest.fixture
def sqlite_server(home: Path, tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    cat = Catalogue.open(url)
    try:
        users.add_user(cat, "root", "admin", PASSWORD)
        cat.ensure_item(RECORD, source="scielo-books:msg/01", source_kind="scielo-books-chapter")
    finally:
        cat.close()
    with serve_process(home, url) as base:
        yield base


HARDENING = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def test_security_headers_on_errors_and_static_files(sqlite_server: str) -> None:
    base = sqlite_server
    with httpx.Client(timeout=60) as client:
        responses = {
            "404 under /review": client.get(f"{base}/review/no-such-page"),
            "404 elsewhere": client.get(f"{base}/no-such-page"),
            "405": client.get(f"{base}/review/logout"),
            "405 oai": client.put(f"{base}/oai"),
            "static": client.get(f"{base}/review/static/review.css"),
            "page": client.get(f"{base}/review/login"),
        }
    assert responses["404 under /review"].status_code == 404
    assert responses["405"].status_code == 405
    assert responses["static"].status_code == 200
    for what, r in responses.items():
        for header, value in HARDENING.items():
            assert r.headers.get(header) == value, (what, header, dict(r.headers))
        assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", ""), what


EVIL = "Your session expired: call +1 555 0100 and read out your password"


def test_no_page_shows_text_from_a_link(sqlite_server: str) -> None:
    base = sqlite_server
    with httpx.Client(timeout=60) as client:
        assert EVIL not in client.get(f"{base}/review/login", params={"msg": EVIL}).text
        assert login(client, base, "root").status_code == 303
        for path in (f"/review/item/{RECORD}", "/review/admin/users", "/review/"):
            r = client.get(f"{base}{path}", params={"msg": EVIL})
            assert r.status_code == 200 and EVIL not in r.text, path
        # a known message code shows its own text
        token = csrf_of(client.get(f"{base}/review/").text)
        r = client.post(f"{base}/review/logout", data={"csrf_token": token})
        assert r.status_code == 303
        assert "You are logged out" in client.get(f"{base}{r.headers['location']}").text
