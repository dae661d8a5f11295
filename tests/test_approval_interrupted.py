"""An approval whose deposit is interrupted - the storage stopped, the process killed - leaves
the item ``approved`` (the state ``archive-ingest deposit-approved`` takes), never
``depositing``, which no queue shows and nothing resumes. Real parts: the pipeline holds a
chapter (real OCR), a real SeaweedFS is stopped, a real process is SIGKILLed mid-upload."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.harvest.approved import deposit_approved
from archive_ingest.ingest.services import Services
from archive_ingest.reliability.crashpoints import CRASH_ENV, PAUSE_ENV, PAUSE_FILE_ENV
from archive_ingest.reliability.reconcile import stalled
from archive_ingest.review import actions
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import CLI, json_lines, run_cli
from tests.support.pipeline import ingest_in_process
from tests.support.plugins.storage import start_server
from tests.support.review import add_disagreeing_book, make_user, point_at, storage_down
from tests.support.territory_book import add_book, add_chapter, make_chapter

pytestmark = pytest.mark.slow

LICENCE = "https://creativecommons.org/licenses/by-nc-sa/3.0/"


def _state(settings: Settings, record_id: str) -> tuple[str, list[str], str | None]:
    cat = Catalogue.open(settings.effective_database_url)
    try:
        item = cat.get_item(record_id)
        row = cat.get_version(record_id, 1)
        assert item is not None and row is not None
        return item.state, list(item.reasons), row.state
    finally:
        cat.close()


def test_approval_with_the_storage_stopped_stays_approved(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    tmp_path: Path,
) -> None:
    ref = add_disagreeing_book(scielo_catalogue, tmp_path, "Capítulo sobre o território")
    settings, local, _ = start_server(tmp_path / "own", **scielo_server.settings_overrides())
    try:
        record_id = ingest_in_process(settings, ref).id
        assert record_id is not None
        assert _state(settings, record_id)[0] == "needs_review"
        user = make_user(settings)
        local.down(timeout=30)  # the real server, stopped
        svc = Services.open(settings)
        try:
            try:
                out: Any = actions.approve(svc, record_id, user, "ok", licence_uri=LICENCE)
            except Exception as exc:  # a refusal is acceptable; what it leaves is the point
                out = exc
        finally:
            svc.close()
        state, reasons, version_state = _state(settings, record_id)
        assert (state, version_state) == ("approved", "approved"), (out, reasons)
        assert any("deposit-approved" in r for r in reasons), reasons

        local.up()
        results = deposit_approved(settings)
        assert [(r["id"], r["state"]) for r in results] == [(record_id, "deposited")]
        assert _state(settings, record_id)[0] == "deposited"
    finally:
        local.down(timeout=30)


APPROVE = """
import sys
from archive_ingest.ingest.services import Services
from archive_ingest.review import actions, users
from archive_ingest.settings import Settings

svc = Services.open(Settings())
user = users.get_user(svc.catalogue, int(sys.argv[2]))
actions.approve(svc, sys.argv[1], user, "checked", licence_uri=sys.argv[3])
"""


def test_an_approval_killed_mid_deposit_is_resumed_by_deposit_approved(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    ref = add_disagreeing_book(scielo_catalogue, tmp_path, "Capítulo sobre o território")
    settings = point_at(scielo_server, monkeypatch)
    record_id = ingest_in_process(settings, ref).id
    assert record_id is not None
    user = make_user(settings)
    env = {**os.environ, CRASH_ENV: "mid-upload:2"}
    killed = subprocess.run(
        [sys.executable, "-c", APPROVE, record_id, str(user.id), LICENCE],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    state, reasons, version_state = _state(settings, record_id)
    assert (state, version_state) == ("approved", "approved"), reasons
    # visible: reconcile names it (once older than the stalled threshold, here 0 s)
    cat = Catalogue.open(settings.effective_database_url)
    try:
        found = [f for f in stalled(cat, 0) if f.record_id == record_id]
    finally:
        cat.close()
    assert len(found) == 1 and "deposit-approved" in found[0].detail, found

    env.pop(CRASH_ENV)
    # the killed approval's claim on the deposit: taken once its lease is over (here 0 s)
    proc = run_cli({**env, "ARCHIVE_INGEST_DEPOSIT_LEASE_SECONDS": "0"}, "deposit-approved")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [(r["id"], r["state"]) for r in json_lines(proc)] == [(record_id, "deposited")]
    assert _state(settings, record_id)[0] == "deposited"


def _wait_for_line(path: Path, needle: str, proc: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and needle in path.read_text(encoding="utf-8"):
            return
        assert proc.poll() is None, f"depositor ended before {needle!r}: {proc.returncode}"
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared in {path}")


def test_two_depositors_of_one_approved_item_deposit_it_once(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """One `deposit-approved` holds its claim mid-deposit (paused, then SIGKILLed) while a
    second runs: the second skips the item; a third, run while the killed claim is fresh,
    skips it too; once the claim's lease is over the item is taken and deposited - one set of
    deposit events, one S3 object version per key."""
    from archive_ingest.storage.s3 import make_client

    ref = add_disagreeing_book(scielo_catalogue, tmp_path, "Capítulo sobre o território")
    settings = point_at(scielo_server, monkeypatch)
    record_id = ingest_in_process(settings, ref).id
    assert record_id is not None
    user = make_user(settings)
    svc = Services.open(storage_down(settings))  # approved, its deposit postponed
    try:
        actions.approve(svc, record_id, user, "checked", licence_uri=LICENCE)
    finally:
        svc.close()
    assert _state(settings, record_id)[:3:2] == ("approved", "approved")

    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    pause_file = tmp_path / "pauses.txt"
    first = subprocess.Popen(  # claims, then stops where the deposit starts
        [*CLI, "deposit-approved"],
        env={**env, PAUSE_FILE_ENV: str(pause_file), PAUSE_ENV: "commit@deposit.set_state#1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_line(pause_file, "deposit.set_state#1", first, timeout=300)
        second = run_cli(env, "deposit-approved")
        assert second.returncode == 0, second.stderr[-2000:]
        assert json_lines(second) == [], "a second depositor took an item being deposited"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=60)
    assert _state(settings, record_id)[0] == "approved"

    fresh = run_cli(env, "deposit-approved")  # the killed claim is still fresh: left alone
    assert fresh.returncode == 0 and json_lines(fresh) == [], fresh.stderr[-2000:]
    expired = run_cli({**env, "ARCHIVE_INGEST_DEPOSIT_LEASE_SECONDS": "0"}, "deposit-approved")
    assert expired.returncode == 0, expired.stderr[-2000:]
    assert [(r["id"], r["state"]) for r in json_lines(expired)] == [(record_id, "deposited")]

    cat = Catalogue.open(settings.effective_database_url)
    try:
        replications = [e for e in cat.events(record_id, 1) if e.event_type == "replication"]
    finally:
        cat.close()
    assert len(replications) == 1, replications
    client = make_client(settings)
    keys: dict[str, int] = {}
    for page in client.get_paginator("list_object_versions").paginate(
        Bucket=settings.s3_bucket, Prefix=f"{settings.s3_prefix}/"
    ):
        for v in page.get("Versions", []):
            keys[v["Key"]] = keys.get(v["Key"], 0) + 1
    assert keys and all(n == 1 for n in keys.values()), keys


def add_book_without_creators(catalogue: SampleCatalogue, tmp: Path) -> str:
    """A chapter nobody is credited for: held for review ("metadata: no creators found"), a
    reason an approval accepts but a re-run of the pipeline finds again."""
    sbid = "rev02"
    add_book(catalogue, sbid, credited=False)
    pdf = tmp / "anonymous.pdf"
    make_chapter(
        pdf,
        "Capítulo sem autoria",
        credited=False,
        pages=(40, 52),
        isbn="978-85-232-1234-6",
        scanned_pages=1,
        damage="light",
        seed=3,
    )
    return add_chapter(catalogue, sbid, pdf, "Capítulo sem autoria", credited=False)


@pytest.mark.parametrize("resume", ["deposit-approved", "ingest"])
def test_an_approval_left_depositing_by_older_code_is_deposited(
    resume: str,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Before approvals kept their items ``approved``, a killed approval left the item
    ``depositing`` with the approval event on its version: ``deposit-approved`` and a re-run
    of the item deposit it (the re-run used to hold it for review again)."""
    from archive_ingest.models import State

    ref = add_book_without_creators(scielo_catalogue, tmp_path)
    settings = point_at(scielo_server, monkeypatch)
    held = ingest_in_process(settings, ref)
    assert held.state == "needs_review" and held.reasons == ["metadata: no creators found"], held
    record_id = held.id
    assert record_id is not None
    user = make_user(settings)
    svc = Services.open(storage_down(settings))
    try:
        actions.approve(svc, record_id, user, "anonymous; checked")
        # what the older code's killed deposit left: item and version `depositing`
        svc.catalogue.set_state(record_id, State.DEPOSITING, [], version=1)
    finally:
        svc.close()
    assert _state(settings, record_id)[:3:2] == ("depositing", "depositing")
    cat = Catalogue.open(settings.effective_database_url)
    try:  # reconcile names the command that deposits it
        found = [f for f in stalled(cat, 0) if f.record_id == record_id]
    finally:
        cat.close()
    assert len(found) == 1 and "deposit-approved" in found[0].detail, found

    if resume == "deposit-approved":
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        proc = run_cli({**env, "ARCHIVE_INGEST_DEPOSIT_LEASE_SECONDS": "0"}, "deposit-approved")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert [(r["id"], r["state"]) for r in json_lines(proc)] == [(record_id, "deposited")]
    else:
        result = ingest_in_process(settings.model_copy(update={"deposit_lease_seconds": 0.0}), ref)
        assert (result.id, result.state) == (record_id, "deposited"), result
    state, reasons, version_state = _state(settings, record_id)
    assert (state, version_state) == ("deposited", "deposited"), reasons
