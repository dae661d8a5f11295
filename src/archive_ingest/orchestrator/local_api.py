"""The local Prefect API: one long-lived ``prefect server`` per HOME, started on first use.

Without PREFECT_API_URL, Prefect starts a temporary server inside every process that runs a
flow (about 9-10 s per command). With ``local_prefect_api`` on (the default), the first command
that runs a flow starts this server instead (:meth:`LocalPrefectApi.up`), detached in a session
of its own so that it outlives the command (:func:`archive_ingest.interrupt.outlives_command`),
and later commands reuse it; ``archive-ingest prefect down`` stops it. Nothing here imports
Prefect: the server is ``python -m prefect server start`` in a child process.

It listens on ``127.0.0.1:<prefect_api_port>`` only and demands HTTP basic authentication on
every route but ``/api/health`` and ``/api/ready`` (Prefect's PREFECT_SERVER_API_AUTH_STRING).
The credential is generated once into ``api-auth`` (0600, written atomically) and handed to the
server and to clients (PREFECT_API_AUTH_STRING) through their environment, never on a command
line or in a log. A command trusts the server only when the process of the pid file is the one
listening on the port (:mod:`archive_ingest.orchestrator.listener`): a port taken by another
local user's process never gets the credential.

Files in ``HOME/prefect`` (PREFECT_HOME of the server): ``prefect.db`` (Prefect's SQLite
database), ``api.pid`` (JSON: pid, port, start time), ``api.log`` (the server's output),
``api-auth`` (the credential), ``.lock`` (one start or stop at a time, across processes).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

from pydantic import BaseModel, ValidationError

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.interrupt import outlives_command
from archive_ingest.models import utcnow
from archive_ingest.orchestrator.listener import listens_on
from archive_ingest.secret_files import (
    MIN_SECRET_CHARS,
    ensure_private_dir,
    ensure_secret,
    read_secret,
    write_private_file,
)
from archive_ingest.settings import Settings
from archive_ingest.storage.weed_process import alive, cmdline, port_is_free

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
AUTH_USER = "archive-ingest"
MAX_LOG_BYTES = 20 * 1024 * 1024
LOG_TAIL_LINES = 25

#: the server's own settings (its environment), whatever the caller's PREFECT_* say
SERVER_SETTINGS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # The task run recorder writes every task run's states into the database. On SQLite it
    # holds the write lock while the next flow starts: measured on this project's machine,
    # about 2 of 3 back-to-back create_flow_run calls were answered 503 "database is locked"
    # and the client waited ~2 s before its retry, so a flow of 8 trivial tasks took 2.2-2.8 s
    # with it and 0.26-0.36 s without (the event persister made no difference). The cost: task
    # runs are not listed in this server's database or UI; flow runs and their states are.
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
}

# Popen objects of servers this process started, so that `down` can reap them (no zombies)
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class PrefectApiError(ArchiveIngestError):
    """The local Prefect API could not be started, stopped or used."""


class ApiStatus(BaseModel):
    """What `prefect status` reports. Never contains the credential."""

    running: bool
    started: bool = False  # this call started it
    answering: bool | None = None
    pid: int | None = None
    url: str
    prefect_home: str
    database: str
    log_file: str
    auth_file: str
    started_at: str | None = None
    detail: str = ""


class _PidInfo(BaseModel):
    pid: int
    port: int
    started_at: str


class LocalPrefectApi:
    """Start, stop and describe the local Prefect API of one HOME."""

    def __init__(
        self, settings: Settings, *, start_timeout: float = 90.0, stop_timeout: float = 20.0
    ) -> None:
        self.port = settings.prefect_api_port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.dir = settings.home / "prefect"
        self.pid_file = self.dir / "api.pid"
        self.log_file = self.dir / "api.log"
        self.auth_file = self.dir / "api-auth"
        self.database = self.dir / "prefect.db"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    # --- public API -------------------------------------------------------------------------

    def up(self, *, announce: Callable[[], None] | None = None) -> ApiStatus:
        """Start the server unless it runs; ``announce()`` just before starting one.
        Idempotent; two processes at once start one server (the folder's lock)."""
        info = self._running_info()
        if info is None:
            with self._locked():
                info = self._running_info()
                if info is None:
                    if announce is not None:
                        announce()
                    return self._start()
        if info.port != self.port:
            raise PrefectApiError(
                f"the local Prefect API runs on port {info.port} (pid {info.pid}), the settings"
                f" say {self.port}: stop it first (`archive-ingest prefect down`)"
            )
        return self._status(info)

    def down(self, *, timeout: float | None = None) -> ApiStatus:
        """Stop the server (SIGTERM, then SIGKILL its process group). Idempotent."""
        with self._locked():
            info = self._server_info()  # answering or not (a hung or half-started one too)
            if info is not None:
                _terminate(info.pid, self.stop_timeout if timeout is None else timeout)
            self.pid_file.unlink(missing_ok=True)
        return self.status()

    def status(self) -> ApiStatus:
        return self._status(self._running_info())

    def is_running(self) -> bool:
        return self._running_info() is not None

    def prepared_client_env(self) -> dict[str, str]:
        """:meth:`client_env` before the server is up: the credential is made now when no
        server runs (one that runs keeps its own), so that a client may be set up, and
        Prefect imported, while :meth:`up` starts the server."""
        with self._locked():
            if self._running_info() is None:
                ensure_secret(
                    self.auth_file, lambda: secrets.token_hex(32).encode("ascii"), MIN_SECRET_CHARS
                )
            return self.client_env()

    def client_env(self) -> dict[str, str]:
        """PREFECT_API_URL and PREFECT_API_AUTH_STRING for a client of this server."""
        try:
            password = read_secret(self.auth_file, MIN_SECRET_CHARS).decode("ascii")
        except FileNotFoundError:
            raise PrefectApiError(
                f"the local Prefect API's credential {self.auth_file} is missing: restart it "
                "(`archive-ingest prefect down`, then `prefect up`)"
            ) from None
        return {"PREFECT_API_URL": self.url, "PREFECT_API_AUTH_STRING": _auth(password)}

    def command(self) -> list[str]:
        server = ["-m", "prefect", "server", "start"]
        return [sys.executable, *server, "--host", HOST, "--port", str(self.port), "--no-ui"]

    # --- starting ---------------------------------------------------------------------------

    def _start(self) -> ApiStatus:
        leftover = self._server_info()
        if leftover is not None:  # a server that does not listen, with no start under way
            _terminate(leftover.pid, 5.0)  # (this lock is held through every start)
        self.pid_file.unlink(missing_ok=True)  # stale: its process is gone or not the server
        password = ensure_secret(
            self.auth_file, lambda: secrets.token_hex(32).encode("ascii"), MIN_SECRET_CHARS
        ).decode("ascii")
        if not port_is_free(self.port, HOST):
            raise PrefectApiError(
                f"cannot start the local Prefect API: port {self.port} on {HOST} is in use; "
                "choose another ARCHIVE_INGEST_PREFECT_API_PORT"
            )
        started = time.monotonic()
        info = self._spawn(_auth(password))
        try:
            self._wait_ready(info, _auth(password))
        except BaseException:
            _terminate(info.pid, 2.0)
            self.pid_file.unlink(missing_ok=True)
            raise
        log.info("local Prefect API up on %s in %.1f s", self.url, time.monotonic() - started)
        return self._status(info, started=True)

    def _server_env(self, credential: str) -> dict[str, str]:
        """The caller's environment without its Prefect, archive-ingest and AWS settings, plus
        the server's own; the credential for the server and for its calls to itself."""
        skip = ("PREFECT_", "ARCHIVE_INGEST_", "AWS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
        env.update(SERVER_SETTINGS)
        env["PREFECT_HOME"] = str(self.dir)
        env["PREFECT_SERVER_API_AUTH_STRING"] = credential
        env["PREFECT_API_URL"] = self.url
        env["PREFECT_API_AUTH_STRING"] = credential
        return env

    def _spawn(self, credential: str) -> _PidInfo:
        ensure_private_dir(self.dir)
        with contextlib.suppress(OSError):
            if self.log_file.stat().st_size > MAX_LOG_BYTES:
                self.log_file.replace(self.log_file.with_suffix(".log.1"))
        with self.log_file.open("ab") as log_fh:
            log_fh.write(f"\n--- archive-ingest prefect up {utcnow().isoformat()}\n".encode())
            log_fh.flush()
            proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                env=self._server_env(credential),
                start_new_session=True,  # own process group: survives the CLI, killable as one
            )
        _CHILDREN[proc.pid] = proc
        outlives_command(proc.pid)  # an interrupted command leaves it running too
        info = _PidInfo(pid=proc.pid, port=self.port, started_at=utcnow().isoformat())
        write_private_file(self.pid_file, (info.model_dump_json() + "\n").encode())
        return info

    def _wait_ready(self, info: _PidInfo, credential: str) -> None:
        """Until /api/health answers from the spawned process; then the credential must be
        accepted. A server that exits or does not answer: an error with its log's tail."""
        deadline = time.monotonic() + self.start_timeout
        while not (listens_on(info.pid, info.port) and self._get("/health") == 200):
            code = _exit_code(info.pid)
            if code is not None:
                raise PrefectApiError(
                    f"the local Prefect API exited during start-up (exit code {code}); the end "
                    f"of {self.log_file}:\n{self._log_tail()}"
                )
            if time.monotonic() > deadline:
                raise PrefectApiError(
                    f"the local Prefect API did not answer on {self.url} within "
                    f"{self.start_timeout:.0f} s; the end of {self.log_file}:\n{self._log_tail()}"
                )
            time.sleep(0.2)
        answer = None
        while answer is None and time.monotonic() < deadline:  # the first calls may be slow
            answer = self._get("/admin/version", credential, timeout=10)
        if answer != 200:
            raise PrefectApiError(
                f"the local Prefect API answered {answer} to its own credential; see "
                f"{self.log_file}"
            )

    def _get(self, path: str, credential: str | None = None, timeout: float = 2) -> int | None:
        """The HTTP status of GET ``path`` (None: no answer). Never through a proxy."""
        request = urllib.request.Request(self.url + path)
        if credential is not None:
            request.add_unredirected_header("Authorization", _basic(credential))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-LOG_TAIL_LINES:])

    # --- what runs --------------------------------------------------------------------------

    def _running_info(self) -> _PidInfo | None:
        """The pid file's server when its process lives, is a Prefect server and holds the
        listening socket of its port; else None (no server, or a stale pid file)."""
        info = self._server_info()
        if info is None or not listens_on(info.pid, info.port):
            return None  # still starting (another command holds the lock), or not ours
        return info

    def _server_info(self) -> _PidInfo | None:
        """The pid file's process when it lives and is a Prefect server on its port."""
        try:
            info = _PidInfo.model_validate_json(self.pid_file.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            return None
        if not alive(info.pid):
            return None
        command = cmdline(info.pid) or []
        if not {"prefect", "server", "start", str(info.port)} <= set(command):
            return None  # the pid was reused by some other process
        return info

    def _status(self, info: _PidInfo | None, *, started: bool = False) -> ApiStatus:
        status = ApiStatus(
            running=info is not None,
            started=started,
            pid=info.pid if info else None,
            url=f"http://{HOST}:{info.port if info else self.port}/api",
            prefect_home=str(self.dir),
            database=str(self.database),
            log_file=str(self.log_file),
            auth_file=str(self.auth_file),
            started_at=info.started_at if info else None,
        )
        if info is None:
            return status.model_copy(update={"detail": "not running"})
        answering = self._get("/health") == 200
        detail = "answering" if answering else "not answering /api/health"
        return status.model_copy(update={"answering": answering, "detail": detail})

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One start or stop at a time per HOME (two commands started at once)."""
        ensure_private_dir(self.dir)
        with (self.dir / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _auth(password: str) -> str:
    return f"{AUTH_USER}:{password}"


def _basic(credential: str) -> str:
    return "Basic " + base64.b64encode(credential.encode("ascii")).decode("ascii")


def _exit_code(pid: int) -> int | str | None:
    proc = _CHILDREN.get(pid)
    if proc is not None:
        return proc.poll()
    return None if alive(pid) else "?"


def _terminate(pid: int, grace: float) -> None:
    """SIGTERM the server's process group, wait ``grace`` seconds, then SIGKILL it."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while _exit_code(pid) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if _exit_code(pid) is not None:
            break
        log.warning("the local Prefect API (pid %d) ignored %s", pid, sig.name)
    else:
        raise PrefectApiError(f"the local Prefect API (pid {pid}) did not stop, even on SIGKILL")
    proc = _CHILDREN.pop(pid, None)
    if proc is not None:
        with contextlib.suppress(Exception):
            proc.wait(timeout=1)
    outlives_command(pid, outlives=False)
