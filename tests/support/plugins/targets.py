"""Several real SeaweedFS servers as storage targets (replication, audit, repair tests).

- ``seaweed_trio`` (session): three independent servers (own HOME, data folder, process and
  ports), started in parallel, always stopped at the end. Shared: damage only your own prefix.
- ``seaweed_private_pair`` (module): two servers of the module's own, for tests that stop a
  server or otherwise take it away.
- ``targets_env``: a function ``targets_env(servers, copies_required=None)`` that points the
  settings (environment, so CLI subprocesses see it too) at ``servers`` as storage targets
  named ``t1``, ``t2``, ... with the ingest identity's keys in 0600 credentials files and a
  fresh prefix per call; returns the Settings.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from archive_ingest.secret_files import write_private_file
from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest.storage.embedded_set import stop_all
from tests.support.plugins.storage import SeaweedServer, start_server


def _start_many(
    tmp_path_factory: pytest.TempPathFactory, name: str, count: int
) -> list[SeaweedServer]:
    # one after the other, from this thread: the servers die with the thread that started them
    # (PR_SET_PDEATHSIG), so a worker thread's exit would take its server down
    homes = [tmp_path_factory.mktemp(f"{name}-{n + 1}") for n in range(count)]
    started = [start_server(home) for home in homes]
    return [SeaweedServer(settings=s, local=local, status=status) for s, local, status in started]


def _stop_all(servers: Sequence[SeaweedServer]) -> None:
    # together, and SIGKILL after 3 s: weed ignores SIGTERM ~15 s and test data is thrown away
    stop_all([server.local for server in servers], timeout=3)
    assert not any(s.local.is_running() for s in servers), "SeaweedFS was left running"


@pytest.fixture(scope="session")
def seaweed_trio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[SeaweedServer]]:
    servers = _start_many(tmp_path_factory, "seaweed-trio", 3)
    try:
        yield servers
    finally:
        _stop_all(servers)


@pytest.fixture(scope="module")
def seaweed_private_pair(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[SeaweedServer]]:
    servers = _start_many(tmp_path_factory, "seaweed-pair", 2)
    try:
        yield servers
    finally:
        _stop_all(servers)


TargetsEnv = Callable[..., Settings]


def target_entries(
    servers: Sequence[SeaweedServer], keys_dir: Path, prefix: str
) -> list[dict[str, object]]:
    """``storage_targets`` entries for ``servers`` (names t1, t2, ...), keys in 0600 files."""
    entries: list[dict[str, object]] = []
    for number, server in enumerate(servers, start=1):
        creds = server.credentials.ingest
        key_file = keys_dir / f"t{number}-{server.local.ports.s3}.json"
        write_private_file(
            key_file,
            json.dumps(
                {
                    "aws_access_key_id": creds.access_key_id,
                    "aws_secret_access_key": creds.secret_access_key.get_secret_value(),
                }
            ).encode(),
        )
        entries.append(
            {
                "name": f"t{number}",
                "endpoint_url": server.endpoint,
                "bucket": server.bucket,
                "prefix": prefix,
                "credentials_file": str(key_file),
                "object_lock_mode": "GOVERNANCE",
                "object_lock_days": 1,
            }
        )
    return entries


@pytest.fixture
def targets_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> TargetsEnv:
    def point(
        servers: Sequence[SeaweedServer],
        copies_required: int | None = None,
        prefix: str | None = None,
    ) -> Settings:
        prefix = prefix or f"t-{uuid.uuid4().hex[:12]}"
        entries = target_entries(servers, home / "target-keys", prefix)
        monkeypatch.setenv("ARCHIVE_INGEST_STORAGE_TARGETS", json.dumps(entries))
        if copies_required is None:
            monkeypatch.delenv("ARCHIVE_INGEST_COPIES_REQUIRED", raising=False)
        else:
            monkeypatch.setenv("ARCHIVE_INGEST_COPIES_REQUIRED", str(copies_required))
        monkeypatch.delenv("ARCHIVE_INGEST_S3_ENDPOINT_URL", raising=False)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "absent-aws-config"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "absent-aws-credentials"))
        reset_settings_cache()
        return Settings()

    return point
