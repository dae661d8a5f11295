"""monitoring/history.py: the health page's figures from the catalogue (SQLite and PostgreSQL),
on an archive of known shape (tests/support/health.py) and on an empty one; and the same
figures worked out row by row in Python (the oracle the browser test uses)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.monitoring import history
from archive_ingest.monitoring.figures import archive_figures
from tests.support.health import oracle, seed_archive

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def catalogue(database_url: str) -> Iterator[Catalogue]:
    cat = Catalogue.open(database_url)
    try:
        yield cat
    finally:
        cat.close()


def test_figures_of_a_known_archive(catalogue: Catalogue) -> None:
    seed_archive(catalogue, NOW)
    got = history.health_history(
        catalogue, ["primary"], archive_figures(catalogue, NOW), cycle_days=30
    )

    assert len(got.days) == 30
    assert got.days[0].day == dt.date(2026, 5, 17) and got.days[-1].day == dt.date(2026, 6, 15)
    busy = {
        d.day.isoformat(): {k: v for k, v in d.counts.items() if v} for d in got.days if d.total
    }
    assert busy == {
        "2026-06-15": {"deposited": 1},
        "2026-06-14": {"rejected": 1},
        "2026-06-13": {"failed": 1},
        "2026-06-12": {"deposited": 1},
        "2026-06-10": {"needs_review": 1},
        "2026-06-08": {"deposited": 1},
        "2026-05-26": {"deposited": 1},
    }  # health-rev-40 changed 40 days ago: outside the window

    assert [(b.label, b.count) for b in got.queue_ages] == [
        ("< 1 day", 0),
        ("1-3 days", 0),
        ("3-7 days", 1),
        ("7-30 days", 0),
        ("30+ days", 1),
    ]

    cover = {c.target: (c.within_cycle, c.objects, c.never_hashed) for c in got.coverage}
    assert cover == {"primary": (9, 12, 0), "offsite": (3, 6, 3)}
    assert [c.target for c in got.coverage] == ["primary", "offsite"]  # configured ones first

    copies = {c.target: c.model_dump(exclude={"target"}) for c in got.copies}
    assert copies == {
        "primary": {"verified": 3, "failed": 0, "damaged": 1, "lost": 0, "missing": 0},
        "offsite": {"verified": 2, "failed": 1, "damaged": 0, "lost": 0, "missing": 1},
    }


def test_oracle_agrees_with_the_queries(catalogue: Catalogue) -> None:
    seed_archive(catalogue, NOW)
    got = history.health_history(catalogue, [], archive_figures(catalogue, NOW), cycle_days=30)
    want = oracle(catalogue, NOW, 30)
    per_day = {(d.day, o): n for d in got.days for o, n in d.counts.items() if n}
    assert per_day == dict(want["per_day"])
    assert {b.label: b.count for b in got.queue_ages if b.count} == dict(want["queue"])
    assert {c.target: (c.within_cycle, c.objects) for c in got.coverage} == want["coverage"]
    copies = {
        c.target: {k: v for k, v in c.model_dump(exclude={"target"}).items() if v or k == "missing"}
        for c in got.copies
    }
    assert copies == want["copies"]


def test_a_shorter_cycle_counts_fewer_objects_as_covered(catalogue: Catalogue) -> None:
    seed_archive(catalogue, NOW)
    cover = history.rehash_coverage(catalogue, 7, NOW)
    assert (cover["primary"].within_cycle, cover["offsite"].within_cycle) == (3, 0)


def test_an_empty_archive(catalogue: Catalogue) -> None:
    got = history.health_history(
        catalogue, ["local-1", "local-2"], archive_figures(catalogue, NOW), cycle_days=30
    )
    assert len(got.days) == 30 and all(d.total == 0 for d in got.days)
    assert [b.count for b in got.queue_ages] == [0] * 5
    assert got.coverage == []
    assert [c.model_dump() for c in got.copies] == [
        {"target": name, "verified": 0, "failed": 0, "damaged": 0, "lost": 0, "missing": 0}
        for name in ("local-1", "local-2")
    ]
