"""The progress bar of the long commands (here ``reconcile``, the cheapest: one target and
the catalogue checks) is drawn on a terminal only: piped, under CI, or with JSON logs, stderr
has no bar, and stdout is the same JSON report either way. Real parts: the CLI as a
subprocess on a pseudo-terminal (``pty``), SeaweedFS."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import time

import pytest

from archive_ingest.settings import Settings
from tests.support.cli import CLI, run_cli

pytestmark = pytest.mark.slow

BAR_MARKS = ("ETA", "━")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
    env.update(extra)
    return env


def _on_a_terminal(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run ``archive-ingest *args`` with stderr on a pseudo-terminal (stdout piped): the exit
    code, stdout and what the terminal received."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=slave, env=env, text=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the command ended: the terminal is gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read()
    return proc.wait(timeout=60), out, seen.decode("utf-8", "replace")


def test_reconcile_draws_a_bar_on_a_terminal_only(seaweed_settings: Settings) -> None:
    code, out, terminal = _on_a_terminal(_env(), "reconcile")
    assert code == 0, terminal
    assert "reconcile" in terminal and "5/5" in terminal  # 1 target + 4 catalogue checks
    assert all(mark in terminal for mark in BAR_MARKS), terminal
    report = json.loads(out)
    assert report["findings"] == []

    piped = run_cli(_env(), "reconcile")
    assert piped.returncode == 0, piped.stderr
    assert not any(mark in piped.stderr for mark in BAR_MARKS), piped.stderr
    assert json.loads(piped.stdout)["findings"] == []  # stdout is the same report

    for quiet_env, args in ((_env(CI="true"), ()), (_env(), ("--log-format", "json"))):
        code, out, terminal = _on_a_terminal(quiet_env, *args, "reconcile")
        assert code == 0, terminal
        assert not any(mark in terminal for mark in BAR_MARKS), terminal
        assert json.loads(out)["findings"] == []
