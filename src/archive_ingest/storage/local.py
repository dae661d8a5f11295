"""The embedded default storage: a local SeaweedFS S3 server under ``HOME/storage``.

``weed server`` runs master, volume server, filer and S3 gateway in one process. We start it
detached (its own process group, so `archive-ingest storage up` can return), bound to
127.0.0.1 only, with authentication on: two generated identities, an ``admin`` used only for
bucket set-up and an ``ingest`` identity with the least privilege SeaweedFS offers (read,
write, list and set retention on the one bucket; a bucket policy denies it every delete,
governance bypass and bucket reconfiguration). The bucket has versioning and Object Lock
(plus a default retention as a safety net).

Past S3, SeaweedFS' own ports are locked too (:mod:`archive_ingest.storage.weed_security`):
the master's and filer's HTTP APIs are off (``-disableHttp``), the volume server demands a
master-signed JWT for every read, write and delete, every gRPC port demands a client
certificate, and weed runs with umask 077 so that its unix sockets in /tmp are the owner's.

Files in ``HOME/storage``: ``data/`` (SeaweedFS), ``weed.log``, ``weed.pid`` (JSON: pid,
ports, command), ``s3-config.json``, ``credentials.json`` and ``security.toml`` (0600),
``tls/`` (0700: the gRPC certificates and key), ``.lock``.

The weed process itself (binary, ports, command line, stopping it) is in weed_process.py; the
bucket's set-up in embedded_bucket.py.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import re
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ValidationError

from archive_ingest.errors import ConfigError, StorageError
from archive_ingest.interrupt import outlives_command
from archive_ingest.models import utcnow
from archive_ingest.settings import Settings
from archive_ingest.storage.bucket_facts import bucket_facts
from archive_ingest.storage.credentials import (
    EmbeddedCredentials,
    generate_credentials,
    load_credentials,
    seaweed_identities,
    write_private_file,
)
from archive_ingest.storage.embedded_bucket import ensure_bucket
from archive_ingest.storage.s3 import (
    EMBEDDED_HOST,
    S3Client,
    client_config,
    embedded_endpoint,
    error_code,
    http_status,
    make_client_for,
    storage_error,
)
from archive_ingest.storage.weed_process import (
    CHILDREN,
    WEED_UMASK,
    Ports,
    alive,
    find_weed,
    parent_death_signal,
    port_is_free,
    remove_sockets,
    scrubbed_env,
    terminate,
    weed_command,
    weed_version,
)
from archive_ingest.storage.weed_process import cmdline as process_cmdline
from archive_ingest.storage.weed_security import write_weed_security
from archive_ingest.storage.weed_status import registered_volume_ids

log = logging.getLogger(__name__)

MAX_LOG_BYTES = 50 * 1024 * 1024
_STARTUP_TRANSIENT = frozenset({"InternalError", "ServiceUnavailable", "SlowDown"})
_VOLUME_FILE = re.compile(r"(?:^|_)(\d+)\.dat$")


class StorageStatus(BaseModel):
    """What `storage status` reports. Never contains a secret."""

    running: bool
    pid: int | None = None
    endpoint: str
    bucket: str
    s3_answering: bool | None = None
    bucket_exists: bool | None = None
    versioning: bool | None = None
    object_lock: bool | None = None
    default_retention: str | None = None
    weed_version: str | None = None
    ports: dict[str, int]
    data_dir: str
    log_file: str
    credentials_file: str
    detail: str = ""


class _PidInfo(BaseModel):
    pid: int
    ports: Ports
    data_dir: str
    started_at: str
    weed_version: str | None = None


class StartingServer:
    """A server :meth:`LocalStorage.start` spawned (or found running): :meth:`finish` waits
    until it serves the bucket, :meth:`abort` stops it. Either releases the folder's lock."""

    def __init__(
        self,
        storage: LocalStorage,
        info: _PidInfo,
        credentials: EmbeddedCredentials | None,
        lock: contextlib.ExitStack,
    ) -> None:
        self.storage = storage
        self.info = info
        #: None when the server was running already (nothing to wait for)
        self._credentials = credentials
        self._lock = lock

    @property
    def spawned(self) -> bool:
        """Whether this start spawned the process (False: it was running already)."""
        return self._credentials is not None

    def finish(self) -> StorageStatus:
        storage = self.storage
        try:
            if self._credentials is None:
                log.info("embedded storage already running (pid %d)", self.info.pid)
                return storage._status(self.info)
            try:
                storage._wait_ready(self.info, self._credentials)
            except BaseException:
                self._stop()
                raise
            log.info("embedded storage up: %s (pid %d)", storage.endpoint, self.info.pid)
            return storage._status(self.info)
        finally:
            self._lock.close()

    def abort(self) -> None:
        """Stop the server if this start spawned it; release the lock."""
        try:
            if self.spawned:
                self._stop()
        finally:
            self._lock.close()

    def _stop(self) -> None:
        terminate(self.info.pid, self.storage.ports, grace=2.0)
        self.storage.pid_file.unlink(missing_ok=True)


class LocalStorage:
    """Start, stop and describe the embedded SeaweedFS for one HOME."""

    def __init__(
        self,
        settings: Settings,
        *,
        start_timeout: float = 90.0,
        stop_timeout: float = 20.0,
        weed_binary: Path | None = None,
        die_with_parent: bool = False,
    ) -> None:
        """``die_with_parent`` (Linux): the server gets SIGKILL when the process that started
        it dies - for test fixtures, so that even a killed test run leaves no server behind.
        The CLI leaves it off: `storage up` must outlive the command."""
        self.settings = settings
        self.die_with_parent = die_with_parent
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.weed_binary = weed_binary
        self.ports = Ports.derive(settings.storage_s3_port)
        self.dir = settings.storage_dir
        self.data_dir = self.dir / "data"
        self.log_file = self.dir / "weed.log"
        self.pid_file = self.dir / "weed.pid"
        self.s3_config_file = self.dir / "s3-config.json"
        self.credentials_file = self.dir / "credentials.json"
        self.endpoint = embedded_endpoint(settings)
        self.bucket = settings.s3_bucket

    # --- public API -------------------------------------------------------------------------

    def up(self) -> StorageStatus:
        """Start the server if it is not running; ensure the bucket. Idempotent."""
        return self.start().finish()

    def start(self) -> StartingServer:
        """Spawn the server (from the calling thread: with ``die_with_parent`` the server dies
        with the thread that spawned it) and return at once; :meth:`StartingServer.finish`
        waits for it and sets up the bucket, from any thread. Several servers are started
        together by spawning each, then finishing them all (storage/embedded_set.py). The
        folder stays locked until the start is finished or aborted."""
        if self.settings.s3_endpoint_url is not None:
            raise ConfigError(
                "ARCHIVE_INGEST_S3_ENDPOINT_URL is set: the embedded storage is not used"
            )
        lock = contextlib.ExitStack()
        lock.enter_context(self._locked())
        try:
            info = self._running_info()
            if info is not None:
                return StartingServer(self, info, None, lock)
            self._clear_stale()
            credentials = self._credentials()
            write_weed_security(self.dir)  # fresh keys and certificates for this start
            busy = [port for port in self.ports.all() if not port_is_free(port)]
            if busy:
                raise StorageError(
                    f"cannot start the embedded storage: port(s) {busy} on {EMBEDDED_HOST} are "
                    f"in use; choose another ARCHIVE_INGEST_STORAGE_S3_PORT (it uses "
                    f"{self.ports.all()})"
                )
            remove_sockets(self.ports)  # stale ones of a killed server
            return StartingServer(self, self._spawn(), credentials, lock)
        except BaseException:
            lock.close()
            raise

    def _wait_ready(self, info: _PidInfo, credentials: EmbeddedCredentials) -> None:
        admin = self._client(credentials, "admin", fast=True)
        self._wait_until_answering(admin, info.pid)
        self._wait_volumes_registered(info.pid)
        self._retry_until_ready(lambda: ensure_bucket(admin, self.settings), info.pid)

    def down(self, *, timeout: float | None = None) -> StorageStatus:
        """Stop the server (SIGTERM, wait, then SIGKILL the process group). Idempotent."""
        with self._locked():
            info = self._running_info()
            if info is not None:
                terminate(
                    info.pid, self.ports, grace=self.stop_timeout if timeout is None else timeout
                )
            self._clear_stale()
            remove_sockets(self.ports)
        return self.status()

    def status(self) -> StorageStatus:
        return self._status(self._running_info())

    def is_running(self) -> bool:
        return self._running_info() is not None

    # --- process ----------------------------------------------------------------------------

    def command(self, weed: Path) -> list[str]:
        return weed_command(weed, self.ports, self.data_dir, self.s3_config_file)

    def _spawn(self) -> _PidInfo:
        weed = find_weed(self.weed_binary)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._rotate_log()
        version = weed_version(weed)
        with self.log_file.open("ab") as log_fh:
            log_fh.write(f"\n--- archive-ingest storage up {utcnow().isoformat()}\n".encode())
            log_fh.flush()
            proc = subprocess.Popen(
                self.command(weed),
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                env=scrubbed_env(),
                umask=WEED_UMASK,
                start_new_session=True,  # own process group: survives the CLI, killable as one
                preexec_fn=parent_death_signal() if self.die_with_parent else None,
            )
        CHILDREN[proc.pid] = proc
        outlives_command(proc.pid)  # an interrupted command leaves it running too
        info = _PidInfo(
            pid=proc.pid,
            ports=self.ports,
            data_dir=str(self.data_dir),
            started_at=utcnow().isoformat(),
            weed_version=version,
        )
        self.pid_file.write_text(info.model_dump_json() + "\n", encoding="utf-8")
        return info

    def _running_info(self) -> _PidInfo | None:
        try:
            info = _PidInfo.model_validate_json(self.pid_file.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            return None
        if not alive(info.pid):
            return None
        cmdline = process_cmdline(info.pid)
        if cmdline is not None and f"-dir={self.data_dir}" not in cmdline:
            return None  # the pid was reused by some other process
        return info

    def _clear_stale(self) -> None:
        if self._running_info() is None:
            self.pid_file.unlink(missing_ok=True)

    def _rotate_log(self) -> None:
        with contextlib.suppress(OSError):
            if self.log_file.stat().st_size > MAX_LOG_BYTES:
                self.log_file.replace(self.log_file.with_suffix(".log.1"))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One `up`/`down` at a time per HOME (two shells, two workers)."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with (self.dir / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --- credentials and S3 -----------------------------------------------------------------

    def _credentials(self) -> EmbeddedCredentials:
        """Generated at the first `up`, then reused; the server config is rewritten each time."""
        if self.credentials_file.exists():
            credentials = load_credentials(self.credentials_file)
        else:
            credentials = generate_credentials()
            write_private_file(self.credentials_file, credentials.to_json())
        document = seaweed_identities(credentials, self.bucket)
        write_private_file(self.s3_config_file, json.dumps(document, indent=2) + "\n")
        return credentials

    def _client(self, credentials: EmbeddedCredentials, role: str, *, fast: bool) -> S3Client:
        pair = credentials.for_role(role)
        config = client_config(max_attempts=1, connect_timeout=2, read_timeout=10) if fast else None
        return make_client_for(
            self.endpoint,
            pair.access_key_id,
            pair.secret_access_key.get_secret_value(),
            region=self.settings.s3_region,
            config=config,
        )

    def _check_alive(self, pid: int) -> None:
        proc = CHILDREN.get(pid)
        code = proc.poll() if proc is not None else (None if alive(pid) else "?")
        if code is not None:
            raise StorageError(
                f"SeaweedFS exited during start-up (exit code {code}); see {self.log_file}"
            )

    def _wait_until_answering(self, admin: S3Client, pid: int) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            self._check_alive(pid)
            try:
                admin.list_buckets()
                return
            except ClientError as exc:
                if error_code(exc) in {"InvalidAccessKeyId", "SignatureDoesNotMatch"}:
                    raise storage_error("list_buckets", self.endpoint, exc) from exc
            except BotoCoreError:
                pass
            if time.monotonic() > deadline:
                raise StorageError(
                    f"SeaweedFS did not answer on {self.endpoint} within "
                    f"{self.start_timeout:.0f} s; see {self.log_file}"
                )
            time.sleep(0.25)

    def _wait_volumes_registered(self, pid: int) -> None:
        """After a restart the S3 gateway answers before the volume server has reported its
        volumes to the master; reads then fail ("volume N not found"). Wait for all of them,
        as listed on the master's read-only status page (its JSON API is switched off)."""
        on_disk = {
            int(match.group(1))
            for dat in self.data_dir.glob("*.dat")
            if (match := _VOLUME_FILE.search(dat.name))
        }
        if not on_disk:
            return
        deadline = time.monotonic() + self.start_timeout
        url = f"http://{EMBEDDED_HOST}:{self.ports.master}/"
        while True:
            self._check_alive(pid)
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    page = response.read().decode("utf-8", errors="replace")
                if on_disk <= registered_volume_ids(page):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise StorageError(
                    f"SeaweedFS did not register its {len(on_disk)} volumes within "
                    f"{self.start_timeout:.0f} s; see {self.log_file}"
                )
            time.sleep(0.25)

    def _retry_until_ready(self, action: Callable[[], None], pid: int) -> None:
        """Right after start the gateway may answer before the filer is ready (HTTP 500)."""
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                action()
                return
            except StorageError as exc:
                cause = exc.__cause__
                retryable = isinstance(cause, BotoCoreError) or (
                    isinstance(cause, ClientError)
                    and (
                        error_code(cause) in _STARTUP_TRANSIENT or (http_status(cause) or 0) >= 500
                    )
                )
                if not retryable or time.monotonic() > deadline:
                    raise
            self._check_alive(pid)
            time.sleep(0.5)

    # --- status -----------------------------------------------------------------------------

    def _status(self, info: _PidInfo | None) -> StorageStatus:
        status = StorageStatus(
            running=info is not None,
            pid=info.pid if info else None,
            endpoint=self.endpoint,
            bucket=self.bucket,
            weed_version=info.weed_version if info else None,
            ports=(info.ports if info else self.ports).http(),
            data_dir=str(self.data_dir),
            log_file=str(self.log_file),
            credentials_file=str(self.credentials_file),
        )
        if info is None:
            status.detail = "not running"
            return status
        try:
            admin = self._client(load_credentials(self.credentials_file), "admin", fast=True)
        except StorageError as exc:
            status.detail = str(exc)
            return status
        facts = bucket_facts(admin, self.bucket)
        return status.model_copy(update=facts.model_dump())
