"""The progress bar of the long commands (here ``reconcile``, the cheapest: one target and
the catalogue checks) is drawn on a terminal only: piped, under CI, or with JSON logs, stderr
has no bar, and stdout is the same JSON report either way. While a bar or the status line is
drawn, the results an ``ingest`` prints go to stdout still (not through rich's stdout proxy to
the terminal). Real parts: the CLI as a subprocess on a pseudo-terminal (``pty``), SeaweedFS,
the local SciELO server, the session's Prefect server."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import time

import pytest

from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleScieloServer
from tests.support.cli import CLI, cli_env, run_cli

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


def test_ingest_results_reach_stdout_while_the_bar_runs(
    scielo_book: SampleScieloServer, seaweed_settings: Settings, prefect_api_url: str
) -> None:
    """Two items (the bar) and one item (the status line), stderr on a terminal, stdout a
    pipe: stdout holds every result, the terminal none. The cheapest real ingests: chapters
    the book does not have (each run fails at resolve)."""
    env = _env(**cli_env(scielo_book, prefect_api_url))
    env.pop("CI", None)
    for refs, drawn in (
        (["scielo-books:37t/08", "scielo-books:37t/09"], BAR_MARKS),
        (["scielo-books:37t/07"], ("ingesting scielo-books:37t/07",)),
    ):
        code, out, terminal = _on_a_terminal(env, "ingest", *refs)
        assert code == 1, terminal  # the chapters are not in the book
        assert all(mark in terminal for mark in drawn), terminal
        results = [json.loads(line) for line in out.splitlines() if line.strip()]
        assert [r["source"] for r in results] == refs, (out, terminal)
        assert all(r["state"] == "failed" for r in results), results
        assert '"state"' not in terminal, terminal
