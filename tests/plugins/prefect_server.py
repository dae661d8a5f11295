"""One real Prefect server for the whole test session (``prefect server start`` on loopback).

Flows run in-process and CLI subprocesses both talk to it through PREFECT_API_URL, so no test
pays the temporary-server start-up cost, and flows really run on Prefect (states, tasks, logs).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive_ingest.prefect_server import local_prefect_server


@pytest.fixture(scope="session")
def prefect_api_url() -> Iterator[str]:
    home = Path(tempfile.mkdtemp(prefix="archive-ingest-prefect-"))
    try:
        server = local_prefect_server(home, timeout=120)
        url = server.__enter__()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_HOME")}
    os.environ["PREFECT_API_URL"] = url
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    try:
        yield url
    finally:
        _drain_prefect_workers()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.__exit__(None, None, None)


def _drain_prefect_workers() -> None:
    """Send the logs and events still queued in this process while the server is up: left for
    interpreter exit, Prefect would find no API URL and start a temporary server just to flush
    them, then log its shutdown to pytest's closed output ("--- Logging error ---")."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=30)
