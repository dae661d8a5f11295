"""A local ``prefect server`` in a child process, on 127.0.0.1, for tests and benchmarks.

Operators run their own Prefect server (docs/PREFECT.md, infra/); this starts one the way the
test suite and ``bench/`` need it: a free loopback port, its own PREFECT_HOME, SQLite or a
PostgreSQL database, waited on until ``/health`` answers, stopped with its whole process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

from tests.support.ports import free_port


def stop_process_group(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM the child's process group, then SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def local_prefect_server(
    home: Path,
    *,
    database_url: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    python: str | None = None,
    timeout: float = 180,
) -> Iterator[str]:
    """Run ``prefect server start`` for the block; yields its API URL (``.../api``).

    ``database_url``: ``postgresql+asyncpg://...`` for a PostgreSQL-backed server (default:
    SQLite under ``home``). ``python``: the interpreter to run it with (default this one).
    Raises ``RuntimeError`` with the end of the server log when it exits or does not answer.
    """
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_UI_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    env.update(extra_env or {})
    port = free_port()
    log_path = home / "server.log"
    cmd = [python or sys.executable, "-m", "prefect", "server", "start"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}/api"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"prefect server exited: {tail}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"prefect server did not start within {timeout:.0f} s")
                time.sleep(0.5)
            yield url
        finally:
            stop_process_group(proc)


def start_process_worker(
    pool: str,
    name: str,
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path | None = None,
    limit: int = 1,
) -> subprocess.Popen[bytes]:
    """``prefect worker start`` on a *process* pool, in its own session (stop it with
    :func:`stop_process_group`); output to ``log_path``. ``env`` must carry PREFECT_API_URL."""
    cmd = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool]
    cmd += ["--type", "process", "--name", name, "--limit", str(limit)]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            cmd,
            env=dict(env),
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
