"""`archive-ingest status` as a person and a script run it: a real subprocess against a HOME
whose two storage targets are real SeaweedFS servers holding real deposits, and a catalogue
with items in every queue (written through the catalogue API).

- the JSON figures equal what the catalogue holds (counted here by other queries), the targets
  answer with versioning and Object Lock, the exit code follows the health (0, then 3 once
  failed and stuck items are there), and a running `serve` is seen;
- the screen (no --json, a forced width) has every table's heading and the values;
- a stopped target and a silent one (accepts connections, never answers) are reported down
  with exit 1 within a bounded time;
- a PostgreSQL catalogue whose URL holds a password: reported, figures equal, the password
  masked; a dead database and a dead PREFECT_API_URL: down, exit 1, nothing secret shown;
- the newest run of each flow is read from a real Prefect server (a failed one is a problem,
  a completed one is not), and the local Prefect API is asked with its credential, which
  neither output shows;
- neither output ever holds an S3 key or a database password.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.filesize import decimal
from sqlalchemy import select, update

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import all_copies, target_totals
from archive_ingest.catalogue.runs import record_job_run
from archive_ingest.catalogue.schema import Item
from archive_ingest.models import State
from archive_ingest.monitoring.status_model import StatusReport
from archive_ingest.monitoring.status_view import HEADINGS, status_svg
from archive_ingest.settings import Settings
from tests.support.cli import run_cli
from tests.support.local_prefect_api import local_api_env, stopped_afterwards
from tests.support.plugins.db import fresh_schema
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv
from tests.support.ports import free_port
from tests.support.serve import serve_process
from tests.test_replicate import deposit_item

pytestmark = pytest.mark.slow

DOCS_SVG = Path(__file__).resolve().parent.parent / "docs" / "images" / "status.svg"


def status(env: dict[str, str], *args: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = run_cli(env, "status", *args, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def status_json(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = status(env, "--json", *args)
    assert out.strip(), f"no JSON on stdout (exit {code}): {err}"
    return code, json.loads(out), err


def command_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)  # the local Prefect API of the test HOME, not a session's
    env["ARCHIVE_INGEST_LOCAL_PREFECT_API"] = "true"  # the default (the test plugin turns it off)
    env.update(extra)
    return env


def secrets_of(servers: list[SeaweedServer]) -> list[str]:
    found: list[str] = []
    for server in servers:
        for pair in (server.credentials.ingest, server.credentials.admin):
            found += [pair.access_key_id, pair.secret_access_key.get_secret_value()]
    return found


def no_secret_in(text: str, secrets: list[str]) -> None:
    shown = [s[:4] + "..." for s in secrets if s and s in text]
    assert not shown, f"secrets in the output: {shown}"


def add_item(
    catalogue: Catalogue, state: State, reasons: list[str], *, hours_ago: float = 0
) -> str:
    record_id = f"status-{uuid.uuid4().hex[:10]}"
    catalogue.ensure_item(record_id, source=f"test:{record_id}", source_kind="test")
    version = catalogue.new_version(record_id, original_sha256=None, work_dir=None)
    catalogue.set_state(record_id, state, reasons, version=version)
    if hours_ago:
        at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
        with catalogue.session() as session:
            session.execute(update(Item).where(Item.id == record_id).values(updated_at=at))
    return record_id


def updated_at(catalogue: Catalogue, record_id: str) -> dt.datetime:
    with catalogue.session() as session:
        value = session.scalar(select(Item.updated_at).where(Item.id == record_id))
    assert value is not None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def archive(
    seaweed_private_pair: list[SeaweedServer], targets_env: TargetsEnv, tmp_path: Path
) -> Iterator[tuple[Settings, Catalogue]]:
    """Two targets (t1, t2) holding two real deposits; one item for review; an audit that
    succeeded and a replicate run that failed."""
    settings = targets_env(seaweed_private_pair, copies_required=2)
    catalogue = Catalogue.open(settings.effective_database_url)
    for _ in range(2):
        deposit_item(settings, catalogue, tmp_path)
    add_item(catalogue, State.NEEDS_REVIEW, ["licence: no licence statement found"], hours_ago=2)
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    record_job_run(catalogue, "audit", started_at=started, outcome="success")
    try:
        yield settings, catalogue
    finally:
        catalogue.close()


def assert_figures_equal_catalogue(report: dict[str, Any], catalogue: Catalogue) -> None:
    by_state = catalogue.count_by_state()
    assert {k: v for k, v in report["items"].items() if v} == by_state
    assert set(report["items"]) >= {s.value for s in State}  # every state, zeros included
    queues = report["queues"]
    assert queues["review"] == by_state.get("needs_review", 0)
    assert queues["failed"] == by_state.get("failed", 0)
    assert queues["under_replicated"] == by_state.get("under_replicated", 0)
    totals = target_totals(catalogue)  # stored_objects, object by object
    targets = {t["name"]: t for t in report["targets"]}
    for name, (objects, size) in totals.items():
        assert (targets[name]["objects"], targets[name]["bytes"]) == (objects, size), name
        verified = sum(1 for c in all_copies(catalogue, name) if c.status == "verified")
        assert targets[name]["copies"].get("verified", 0) == verified, name


def test_status_reports_the_archive_as_the_catalogue_holds_it(
    archive: tuple[Settings, Catalogue], seaweed_private_pair: list[SeaweedServer], home: Path
) -> None:
    settings, catalogue = archive
    secrets = secrets_of(seaweed_private_pair)
    env = command_env()
    with serve_process(home, settings.effective_database_url) as base:
        started = time.monotonic()
        code, report, err = status_json(env, "--web-url", base)
        took = time.monotonic() - started
    no_secret_in(json.dumps(report) + err, secrets)
    assert (code, report["health"], report["problems"]) == (0, "ok", []), report["problems"]
    assert report["exit_code"] == 0
    assert took < 15, f"status took {took:.1f} s"

    services = report["services"]
    assert services["catalogue"]["up"] and services["catalogue"]["dialect"] == "sqlite"
    assert services["catalogue"]["schema_revision"] == services["catalogue"]["expected_revision"]
    assert services["web"] == {"url": base, "up": True, "detail": "answered HTTP 200"}
    prefect = services["prefect"]  # not started by anything here: started on demand
    assert (prefect["mode"], prefect["up"], prefect["on_demand"]) == ("local", False, True)
    assert [t["name"] for t in report["targets"]] == ["t1", "t2"]
    for target, server in zip(report["targets"], seaweed_private_pair, strict=True):
        assert target["endpoint"] == server.endpoint
        assert target["up"] and target["bucket_exists"] and target["versioning"], target
        assert target["object_lock"] and not target["on_demand"], target
        assert target["copies"] == {"verified": 2}
    assert report["copies_required"] == 2
    assert_figures_equal_catalogue(report, catalogue)
    assert report["queues"]["review"] == 1
    assert 2 * 3600 - 60 < report["queues"]["review_oldest_age_seconds"] < 2 * 3600 + 600
    runs = {run["job"]: run for run in report["last_runs"]}
    assert list(runs) == ["ingest", "harvest", "audit", "replicate", "repair"]
    assert runs["audit"]["outcome"] == "success" and runs["audit"]["age_seconds"] < 600
    assert runs["harvest"]["at"] is None and runs["harvest"]["outcome"] is None
    newest = max(updated_at(catalogue, item.id) for item in catalogue.list_items())
    assert parse_time(runs["ingest"]["at"]) == newest

    # then failed, stuck and under-replicated items, and a failed replicate run: degraded
    failed = add_item(catalogue, State.FAILED, ["failure: fetch: HTTP 404"])
    add_item(catalogue, State.OCR_DONE, [], hours_ago=settings.stalled_after_seconds / 3600 + 1)
    under = add_item(catalogue, State.UNDER_REPLICATED, ["copies: 1 of 2"])
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    record_job_run(catalogue, "replicate", started_at=started, outcome="failure")
    code, report, err = status_json(env)
    no_secret_in(json.dumps(report) + err, secrets)
    assert (code, report["health"], report["exit_code"]) == (3, "degraded", 3)
    assert_figures_equal_catalogue(report, catalogue)
    queues = report["queues"]
    assert (queues["failed"], queues["stuck"], queues["under_replicated"]) == (1, 1, 1)
    assert queues["stuck_oldest_age_seconds"] > settings.stalled_after_seconds
    problems = " | ".join(p["what"] for p in report["problems"])
    for words in ("1 item failed", "1 item stuck", "1 item under-replicated", "replicate run"):
        assert words in problems, problems
    assert all(p["severity"] == "degraded" for p in report["problems"])
    runs = {run["job"]: run for run in report["last_runs"]}
    assert runs["replicate"]["outcome"] == "failure"
    # the last ingest: the item that last reached a final state, and that state (the
    # catalogue keeps whole seconds: two items of the same second are both the last)
    finals = {
        "failed": updated_at(catalogue, failed),
        "under_replicated": updated_at(catalogue, under),
    }
    newest = max(finals.values())
    assert parse_time(runs["ingest"]["at"]) == newest
    assert runs["ingest"]["outcome"] in {state for state, at in finals.items() if at == newest}

    # the screen: every table with its values, at a forced width
    code, screen, err = status(command_env(COLUMNS="160"))
    assert code == 3, err
    no_secret_in(screen + err, secrets)
    for heading in HEADINGS:
        assert heading in screen, heading
    assert "DEGRADED" in screen and "1 item stuck" in screen
    for target in report["targets"]:
        line = next(ln for ln in screen.splitlines() if ln.strip().startswith(target["name"] + " "))
        assert str(target["objects"]) in line and decimal(target["bytes"]) in line, line
    for word in ("storage t1", "storage t2", "catalogue", "needs_review", "under_replicated"):
        assert word in screen, word

    # the same screen as an SVG picture (the docs' screenshot when asked for)
    svg = status_svg(StatusReport.model_validate(report))
    assert svg.startswith("<svg") and "Storage&#160;targets" in svg
    assert "@font-face" not in svg and 'url("http' not in svg  # loads nothing from outside
    no_secret_in(svg, secrets)
    if os.environ.get("ARCHIVE_INGEST_UPDATE_DOCS_IMAGES"):
        DOCS_SVG.write_text(svg, encoding="utf-8")


def test_a_stopped_and_a_silent_target_are_down_within_a_bounded_time(
    archive: tuple[Settings, Catalogue], seaweed_private_pair: list[SeaweedServer]
) -> None:
    """Runs last in this module: it stops the module's second server."""
    secrets = secrets_of(seaweed_private_pair)
    stopped = seaweed_private_pair[1]
    stopped.local.down(timeout=3)
    assert not stopped.local.is_running()
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        entries = json.loads(os.environ["ARCHIVE_INGEST_STORAGE_TARGETS"])
        entries.append(
            {
                **entries[0],
                "name": "t3",
                "endpoint_url": f"http://{silent.getsockname()[0]}:{silent.getsockname()[1]}",
            }
        )
        env = command_env(ARCHIVE_INGEST_STORAGE_TARGETS=json.dumps(entries))
        started = time.monotonic()
        code, report, err = status_json(env, "--timeout", "10")
        took = time.monotonic() - started
    no_secret_in(json.dumps(report) + err, secrets)
    assert took < 20, f"status took {took:.1f} s with a dead and a silent target"
    assert (code, report["health"], report["exit_code"]) == (1, "down", 1)
    targets = {t["name"]: t for t in report["targets"]}
    assert targets["t1"]["up"] and not targets["t2"]["up"] and not targets["t3"]["up"]
    down = [p["what"] for p in report["problems"] if p["severity"] == "down"]
    assert any("t2" in what and "does not answer" in what for what in down), down
    assert any("t3" in what for what in down), down
    assert any("copies_required is 2" in what for what in down), down
    assert targets["t2"]["copies"] == {"verified": 2}  # the catalogue's figures still shown

    code, screen, _ = status(command_env(COLUMNS="160"))
    assert code == 1
    assert "DOWN" in screen
    line = next(ln for ln in screen.splitlines() if "storage t2" in ln)
    assert "down" in line, line


def test_a_postgresql_catalogue_with_a_password_is_shown_masked(
    home: Path, postgres_url: str
) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    with fresh_schema(postgres_url) as base:
        url = base.replace("postgresql://postgres@", f"postgresql://postgres:{password}@", 1)
        assert password in url
        catalogue = Catalogue.open(url)
        try:
            add_item(catalogue, State.NEEDS_REVIEW, ["metadata: no title"])
            add_item(catalogue, State.REJECTED, ["licence: all rights reserved"])
            env = command_env(ARCHIVE_INGEST_DATABASE_URL=url)
            code, report, err = status_json(env)
            assert password not in json.dumps(report) + err
            screen_code, screen, screen_err = status(env)
            assert password not in screen + screen_err
            catalogue_service = report["services"]["catalogue"]
            assert catalogue_service["up"] and catalogue_service["dialect"] == "postgresql"
            assert "postgres:***@" in catalogue_service["database"]
            assert_figures_equal_catalogue(report, catalogue)
            assert (code, screen_code) == (0, 0), report["problems"]
        finally:
            catalogue.close()


def test_a_dead_database_and_prefect_api_are_down_and_nothing_secret_is_shown(
    home: Path,
) -> None:
    password, token = f"pw-{uuid.uuid4().hex}", f"tok-{uuid.uuid4().hex}"
    dead = free_port()
    env = command_env(
        ARCHIVE_INGEST_DATABASE_URL=f"postgresql://archivist:{password}@127.0.0.1:{dead}/db",
        PREFECT_API_URL=f"http://user:{token}@127.0.0.1:{free_port()}/api",
    )
    started = time.monotonic()
    code, report, err = status_json(env)
    assert time.monotonic() - started < 20
    _, screen, screen_err = status(env)
    for text in (json.dumps(report), err, screen, screen_err):
        assert password not in text and token not in text
    assert (code, report["health"]) == (1, "down")
    assert not report["services"]["catalogue"]["up"]
    assert report["services"]["prefect"]["mode"] == "external"
    assert report["services"]["prefect"]["up"] is False
    down = " | ".join(p["what"] for p in report["problems"])
    assert "catalogue" in down and "Prefect API" in down, down
    assert report["items"] == {} and report["last_runs"] == []


def test_the_newest_run_of_each_flow_is_read_from_the_prefect_api(
    prefect_api_url: str, home: Path
) -> None:
    from prefect import flow  # the session's Prefect server (its fixture imports Prefect too)

    @flow(name="fixity-audit")
    def fine() -> int:
        return 1

    @flow(name="rerun-ocr")
    def failing() -> None:
        raise RuntimeError("this flow fails on purpose")

    @flow(name="another-projects-flow")  # on a shared server: neither read nor a problem
    def foreign() -> None:
        raise RuntimeError("another project's flow fails")

    fine()
    with pytest.raises(RuntimeError):
        failing()
    with pytest.raises(RuntimeError):
        foreign()
    env = command_env(PREFECT_API_URL=prefect_api_url)
    code, report, _ = status_json(env)
    prefect = report["services"]["prefect"]
    assert (prefect["mode"], prefect["up"], prefect["flow_runs_detail"]) == ("external", True, "")
    runs = {run["flow"]: run for run in prefect["flow_runs"]}
    assert runs["fixity-audit"]["state_type"] == "COMPLETED"
    assert runs["rerun-ocr"]["state_type"] == "FAILED"
    assert runs["rerun-ocr"]["state"] == "Failed"
    assert "another-projects-flow" not in runs
    problems = [p for p in report["problems"] if "rerun-ocr" in p["what"]]
    assert [p["severity"] for p in problems] == ["degraded"]
    assert not any("fixity-audit" in p["what"] for p in report["problems"])
    assert not any("another-projects-flow" in p["what"] for p in report["problems"])
    assert code == 3, report["problems"]

    _, screen, _ = status(command_env(PREFECT_API_URL=prefect_api_url, COLUMNS="160"))
    line = next(ln for ln in screen.splitlines() if "flow rerun-ocr" in ln)
    assert "Failed" in line, line


def test_the_local_prefect_api_is_asked_with_its_credential_and_never_shows_it(
    home: Path,
) -> None:
    env = local_api_env(home)
    with stopped_afterwards(env) as api:
        up = run_cli(env, "prefect", "up", timeout=300)
        assert up.returncode == 0, up.stderr
        credential = api.auth_file.read_text().strip()
        code, report, err = status_json(env)
        _, screen, screen_err = status({**env, "COLUMNS": "160"})
    for text in (json.dumps(report), err, screen, screen_err):
        assert credential not in text
    prefect = report["services"]["prefect"]
    assert (prefect["mode"], prefect["up"], prefect["url"]) == ("local", True, api.url)
    assert prefect["flow_runs"] == [] and prefect["flow_runs_detail"] == ""  # 401 would say so
    assert code == 0, report["problems"]
