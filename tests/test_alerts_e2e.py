"""Alerts and Prefect artifacts of real runs, with a real HTTP receiver on 127.0.0.1.

- ``archive-ingest ingest`` (a subprocess on the session Prefect server, SeaweedFS, the local
  SciELO server) of an item that fails delivers exactly one ``failed_items`` alert naming it;
  the webhook URL and its token appear nowhere in the command's output, at ``--verbose``
  either; the item's ``ingest-item`` flow run has a Markdown artifact, read back from the
  Prefect API, whose table row names the item and its state;
- a webhook that is down or slow changes nothing about the run (same result, same exit
  code), and the one warning names neither URL nor token;
- the ``fixity-audit`` flow after a byte flipped on disk (tests/support/damage.py) delivers
  one ``audit_finding`` alert (by target and kind) carrying its flow run's id, and that flow
  run's artifact lists the damaged copy; the token is in neither that artifact nor the flow
  run's logs on the Prefect API;
- the ``ingest-batch`` flow (a harvest's batch runner) on failing items: one alert from the
  batch, none from its items' subflow runs, and the batch run's artifact has their rows.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterStartTime,
)
from prefect.client.schemas.objects import Artifact
from prefect.client.schemas.sorting import FlowRunSort
from prefect.logging.handlers import APILogWorker
from prefect.settings import PREFECT_API_URL, temporary_settings

from archive_ingest.models import Digests
from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest_demo.scielo_sample import SampleScieloServer
from tests.support.cli import cli_env, json_lines, run_cli
from tests.support.damage import flip_stored_bytes
from tests.support.deposited import deposit_generated
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv
from tests.support.ports import free_port
from tests.support.webhook import WebhookReceiver

pytestmark = pytest.mark.slow

TOKEN = "tok-e2e-51c0ffee"
REF = "scielo-books:37t/05"  # not in the sample server's catalogue: the fetch fails (404)
RECORD = "scielo-books-37t-05"
BASE = "https://archive.example.org"


def _artifacts(api: str, flow_run_ids: list[str]) -> list[Artifact]:
    """The artifacts of these flow runs, read back from the Prefect API. Through its HTTP
    route: the pinned client sends ``flow_runs``/``task_runs`` as null, which the pinned
    server refuses (422), and an empty task-run filter would drop artifacts made outside a
    task (the server keeps no task runs)."""
    body = {"artifacts": {"flow_run_id": {"any_": flow_run_ids}}, "sort": "CREATED_DESC"}
    response = httpx.post(f"{api}/artifacts/filter", json=body, timeout=30)
    response.raise_for_status()
    return Artifact.model_validate_list(response.json())


def _ingest_runs(api: str, since: dt.datetime) -> list[str]:
    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["ingest-item"])),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
            sort=FlowRunSort.START_TIME_ASC,
            limit=50,
        )
    return [str(r.id) for r in runs if (r.parameters or {}).get("ref") == REF]


def _env(server: SampleScieloServer, api: str, url: str, **more: str) -> dict[str, str]:
    return cli_env(
        server,
        api,
        ARCHIVE_INGEST_ALERT_WEBHOOK_URL=url,
        ARCHIVE_INGEST_WEB_BASE_URL=BASE,
        ARCHIVE_INGEST_FETCH_RETRIES="0",
        **more,
    )


def test_a_failed_ingest_is_one_failed_items_alert_and_an_artifact_without_the_url(
    scielo_server: SampleScieloServer, seaweed_settings: Settings, prefect_api_url: str
) -> None:
    since = dt.datetime.now(dt.UTC)
    with WebhookReceiver() as hook:
        url = hook.url(f"/hooks/{TOKEN}")
        proc = run_cli(_env(scielo_server, prefect_api_url, url), "--verbose", "ingest", REF)
        bodies = hook.bodies()
    assert proc.returncode == 1, proc.stderr[-2000:]
    (result,) = json_lines(proc)
    assert result["state"] == "failed" and result["id"] == RECORD

    [alert] = bodies  # exactly one
    assert alert["kind"] == "failed_items"
    assert alert["items"] == [RECORD] and alert["items_total"] == 1
    assert alert["counts"] == {"failed": 1, "total": 1}
    assert alert["details"][0]["reason"] == result["reasons"][0][:240]
    assert alert["run"]["name"] == "archive-ingest ingest" and alert["run"]["id"]
    assert alert["review_url"] == f"{BASE}/review/"
    assert hook.received[0].path == f"/hooks/{TOKEN}"

    output = proc.stdout + proc.stderr
    assert "INFO" in proc.stderr  # --verbose: the INFO lines (httpx's among them) were on
    assert TOKEN not in output and url not in output

    runs = _ingest_runs(prefect_api_url, since)
    assert len(runs) == 1
    [artifact] = _artifacts(prefect_api_url, runs)
    assert artifact.key == "ingest-item-outcomes" and artifact.type == "markdown"
    rows = [line for line in str(artifact.data).splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| item | state | version | reasons |")
    assert rows[1].startswith(f"| {RECORD} | failed |"), rows
    assert TOKEN not in str(artifact.data)


@pytest.mark.parametrize("receiver", ["down", "slow"])
def test_a_webhook_that_is_down_or_slow_does_not_change_the_run(
    receiver: str,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
) -> None:
    with WebhookReceiver(delay=5.0) as slow:
        url = (
            f"http://127.0.0.1:{free_port()}/hooks/{TOKEN}"  # nothing listens there
            if receiver == "down"
            else slow.url(f"/hooks/{TOKEN}")
        )
        env = _env(scielo_server, prefect_api_url, url, ARCHIVE_INGEST_ALERT_TIMEOUT="0.5")
        started = time.monotonic()
        proc = run_cli(env, "ingest", REF)
        took = time.monotonic() - started
        attempts = len(slow.received)
    assert proc.returncode == 1, proc.stderr[-2000:]  # what a failed item gives, alert or not
    (result,) = json_lines(proc)
    assert result["state"] == "failed" and result["id"] == RECORD
    warning = [line for line in proc.stderr.splitlines() if "not delivered" in line]
    assert len(warning) == 1, proc.stderr[-2000:]
    assert "alert failed_items" in warning[0]
    cause = "ConnectError" if receiver == "down" else "ReadTimeout"
    assert cause in warning[0]
    assert TOKEN not in proc.stdout + proc.stderr and url not in proc.stdout + proc.stderr
    if receiver == "slow":
        assert attempts == 3
        assert took < 120, took  # 3 x 0.5 s + 1.5 s of back-off on top of the ingest


BagMaker = Callable[..., tuple[Path, dict[str, Digests]]]


def test_an_audit_finding_is_an_alert_and_the_flow_runs_artifact_lists_it(
    seaweed_trio: list[SeaweedServer],
    targets_env: TargetsEnv,
    storage_bag: BagMaker,
    prefect_api_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows.audit import AuditFailed, fixity_audit  # Prefect once its server is up

    settings = targets_env(seaweed_trio[:2])
    record_id = f"alert-{uuid.uuid4().hex[:10]}"
    payload = {"a.bin": os.urandom(7_000), "b|c.bin": os.urandom(8_000)}
    outcomes = deposit_generated(settings, storage_bag, record_id, payload)
    receipt = next(o.receipt for o in outcomes if o.target == "t1" and o.receipt is not None)
    key = next(o.key for o in receipt.objects if o.path == "data/a.bin")
    flip_stored_bytes(seaweed_trio[0], payload["a.bin"], key=key)  # t1, under an intact ETag

    with WebhookReceiver() as hook:
        monkeypatch.setenv("ARCHIVE_INGEST_ALERT_WEBHOOK_URL", hook.url(f"/hooks/{TOKEN}"))
        reset_settings_cache()
        with pytest.raises(AuditFailed, match="on t1"):
            fixity_audit(full=True, max_bytes=10**9)
        bodies = hook.bodies()
    reset_settings_cache()

    [alert] = bodies  # the audit's; nothing is stuck, so no stuck_state alert
    assert alert["kind"] == "audit_finding"
    assert alert["counts"] == {"t1:content-mismatch": 1}
    assert alert["items"] == [record_id]
    assert alert["details"] == [
        {
            "target": "t1",
            "item": record_id,
            "version": "1",
            "kind": "content-mismatch",
            "key": key,
            "detail": alert["details"][0]["detail"],
        }
    ]
    assert "1 of 2 copies damaged or missing" in alert["summary"]
    assert alert["run"]["flow"] == "fixity-audit" and alert["run"]["name"]

    artifacts = _artifacts(prefect_api_url, [alert["run"]["id"]])
    [artifact] = [a for a in artifacts if a.key == "fixity-audit-outcomes"]
    assert artifact.type == "markdown", [(a.key, a.type) for a in artifacts]
    text = str(artifact.data)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| target | item | version | kind | key | detail |"
    assert len(rows) == 2 and rows[1].startswith(f"| t1 | {record_id} | 1 | content-mismatch |")
    assert "t2: 1/1 copies ok" in text
    APILogWorker.drain_all(timeout=30)  # the run's logs are sent in the background
    logs = httpx.post(
        f"{prefect_api_url}/logs/filter",
        json={"logs": {"flow_run_id": {"any_": [alert["run"]["id"]]}}, "limit": 200},
        timeout=30,
    )
    logs.raise_for_status()
    assert logs.json(), "the flow run's logs were read back"
    assert TOKEN not in logs.text and TOKEN not in text


def test_a_batch_flow_alerts_once_for_its_items_and_its_artifact_has_their_rows(
    harvest_env: Settings, prefect_api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``ingest-batch`` flow (the harvest's batch runner) on two failing REFs: one
    ``failed_items`` alert from the batch's flow run naming both; the items' own
    ``ingest-item`` subflow runs raise none (they are not standalone deployment runs)."""
    from flows.harvest import ingest_batch  # Prefect once its server is up

    refs = [REF, "scielo-books:37t/06"]
    with WebhookReceiver() as hook:
        monkeypatch.setenv("ARCHIVE_INGEST_ALERT_WEBHOOK_URL", hook.url(f"/hooks/{TOKEN}"))
        monkeypatch.setenv("ARCHIVE_INGEST_WEB_BASE_URL", BASE)
        reset_settings_cache()
        report = ingest_batch(refs=refs, concurrency=2)
        bodies = hook.bodies()
    reset_settings_cache()
    assert report["counts"] == {"failed": 2, "total": 2}, report
    [alert] = bodies
    assert alert["kind"] == "failed_items" and alert["run"]["flow"] == "ingest-batch"
    assert sorted(alert["items"]) == [RECORD, "scielo-books-37t-06"]
    assert alert["summary"] == "2 of 2 item(s) failed in ingest-batch"

    artifacts = _artifacts(prefect_api_url, [alert["run"]["id"]])
    [artifact] = [a for a in artifacts if a.key == "ingest-batch-outcomes"]
    rows = [line for line in str(artifact.data).splitlines() if line.startswith("| ")]
    assert sorted(r.split(" | ")[0] for r in rows[1:]) == [f"| {RECORD}", "| scielo-books-37t-06"]
    assert all(" | failed | " in r for r in rows[1:])
