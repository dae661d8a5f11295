"""Every test runs with its own ARCHIVE_INGEST_HOME and no user config file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archive_ingest.settings import Settings, reset_settings_cache


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("ARCHIVE_INGEST_HOME", str(path))
    monkeypatch.setenv("ARCHIVE_INGEST_CONFIG", str(tmp_path / "absent-config.toml"))
    reset_settings_cache()
    yield path
    reset_settings_cache()


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings()
