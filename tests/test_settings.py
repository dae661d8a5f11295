"""Settings: environment, TOML file, defaults, and secrets masked in `config` output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

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


@pytest.mark.parametrize(
    ("field", "value", "secret"),
    [
        ("alert_webhook_url", "hooks.example.com/T0KEN-a81f", "T0KEN-a81f"),
        ("metrics_token", 918273645546372819, "918273645546372819"),  # a number in TOML
        ("database_url", 5432987612, "5432987612"),
        ("web_base_url", "https://ops:pw-77c1@archive.example.org", "pw-77c1"),
    ],
)
def test_a_refused_value_is_never_quoted_in_the_error(
    home: Path, field: str, value: object, secret: str
) -> None:
    """pydantic appends ``input_value=...`` to an error's text (shown by a worker's flow run
    log and by config's fallback error): not for these settings."""
    with pytest.raises(ValidationError) as raised:
        Settings(**{field: value})
    assert field in str(raised.value)
    assert secret not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://ops:secret@archive.example.org",
        "https://archive.example.org/?a=1",
        "https://archive.example.org/#top",
    ],
)
def test_web_base_url_has_no_credentials_query_or_fragment(home: Path, url: str) -> None:
    with pytest.raises(ValidationError, match="no user:password@"):
        Settings(web_base_url=url)
    assert Settings(web_base_url="https://archive.example.org/ingest/").web_base_url == (
        "https://archive.example.org/ingest"
    )


def test_trusted_proxy_addresses_are_checked(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().web_forwarded_allow_ips == "127.0.0.1,::1"  # loopback only by default
    monkeypatch.setenv("ARCHIVE_INGEST_WEB_FORWARDED_ALLOW_IPS", " 172.30.0.1 , fd00::/64,")
    assert Settings().web_forwarded_allow_ips == "172.30.0.1,fd00::/64"
    monkeypatch.setenv("ARCHIVE_INGEST_WEB_FORWARDED_ALLOW_IPS", "")
    assert Settings().web_forwarded_allow_ips == ""  # nobody
    monkeypatch.setenv("ARCHIVE_INGEST_WEB_FORWARDED_ALLOW_IPS", "proxy.example.org")
    with pytest.raises(ValueError, match="not an IP address or network"):
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
        [sys.executable, "-m", "flows.cli", "config"],
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


@pytest.mark.parametrize(
    "command", [["ingest", "scielo-books:37t/05"], ["audit"], ["users", "list"]]
)
def test_bad_settings_are_a_usage_error_in_every_command(home: Path, command: list[str]) -> None:
    """A bad value or a broken config file: exit 2 with one line naming the problem (and the
    file), never a traceback; a misspelt name is a warning, not silence."""
    base = {"ARCHIVE_INGEST_HOME": str(home), "PATH": "/usr/bin:/bin"}
    cases = [
        ({"ARCHIVE_INGEST_OCR_MAX_PAGES": "abc"}, "ocr_max_pages: Input should be a valid integer"),
        ({"ARCHIVE_INGEST_CONFIG": str(home / "bad.toml")}, "bad.toml is not valid TOML"),
    ]
    (home / "bad.toml").write_text("ocr_max_pages = [\n")
    for extra, message in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "flows.cli", *command],
            capture_output=True,
            text=True,
            env={**base, **extra},
            timeout=60,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr
    typo = subprocess.run(
        [sys.executable, "-m", "flows.cli", "config"],
        capture_output=True,
        text=True,
        env={
            **base,
            "ARCHIVE_INGEST_CONFIG": str(home / "none.toml"),
            "ARCHIVE_INGEST_OCR_MAXPAGES": "1",
        },
        timeout=60,
        check=True,
    )
    assert "ARCHIVE_INGEST_OCR_MAXPAGES is not a setting" in typo.stderr
    assert json.loads(typo.stdout)["ocr_max_pages"] == 1000


def test_file_ref_usage_errors_are_caught_before_any_work(home: Path, tmp_path: Path) -> None:
    """A file: REF without --metadata, or naming no file, is exit 2 at once (no Prefect run)."""
    env = {
        "ARCHIVE_INGEST_HOME": str(home),
        "ARCHIVE_INGEST_CONFIG": str(home / "none.toml"),
        "PATH": "/usr/bin:/bin",
    }
    meta = tmp_path / "m.json"
    meta.write_text('{"title": "T"}')
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    for args, message in (
        ([f"file:{pdf}"], "needs --metadata"),
        ([f"file:{tmp_path / 'nosuch.pdf'}", "--metadata", str(meta)], "file not found"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "flows.cli", "ingest", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert proc.stdout == ""
