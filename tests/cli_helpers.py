"""Running `archive-ingest` as a subprocess against the test servers (SciELO sample, Prefect)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from archive_ingest.reliability.crashpoints import CRASH_ENV
from archive_ingest.scielo_sample import SampleScieloServer

CLI = [sys.executable, "-m", "archive_ingest.cli"]


def cli_env(server: SampleScieloServer, prefect_api_url: str, **extra: str) -> dict[str, str]:
    """This process's environment (storage settings included) pointed at ``server``."""
    env = dict(os.environ)
    for key, value in server.settings_overrides().items():
        env[f"ARCHIVE_INGEST_{key.upper()}"] = str(value)
    env["PREFECT_API_URL"] = prefect_api_url
    env.pop(CRASH_ENV, None)
    env.update(extra)
    return env


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def json_lines(proc: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
