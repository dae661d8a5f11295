"""The local Prefect API (orchestrator/local_api.py) for tests whose commands start it.

The test session turns that API off for every command (tests/support/plugins/prefect_server.py);
:func:`local_api_env` turns it on for one test's commands, on a free port under that test's
HOME, and :func:`stopped_afterwards` stops whatever those commands started (`prefect down`,
then SIGKILL as a last resort) and checks that no server process is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator, Mapping
from pathlib import Path

from archive_ingest.orchestrator.local_api import LocalPrefectApi
from archive_ingest.settings import Settings
from tests.support.ports import free_port


def local_api_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without PREFECT_API_URL, with the local
    Prefect API on and on a free port, HOME ``home``, and no user config file."""
    env = dict(os.environ if base is None else base)
    for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING"):
        env.pop(name, None)
    env["ARCHIVE_INGEST_HOME"] = str(home)
    env["ARCHIVE_INGEST_CONFIG"] = str(home.parent / "absent-config.toml")
    env["ARCHIVE_INGEST_LOCAL_PREFECT_API"] = "true"
    env["ARCHIVE_INGEST_PREFECT_API_PORT"] = str(free_port())
    env["PREFECT_HOME"] = str(home.parent / "client-prefect-home")  # the clients' own files
    return env


def api_of(env: Mapping[str, str]) -> LocalPrefectApi:
    """The local API the commands run with ``env`` use."""
    return LocalPrefectApi(
        Settings(
            home=Path(env["ARCHIVE_INGEST_HOME"]),
            prefect_api_port=int(env["ARCHIVE_INGEST_PREFECT_API_PORT"]),
        )
    )


def server_pids(port: int) -> list[int]:
    """Every live ``prefect server start ... --port <port>`` process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            words = (entry / "cmdline").read_bytes().split(b"\0")
            if b"server" in words and b"start" in words and str(port).encode() in words:
                stat = (entry / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(entry.name))
    return found


@contextlib.contextmanager
def stopped_afterwards(env: Mapping[str, str]) -> Iterator[LocalPrefectApi]:
    """The block's local API, stopped afterwards; fails when a server process is left."""
    api = api_of(env)
    try:
        yield api
    finally:
        try:
            api.down(timeout=10)
        finally:
            for pid in server_pids(api.port):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        assert server_pids(api.port) == [], "a local Prefect API outlived its test"
