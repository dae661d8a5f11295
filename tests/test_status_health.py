"""The health rules of `archive-ingest status` (monitoring/status_health.py) on hand-made
reports: what is down, what is degraded, what counts for neither; and the probes' deadline."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from archive_ingest.monitoring.prefect_runs import FlowRunInfo
from archive_ingest.monitoring.probes import (
    CatalogueService,
    PrefectService,
    ProbeTimeout,
    ToolCheck,
    at_once,
    sqlite_file,
)
from archive_ingest.monitoring.status_health import judged
from archive_ingest.monitoring.status_model import (
    LastRun,
    Queues,
    Services,
    StatusReport,
    TargetReport,
)
from archive_ingest.monitoring.status_view import age

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def safe_target(name: str, **changes: object) -> TargetReport:
    values: dict[str, object] = {
        "name": name,
        "endpoint": f"http://127.0.0.1:1/{name}",
        "bucket": "b",
        "up": True,
        "bucket_exists": True,
        "versioning": True,
        "object_lock": True,
        "copies": {"verified": 3},
    }
    values.update(changes)
    return TargetReport.model_validate(values)


def report(
    targets: list[TargetReport] | None = None, copies_required: int = 2, **changes: object
) -> StatusReport:
    values: dict[str, object] = {
        "generated_at": NOW,
        "health": "ok",
        "exit_code": 0,
        "services": Services(
            catalogue=CatalogueService(database="sqlite:///c", dialect="sqlite", up=True),
            tools=[ToolCheck(name="tesseract", stage="ocr", required=True, found=True)],
        ),
        "copies_required": copies_required,
        "targets": targets if targets is not None else [safe_target("t1"), safe_target("t2")],
        "queues": Queues(review=40, review_oldest_age_seconds=9 * 86400),
    }
    values.update(changes)
    return StatusReport.model_validate(values)


def outcome(r: StatusReport) -> tuple[str, int, list[str]]:
    j = judged(r)
    return j.health, j.exit_code, [p.what for p in j.problems]


def test_a_full_review_queue_alone_is_ok() -> None:
    assert outcome(report()) == ("ok", 0, [])


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (safe_target("t2", up=False, detail="refused"), "t2 (http://127.0.0.1:1/t2) does not"),
        (safe_target("t2", versioning=False), "bucket b has no versioning"),
        (safe_target("t2", object_lock=False), "bucket b has no Object Lock"),
        (safe_target("t2", bucket_exists=False, detail="404"), "bucket b is missing"),
    ],
)
def test_a_target_that_is_not_safe_to_write_to_is_down(target: TargetReport, words: str) -> None:
    health, code, problems = outcome(report([safe_target("t1"), target]))
    assert (health, code) == ("down", 1)
    assert any(words in p for p in problems), problems
    assert any("1 of 2 storage targets can take a copy" in p for p in problems), problems


def test_a_stopped_embedded_server_is_on_demand_not_down() -> None:
    stopped = safe_target("local-2", embedded=True, up=False, on_demand=True, versioning=None)
    assert outcome(report([safe_target("local-1"), stopped])) == ("ok", 0, [])


def test_down_wins_over_degraded_and_both_are_listed() -> None:
    r = report(
        queues=Queues(failed=2, stuck=1, stuck_after_hours=6),
        services=Services(
            catalogue=CatalogueService(database="sqlite:///c", dialect="sqlite", up=True),
            tools=[ToolCheck(name="weed", stage="storage", required=True, found=False)],
        ),
    )
    health, code, problems = outcome(r)
    assert (health, code) == ("down", 1)
    assert problems == [
        "weed (storage) is not installed",
        "2 items failed (see the review queue's failures)",
        "1 item stuck for more than 6 h (see `reconcile`)",
    ]


def test_what_waits_for_an_operator_is_degraded() -> None:
    targets = [
        safe_target("t1", copies={"verified": 3, "damaged": 1}, findings={"content-mismatch": 2}),
        safe_target("t2"),
    ]
    flow_runs = [
        FlowRunInfo(flow="fixity-audit", run="r1", state="Crashed", state_type="CRASHED"),
        FlowRunInfo(flow="ingest-item", run="r2", state="Cancelled", state_type="CANCELLED"),
    ]
    r = report(
        targets,
        last_runs=[
            LastRun(job="ingest", at=NOW, outcome="failed"),  # counted as a failed item instead
            LastRun(job="audit", at=NOW, outcome="failure"),
            LastRun(job="repair", at=NOW, outcome="success"),
        ],
    )
    r.services.prefect = PrefectService(mode="local", url="u", up=True, flow_runs=flow_runs)
    health, code, problems = outcome(r)
    assert (health, code) == ("degraded", 3)
    assert problems == [
        "the last audit run failed (2026-12-05 12:00 UTC)",
        "the last run of flow fixity-audit ended Crashed",
        "storage target t1: copies 1 damaged",
        "storage target t1: the audit found 2 damaged objects",
    ]


def test_a_catalogue_that_does_not_answer_is_down() -> None:
    r = report()
    r.services.catalogue = CatalogueService(
        database="postgresql://u:***@h/db", dialect="", up=False
    )
    assert outcome(r)[:2] == ("down", 1)


def test_probes_are_waited_for_until_the_deadline_only() -> None:
    release = threading.Event()
    started = time.monotonic()
    results = at_once(
        {"quick": lambda: 1, "stuck": lambda: release.wait(30), "broken": lambda: 1 / 0},
        deadline=time.monotonic() + 0.5,
    )
    took = time.monotonic() - started
    release.set()
    assert results["quick"] == 1
    assert isinstance(results["stuck"], ProbeTimeout)
    assert isinstance(results["broken"], ZeroDivisionError)
    assert 0.4 < took < 3


def test_ages_and_sqlite_files() -> None:
    assert [age(s) for s in (None, 42, 300, 3 * 3600 + 720, 4 * 86400 + 7300)] == [
        "-",
        "42 s",
        "5 min",
        "3 h 12 min",
        "4 d 2 h",
    ]
    assert str(sqlite_file("sqlite:////srv/a/catalogue.sqlite3")) == "/srv/a/catalogue.sqlite3"
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("postgresql://u:p@h/db") is None
