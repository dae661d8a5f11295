"""`archive-ingest config` and the catalogue's repr never show a database password, whether it
sits in the URL's userinfo or in a query parameter (libpq takes ``?password=``), and a command
that cannot reach such a database does not print it either."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from archive_ingest.settings import mask_url
from tests.support.cli import run_cli
from tests.support.ports import free_port

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


#: (URL, masked): SQLAlchemy reads the password from after the user's ':' up to the first '@',
#: '/', '?' and '#' included (no escaping needed); an unescaped '@' in a password ends it there
#: (the rest joins the host), so the mask reaches to the last '@' before the host
SQLALCHEMY_URLS = [
    ("postgresql://u:se/cret@h/db", "postgresql://u:***@h/db"),
    (
        "postgresql://u:se?cret@h:5432/db?sslmode=require",
        "postgresql://u:***@h:5432/db?sslmode=require",
    ),
    ("postgresql://u:se#cret@h/db", "postgresql://u:***@h/db"),
    (
        "postgresql+psycopg://u:a/b?c#d@[::1]:5432/db?x=1",
        "postgresql+psycopg://u:***@[::1]:5432/db?x=1",
    ),
    ("postgresql://u:a:b/c@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),  # SQLAlchemy: 'p', host 'ss@h'
    ("postgresql://u:p@ss/x@h/db", "postgresql://u:***@ss/x@h/db"),  # host 'ss', db 'x@h/db'
    ("postgresql://h:5432/db?application_name=a@b", "postgresql://h:***@b"),  # as SQLAlchemy
    ("postgresql://u@h/db?a=1#&password=zz", "postgresql://u@h/db?a=1#&password=***"),
]


@pytest.mark.parametrize(("url", "expected"), SQLALCHEMY_URLS)
def test_mask_url_hides_the_password_sqlalchemy_reads(url: str, expected: str) -> None:
    parsed = make_url(url)
    secrets = [parsed.password, *(v for k, v in parsed.query.items() if "password" in k)]
    assert [s for s in secrets if s], "the table holds URLs with a password"
    assert mask_url(url) == expected
    again = make_url(expected)
    assert again.password in (None, "***")
    assert [v for k, v in again.query.items() if "password" in k] in ([], ["***"])
    if expected.count("@") == url.count("@"):  # everything else as SQLAlchemy read it
        assert (again.drivername, again.username, again.host, again.port, again.database) == (
            parsed.drivername,
            parsed.username,
            parsed.host,
            parsed.port,
            parsed.database,
        )


def _run(home: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_INGEST_")}
    env["ARCHIVE_INGEST_HOME"] = str(home)
    env["ARCHIVE_INGEST_CONFIG"] = str(home / "absent-config.toml")
    env["ARCHIVE_INGEST_DATABASE_URL"] = database_url
    return run_cli(env, *args, timeout=180)


def test_config_command_masks_a_query_password(home: Path) -> None:
    proc = _run(home, f"postgresql://u@db.example/archive?password={SECRET}", "config")
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert '"database_url": "postgresql+psycopg://u@db.example/archive?password=***"' in proc.stdout


def test_an_unreachable_database_does_not_print_its_password(home: Path) -> None:
    """-v logs everything at INFO; the connection failure is printed; the secret is not."""
    port = free_port()  # nothing listens there
    url = f"postgresql://u:{SECRET}@127.0.0.1:{port}/db?password={SECRET}&connect_timeout=3"
    proc = _run(home, url, "-v", "users", "list")
    assert proc.returncode != 0
    assert "127.0.0.1" in proc.stderr  # the failure is reported ...
    assert SECRET not in proc.stdout + proc.stderr  # ... without the password


def test_json_logs_of_an_unreachable_database_hold_no_password(home: Path) -> None:
    """The same failure with ``--log-format json``: every stderr line is one JSON object
    (the exception a field of its line), and none holds the password."""
    port = free_port()
    url = f"postgresql://u:{SECRET}@127.0.0.1:{port}/db?password={SECRET}&connect_timeout=3"
    proc = _run(home, url, "-v", "--log-format", "json", "users", "list")
    assert proc.returncode != 0
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    (uncaught,) = [line for line in lines if line["level"] == "CRITICAL"]
    assert "127.0.0.1" in uncaught["message"] and "Traceback" in uncaught["exception"]
    assert SECRET not in proc.stdout + proc.stderr
