"""Ctrl-C and unreachable storage, for real: ``archive-ingest ingest`` in a subprocess of its
own session (as a terminal runs a foreground job), the sample SciELO server, SeaweedFS.

- Ctrl-C (SIGINT to the whole process group) mid-fetch, with the local Prefect API the command
  started: the command ends within 5 s with exit code 130, one line and no traceback; the
  API runs on (it outlives the command) and a re-run uses it and completes the item with
  exactly one version.
- Ctrl-C with the embedded storage, which the command started, and Prefect's temporary server
  (local_prefect_api off: a child of the command, in its process group): the storage runs on
  afterwards (it outlives the command, as after a normal exit), so the re-run finds it and
  completes.
- An S3 endpoint that refuses connections, or accepts them and never answers: the command
  ends within 30 s with one line naming the endpoint, no traceback, exit code 1; ``reconcile``
  and ``audit`` the same with their exit code for errors, 2.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest.storage.embedded_set import embedded_storages, stop_all
from archive_ingest.storage.local import LocalStorage
from archive_ingest_demo.scielo_sample import SampleScieloServer
from tests.support.cli import CLI, cli_env, run_cli
from tests.support.local_prefect_api import local_api_env, stopped_afterwards
from tests.support.plugins.storage import free_base_port
from tests.support.ports import free_port

pytestmark = pytest.mark.slow

CHAPTER_PDF = "/id/37t/pdf/ribeiro-9788523205607-01.pdf"
REF = "scielo-books:37t/01"
RECORD = "scielo-books-37t-01"


def _env(server: SampleScieloServer, **extra: str) -> dict[str, str]:
    return cli_env(server, ARCHIVE_INGEST_FETCH_RETRIES="0", **extra)


def _start(env: dict[str, str], *args: str, out: Path) -> subprocess.Popen[bytes]:
    with (out / "stdout").open("wb") as stdout, (out / "stderr").open("wb") as stderr:
        return subprocess.Popen(
            [*CLI, *args],
            stdout=stdout,
            stderr=stderr,
            env=env,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _stderr_lines(out: Path) -> list[str]:
    return [line for line in (out / "stderr").read_text(errors="replace").splitlines() if line]


def _run(
    env: dict[str, str], *args: str, out: Path, timeout: float
) -> tuple[subprocess.Popen[bytes], float]:
    """Run the command to its end (its output in ``out``): the process, and the seconds it took."""
    started = time.monotonic()
    proc = _start(env, *args, out=out)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {timeout:.0f} s: {_stderr_lines(out)[-5:]}")
    finally:
        _stop_group(proc)
    return proc, time.monotonic() - started


def _wait_for_the_download(
    proc: subprocess.Popen[bytes], server: SampleScieloServer, out: Path, timeout: float
) -> None:
    """Until the chapter's PDF is asked for, and a second more: well inside the fetch stage."""
    deadline = time.monotonic() + timeout
    while not server.requests_for(CHAPTER_PDF):
        assert proc.poll() is None, _stderr_lines(out)
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.2)
    time.sleep(1.0)


def _ctrl_c(proc: subprocess.Popen[bytes], out: Path) -> float:
    """What Ctrl-C in a terminal does (SIGINT to the process group); the seconds to exit."""
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 60 s after Ctrl-C: {_stderr_lines(out)[-5:]}")
    return time.monotonic() - sent


def _assert_stopped_by_ctrl_c(proc: subprocess.Popen[bytes], out: Path, took: float) -> None:
    """Within 5 s, exit 130, one line that says so, no traceback."""
    errs = _stderr_lines(out)
    assert took < 5, f"took {took:.1f} s to stop after Ctrl-C; stderr: {errs[-8:]}"
    assert proc.returncode == 130, (proc.returncode, errs[-8:])
    assert not any("Traceback" in line for line in errs), errs
    assert [line for line in errs if "interrupted" in line.lower()], errs


def test_ctrl_c_mid_fetch_stops_within_5s_and_a_rerun_completes(
    scielo_book: SampleScieloServer, seaweed_settings: Settings, tmp_path: Path
) -> None:
    # the user's case: no Prefect server configured, so the command starts the local API
    env = local_api_env(
        seaweed_settings.home, _env(scielo_book, ARCHIVE_INGEST_FETCH_READ_TIMEOUT="300")
    )
    scielo_book.inject(CHAPTER_PDF, body_delay=240)  # the download stalls after its headers
    out = tmp_path / "first"
    out.mkdir()
    with stopped_afterwards(env) as api:
        proc = _start(env, "ingest", REF, out=out)
        try:
            _wait_for_the_download(proc, scielo_book, out, timeout=240)
            took = _ctrl_c(proc, out)
        finally:
            _stop_group(proc)
        _assert_stopped_by_ctrl_c(proc, out, took)
        api_pid = api.status().pid
        assert api_pid is not None, "the local Prefect API did not outlive the command"

        # the re-run (on the same local API) completes the item: one version
        scielo_book.clear_faults()
        again = tmp_path / "again"
        again.mkdir()
        rerun, _ = _run(env, "ingest", REF, out=again, timeout=600)
        assert rerun.returncode == 0, _stderr_lines(again)[-10:]
        assert not any("starting the local Prefect API" in e for e in _stderr_lines(again))
        assert api.status().pid == api_pid
    catalogue = Catalogue.open(seaweed_settings.effective_database_url)
    try:
        item = catalogue.get_item(RECORD)
        assert item is not None and item.state == "deposited"
        assert [v.version for v in catalogue.versions(RECORD)] == [1]
    finally:
        catalogue.close()


def test_ctrl_c_leaves_the_embedded_storage_running_and_a_rerun_uses_it(
    scielo_book: SampleScieloServer, home: Path, prefect_api_url: str, tmp_path: Path
) -> None:
    """The embedded storage that ``ingest`` started runs in its own session so that it outlives
    the command: Ctrl-C (the temporary Prefect server's shutdown makes the watchdog end the
    command) must not stop it either, or a quick re-run meets a half-stopped server."""
    env = {
        k: v
        for k, v in _env(scielo_book, ARCHIVE_INGEST_FETCH_READ_TIMEOUT="300").items()
        if not k.startswith(("ARCHIVE_INGEST_S3_", "AWS_"))
    }
    env["ARCHIVE_INGEST_STORAGE_S3_PORT"] = str(free_base_port())
    env.pop("PREFECT_API_URL", None)
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "true"
    env["ARCHIVE_INGEST_LOCAL_PREFECT_API"] = "false"  # Prefect's temporary server, a child
    with pytest.MonkeyPatch.context() as mp:  # the same settings as the command, for `down`
        mp.setenv("ARCHIVE_INGEST_STORAGE_S3_PORT", env["ARCHIVE_INGEST_STORAGE_S3_PORT"])
        for name in [n for n in os.environ if n.startswith("ARCHIVE_INGEST_S3_")]:
            mp.delenv(name)
        reset_settings_cache()
        local = LocalStorage(Settings())  # local-1; the command starts local-2 beside it
        every_server = embedded_storages(Settings())
    reset_settings_cache()
    scielo_book.inject(CHAPTER_PDF, body_delay=240)
    out = tmp_path / "first"
    out.mkdir()
    try:
        proc = _start(env, "ingest", REF, out=out)
        try:
            _wait_for_the_download(proc, scielo_book, out, timeout=300)
            storage_pid = local.status().pid
            assert storage_pid is not None, "the command did not start the embedded storage"
            _ctrl_c(proc, out)
        finally:
            _stop_group(proc)
        errs = _stderr_lines(out)
        assert proc.returncode == 130, (proc.returncode, errs[-8:])
        time.sleep(1.0)  # a SIGTERMed weed would be on its way out by now
        status = run_cli(env, "storage", "status", timeout=120)
        assert status.returncode == 0, (status.stdout, status.stderr[-2000:])
        assert local.status().pid == storage_pid  # the same server, never restarted

        scielo_book.clear_faults()
        again = tmp_path / "again"
        again.mkdir()
        rerun_env = {**env, "PREFECT_API_URL": prefect_api_url}
        rerun, _ = _run(rerun_env, "ingest", REF, out=again, timeout=600)
        rerun_errs = _stderr_lines(again)
        assert rerun.returncode == 0, rerun_errs[-10:]
        assert not any("starting the embedded storage" in line for line in rerun_errs)
        assert local.status().pid == storage_pid  # still the server the first run started
    finally:
        stop_all(every_server, timeout=30)
    assert not any(server.is_running() for server in every_server)


@contextlib.contextmanager
def _blackhole() -> Iterator[int]:
    """A loopback port that accepts TCP connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.parametrize("kind", ["refused", "blackhole"])
def test_unreachable_storage_fails_within_30s_with_one_line(
    kind: str,
    scielo_book: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    tmp_path: Path,
) -> None:
    with contextlib.ExitStack() as stack:
        port = stack.enter_context(_blackhole()) if kind == "blackhole" else free_port()
        endpoint = f"http://127.0.0.1:{port}"
        env = _env(scielo_book, ARCHIVE_INGEST_S3_ENDPOINT_URL=endpoint)
        proc, took = _run(env, "ingest", REF, out=tmp_path, timeout=300)
    errs = _stderr_lines(tmp_path)
    assert took < 30, f"took {took:.0f} s; stderr: {errs[-8:]}"
    assert proc.returncode == 1, (proc.returncode, errs[-8:])
    assert not any("Traceback" in line for line in errs), errs
    naming = [line for line in errs if endpoint in line]
    assert len(naming) == 1, errs


@pytest.mark.parametrize("kind", ["refused", "blackhole"])
@pytest.mark.parametrize(
    "command",
    [["reconcile"], ["reconcile", "--fix"], ["audit", "--all"]],
    ids=["reconcile", "reconcile-fix", "audit"],
)
def test_reconcile_and_audit_fail_within_30s_with_one_line_when_storage_is_unreachable(
    kind: str, command: list[str], seaweed_settings: Settings, tmp_path: Path
) -> None:
    """Each of their checks would wait out botocore's retries and timeouts (minutes against a
    silent endpoint, then a report of "check-failed" findings): the storage is probed first."""
    with contextlib.ExitStack() as stack:
        port = stack.enter_context(_blackhole()) if kind == "blackhole" else free_port()
        endpoint = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ARCHIVE_INGEST_S3_ENDPOINT_URL": endpoint}
        proc, took = _run(env, *command, out=tmp_path, timeout=120)
    errs = _stderr_lines(tmp_path)
    assert took < 30, f"took {took:.0f} s; stderr: {errs[-8:]}"
    assert proc.returncode == 2, (proc.returncode, errs[-8:])
    assert not any("Traceback" in line for line in errs), errs
    naming = [line for line in errs if endpoint in line]
    assert len(naming) == 1 and "does not answer" in naming[0], errs
    assert not (tmp_path / "stdout").read_text().strip()  # no report of unchecked findings


def test_storage_gone_at_the_deposit_fails_the_item_as_transient_and_a_rerun_deposits(
    scielo_book: SampleScieloServer,
    harvest_env: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The storage answers when the run starts and has stopped answering at the deposit (a
    blackhole: the worst case, connections accepted and never answered): the deposit stage
    fails within 30 s without retries, the item ends failed with a transient failure event
    naming the endpoint, the package kept; with the storage back, a re-run deposits it as its
    one version."""
    from flows.ingest import ingest_item  # Prefect is imported once the server is set up

    real_endpoint = harvest_env.s3_endpoint_url
    with _blackhole() as port:
        endpoint = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("ARCHIVE_INGEST_S3_ENDPOINT_URL", endpoint)
        reset_settings_cache()
        started = time.monotonic()
        result = ingest_item(REF)
        took = time.monotonic() - started
    catalogue = Catalogue.open(harvest_env.effective_database_url)
    try:
        assert result["state"] == "failed", result
        assert endpoint in result["reasons"][0], result
        events = catalogue.events(RECORD)
        ends = [e for e in events if e.event_type == "ingestion end"]
        assert ends and (ends[-1].outcome_detail or {}).get("transient") is True, ends
        packed = [e for e in events if e.event_type == "packing"]
        assert packed, "the item should have been packaged before the deposit"
        deposit_took = (ends[-1].datetime - packed[-1].datetime).total_seconds()
    finally:
        catalogue.close()
    assert deposit_took < 30, f"the deposit stage took {deposit_took:.0f} s (run: {took:.0f} s)"

    monkeypatch.setenv("ARCHIVE_INGEST_S3_ENDPOINT_URL", str(real_endpoint))
    reset_settings_cache()
    again = ingest_item(REF)
    assert again["state"] == "deposited", again
    catalogue = Catalogue.open(harvest_env.effective_database_url)
    try:
        assert [v.version for v in catalogue.versions(RECORD)] == [1]
    finally:
        catalogue.close()


def test_ctrl_c_during_a_harvest_stops_within_5s_and_the_next_harvest_completes(
    scielo_book: SampleScieloServer, harvest_env: Settings, tmp_path: Path
) -> None:
    """The same for ``archive-ingest harvest`` (items in worker threads, the session's Prefect
    server): exit 130 within 5 s with one line; the next harvest deposits the chapter."""
    env = _env(scielo_book, ARCHIVE_INGEST_FETCH_READ_TIMEOUT="300")
    scielo_book.inject(CHAPTER_PDF, body_delay=240)
    out = tmp_path / "first"
    out.mkdir()
    proc = _start(env, "harvest", "scielo-books", out=out)
    try:
        _wait_for_the_download(proc, scielo_book, out, timeout=240)
        took = _ctrl_c(proc, out)
    finally:
        _stop_group(proc)
    _assert_stopped_by_ctrl_c(proc, out, took)

    scielo_book.clear_faults()
    again = tmp_path / "again"
    again.mkdir()
    rerun, _ = _run(_env(scielo_book), "harvest", "scielo-books", out=again, timeout=600)
    assert rerun.returncode == 1, _stderr_lines(again)[-10:]  # chapter 03 has no PDF: a problem
    catalogue = Catalogue.open(harvest_env.effective_database_url)
    try:
        item = catalogue.get_item(RECORD)
        assert item is not None and item.state == "deposited", item and item.state
        assert [v.version for v in catalogue.versions(RECORD)] == [1]
    finally:
        catalogue.close()
