"""Scale-out on Prefect, for real: a Prefect server backed by PostgreSQL, a process
work pool with two workers, ``ingest-item`` deployment runs for a batch of generated chapters
(local SciELO server, real OCR, SeaweedFS), the catalogue on PostgreSQL; and a scheduled
harvest deployment, served by ``python -m flows.deployments serve``, that runs on its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.harvest.store import runs
from archive_ingest.settings import Settings, normalise_database_url
from archive_ingest_demo.scielo_sample import SampleScieloServer
from tests.support.plugins.db import fresh_schema
from tests.support.prefect_server import (
    local_prefect_server,
    start_process_worker,
    stop_process_group,
)
from tests.support.samples import add_generated_book

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _with_db(url: str, database: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, f"/{database}", "", ""))


@pytest.fixture(scope="module")
def pg_prefect(postgres_url: str) -> Iterator[str]:
    """A Prefect server on a fresh PostgreSQL database (asyncpg), scheduler every 2 s."""
    name = f"prefect_{uuid.uuid4().hex[:10]}"
    admin_url = _with_db(postgres_url, urlsplit(postgres_url).path.lstrip("/"), "postgresql")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # needs CREATEDB: a fresh db for Prefect
    home = Path(tempfile.mkdtemp(prefix="archive-ingest-pgprefect-"))
    # SQLAlchemy 2.1 breaks Prefect 3.8.8's scheduler service (InvalidRequestError "Can't
    # evaluate bulk DML statement"): until the project pins sqlalchemy<2.1, a Python whose
    # SQLAlchemy is 2.0 can serve the API here (docs/PREFECT.md, "Known problem")
    server_python = os.environ.get("ARCHIVE_INGEST_TEST_PREFECT_SERVER_PYTHON", sys.executable)
    try:
        with local_prefect_server(
            home,
            database_url=_with_db(postgres_url, name, "postgresql+asyncpg"),
            extra_env={"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2"},
            python=server_python,
        ) as url:
            os.environ["_ARCHIVE_INGEST_TEST_PG_PREFECT_LOG"] = str(home / "server.log")
            yield url
    except RuntimeError as exc:
        pytest.fail(f"the PostgreSQL-backed prefect server: {exc}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_catalogue_url(postgres_url: str) -> Iterator[str]:
    with fresh_schema(postgres_url) as url:
        yield url


def _env(api: str, server: SampleScieloServer, catalogue_url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_API_URL": api,
            "PREFECT_HOME": str(home / "prefect-client"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
            "ARCHIVE_INGEST_HOME": str(home),
            "ARCHIVE_INGEST_DATABASE_URL": catalogue_url,
            "ARCHIVE_INGEST_FETCH_RETRIES": "1",
            "ARCHIVE_INGEST_FETCH_BACKOFF_SECONDS": "0",
            "PYTHONPATH": str(REPO),
        }
    )
    for key, value in server.settings_overrides().items():
        env[f"ARCHIVE_INGEST_{key.upper()}"] = str(value)
    return env


def _api(api: str, method: str, path: str, **kw: Any) -> Any:
    response = httpx.request(method, f"{api}{path}", timeout=30, **kw)
    response.raise_for_status()
    return response.json() if response.content else None


def _cli(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        args, env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_two_workers_one_pool_on_postgresql(
    pg_prefect: str,
    pg_catalogue_url: str,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    seaweed: Any,
    home: Path,
    tmp_path: Path,
) -> None:
    refs = add_generated_book(scielo_server.catalogue, "sc1", 4, tmp_path)
    env = _env(pg_prefect, scielo_server, pg_catalogue_url, home)
    pool = f"pool-{uuid.uuid4().hex[:6]}"
    py = sys.executable
    _cli(env, py, "-m", "prefect", "work-pool", "create", pool, "--type", "process")
    _cli(env, py, "-m", "flows.deployments", "deploy", "--pool", pool, "--only", "ingest-item")
    [deployment] = _api(pg_prefect, "POST", "/deployments/filter", json={})
    assert deployment["name"] == "ingest-item"

    logs = [tmp_path / f"worker{i}.log" for i in (1, 2)]
    workers = [
        start_process_worker(pool, f"w{i}", env=env, log_path=log, cwd=REPO)
        for i, log in zip((1, 2), logs, strict=True)
    ]
    try:
        run_ids = [
            _api(
                pg_prefect,
                "POST",
                f"/deployments/{deployment['id']}/create_flow_run",
                json={"parameters": {"ref": ref}},
            )["id"]
            for ref in refs
        ]
        deadline = time.monotonic() + 900
        while True:
            states = {
                rid: _api(pg_prefect, "GET", f"/flow_runs/{rid}")["state"]["type"]
                for rid in run_ids
            }
            if all(s in FINAL for s in states.values()):
                break
            for w, log in zip(workers, logs, strict=True):
                assert w.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"runs not finished: {states}"
            time.sleep(3)
    finally:
        for w in workers:
            stop_process_group(w)
    assert set(states.values()) == {"COMPLETED"}, states

    # each flow run was executed under exactly one worker (both may *try* to submit a run: the
    # server lets one win, the other logs "Aborted submission"), and both workers took part
    executed = re.compile(r"View at \S*/flow-run/([0-9a-f]{8}-[0-9a-f-]{27})")
    taken = [set(executed.findall(log.read_text())) for log in logs]
    ours = [t & set(run_ids) for t in taken]
    assert not (ours[0] & ours[1]), "a flow run was picked up by both workers"
    assert ours[0] | ours[1] == set(run_ids)
    assert ours[0] and ours[1], "one worker did all the work"

    catalogue = Catalogue.open(normalise_database_url(pg_catalogue_url))
    try:
        assert catalogue.count_by_state() == {"deposited": 4}
        for ref in refs:
            rid = "scielo-books-" + ref.split(":", 1)[1].replace("/", "-")
            item = catalogue.get_item(rid)
            assert item is not None and item.state == "deposited" and item.bag_uri
            assert [v.version for v in catalogue.versions(rid)] == [1]  # processed once
            events = catalogue.events(rid)
            assert sum(e.event_type == "capture" for e in events) == 1
            files = catalogue.files(rid, 1)
            assert files and all(f.s3_key for f in files)
    finally:
        catalogue.close()
    client = seaweed.client("admin")
    listed = client.list_objects_v2(
        Bucket=seaweed_settings.s3_bucket, Prefix=seaweed_settings.s3_prefix
    )
    receipts = [o["Key"] for o in listed.get("Contents", []) if "receipt" in o["Key"]]
    assert len(receipts) == 4, receipts


def test_scheduled_harvest_runs_on_its_own(
    pg_prefect: str,
    pg_catalogue_url: str,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    home: Path,
    tmp_path: Path,
) -> None:
    add_generated_book(scielo_server.catalogue, "sch", 1, tmp_path, seed=40)
    env = _env(pg_prefect, scielo_server, pg_catalogue_url, home)
    log = tmp_path / "serve.log"
    served = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.deployments",
            "serve",
            "--only",
            "scheduled",
            "--harvest-interval",
            "20",
        ],
        env=env,
        cwd=REPO,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    catalogue = Catalogue.open(normalise_database_url(pg_catalogue_url))
    try:
        deadline = time.monotonic() + 240
        while not [r for r in runs(catalogue, "scielo-books") if r.status == "completed"]:
            assert served.poll() is None, log.read_text()[-3000:]
            if time.monotonic() > deadline:
                server_log = Path(os.environ["_ARCHIVE_INGEST_TEST_PG_PREFECT_LOG"]).read_text()
                pytest.fail(
                    "no scheduled harvest ran within 240 s; served runner log:\n"
                    + log.read_text()[-2000:]
                    + "\nprefect server log:\n"
                    + server_log[-2500:]
                )
            time.sleep(3)
        [first, *_] = runs(catalogue, "scielo-books")
        assert first.counts.get("deposited") == 1, first.counts
        assert first.watermark_after is not None
        item = catalogue.get_item("scielo-books-sch-01")
        assert item is not None and item.state == "deposited"
    finally:
        stop_process_group(served)
        catalogue.close()
    flow_runs = _api(
        pg_prefect,
        "POST",
        "/flow_runs/filter",
        # the session Prefect server holds every earlier test's runs: an unfiltered listing is cut
        # at the API's page limit and may not reach this one, so ask for this deployment's runs
        json={
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            "deployments": {"name": {"any_": ["scheduled"]}},
            "sort": "START_TIME_DESC",
            "limit": 50,
        },
    )
    assert flow_runs, "the scheduled deployment has no completed flow run"
    harvest_runs = [r for r in flow_runs if r.get("auto_scheduled")]
    assert harvest_runs, "the completed harvest was not created by the scheduler"
