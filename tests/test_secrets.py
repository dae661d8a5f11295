"""Secrets never leak: `ingest` (one deposited item, one failure), `audit`,
`reconcile` and `config` run with known S3 keys, a database password, the web/OAI secrets,
the metrics token and an alert webhook URL with a token in its path (a real receiver on
loopback, its host in mixed case: httpx logs it lower-cased) in the environment; then stdout,
stderr, every file under HOME (logs, workspace, packages),
the catalogue rows (PostgreSQL, every table), every object in the bucket and the Prefect
server's logs and artifacts are searched for them. None may appear anywhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from archive_ingest.settings import Settings, normalise_database_url
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, run_cli
from tests.support.samples import add_generated_book
from tests.support.webhook import WebhookReceiver

pytestmark = pytest.mark.slow


def _with_password(url: str, password: str) -> tuple[str, str]:
    """The URL with a password (its own if it has one: that is then the secret)."""
    parts = urlsplit(url)
    if parts.password:
        return url, parts.password
    netloc = f"{parts.username or 'postgres'}:{quote(password)}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), password


@pytest.fixture
def secret_db(postgres_url: str) -> Iterator[tuple[str, str, str]]:
    """(database URL with a password and its own schema, the password, the schema)."""
    url, password = _with_password(postgres_url, f"db-pw-{uuid.uuid4().hex}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_database_url(url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}", password, schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as hook:
        yield hook


def _alert_and_metrics() -> dict[str, str]:
    """The alert webhook (mixed-case host, a token in the path) and the metrics token."""
    return {
        "alert webhook token": f"hook-{uuid.uuid4().hex}",
        "metrics token": f"metrics-{uuid.uuid4().hex}{uuid.uuid4().hex}",
    }


def _alert_env(hook: WebhookReceiver, secrets: dict[str, str]) -> dict[str, str]:
    url = f"http://LocalHost:{hook.port}/hooks/{secrets['alert webhook token']}"
    return {
        "ARCHIVE_INGEST_ALERT_WEBHOOK_URL": url,
        "ARCHIVE_INGEST_METRICS_TOKEN": secrets["metrics token"],
    }


@pytest.fixture
def book(scielo_catalogue: SampleCatalogue, tmp_path: Path) -> SampleCatalogue:
    """One chapter that deposits (generated, CC BY 4.0 in metadata and PDF)."""
    add_generated_book(scielo_catalogue, "sec1", 1, tmp_path, seed=9)
    return scielo_catalogue


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(env, "-v", *args, timeout=900)


def _prefect_records(api: str) -> str:
    """Every log line and artifact the Prefect server holds, as one text."""
    out: list[Any] = []
    with httpx.Client(base_url=api.rstrip("/") + "/", timeout=30) as client:
        for path in ("logs/filter", "artifacts/filter", "flow_runs/filter", "task_runs/filter"):
            offset = 0
            while True:
                response = client.post(path, json={"limit": 200, "offset": offset})
                response.raise_for_status()
                batch = response.json()
                out += batch
                if len(batch) < 200:
                    break
                offset += 200
    return json.dumps(out)


def test_no_secret_appears_anywhere(
    book: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    seaweed: Any,
    prefect_api_url: str,
    secret_db: tuple[str, str, str],
    home: Path,
    webhook: WebhookReceiver,
) -> None:
    db_url, db_password, schema = secret_db
    s3_secret = os.environ["AWS_SECRET_ACCESS_KEY"]  # the real ingest key (seaweed_settings)
    session_secret = f"session-{uuid.uuid4().hex}"
    oai_secret = f"oai-{uuid.uuid4().hex}"
    secrets = {
        "s3 secret key": s3_secret,
        "database password": db_password,
        "session secret": session_secret,
        "oai token secret": oai_secret,
        **_alert_and_metrics(),
    }
    env = cli_env(
        scielo_server,
        prefect_api_url,
        ARCHIVE_INGEST_DATABASE_URL=db_url,
        ARCHIVE_INGEST_WEB_SESSION_SECRET=session_secret,
        ARCHIVE_INGEST_OAI_TOKEN_SECRET=oai_secret,
        **_alert_env(webhook, secrets),
    )
    outputs: list[str] = []
    ingest = _cli(env, "ingest", "scielo-books:sec1/01", "scielo-books:sec1/07")
    outputs += [ingest.stdout, ingest.stderr]
    states = [json.loads(line)["state"] for line in ingest.stdout.splitlines() if line.strip()]
    assert states == ["deposited", "failed"], ingest.stderr[-3000:]
    assert [b["kind"] for b in webhook.bodies()] == ["failed_items"]  # the webhook was used
    for args in (("audit", "--all"), ("reconcile",), ("config",)):
        proc = _cli(env, *args)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr[-2000:])
        outputs += [proc.stdout, proc.stderr]
    # an error that involves the database URL: the server refuses the connection
    broken = dict(env)
    parts = urlsplit(db_url)
    broken["ARCHIVE_INGEST_DATABASE_URL"] = db_url.replace(f":{parts.port}", ":9", 1)
    failing = _cli(broken, "audit")
    assert failing.returncode != 0
    outputs += [failing.stdout, failing.stderr]

    haystacks: dict[str, bytes] = {"command output": "\n".join(outputs).encode()}
    for path in home.rglob("*"):
        if path.is_file() and not path.is_symlink():
            haystacks[f"file {path.relative_to(home)}"] = path.read_bytes()
    engine = create_engine(normalise_database_url(db_url))
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names(schema=schema):
            rows = conn.execute(text(f'SELECT * FROM "{schema}"."{table}"')).fetchall()
            haystacks[f"table {table}"] = repr(rows).encode()
    engine.dispose()
    admin = seaweed.client("admin")
    bucket, prefix = seaweed_settings.s3_bucket, seaweed_settings.s3_prefix
    listed = admin.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")
    keys = [o["Key"] for o in listed.get("Contents", [])]
    assert any(k.endswith("deposit-receipt.json") for k in keys)
    for key in keys:
        haystacks[f"object {key}"] = admin.get_object(Bucket=bucket, Key=key)["Body"].read()
    haystacks["prefect logs and artifacts"] = _prefect_records(prefect_api_url).encode()
    assert len(haystacks) > 20

    leaks = [
        f"{name} in {where}"
        for where, blob in haystacks.items()
        for name, secret in secrets.items()
        if secret.encode() in blob or quote(secret).encode() in blob
    ]
    assert leaks == []


def test_json_logs_hold_no_secret(
    book: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    secret_db: tuple[str, str, str],
    webhook: WebhookReceiver,
) -> None:
    """The same secrets, ``--log-format json -v``: an ingest that deposits, ``config``,
    ``reconcile`` and an ``audit`` whose database refuses the connection. Every stderr line
    parses as one JSON object, and no line (nor stdout) holds a secret."""
    db_url, db_password, _ = secret_db
    secrets = {
        "s3 secret key": os.environ["AWS_SECRET_ACCESS_KEY"],
        "database password": db_password,
        "session secret": f"session-{uuid.uuid4().hex}",
        "oai token secret": f"oai-{uuid.uuid4().hex}",
        **_alert_and_metrics(),
    }
    env = cli_env(
        scielo_server,
        prefect_api_url,
        ARCHIVE_INGEST_DATABASE_URL=db_url,
        ARCHIVE_INGEST_WEB_SESSION_SECRET=secrets["session secret"],
        ARCHIVE_INGEST_OAI_TOKEN_SECRET=secrets["oai token secret"],
        **_alert_env(webhook, secrets),
    )
    broken = dict(env)
    parts = urlsplit(db_url)
    broken["ARCHIVE_INGEST_DATABASE_URL"] = db_url.replace(f":{parts.port}", ":9", 1)
    runs = [
        (env, ("ingest", "scielo-books:sec1/01", "scielo-books:sec1/07"), 1),  # one alert
        (env, ("config",), 0),
        (env, ("reconcile",), 0),
        (broken, ("audit",), None),
    ]
    outputs, lines = [], 0
    for run_env, args, code in runs:
        proc = _cli(run_env, "--log-format", "json", *args)
        assert proc.returncode == code if code is not None else proc.returncode != 0, (
            args,
            proc.stderr[-2000:],
        )
        for line in proc.stderr.splitlines():
            assert isinstance(json.loads(line), dict), (args, line)
            lines += 1
        outputs += [proc.stdout, proc.stderr]
    assert lines > 20  # -v: the ingest alone logs its requests and uploads
    assert [b["kind"] for b in webhook.bodies()] == ["failed_items"]  # the webhook was used
    blob = "\n".join(outputs)
    leaks = [name for name, secret in secrets.items() if secret in blob or quote(secret) in blob]
    assert leaks == []
