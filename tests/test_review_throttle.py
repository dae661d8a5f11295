"""The login limits kept in the catalogue (review/throttle.py), on SQLite and PostgreSQL:
per client and name, per client over every name, in total; counted before hashing, forgiven on
success, bounded in rows, shared by two catalogue connections (as by two processes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.review.throttle import Limit, LoginThrottle

WINDOW = 900.0
NOW = 1_800_000_000.0


@pytest.fixture
def catalogues(database_url: str) -> Iterator[tuple[Catalogue, Catalogue]]:
    first, second = Catalogue.open(database_url), Catalogue.open(database_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def throttle(cat: Catalogue, total: int = 1000) -> LoginThrottle:
    return LoginThrottle(
        cat,
        pair=Limit("pair", 3, WINDOW),
        client=Limit("client", 10, WINDOW),
        total=Limit("total", total, 60.0),
    )


def test_a_spray_of_made_up_names_is_limited_per_client(
    catalogues: tuple[Catalogue, Catalogue],
) -> None:
    first, second = catalogues
    a, b = throttle(first), throttle(second)
    allowed = [
        (a if n % 2 else b).attempt("10.0.0.1", f"user{n}", NOW + n / 100) is not None
        for n in range(30)
    ]
    assert allowed == [True] * 10 + [False] * 20  # both connections count into the same rows
    assert a.rows() <= 12  # total + client + one per allowed name: refused attempts add nothing
    assert a.attempt("10.0.0.2", "user1", NOW + 1) is not None  # another client is not blocked
    # the window ends: the client may try again, and the old rows go
    assert a.attempt("10.0.0.1", "user99", NOW + WINDOW + 2) is not None
    assert a.rows() <= 3


def test_pair_limit_and_success_forgives(catalogues: tuple[Catalogue, Catalogue]) -> None:
    t = throttle(catalogues[0])
    for n in range(3):
        assert t.attempt("10.0.0.1", "Ana", NOW + n) is not None
    assert t.attempt("10.0.0.1", "ana", NOW + 4) is None  # names compare case-insensitively
    assert t.attempt("10.0.0.1", "root", NOW + 4) is not None
    ok = t.attempt("10.0.0.3", "ana", NOW + 5)
    assert ok is not None
    t.succeeded(ok)
    for n in range(3):  # a success starts the pair afresh
        assert t.attempt("10.0.0.3", "ana", NOW + 6 + n) is not None


def test_total_limit_over_many_clients(catalogues: tuple[Catalogue, Catalogue]) -> None:
    t = throttle(catalogues[0], total=20)
    allowed = [t.attempt(f"10.1.{n}.1", f"x{n}", NOW) is not None for n in range(30)]
    assert allowed == [True] * 20 + [False] * 10
    ok = t.attempt("10.2.0.1", "ana", NOW + 61)  # the total window (60 s) is over
    assert ok is not None
    t.succeeded(ok)  # a success gives its place in the total back
    assert [t.attempt(f"10.3.{n}.1", "y", NOW + 62) is not None for n in range(21)].count(
        True
    ) == 20
