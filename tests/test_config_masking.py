"""`archive-ingest config` and the catalogue's repr never show a database password, whether it
sits in the URL's userinfo or in a query parameter (libpq takes ``?password=``), and a command
that cannot reach such a database does not print it either."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from archive_ingest.settings import mask_url

SECRET = "s3cr3t-Pw"

URLS = [
    f"postgresql://u@db.example/archive?password={SECRET}",
    f"postgresql://u@db.example/archive?sslmode=require&password={SECRET}&application_name=x",
    f"postgresql://u:{SECRET}@db.example:5432/archive?sslmode=require",
    f"postgresql+psycopg://u:{SECRET}@db.example/archive?PASSWORD={SECRET}",
    f"postgresql://u@db.example/archive?sslpassword={SECRET}",
    f"postgresql://u@db.example/archive?passfile=x&api_token={SECRET}#frag",
    f"postgresql://u:{SECRET}@[::1:bad/archive?password={SECRET}",  # urlsplit cannot parse it
]


@pytest.mark.parametrize("url", URLS)
def test_mask_url_hides_userinfo_and_query_passwords(url: str) -> None:
    masked = mask_url(url)
    assert SECRET not in masked
    assert "***" in masked
    assert masked.split("://", 1)[0] == url.split("://", 1)[0]


def test_mask_url_keeps_what_is_not_secret() -> None:
    url = "postgresql://u@db.example:5433/archive?sslmode=require&application_name=ingest"
    assert mask_url(url) == url
    assert (
        mask_url(f"postgresql://u@h/db?sslmode=require&password={SECRET}")
        == "postgresql://u@h/db?sslmode=require&password=***"
    )


def _run(home: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_INGEST_")}
    env["ARCHIVE_INGEST_HOME"] = str(home)
    env["ARCHIVE_INGEST_CONFIG"] = str(home / "absent-config.toml")
    env["ARCHIVE_INGEST_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "archive_ingest.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def test_config_command_masks_a_query_password(home: Path) -> None:
    proc = _run(home, f"postgresql://u@db.example/archive?password={SECRET}", "config")
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert '"database_url": "postgresql+psycopg://u@db.example/archive?password=***"' in proc.stdout


def test_an_unreachable_database_does_not_print_its_password(home: Path) -> None:
    """-v logs everything at INFO; the connection failure is printed; the secret is not."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends
    url = f"postgresql://u:{SECRET}@127.0.0.1:{port}/db?password={SECRET}&connect_timeout=3"
    proc = _run(home, url, "-v", "users", "list")
    assert proc.returncode != 0
    assert "127.0.0.1" in proc.stderr  # the failure is reported ...
    assert SECRET not in proc.stdout + proc.stderr  # ... without the password
