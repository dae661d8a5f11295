"""The local Prefect API (orchestrator/local_api.py), for real: ``archive-ingest`` commands in
subprocesses start a real ``prefect server`` under their HOME on first use, reuse it, report
and stop it; it demands its credential, which no command line, log or output shows.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from archive_ingest.orchestrator.listener import port_listened
from archive_ingest_demo.scielo_sample import SampleScieloServer
from tests.support.cli import CLI, cli_env, run_cli
from tests.support.local_prefect_api import local_api_env, server_pids, stopped_afterwards

pytestmark = pytest.mark.slow

STARTING = "starting the local Prefect API"


def _status(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def _password(home: Path) -> str:
    return (home / "prefect" / "api-auth").read_text().strip()


def _flow_runs(url: str, credential: str) -> list[dict[str, Any]]:
    answer = httpx.post(f"{url}/flow_runs/filter", json={}, auth=tuple(credential.split(":", 1)))
    answer.raise_for_status()
    runs: list[dict[str, Any]] = answer.json()
    return runs


def _dry_run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``harvest --dry-run`` of the sample book: a flow run (exit 1: its chapter without PDF)."""
    proc = run_cli(env, "harvest", "scielo-books", "--dry-run", timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["dry_run"] is True
    return proc


def test_first_use_starts_it_a_second_command_reuses_it_and_down_stops_it(
    scielo_book: SampleScieloServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = local_api_env(home, cli_env(scielo_book))
    with stopped_afterwards(env) as api:
        first = _dry_run(env)  # a command that runs a flow: starts the API
        assert STARTING in first.stderr
        info = json.loads(api.pid_file.read_text())
        pid = info["pid"]
        assert server_pids(api.port) == [pid]
        assert (home / "prefect" / "prefect.db").is_file()  # the database, under HOME
        assert stat.S_IMODE(api.auth_file.stat().st_mode) == 0o600
        credential = f"archive-ingest:{_password(home)}"
        runs = len(_flow_runs(api.url, credential))
        assert runs >= 1  # the flow ran on it

        second = _dry_run(env)  # the next command: the same server, nothing started
        assert STARTING not in second.stderr
        assert server_pids(api.port) == [pid]
        assert len(_flow_runs(api.url, credential)) > runs

        status = run_cli(env, "prefect", "status", timeout=120)
        assert status.returncode == 0, status.stderr
        report = _status(status)
        assert report["running"] and report["answering"] and report["pid"] == pid
        assert report["url"] == api.url and not report["started"]

        # no log, database or output under HOME shows the credential
        for path in home.rglob("*"):
            if path.is_file() and path != api.auth_file:
                assert _password(home).encode() not in path.read_bytes(), path
        for proc in (first, second, status):
            assert _password(home) not in proc.stdout + proc.stderr

        down = run_cli(env, "prefect", "down", timeout=120)
        assert down.returncode == 0, down.stderr
        assert not _status(down)["running"]
        assert _gone(pid) and server_pids(api.port) == []
        assert not api.pid_file.exists()
        assert not port_listened(api.port)
        assert run_cli(env, "prefect", "status", timeout=120).returncode == 3


def test_a_stale_pid_file_is_not_taken_for_the_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = local_api_env(home)
    with stopped_afterwards(env) as api:
        api.dir.mkdir(parents=True)
        # a live process that is not the server (this test), then a dead one
        for stale in (os.getpid(), _dead_pid()):
            stale_info = {"pid": stale, "port": api.port, "started_at": "2026-01-01T00:00:00"}
            api.pid_file.write_text(json.dumps(stale_info))
            status = run_cli(env, "prefect", "status", timeout=120)
            assert status.returncode == 3 and not _status(status)["running"], status.stdout
            up = run_cli(env, "prefect", "up", timeout=300)
            assert up.returncode == 0, up.stderr
            report = _status(up)
            assert report["started"] and report["pid"] not in (stale, None)
            assert json.loads(api.pid_file.read_text())["pid"] == report["pid"]
            assert server_pids(api.port) == [report["pid"]]
            assert run_cli(env, "prefect", "down", timeout=120).returncode == 0
            assert server_pids(api.port) == []


def _gone(pid: int) -> bool:
    """No process ``pid`` in /proc, or only its zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_the_api_demands_its_credential_which_no_command_line_or_output_shows(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    env = local_api_env(home)
    with stopped_afterwards(env) as api:
        up = run_cli(env, "prefect", "up", timeout=300)
        assert up.returncode == 0, up.stderr
        pid = _status(up)["pid"]
        password = _password(home)
        assert len(password) >= 32

        flow_runs = f"{api.url}/flow_runs/filter"
        assert httpx.post(flow_runs, json={}).status_code == 401
        assert httpx.post(flow_runs, json={}, auth=("archive-ingest", "wrong")).status_code == 401
        assert httpx.post(flow_runs, json={}, auth=("archive-ingest", password)).status_code == 200
        assert httpx.get(f"{api.url}/health").status_code == 200  # unauthenticated, by design

        assert password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        # `config`, even with the client's variable set, and every file under HOME
        config_env = {**env, "PREFECT_API_AUTH_STRING": f"archive-ingest:{password}"}
        config = run_cli(config_env, "config", timeout=120)
        assert config.returncode == 0, config.stderr
        assert password not in config.stdout + config.stderr
        for proc in (up, config):
            assert password not in proc.stdout + proc.stderr
        for path in home.rglob("*"):
            if path.is_file() and path != api.auth_file:
                assert password.encode() not in path.read_bytes(), path


def test_two_commands_at_once_start_one_server(tmp_path: Path) -> None:
    env = local_api_env(tmp_path / "home")
    with stopped_afterwards(env) as api:
        procs = [
            subprocess.Popen(
                [*CLI, "prefect", "up"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [proc.communicate(timeout=300) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in outs]
        reports = [json.loads(out) for out, _ in outs]
        assert reports[0]["pid"] == reports[1]["pid"]
        assert sorted(r["started"] for r in reports) == [False, True]
        assert server_pids(api.port) == [reports[0]["pid"]]


def test_with_prefect_api_url_set_nothing_is_started(
    scielo_book: SampleScieloServer, prefect_api_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = {**local_api_env(home, cli_env(scielo_book)), "PREFECT_API_URL": prefect_api_url}
    with stopped_afterwards(env) as api:
        proc = _dry_run(env)
        assert STARTING not in proc.stderr
        assert not (home / "prefect").exists()
        assert server_pids(api.port) == [] and not port_listened(api.port)
