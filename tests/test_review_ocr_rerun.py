"""An OCR re-run asked for in the review UI is a Prefect flow run, for real: a real
`archive-ingest serve` process, a real HTTP client, the session's Prefect server, real OCR and
SeaweedFS. First without any deployment (the flow runs in the web process, still a flow run on
the Prefect API), then with the ``rerun-ocr`` deployment served by
`python -m flows.deployments serve` (the web process only creates the flow run)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from flows.review import launch, rerun_ocr
from prefect.settings import PREFECT_API_URL, temporary_settings

from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.ingest.services import Services
from archive_ingest.review import actions
from archive_ingest.settings import Settings
from tests.support.ports import free_port
from tests.support.review import PASSWORD, csrf_of, make_user
from tests.support.serve import serve_process

REPO = Path(__file__).resolve().parent.parent
BY_SA = "https://creativecommons.org/licenses/by-nc-sa/3.0/"


def _ask_for_ocr(base: str, record_id: str, languages: str) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=120) as client:
        page = client.get("/review/login")
        client.post(
            "/review/login",
            data={
                "username": "ana",
                "password": PASSWORD,
                "csrf_token": csrf_of(page.text),
                "next": "/review/",
            },
        )
        item = client.get(f"/review/item/{record_id}")
        assert item.status_code == 200, item.text[:300]
        return client.post(
            f"/review/item/{record_id}/ocr",
            data={"csrf_token": csrf_of(item.text), "languages": languages, "note": "Spanish"},
        )


def _flow_runs(api: str, flow_name: str) -> list[dict[str, Any]]:
    body = {"flows": {"name": {"any_": [flow_name]}}, "sort": "EXPECTED_START_TIME_ASC"}
    response = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30)
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def _run_ids(api: str, record_id: str, version: int) -> set[str]:
    """The ids of the rerun-ocr flow runs for ``record_id`` ``version`` so far."""
    wanted = {"record_id": record_id, "version": version, "deposit": True}
    return {run["id"] for run in _flow_runs(api, "rerun-ocr") if run["parameters"] == wanted}


def _wait_completed(
    api: str, record_id: str, version: int, before: set[str], timeout: float = 900
) -> dict[str, Any]:
    """The one new rerun-ocr flow run for ``record_id`` ``version`` (not one of ``before``),
    once it is in a final state. Found by its parameters, never by its position: the Prefect
    server is the whole test session's, and other tests (the browser test) start re-runs of
    the same sample record too."""
    wanted = {"record_id": record_id, "version": version, "deposit": True}
    deadline = time.monotonic() + timeout
    while True:
        runs = [
            run
            for run in _flow_runs(api, "rerun-ocr")
            if run["parameters"] == wanted and run["id"] not in before
        ]
        assert len(runs) <= 1, f"more than one new rerun-ocr flow run: {runs}"
        if runs and runs[0]["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return runs[0]
        assert time.monotonic() < deadline, f"no final rerun-ocr flow run: {runs}"
        time.sleep(2)


def _task_names(api: str, flow_run_id: str) -> set[str]:
    body = {"flow_runs": {"id": {"any_": [flow_run_id]}}}
    response = httpx.post(f"{api}/task_runs/filter", json=body, timeout=30)
    response.raise_for_status()
    return {run["name"].rsplit("-", 1)[0] for run in response.json()}  # "ocr-a1b", ...


def _check_version(settings: Settings, record_id: str, version: int) -> None:
    cat = Catalogue.open(settings.effective_database_url)
    try:
        item = cat.get_item(record_id)
        assert item is not None
        assert (item.current_version, item.state, item.deposited_version) == (
            version,
            "deposited",
            version,
        ), (item.state, item.reasons)
        row = cat.get_version(record_id, version)
        assert row is not None and row.summary["receipt"]["key"]
        assert row.summary["ocr"]["languages"]
        events = [e.detail for e in cat.events(record_id, version)]
        assert any("OCR re-run requested by ana with es" in d for d in events), events
    finally:
        cat.close()
    svc = Services.open(settings)
    try:
        report = svc.workspace(record_id).data_dir(version) / "ocr" / "ocr-report.json"
        assert "spa" in json.dumps(json.loads(report.read_text("utf-8")))
    finally:
        svc.close()


def test_ocr_rerun_from_the_review_ui_is_a_prefect_flow_run(
    held: tuple[Settings, str],
    seaweed: Any,
    prefect_api_url: str,
) -> None:
    settings, record_id = held
    user = make_user(settings, "ana")
    svc = Services.open(settings)
    try:  # deposited first, so each re-run ends in a new deposited version
        assert actions.approve(svc, record_id, user, "ok", licence_uri=BY_SA).state == "deposited"
    finally:
        svc.close()
    db = settings.effective_database_url

    # 1. no deployment registered: the web process runs the flow, on the Prefect API
    _delete_deployment(prefect_api_url)  # left by nobody, but the server is the session's
    before = _run_ids(prefect_api_url, record_id, 2)
    with serve_process(settings.home, db) as base:
        answer = _ask_for_ocr(base, record_id, "es")
        assert answer.status_code == 303, answer.text[:500]  # to the item page, no error
        run = _wait_completed(prefect_api_url, record_id, 2, before)
    assert run["state"]["type"] == "COMPLETED", run["state"]
    assert run["deployment_id"] is None
    assert run["parameters"] == {"record_id": record_id, "version": 2, "deposit": True}
    assert {"ocr", "describe", "package", "finish"} <= _task_names(prefect_api_url, run["id"])
    _check_version(settings, record_id, 2)

    # 2. the rerun-ocr deployment served: the web process only creates its flow run
    log = (settings.home / "deployments.log").open("wb")
    runner = subprocess.Popen(
        [sys.executable, "-m", "flows.deployments", "serve", "--only", "rerun-ocr"],
        cwd=REPO,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _deployment(prefect_api_url):
            assert runner.poll() is None, (settings.home / "deployments.log").read_text()
            assert time.monotonic() < deadline, "the rerun-ocr deployment was not registered"
            time.sleep(1)
        deployment_id = _deployment(prefect_api_url)
        before = _run_ids(prefect_api_url, record_id, 3)
        with serve_process(settings.home, db) as base:
            answer = _ask_for_ocr(base, record_id, "es")
            assert answer.status_code == 303, answer.text[:500]
            run = _wait_completed(prefect_api_url, record_id, 3, before)
    finally:
        os.killpg(runner.pid, signal.SIGTERM)
        runner.wait(timeout=60)
        log.close()
        # the deployment outlives its runner on the session's server: later launches would
        # create flow runs of it that no worker picks up
        _delete_deployment(prefect_api_url)
    assert run["state"]["type"] == "COMPLETED", run["state"]
    assert run["deployment_id"] == deployment_id
    assert run["parameters"] == {"record_id": record_id, "version": 3, "deposit": True}
    _check_version(settings, record_id, 3)

    # a flow run run again: a finished version is left as it is, a superseded one untouched
    assert rerun_ocr(record_id=record_id, version=3, deposit=True)["state"] == "deposited"
    with pytest.raises(ArchiveIngestError, match="not the item's current version"):
        rerun_ocr(record_id=record_id, version=2, deposit=True)
    _check_version(settings, record_id, 3)


def _deployment(api: str) -> str | None:
    response = httpx.get(f"{api}/deployments/name/rerun-ocr/rerun-ocr", timeout=30)
    return str(response.json()["id"]) if response.status_code == 200 else None


def _delete_deployment(api: str) -> None:
    deployment_id = _deployment(api)
    if deployment_id is not None:
        httpx.delete(f"{api}/deployments/{deployment_id}", timeout=30).raise_for_status()
    assert _deployment(api) is None


def test_an_ocr_rerun_that_cannot_reach_prefect_fails_its_version(
    held: tuple[Settings, str],
) -> None:
    """Prefect down when the archivist asks: the opened version ends failed with the reason
    (transient), never left 'in progress' with nobody running it."""
    settings, record_id = held
    user = make_user(settings, "bea")
    dead = f"http://127.0.0.1:{free_port()}/api"
    svc = Services.open(settings)
    try:
        with (
            temporary_settings({PREFECT_API_URL: dead}),
            pytest.raises(actions.ReviewError, match="could not be started"),
        ):
            actions.start_ocr_rerun(svc, record_id, user, ["es"], "", launch)
        item = svc.catalogue.get_item(record_id)
        assert item is not None
        assert (item.state, item.current_version) == ("failed", 2)
        assert "could not be started" in item.reasons[0]
        [end] = [e for e in svc.catalogue.events(record_id, 2) if e.event_type == "ingestion end"]
        assert end.outcome_detail["transient"] is True
    finally:
        svc.close()
