"""The OCR task's cluster-wide slot: ``_ocr_slot`` holds a slot of the Prefect global
concurrency limit ``archive-ingest-ocr`` when the server has one, and runs on without one
(asking the server first: a slot request for a missing limit costs seconds inside a task)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flows import ingest
from prefect import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.settings import PREFECT_API_URL, temporary_settings


@pytest.fixture
def limit_name(prefect_api_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"archive-ingest-ocr-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(ingest, "OCR_CONCURRENCY_LIMIT", name)
    monkeypatch.setattr(ingest, "_limit_seen", {})
    # the session's real server (Prefect read its settings before the fixture set the env)
    with temporary_settings({PREFECT_API_URL: prefect_api_url}):
        yield name


def _active(name: str) -> int:
    with get_client(sync_client=True) as client:
        return int(client.read_global_concurrency_limit_by_name(name).active_slots)


def test_without_a_limit_the_task_runs_on(limit_name: str) -> None:
    with ingest._ocr_slot():
        pass
    assert ingest._limit_seen[limit_name][1] is False


def test_with_a_limit_the_task_holds_a_slot(limit_name: str) -> None:
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=limit_name, limit=2)
        )
    try:
        with ingest._ocr_slot():
            assert _active(limit_name) == 1
        assert _active(limit_name) == 0
        assert ingest._limit_seen[limit_name][1] is True
    finally:
        with get_client(sync_client=True) as client:
            client.delete_global_concurrency_limit_by_name(limit_name)


def test_a_limit_created_later_is_seen_after_the_cache_expires(
    limit_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ingest._ocr_slot():
        pass
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=limit_name, limit=1)
        )
    try:
        assert ingest._global_limit_exists(limit_name) is False  # cached for a minute
        monkeypatch.setattr(ingest, "_LIMIT_CHECK_SECONDS", 0.0)
        assert ingest._global_limit_exists(limit_name) is True
    finally:
        with get_client(sync_client=True) as client:
            client.delete_global_concurrency_limit_by_name(limit_name)
