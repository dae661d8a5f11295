"""Storage faults, against a real SeaweedFS:

- the server is stopped in the middle of a deposit (after some objects are stored) and started
  again: the deposit fails cleanly (no receipt: not an AIP), the same deposit run again
  completes, keeps the objects stored before the outage (same VersionIds: nothing overwritten)
  and writes exactly one version per key;
- 503 SlowDown answers (a loopback proxy in front of SeaweedFS injects them) are retried with
  backoff by the client and the deposit completes;
- wrong credentials: ``archive-ingest ingest`` ends the item ``failed`` with a clear reason,
  nothing is stored and the catalogue records nothing as deposited.

Least privilege and object lock are tested in tests/test_storage_security.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import StorageError
from archive_ingest.settings import Settings
from archive_ingest.storage.listing import find_incomplete
from archive_ingest.storage.s3 import client_config, make_client, make_client_for
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, run_cli
from tests.support.holding_proxy import ForwardingProxy, Plan, S3Error
from tests.support.plugins.storage import start_server
from tests.support.s3 import deposit, versions_by_key
from tests.support.samples import add_generated_book

pytestmark = pytest.mark.slow


def test_server_stopped_mid_deposit_then_started(tmp_path: Path, storage_bag: Any) -> None:
    settings, local, _ = start_server(tmp_path / "own-storage")
    try:
        payload = {f"page-{i}.txt": f"page {i} ".encode() * 500 for i in range(6)}
        bag, manifest = storage_bag(payload)
        record_id = f"outage-{uuid.uuid4().hex[:8]}"
        client = make_client(settings, config=client_config(max_attempts=2, connect_timeout=2))
        puts = {"n": 0}

        def stop_after_three(request: Any, **_: Any) -> None:
            if request.method == "PUT":
                puts["n"] += 1
                if puts["n"] == 4:  # three objects are stored; the fourth meets a dead server
                    local.down(timeout=30)

        client.meta.events.register("before-send.s3.PutObject", stop_after_three)
        with pytest.raises(StorageError) as failed:
            deposit(settings, bag, manifest, record_id, client=client, read_back=True)
        assert "put_object" in str(failed.value) or "connect" in str(failed.value).lower()
        assert not local.is_running()

        local.up()
        admin = make_client(settings, role="admin")
        root = f"{settings.s3_prefix}/{record_id}/"
        before = versions_by_key(admin, settings.s3_bucket, root)
        assert len(before) == 3 and not any(k.endswith("deposit-receipt.json") for k in before)
        assert [a.record_id for a in find_incomplete(admin, settings.s3_bucket, settings.s3_prefix)]

        receipt = deposit(settings, bag, manifest, record_id, read_back=True)
        after = versions_by_key(admin, settings.s3_bucket, root)
        assert all(len(ids) == 1 for ids in after.values()), after  # nothing overwritten
        assert {k: after[k] for k in before} == before
        assert len(after) == len(manifest) + 1  # every file and the receipt
        assert sum(1 for o in receipt.objects if o.resumed) == 3
        assert find_incomplete(admin, settings.s3_bucket, settings.s3_prefix) == []
    finally:
        local.down(timeout=30)


SLOW_DOWN = S3Error(
    503,
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>",
)


class _SlowDownProxy(ForwardingProxy):
    """Forwards raw S3 requests to ``upstream``; answers the first ``failures`` PUTs of each
    key with 503 SlowDown instead."""

    def __init__(self, upstream: str, failures: int) -> None:
        super().__init__(upstream)
        self.failures = failures
        self.seen: dict[str, int] = {}
        self.injected = 0

    def plan(self, command: str, path: str) -> Plan:
        if command == "PUT" and "uploadId" not in path:
            with self.lock:
                count = self.seen.get(path, 0)
                self.seen[path] = count + 1
                inject = count < self.failures
                self.injected += inject
            if inject:
                return SLOW_DOWN
        return "forward"


@pytest.fixture
def slowdown_proxy(seaweed: Any) -> Iterator[_SlowDownProxy]:
    with _SlowDownProxy(seaweed.endpoint, failures=2) as proxy:
        yield proxy


def test_slowdown_is_retried_with_backoff(
    seaweed_settings: Settings, seaweed: Any, slowdown_proxy: _SlowDownProxy, storage_bag: Any
) -> None:
    creds = seaweed.credentials.ingest
    client = make_client_for(
        slowdown_proxy.endpoint, creds.access_key_id, creds.secret_access_key.get_secret_value()
    )
    bag, manifest = storage_bag({"a.pdf": b"%PDF-1.7 slow " + uuid.uuid4().bytes, "b.txt": b"x"})
    record_id = f"slow-{uuid.uuid4().hex[:8]}"
    receipt = deposit(seaweed_settings, bag, manifest, record_id, client=client, read_back=True)
    puts = len(manifest) + 1  # every file and the receipt, each refused twice first
    assert slowdown_proxy.injected == 2 * puts
    assert all(count == 3 for count in slowdown_proxy.seen.values())
    admin = seaweed.client("admin")
    stored = versions_by_key(admin, seaweed_settings.s3_bucket, f"{seaweed_settings.s3_prefix}/")
    assert len(stored) == puts and all(len(v) == 1 for v in stored.values())
    assert receipt.receipt_version_id


@pytest.fixture
def deposit_ready_book(scielo_catalogue: SampleCatalogue, tmp_path: Path) -> SampleCatalogue:
    """One chapter that deposits (generated, CC BY 4.0 in metadata and PDF)."""
    add_generated_book(scielo_catalogue, "cred1", 1, tmp_path, seed=5)
    return scielo_catalogue


def test_wrong_credentials_fail_clearly_and_record_nothing(
    deposit_ready_book: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    seaweed: Any,
    prefect_api_url: str,
) -> None:
    env = cli_env(
        scielo_server,
        prefect_api_url,
        AWS_ACCESS_KEY_ID="AKIAWRONGWRONGWRONG0",
        AWS_SECRET_ACCESS_KEY="wrong-secret-" + uuid.uuid4().hex,
    )
    proc = run_cli(env, "ingest", "scielo-books:cred1/01", timeout=900)
    assert proc.returncode == 1, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["state"] == "failed" and result["bag"] is None
    reason = result["reasons"][0]
    assert "credential" in reason.lower() or "access key" in reason.lower(), reason
    assert env["AWS_SECRET_ACCESS_KEY"] not in proc.stdout + proc.stderr
    admin = seaweed.client("admin")
    assert (
        versions_by_key(admin, seaweed_settings.s3_bucket, f"{seaweed_settings.s3_prefix}/") == {}
    )
    catalogue = Catalogue.open(seaweed_settings.effective_database_url)
    try:
        item = catalogue.get_item("scielo-books-cred1-01")
        assert item is not None and item.state == "failed" and item.deposited_version is None
        assert item.bag_uri is None
        assert all(f.s3_version_id is None for f in catalogue.files(item.id, 1))
    finally:
        catalogue.close()
