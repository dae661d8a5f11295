"""An approval whose deposit is interrupted - the storage stopped, the process killed - leaves
the item ``approved`` (the state ``archive-ingest deposit-approved`` takes), never
``depositing``, which no queue shows and nothing resumes. Real parts: the pipeline holds a
chapter (real OCR), a real SeaweedFS is stopped, a real process is SIGKILLed mid-upload."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.harvest import deposit_approved
from archive_ingest.pipeline import Services
from archive_ingest.reliability.crashpoints import CRASH_ENV
from archive_ingest.reliability.reconcile import stalled
from archive_ingest.review import actions
from archive_ingest.scielo_sample import SampleCatalogue, SampleScieloServer
from archive_ingest.settings import Settings
from tests.cli_helpers import json_lines, run_cli
from tests.pipeline_helpers import ingest_in_process
from tests.plugins.storage import start_server
from tests.test_review_actions import add_disagreeing_book, make_user, point_at

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
from archive_ingest.pipeline import Services
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
    proc = run_cli(env, "deposit-approved")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [(r["id"], r["state"]) for r in json_lines(proc)] == [(record_id, "deposited")]
    assert _state(settings, record_id)[0] == "deposited"
