"""The settings a harvest flow test runs with: the sample SciELO server, SeaweedFS and the
session's Prefect server, taken from the environment as a deployed flow would take them."""

from __future__ import annotations

import pytest

from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest_demo.scielo_sample import SampleScieloServer


@pytest.fixture
def harvest_env(
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    for key, value in scielo_server.settings_overrides().items():
        monkeypatch.setenv(f"ARCHIVE_INGEST_{key.upper()}", str(value))
    monkeypatch.setenv("ARCHIVE_INGEST_FETCH_RETRIES", "0")
    monkeypatch.setenv("ARCHIVE_INGEST_FETCH_BACKOFF_SECONDS", "0")
    reset_settings_cache()
    return Settings()
