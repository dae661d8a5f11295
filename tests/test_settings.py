"""Settings: environment, TOML file, defaults, and secrets masked in `config` output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive_ingest.settings import Settings, mask_url, normalise_database_url


def test_defaults_live_under_home(home: Path) -> None:
    settings = Settings()
    assert settings.home == home.resolve()
    assert settings.effective_database_url == f"sqlite:///{home.resolve()}/catalogue.sqlite3"
    assert settings.scielo_books_url == "https://books.scielo.org"
    assert settings.embedded_storage
    assert settings.fetch_max_bytes == 2 * 1024**3


def test_environment_and_toml_file(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        's3_bucket = "from-toml"\nfetch_retries = 7\nscielo_books_url = "http://127.0.0.1:9999/"\n'
    )
    monkeypatch.setenv("ARCHIVE_INGEST_CONFIG", str(config))
    monkeypatch.setenv("ARCHIVE_INGEST_FETCH_RETRIES", "1")
    settings = Settings()
    assert settings.s3_bucket == "from-toml"
    assert settings.fetch_retries == 1  # environment beats the file
    assert settings.scielo_books_url == "http://127.0.0.1:9999"


def test_bad_base_url_is_refused(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_INGEST_SCIELO_BOOKS_URL", "file:///etc/passwd")
    with pytest.raises(ValueError, match="not an http"):
        Settings()


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_mask_url_hides_passwords() -> None:
    assert mask_url("postgresql://arch:s3cr3t@db:5432/x") == "postgresql://arch:***@db:5432/x"
    assert "s3cr3t" not in mask_url("postgresql+psycopg://a:s3cr3t@[bad")


def test_config_command_masks_secrets(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_pw = "pw-Zq81x"
    secret_key = "AKIAEXAMPLEKEY99"
    secret_value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    env = {
        "ARCHIVE_INGEST_HOME": str(home),
        "ARCHIVE_INGEST_CONFIG": str(home / "none.toml"),
        "ARCHIVE_INGEST_DATABASE_URL": f"postgresql://archive:{secret_pw}@127.0.0.1/x",
        "AWS_ACCESS_KEY_ID": secret_key,
        "AWS_SECRET_ACCESS_KEY": secret_value,
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-m", "archive_ingest.cli", "config"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert secret_pw not in out.stdout + out.stderr
    assert secret_key not in out.stdout + out.stderr
    assert secret_value not in out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert data["database_url"] == "postgresql+psycopg://archive:***@127.0.0.1/x"
    assert data["s3_credentials"].startswith("environment (AWS_ACCESS_KEY_ID=AKIA***")
