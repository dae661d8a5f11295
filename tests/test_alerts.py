"""Alerts to the webhook (archive_ingest.monitoring.alerts) against a real HTTP receiver on
127.0.0.1 (tests/support/webhook.py), and the Markdown of the runs' Prefect artifacts.

- an alert's payload: kind, summary, counts, bounded item ids, run, time, review queue link;
- a receiver that is down, slow or failing: delivery gives up within its bound, never raises,
  and the one warning names neither the URL nor its token (httpx's own request lines neither);
- ``alerts check``: an item left in progress past stalled_after_hours is one stuck_state alert
  (exit 1), nothing stuck is exit 0 and no alert;
- the webhook URL is a secret: ``config`` masks it, a bad one is refused without quoting it;
- the artifact table: a title with ``|`` and Markdown punctuation stays one cell.
The alerts of real runs (ingest, audit) and their artifacts: tests/test_alerts_e2e.py.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.schema import Item
from archive_ingest.cli import app
from archive_ingest.models import State
from archive_ingest.monitoring import stuck
from archive_ingest.monitoring.alerts import (
    ATTEMPTS,
    MAX_ITEMS,
    RunInfo,
    delivery_deadline,
    make_alert,
    send_alert,
)
from archive_ingest.monitoring.artifacts import artifact_key, items_markdown, md_escape
from archive_ingest.monitoring.item_alerts import item_alerts, send_under_replicated
from archive_ingest.settings import Settings, reset_settings_cache
from tests.support.ports import free_port
from tests.support.webhook import WebhookReceiver

TOKEN = "tok-7f3a9c1e5b2d"


def _settings(settings: Settings, url: str, **more: object) -> Settings:
    return settings.model_copy(update={"alert_webhook_url": SecretStr(url), **more})


def test_an_alert_carries_kind_summary_counts_bounded_items_run_and_review_link(
    settings: Settings,
) -> None:
    with WebhookReceiver() as hook:
        url = hook.url(f"/hooks/{TOKEN}")
        configured = _settings(settings, url, web_base_url="https://archive.example.org")
        results = [
            {"id": f"item-{n:03d}", "source": f"s:{n}", "state": "failed", "reasons": ["x"]}
            for n in range(MAX_ITEMS + 10)
        ] + [{"id": "ok-1", "source": "s:ok", "state": "deposited", "version": 1}]
        run = RunInfo(id="run-1", name="brave-otter", flow="ingest-item")
        [alert] = item_alerts(configured, results, run=run, batch="ingest")
        assert send_alert(configured, alert) is True
        [body] = hook.bodies()
    assert hook.received[0].path == f"/hooks/{TOKEN}"
    assert body["kind"] == "failed_items" and body["source"] == "archive-ingest"
    assert body["summary"] == f"{MAX_ITEMS + 10} of {MAX_ITEMS + 11} item(s) failed in ingest"
    assert body["text"].endswith(body["summary"])
    assert body["counts"] == {"failed": MAX_ITEMS + 10, "deposited": 1, "total": MAX_ITEMS + 11}
    assert body["items"] == [f"item-{n:03d}" for n in range(MAX_ITEMS)]
    assert body["items_total"] == MAX_ITEMS + 10 and len(body["details"]) == MAX_ITEMS
    assert body["details"][0] == {"item": "item-000", "source": "s:0", "reason": "x"}
    assert body["run"] == {"id": "run-1", "name": "brave-otter", "flow": "ingest-item"}
    assert body["review_url"] == "https://archive.example.org/review/"
    sent = dt.datetime.fromisoformat(body["time"])
    assert abs((dt.datetime.now(dt.UTC) - sent).total_seconds()) < 60


def test_under_replicated_items_are_their_own_alert_with_the_copies_line(
    settings: Settings,
) -> None:
    results = [
        {"id": "a", "source": "s:a", "state": "failed", "reasons": ["HTTP 404"]},
        {
            "id": "b",
            "source": "s:b",
            "state": "under_replicated",
            "version": 2,
            "reasons": ["deposit ok", "copies: stored on 1 of 2 targets (t2: down)"],
        },
    ]
    alerts = item_alerts(settings, results, run=RunInfo.command("ingest"), batch="ingest")
    assert [a.kind for a in alerts] == ["failed_items", "under_replicated"]
    assert alerts[1].items == ["b"]
    assert alerts[1].details == [
        {
            "item": "b",
            "source": "s:b",
            "version": "2",
            "reason": "stored on 1 of 2 targets (t2: down)",
        }
    ]
    assert alerts[1].review_url is None  # no web_base_url: no link
    assert alerts[0].run.name == "archive-ingest ingest" and alerts[0].run.id
    assert item_alerts(settings, results[:0], run=RunInfo(), batch="x") == []


def _no_secret_in(records: list[logging.LogRecord], url: str) -> None:
    lines = [r.getMessage() for r in records]
    assert not [line for line in lines if TOKEN in line or url in line], lines


def test_a_receiver_that_is_down_never_raises_and_the_warning_has_no_url(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/{TOKEN}"  # nothing listens there
    configured = _settings(settings, url, alert_timeout=1.0)
    alert = make_alert(configured, "stuck_state", "1 item stuck", run=RunInfo(), items=["x"])
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    assert send_alert(configured, alert) is False
    assert time.monotonic() - started < 5  # refused at once, 3 attempts, 1.5 s of back-off
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "alert stuck_state" in warnings[0].getMessage()
    assert "ConnectError" in warnings[0].getMessage()
    _no_secret_in(caplog.records, url)


def test_a_slow_receiver_is_given_up_within_the_bound(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with WebhookReceiver(delay=3.0) as hook:
        url = hook.url(f"/hooks/{TOKEN}")
        configured = _settings(settings, url, alert_timeout=0.4)
        alert = make_alert(configured, "failed_items", "1 failed", run=RunInfo(), items=["x"])
        caplog.set_level(logging.DEBUG)
        started = time.monotonic()
        assert send_alert(configured, alert) is False
        took = time.monotonic() - started
        assert len(hook.received) == ATTEMPTS  # tried again after each timeout
    assert took < ATTEMPTS * 0.4 + 1.5 + 2.0, took
    assert "ReadTimeout" in caplog.text
    _no_secret_in(caplog.records, url)


def test_a_receiver_trickling_its_answer_is_given_up_at_the_deadline(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx's timeout bounds each read, not the request: a byte every 0.2 s never times out
    (alert_timeout 0.4 s); the delivery is given up at its deadline all the same."""
    with WebhookReceiver(status=200, trickle=0.2) as hook:
        url = hook.url(f"/hooks/{TOKEN}")
        configured = _settings(settings, url, alert_timeout=0.4)
        alert = make_alert(configured, "failed_items", "1 failed", run=RunInfo(), items=["x"])
        caplog.set_level(logging.DEBUG)
        started = time.monotonic()
        assert send_alert(configured, alert) is False
        took = time.monotonic() - started
        assert len(hook.received) == 1  # the one attempt still reading
    deadline = delivery_deadline(configured)
    assert deadline == ATTEMPTS * 0.4 + 1.5 + 0.5  # the attempts, the back-offs, the margin
    assert deadline - 0.1 <= took < deadline + 1.0, took
    assert "delivery deadline" in caplog.text
    _no_secret_in(caplog.records, url)


def test_httpx_lines_are_hidden_for_the_url_as_httpx_writes_it(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A host in mixed case and a path httpx %-encodes: its request line names the URL in
    its own form (lower case, %20), which is hidden as well, on httpx's and httpcore's loggers
    (children such as httpcore.http11 included)."""
    with WebhookReceiver() as hook:
        url = f"http://LocalHost:{hook.port}/hooks/{TOKEN}/a b"
        configured = _settings(settings, url)
        caplog.set_level(logging.DEBUG)
        for name in ("httpx", "httpcore"):
            caplog.set_level(logging.DEBUG, logger=name)
        alert = make_alert(configured, "failed_items", "x", run=RunInfo())
        assert send_alert(configured, alert) is True
        assert hook.received[0].path == f"/hooks/{TOKEN}/a%20b"
    assert any(r.name.startswith("httpcore.") for r in caplog.records)  # they did log
    _no_secret_in(caplog.records, url)
    assert not [r for r in caplog.records if TOKEN in r.getMessage()]


@pytest.mark.parametrize(("status", "attempts"), [(503, ATTEMPTS), (404, 1)])
def test_a_failing_receiver_is_retried_only_when_a_retry_can_help(
    settings: Settings, caplog: pytest.LogCaptureFixture, status: int, attempts: int
) -> None:
    with WebhookReceiver(status=status) as hook:
        url = hook.url(f"/hooks/{TOKEN}")
        configured = _settings(settings, url)
        alert = make_alert(configured, "audit_finding", "damage", run=RunInfo())
        caplog.set_level(logging.DEBUG)
        assert send_alert(configured, alert) is False
        assert len(hook.received) == attempts
    assert f"HTTP {status}" in caplog.text
    _no_secret_in(caplog.records, url)


def test_a_delivered_alert_leaves_no_url_in_the_logs_even_at_debug(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with WebhookReceiver() as hook:
        url = hook.url(f"/hooks/{TOKEN}")
        configured = _settings(settings, url)
        caplog.set_level(logging.DEBUG)
        # httpx logs "HTTP Request: POST <url> ..." at INFO: that line must not appear
        logging.getLogger("httpx").setLevel(logging.DEBUG)
        alert = make_alert(configured, "failed_items", "x", run=RunInfo())
        assert send_alert(configured, alert) is True
    _no_secret_in(caplog.records, url)


def test_no_webhook_means_no_alert(settings: Settings) -> None:
    alert = make_alert(settings, "failed_items", "x", run=RunInfo())
    assert settings.alert_webhook_url is None
    assert send_alert(settings, alert) is False


def test_the_webhook_url_is_masked_and_a_bad_one_is_refused_without_quoting_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"https://hooks.example.org/services/{TOKEN}"
    monkeypatch.setenv("ARCHIVE_INGEST_ALERT_WEBHOOK_URL", url)
    reset_settings_cache()
    shown = CliRunner().invoke(app, ["config"])
    assert shown.exit_code == 0, shown.output
    config = json.loads(shown.stdout)
    assert config["alert_webhook_url"] not in (None, url)
    assert TOKEN not in shown.stdout + shown.stderr
    monkeypatch.setenv("ARCHIVE_INGEST_ALERT_WEBHOOK_URL", f"ftp://hooks.example.org/{TOKEN}")
    reset_settings_cache()
    refused = CliRunner().invoke(app, ["config"])
    assert refused.exit_code == 2
    assert "alert_webhook_url" in refused.stderr and TOKEN not in refused.stderr
    reset_settings_cache()


def _stuck_item(settings: Settings, record_id: str, hours: float) -> None:
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        catalogue.ensure_item(record_id, source=f"file:{record_id}.pdf", source_kind="file")
        version = catalogue.new_version(record_id, original_sha256=None, work_dir=None)
        catalogue.set_state(record_id, State.OCR_DONE, [], version=version)
        with catalogue.session() as session:
            item = session.get(Item, record_id)
            assert item is not None
            item.updated_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
    finally:
        catalogue.close()


def test_alerts_check_sends_one_stuck_state_alert_naming_the_stuck_item(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    _stuck_item(settings, "fresh-1", hours=0.1)
    with WebhookReceiver() as hook:
        monkeypatch.setenv("ARCHIVE_INGEST_ALERT_WEBHOOK_URL", hook.url(f"/h/{TOKEN}"))
        reset_settings_cache()
        calm = runner.invoke(app, ["alerts", "check"])
        assert calm.exit_code == 0, calm.output
        assert json.loads(calm.stdout)["stuck"] == [] and hook.received == []

        _stuck_item(settings, "old-1", hours=7)  # stalled_after_hours is 6
        result = runner.invoke(app, ["alerts", "check"])
        assert result.exit_code == 1, result.output
        report = json.loads(result.stdout)
        assert [s["record_id"] for s in report["stuck"]] == ["old-1"]
        assert report["alert_delivered"] is True and report["threshold_hours"] == 6.0
        [body] = hook.bodies()
    assert body["kind"] == "stuck_state" and body["items"] == ["old-1"]
    assert body["counts"] == {"stuck": 1}
    assert "ocr_done since" in body["details"][0]["detail"]
    assert body["run"]["name"] == "archive-ingest alerts check"
    assert TOKEN not in result.stdout + result.stderr
    reset_settings_cache()


def test_alerts_check_neither_migrates_nor_calls_a_database_error_stuck(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty database (no schema): the check does not create one (it only reads), and the
    failed query is a configuration error (exit 2, one line), not "stuck" (exit 1) with a
    traceback."""
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    monkeypatch.setenv("ARCHIVE_INGEST_DATABASE_URL", f"sqlite:///{empty}")
    reset_settings_cache()
    result = CliRunner().invoke(app, ["alerts", "check"])
    reset_settings_cache()
    assert result.exit_code == 2, result.output
    assert "cannot read the catalogue database (OperationalError)" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.output
    with sqlite3.connect(empty) as db:
        assert db.execute("select count(*) from sqlite_master").fetchone() == (0,)


def test_deposit_approved_alerts_on_an_item_it_could_not_deposit(
    seaweed_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command alerts as its deployment's flow run does: an approved item whose deposit
    fails (here: its version has no work folder) is one failed_items alert. SeaweedFS: the
    session's."""
    catalogue = Catalogue.open(seaweed_settings.effective_database_url)
    try:
        catalogue.ensure_item("appr-1", source="file:appr-1.pdf", source_kind="file")
        version = catalogue.new_version("appr-1", original_sha256=None, work_dir=None)
        catalogue.set_state("appr-1", State.APPROVED, [], version=version)
    finally:
        catalogue.close()
    with WebhookReceiver() as hook:
        monkeypatch.setenv("ARCHIVE_INGEST_ALERT_WEBHOOK_URL", hook.url(f"/h/{TOKEN}"))
        reset_settings_cache()
        result = CliRunner().invoke(app, ["deposit-approved"])
        reset_settings_cache()
        assert result.exit_code == 1, result.output
        assert json.loads(result.stdout)["state"] == "failed"
        [body] = hook.bodies()
    assert body["kind"] == "failed_items" and body["items"] == ["appr-1"]
    assert "deposit-approved" in body["summary"]
    assert body["run"]["name"] == "archive-ingest deposit-approved"


def test_a_count_cut_at_the_listing_cap_says_at_least(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = [{"id": i, "source": f"s:{i}", "state": "failed"} for i in ("a", "b")]
    [whole] = item_alerts(settings, results, run=RunInfo(), batch="x")
    assert whole.summary.startswith("2 of 2 item(s)")
    [cut] = item_alerts(settings, results, run=RunInfo(), batch="x", capped=True)
    assert cut.summary.startswith("at least 2 item(s)")
    _stuck_item(settings, "old-a", hours=8)
    _stuck_item(settings, "old-b", hours=7)
    monkeypatch.setattr(stuck, "MAX_LISTED", 2)  # the cap, reached with two items
    with WebhookReceiver() as hook:
        configured = _settings(settings, hook.url(f"/h/{TOKEN}"))
        report = stuck.check_stuck(configured, run=RunInfo())
        [body] = hook.bodies()
    assert len(report["stuck"]) == 2
    assert body["summary"].startswith("at least 2 item(s) left in a non-terminal state")


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells, split at the unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_the_artifact_table_escapes_markdown_and_links_held_items(settings: Settings) -> None:
    configured = settings.model_copy(update={"web_base_url": "https://archive.example.org"})
    results = [
        {
            "id": "scielo-books-x-01",
            "source": "s:1",
            "state": "needs_review",
            "version": 3,
            "reasons": ["licence | unclear *maybe* <b>bold</b>\nsecond line", "y" * 400],
        },
        {"id": None, "source": "file:a|b.pdf", "state": "failed", "reasons": []},
    ]
    text = items_markdown(configured, "Batch | of [today]", results)
    lines = text.splitlines()
    assert lines[0] == r"# Batch \| of \[today\]"
    rows = [line for line in lines if line.startswith("| ")]
    header, *body = rows
    assert _cells(header) == ["item", "state", "version", "reasons", "review"]
    assert len(body) == 2 and all(len(_cells(r)) == 5 for r in body)
    first = _cells(body[0])
    assert first[:3] == ["scielo-books-x-01", r"needs\_review", "v3"]
    assert r"licence \| unclear \*maybe\* \<b\>bold\</b\> second line" in first[3]
    assert len(first[3]) < 200 and first[3].endswith("…")  # shortened
    assert first[4] == "[review](<https://archive.example.org/review/item/scielo-books-x-01>)"
    assert _cells(body[1])[0] == r"file:a\|b.pdf" and _cells(body[1])[4] == ""
    assert "1 item(s) wait for review" in text and "/review/>)" in text
    assert md_escape("a\\|b") == r"a\\\|b"


def test_artifact_keys_are_what_prefect_accepts() -> None:
    assert artifact_key("fixity-audit", "outcomes") == "fixity-audit-outcomes"
    assert artifact_key("Harvest scielo-articles:SCL", "outcomes") == (
        "harvest-scielo-articles-scl-outcomes"
    )
    assert re.fullmatch(r"[a-z0-9-]+", artifact_key("ingest batch/é", "x"))


def test_replicate_alerts_on_what_the_catalogue_still_holds_under_replicated(
    settings: Settings,
) -> None:
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        for record_id, state in (("short-1", State.UNDER_REPLICATED), ("whole-1", State.DEPOSITED)):
            catalogue.ensure_item(record_id, source=f"file:{record_id}.pdf", source_kind="file")
            version = catalogue.new_version(record_id, original_sha256=None, work_dir=None)
            catalogue.set_state(
                record_id, state, ["copies: stored on 1 of 2 targets"], version=version
            )
        with WebhookReceiver() as hook:
            configured = _settings(settings, hook.url(f"/h/{TOKEN}"))
            run = RunInfo.command("replicate")
            assert send_under_replicated(configured, catalogue, run=run) is True
            [body] = hook.bodies()
        assert send_under_replicated(settings, catalogue, run=run) is False  # no webhook
    finally:
        catalogue.close()
    assert body["kind"] == "under_replicated" and body["items"] == ["short-1"]
    assert body["details"][0]["reason"] == "stored on 1 of 2 targets"
    assert body["run"]["name"] == "archive-ingest replicate"
