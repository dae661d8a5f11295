"""Least privilege and retention, checked against the real server: the ingest identity can
write new objects and nothing destructive; locked versions survive even the admin without a
governance bypass."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import socket
import ssl
import subprocess
import tomllib
import urllib.error
import urllib.request
import uuid
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from archive_ingest.settings import Settings
from archive_ingest.storage.credentials import (
    generate_credentials,
    ingest_deny_policy,
    seaweed_identities,
)
from archive_ingest.storage.receipt import LockPolicy
from archive_ingest.storage.weed_process import GRPC_OFFSET, find_weed
from tests.support.s3 import deposit, versions_by_key

pytestmark = pytest.mark.slow


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _deposited(settings: Settings, storage_bag: Any, mode: str = "GOVERNANCE") -> Any:
    bag, manifest = storage_bag({"a.pdf": b"locked content " + uuid.uuid4().bytes})
    lock = LockPolicy(mode=mode, days=1)  # type: ignore[arg-type]
    return deposit(settings, bag, manifest, f"sec-{uuid.uuid4().hex[:8]}", lock=lock)


def test_ingest_cannot_delete_or_hide_a_locked_version(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    receipt = _deposited(seaweed_settings, storage_bag)
    obj = next(o for o in receipt.objects if o.path == "data/a.pdf")
    bucket = seaweed_settings.s3_bucket
    ingest = seaweed.client("ingest")
    with pytest.raises(ClientError) as info:
        ingest.delete_object(Bucket=bucket, Key=obj.key, VersionId=obj.version_id)
    assert _code(info) == "AccessDenied"
    with pytest.raises(ClientError) as info:
        ingest.delete_object(
            Bucket=bucket, Key=obj.key, VersionId=obj.version_id, BypassGovernanceRetention=True
        )
    assert _code(info) == "AccessDenied"
    with pytest.raises(ClientError):  # not even a delete marker
        ingest.delete_object(Bucket=bucket, Key=obj.key)
    batch = ingest.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": obj.key, "VersionId": obj.version_id}, {"Key": obj.key}]},
    )
    assert not batch.get("Deleted") and len(batch["Errors"]) == 2
    assert versions_by_key(ingest, bucket, obj.key).get(obj.key) == [obj.version_id]
    # the lock itself holds: even the admin needs an explicit governance bypass
    admin = seaweed.client("admin")
    with pytest.raises(ClientError) as info:
        admin.delete_object(Bucket=bucket, Key=obj.key, VersionId=obj.version_id)
    assert _code(info) == "AccessDenied"
    assert versions_by_key(ingest, bucket, obj.key).get(obj.key) == [obj.version_id]


def test_ingest_cannot_shorten_or_drop_retention(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    receipt = _deposited(seaweed_settings, storage_bag)
    obj = receipt.objects[0]
    bucket = seaweed_settings.s3_bucket
    ingest = seaweed.client("ingest")
    before = ingest.get_object_retention(Bucket=bucket, Key=obj.key, VersionId=obj.version_id)
    shorter = dt.datetime.now(UTC) + dt.timedelta(minutes=5)
    for bypass in (False, True):
        with pytest.raises(ClientError) as info:
            ingest.put_object_retention(
                Bucket=bucket,
                Key=obj.key,
                VersionId=obj.version_id,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter},
                BypassGovernanceRetention=bypass,
            )
        assert _code(info) == "AccessDenied"
    after = ingest.get_object_retention(Bucket=bucket, Key=obj.key, VersionId=obj.version_id)
    assert after["Retention"] == before["Retention"]


def test_ingest_cannot_reconfigure_the_bucket(seaweed_settings: Settings, seaweed: Any) -> None:
    bucket = seaweed_settings.s3_bucket
    ingest = seaweed.client("ingest")
    attempts = [
        lambda: ingest.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": []})),
        lambda: ingest.delete_bucket_policy(Bucket=bucket),
        lambda: ingest.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
        ),
        lambda: ingest.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        ),
        lambda: ingest.delete_bucket(Bucket=bucket),
        lambda: ingest.create_bucket(Bucket=f"x-{uuid.uuid4().hex[:8]}"),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError):
            attempt()
    admin = seaweed.client("admin")
    assert admin.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert json.loads(admin.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]


def test_compliance_retention_binds_the_admin_too(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    receipt = _deposited(seaweed_settings, storage_bag, mode="COMPLIANCE")
    obj = receipt.objects[0]
    admin = seaweed.client("admin")
    with pytest.raises(ClientError):
        admin.delete_object(
            Bucket=seaweed_settings.s3_bucket,
            Key=obj.key,
            VersionId=obj.version_id,
            BypassGovernanceRetention=True,
        )
    head = admin.head_object(
        Bucket=seaweed_settings.s3_bucket, Key=obj.key, VersionId=obj.version_id
    )
    assert head["ObjectLockMode"] == "COMPLIANCE"


# --- the server's own ports: what a local attacker would send past S3 ------------------------

_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def _http_status(method: str, url: str, body: bytes | None = None) -> int:
    """The HTTP status of a raw request; 0 when the connection itself is refused or dropped."""
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _grpc_answers(port: int, tls: ssl.SSLContext | None) -> bool:
    """Whether the gRPC port speaks HTTP/2 to this client (sends its SETTINGS frame back)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            conn = tls.wrap_socket(raw) if tls is not None else raw
            conn.sendall(_H2_PREFACE)
            return len(conn.recv(64)) > 0
    except OSError:  # includes ssl.SSLError: handshake refused, certificate required
        return False


def _foreign_tls(tmp_path: Path) -> ssl.SSLContext:
    """A TLS client with a certificate of its own (self-signed, not from the server's CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "archive-ingest-storage")])
    now = dt.datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "attacker.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "attacker.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = _tls_client()
    context.load_cert_chain(tmp_path / "attacker.crt", tmp_path / "attacker.key")
    return context


def _tls_client() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the attacker does not care who answers
    context.set_alpn_protocols(["h2"])
    return context


def _weed_shell(cwd: Path, master: int, commands: str, *, timeout: float = 60) -> str:
    """``weed shell`` against the server, run in ``cwd`` (where it looks for security.toml)."""
    local_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WEED_"))}
    local_env["HOME"] = str(cwd)  # no ~/.seaweedfs/security.toml of the developer
    try:
        done = subprocess.run(
            [
                str(find_weed()),
                "-logtostderr",
                "-v=1",
                "shell",
                "-debug",
                f"-master=127.0.0.1:{master}",
            ],
            input=commands,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=local_env,
            check=False,
        )
        return done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:  # a shell that cannot connect retries forever
        out = exc.stdout or b""
        err = exc.stderr or b""
        return (out if isinstance(out, str) else out.decode()) + (
            err if isinstance(err, str) else err.decode()
        )


def _chunk_fid(server: Any, key: str, version_id: str) -> str:
    """The volume-server file id holding an object version, asked the owner's way: ``weed
    shell`` in HOME/storage, with whatever credentials the embedded server gives its owner."""
    path = f"/buckets/{server.bucket}/{key}.versions/v_{version_id}"
    out = _weed_shell(server.local.dir, server.local.ports.master, f"fs.meta.cat {path}\n")
    match = re.search(r'"fileId":\s*"([0-9]+,[0-9a-f]+)"', out)
    assert match, f"no chunk found for {path}: {out[-2000:]}"
    return match.group(1)


def test_raw_admin_requests_past_s3_are_refused(
    seaweed_private: Any, storage_bag: Any, tmp_path: Path
) -> None:
    server = seaweed_private
    ports = server.local.ports
    bag, manifest = storage_bag({"a.pdf": b"an archival master " + uuid.uuid4().bytes * 64})
    record_id = f"atk-{uuid.uuid4().hex[:8]}"
    receipt = deposit(server.settings, bag, manifest, record_id, client=server.client("ingest"))
    obj = next(o for o in receipt.objects if o.path == "data/a.pdf")
    fid = _chunk_fid(server, obj.key, str(obj.version_id))
    volume_id, needle = fid.split(",")
    master = f"http://127.0.0.1:{ports.master}"
    volume = f"http://127.0.0.1:{ports.volume}"
    filer = f"http://127.0.0.1:{ports.filer}"
    granted: dict[str, object] = {}  # every attack that got through, with what it got

    def refused(name: str, status: int) -> None:
        if 200 <= status < 300:
            granted[name] = status

    # master HTTP admin API: no authentication at all in SeaweedFS, only an IP white list
    refused("master /dir/assign", _http_status("GET", f"{master}/dir/assign"))
    refused("master /vol/status", _http_status("GET", f"{master}/vol/status"))
    refused("master /vol/vacuum", _http_status("GET", f"{master}/vol/vacuum?garbageThreshold=0"))
    # volume server HTTP: reads, writes and deletes of single needles
    refused("volume GET fid", _http_status("GET", f"{volume}/{fid}"))
    refused("volume POST over fid", _http_status("POST", f"{volume}/{fid}", b"forged"))
    forged_fid = f"{volume_id},{needle[:-8]}ffff{needle[-8:]}"
    refused("volume POST new fid", _http_status("POST", f"{volume}/{forged_fid}", b"forged"))
    refused("volume DELETE fid", _http_status("DELETE", f"{volume}/{fid}"))
    # filer HTTP (TCP and its unix socket in /tmp): deleting the bucket's directory
    refused(
        "filer DELETE bucket",
        _http_status("DELETE", f"{filer}/buckets/{server.bucket}/?recursive=true"),
    )
    # gRPC (what `weed shell` speaks): plain, TLS without a certificate, TLS with a foreign one
    foreign = _foreign_tls(tmp_path)
    for name, port in ports.http().items():
        grpc_port = port + GRPC_OFFSET
        if _grpc_answers(grpc_port, None):
            granted[f"{name} gRPC plaintext"] = grpc_port
        if _grpc_answers(grpc_port, _tls_client()):
            granted[f"{name} gRPC TLS without certificate"] = grpc_port
        if _grpc_answers(grpc_port, foreign):
            granted[f"{name} gRPC TLS with a foreign certificate"] = grpc_port
    # weed's unix sockets in /tmp: only the owner may connect
    for port in ports.all():
        for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            if sock.stat().st_mode & 0o077:
                granted[f"unix socket {sock.name}"] = oct(sock.stat().st_mode & 0o777)
    # S3 with the ingest identity
    ingest = server.client("ingest")
    for name, attempt in {
        "S3 DeleteObject version": lambda: ingest.delete_object(
            Bucket=server.bucket, Key=obj.key, VersionId=obj.version_id
        ),
        "S3 DeleteBucket": lambda: ingest.delete_bucket(Bucket=server.bucket),
    }.items():
        try:
            attempt()
            granted[name] = "done"
        except ClientError:
            pass
    # an attacker's `weed shell` (no security.toml of ours): delete the whole collection
    attacker_dir = tmp_path / "attacker"
    attacker_dir.mkdir()
    shell_out = _weed_shell(
        attacker_dir,
        ports.master,
        f"lock\ncollection.delete -collection={server.bucket} -force\nunlock\n",
        timeout=15,
    )
    if "error reading server preface" not in shell_out:
        granted["weed shell collection.delete"] = shell_out[-500:]
    # and the master's one-request collection delete
    refused(
        "master /col/delete",
        _http_status("GET", f"{master}/col/delete?collection={server.bucket}"),
    )

    assert granted == {}, f"attacks that got through: {granted}"
    admin = server.client("admin")
    for stored in receipt.objects:
        body = admin.get_object(Bucket=server.bucket, Key=stored.key, VersionId=stored.version_id)[
            "Body"
        ].read()
        assert hashlib.sha256(body).hexdigest() == stored.sha256, stored.key


def test_infra_identities_and_bucket_policy_match_the_embedded_ones() -> None:
    """infra/ copies what credentials.py gives the embedded server, for the bucket
    ``archive-ingest``: least-privilege actions and the ingest deny policy."""
    infra = Path(__file__).resolve().parents[1] / "infra"
    identities = json.loads((infra / "seaweedfs-s3.json").read_text())["identities"]
    ours = seaweed_identities(generate_credentials(), "archive-ingest")["identities"]
    assert [(i["name"], i["actions"]) for i in identities] == [
        (i["name"], i["actions"]) for i in ours
    ]
    policy = json.loads((infra / "seaweedfs-bucket-policy.json").read_text())
    assert policy == ingest_deny_policy("archive-ingest")
    security = tomllib.loads((infra / "seaweedfs-security.toml").read_text())
    assert security["guard"]["white_list"] == "" and security["access"]["ui"] is False
    compose = (infra / "compose.yaml").read_text()
    for needed in (
        "-disableHttp",
        "-filer.disableHttp",
        "-ip.bind=127.0.0.1",
        "WEED_JWT_SIGNING_KEY",
        "WEED_JWT_SIGNING_READ_KEY",
        "WEED_JWT_FILER_SIGNING_KEY",
        "security.toml",
    ):
        assert needed in compose, needed
