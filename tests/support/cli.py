"""Running `archive-ingest` as a subprocess against the test servers (SciELO sample, Prefect)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from archive_ingest.reliability.crashpoints import CRASH_ENV
from archive_ingest_demo.scielo_sample import SampleScieloServer

CLI = [sys.executable, "-m", "flows.cli"]
T = TypeVar("T")


def cli_env(
    server: SampleScieloServer, prefect_api_url: str | None = None, **extra: str
) -> dict[str, str]:
    """This process's environment (storage settings included) pointed at ``server`` and at
    ``prefect_api_url`` (None: the one in the environment, if any), then ``extra``."""
    env = dict(os.environ)
    for key, value in server.settings_overrides().items():
        env[f"ARCHIVE_INGEST_{key.upper()}"] = str(value)
    if prefect_api_url is not None:
        env["PREFECT_API_URL"] = prefect_api_url
    env.pop(CRASH_ENV, None)
    env.update(extra)
    return env


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``archive-ingest *args`` run to its end, its output captured as text."""
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def power_cut_when(
    env: dict[str, str],
    log: Path,
    moment: Callable[[], T],
    *args: str,
    timeout: float = 300,
    poll: float = 0.02,
) -> T | None:
    """Start ``archive-ingest *args`` in a session of its own, its output going to ``log``, and
    :func:`power_cut` it as soon as ``moment()`` returns something true; return that, or None
    if the command ended first. A command that does neither within ``timeout`` seconds is
    power-cut and fails the test."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*CLI, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            found = moment()
            if found:
                power_cut(proc)
                return found
            time.sleep(poll)
        if proc.poll() is None:
            power_cut(proc)
            pytest.fail(f"the run neither reached the moment nor ended: {log.read_text()}")
    return None


def json_lines(proc: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc), parents first."""
    tree, out, todo = _children(), [], [pid]
    while todo:
        current = todo.pop(0)
        out.append(current)
        todo += tree.get(current, [])
    return out


def power_cut(proc: subprocess.Popen[str]) -> None:
    """SIGKILL ``proc`` and every process below it, as a power cut would: the tree is frozen
    (SIGSTOP, repeated until no new child appears) and then killed at once."""
    stopped: set[int] = set()
    while True:
        tree = [p for p in process_tree(proc.pid) if p not in stopped]
        if not tree:
            break
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
            stopped.add(pid)
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=60)
