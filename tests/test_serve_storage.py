"""``serve`` starts the embedded storage that holds data when it is stopped (``/access``
reads the copies from it) and stops what it started when it ends; a HOME that never stored
anything gets no server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from archive_ingest.settings import Settings
from archive_ingest.storage.embedded_set import embedded_storages
from tests.support.plugins.storage import (
    SEAWEED_BUCKET,
    free_base_port,
    start_server,
    storage_settings,
)
from tests.support.serve import serve_process

pytestmark = pytest.mark.slow


def _storage_env(settings: Settings) -> dict[str, object]:
    return {
        "storage_s3_port": settings.storage_s3_port,
        "embedded_copies": 1,
        "s3_bucket": SEAWEED_BUCKET,
        "s3_prefix": settings.s3_prefix,
    }


def test_serve_starts_the_stopped_embedded_storage_and_stops_it_after(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings, local, _ = start_server(home)
    local.down(timeout=3)
    assert not local.is_running() and local.data_dir.is_dir()
    database = f"sqlite:///{home / 'catalogue.sqlite3'}"
    with serve_process(home, database, **_storage_env(settings)):
        assert local.is_running()
        assert local.status().pid is not None
    deadline = time.monotonic() + 30
    while local.is_running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not local.is_running(), "serve left the storage it started running"


def test_serve_starts_no_storage_in_a_home_that_stored_nothing(tmp_path: Path) -> None:
    home = tmp_path / "empty"
    home.mkdir()
    settings = storage_settings(home, free_base_port(), embedded_copies=1)
    [local] = embedded_storages(settings)
    database = f"sqlite:///{home / 'catalogue.sqlite3'}"
    with serve_process(home, database, **_storage_env(settings)):
        assert not local.is_running()
        assert not local.data_dir.exists()
