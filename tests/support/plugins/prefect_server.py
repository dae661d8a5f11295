"""One real Prefect server for the whole test session (``prefect server start`` on loopback).

Flows run in-process and CLI subprocesses both talk to it through PREFECT_API_URL, so no test
pays the temporary-server start-up cost, and flows really run on Prefect (states, tasks, logs).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.prefect_server import local_prefect_server

# A flow run in a test that did not ask for the session server must fail loudly, not quietly
# start a temporary Prefect server of its own (as one did until this line). Set before any test
# module imports Prefect; CLI subprocesses inherit it.
os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "false"
# Nor may a command start the long-lived local Prefect API (orchestrator/local_api.py) under a
# test's HOME, where it would outlive the test: the tests of that API (test_local_prefect_api,
# test_interrupt_and_unreachable) turn it on for their commands and stop it afterwards.
os.environ["ARCHIVE_INGEST_LOCAL_PREFECT_API"] = "false"


@pytest.fixture(scope="session")
def prefect_api_url() -> Iterator[str]:
    home = Path(tempfile.mkdtemp(prefix="archive-ingest-prefect-"))
    try:
        server = local_prefect_server(home, timeout=120)
        url = server.__enter__()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_HOME")}
    os.environ["PREFECT_API_URL"] = url  # for CLI subprocesses
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # and for flows run in this process: Prefect reads its settings once, when it is first
    # imported (an earlier test may have imported it), so the environment alone could leave
    # them on a temporary server of their own instead of this one
    settings = temporary_settings({PREFECT_API_URL: url, PREFECT_HOME: str(home)})
    settings.__enter__()
    try:
        yield url
    finally:
        _drain_prefect_workers()
        settings.__exit__(None, None, None)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.__exit__(None, None, None)
        shutil.rmtree(home, ignore_errors=True)  # its database and logs: nothing left in /tmp


def _drain_prefect_workers() -> None:
    """Send the logs and events still queued in this process while the server is up: left for
    interpreter exit, Prefect would find no API URL and start a temporary server just to flush
    them, then log its shutdown to pytest's closed output ("--- Logging error ---")."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=30)
