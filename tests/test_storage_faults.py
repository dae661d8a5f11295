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

import http.client
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import StorageError
from archive_ingest.scielo_sample import SampleCatalogue, SampleScieloServer, add_generated_book
from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.listing import find_incomplete
from archive_ingest.storage.receipt import LockPolicy
from archive_ingest.storage.s3 import client_config, make_client, make_client_for
from tests.support.plugins.storage import start_server

pytestmark = pytest.mark.slow


def _versions(client: Any, bucket: str, prefix: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            out.setdefault(v["Key"], []).append(v["VersionId"])
    return out


def _deposit(client: Any, settings: Settings, bag: Path, manifest: Any, record_id: str) -> Any:
    return deposit_bag(
        client,
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        record_id=record_id,
        version=1,
        bag_dir=bag,
        manifest=manifest,
        lock=LockPolicy(mode="GOVERNANCE", days=1),
        read_back=True,
    )


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
            _deposit(client, settings, bag, manifest, record_id)
        assert "put_object" in str(failed.value) or "connect" in str(failed.value).lower()
        assert not local.is_running()

        local.up()
        admin = make_client(settings, role="admin")
        root = f"{settings.s3_prefix}/{record_id}/"
        before = _versions(admin, settings.s3_bucket, root)
        assert len(before) == 3 and not any(k.endswith("deposit-receipt.json") for k in before)
        assert [a.record_id for a in find_incomplete(admin, settings.s3_bucket, settings.s3_prefix)]

        receipt = _deposit(make_client(settings), settings, bag, manifest, record_id)
        after = _versions(admin, settings.s3_bucket, root)
        assert all(len(ids) == 1 for ids in after.values()), after  # nothing overwritten
        assert {k: after[k] for k in before} == before
        assert len(after) == len(manifest) + 1  # every file and the receipt
        assert sum(1 for o in receipt.objects if o.resumed) == 3
        assert find_incomplete(admin, settings.s3_bucket, settings.s3_prefix) == []
    finally:
        local.down(timeout=30)


class _SlowDownProxy:
    """Forwards raw S3 requests to ``upstream``; answers the first ``failures`` PUTs of each
    key with 503 SlowDown instead."""

    def __init__(self, upstream: str, failures: int) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self.upstream = (host, int(port))
        self.failures = failures
        self.seen: dict[str, int] = {}
        self.injected = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.command == "PUT" and "uploadId" not in self.path:
                    with proxy.lock:
                        count = proxy.seen.get(self.path, 0)
                        proxy.seen[self.path] = count + 1
                        inject = count < proxy.failures
                        proxy.injected += inject
                    if inject:
                        error = (
                            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                            b"<Message>Please reduce your request rate.</Message></Error>"
                        )
                        self.send_response(503)
                        self.send_header("Content-Type", "application/xml")
                        self.send_header("Content-Length", str(len(error)))
                        self.end_headers()
                        self.wfile.write(error)
                        return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    conn.putrequest(
                        self.command, self.path, skip_host=True, skip_accept_encoding=True
                    )
                    for name, value in self.headers.items():
                        if name.lower() not in ("expect", "connection"):
                            conn.putheader(name, value)
                    conn.endheaders(body or None)
                    response = conn.getresponse()
                    data = response.read()
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        if name.lower() not in (
                            "transfer-encoding",
                            "connection",
                            "content-length",
                        ):
                            self.send_header(name, value)
                    length = response.getheader("Content-Length", "0")
                    self.send_header(
                        "Content-Length", length if self.command == "HEAD" else str(len(data))
                    )
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> _SlowDownProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


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
    receipt = _deposit(client, seaweed_settings, bag, manifest, record_id)
    puts = len(manifest) + 1  # every file and the receipt, each refused twice first
    assert slowdown_proxy.injected == 2 * puts
    assert all(count == 3 for count in slowdown_proxy.seen.values())
    admin = seaweed.client("admin")
    stored = _versions(admin, seaweed_settings.s3_bucket, f"{seaweed_settings.s3_prefix}/")
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
    env = dict(os.environ)
    for key, value in scielo_server.settings_overrides().items():
        env[f"ARCHIVE_INGEST_{key.upper()}"] = str(value)
    env["PREFECT_API_URL"] = prefect_api_url
    env["AWS_ACCESS_KEY_ID"] = "AKIAWRONGWRONGWRONG0"
    env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret-" + uuid.uuid4().hex
    proc = subprocess.run(
        [sys.executable, "-m", "archive_ingest.cli", "ingest", "scielo-books:cred1/01"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["state"] == "failed" and result["bag"] is None
    reason = result["reasons"][0]
    assert "credential" in reason.lower() or "access key" in reason.lower(), reason
    assert env["AWS_SECRET_ACCESS_KEY"] not in proc.stdout + proc.stderr
    admin = seaweed.client("admin")
    assert _versions(admin, seaweed_settings.s3_bucket, f"{seaweed_settings.s3_prefix}/") == {}
    catalogue = Catalogue.open(seaweed_settings.effective_database_url)
    try:
        item = catalogue.get_item("scielo-books-cred1-01")
        assert item is not None and item.state == "failed" and item.deposited_version is None
        assert item.bag_uri is None
        assert all(f.s3_version_id is None for f in catalogue.files(item.id, 1))
    finally:
        catalogue.close()
