"""The public access-copy route ``/access/{record_id}/v{version}`` of `archive-ingest serve`'s app
(uvicorn on 127.0.0.1, real httpx requests) against a chapter ingested to two real SeaweedFS
targets:

- the record is exposed with its access copy announced, in the ``openaire`` and ``driver``
  sets;
- a full GET gives exactly the stored access copy (the bytes of the object on the primary
  target, the catalogue's SHA-256, which is also the ETag); HEAD gives the same headers and no
  body; ``Range`` of the first bytes, a suffix and an open range answer 206 with the right
  bytes and ``Content-Range``; a range past the end 416; ``If-None-Match`` 304;
- no session is needed (the review pages still redirect to the login page); security
  headers are on the answers;
- 404 for an unknown record, malformed ids and versions (nothing local is ever named), a
  version never deposited, a record exposed without an announced access copy, and every
  version of a withdrawn record; 503 while no target answers;
- the primary target stopped: the same bytes come from the second copy;
- the primary target dying in the middle of a response (a loopback proxy in front of its
  real server cuts the object's body): the response goes on from the second copy at the
  byte reached, whole and byte-identical;
- the primary's catalogue row pointing at another object of the same size: skipped by its
  S3 checksum, the bytes come from the second copy;
- ``access_max_streams`` streams held open by a slow (trickling) target: the next stream is
  503 with Retry-After at once, /oai answers, and answers that stream nothing (HEAD, 304,
  404) take no slot; the slots come back when the clients go and after whole responses;
- a client that stops reading (a raw socket with a small receive buffer) holds its slot
  only for ``access_send_timeout``: its response is ended and the slot serves the next.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from archive_ingest.access_urls import access_copy_url
from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import objects_of_copy
from archive_ingest.catalogue.schema import StoredObjectRow
from archive_ingest.oai.queries import get_record, sets_of
from archive_ingest.oai.store import withdraw_record
from archive_ingest.settings import Settings
from archive_ingest.web import create_app
from archive_ingest.web.copy_reader import CHUNK
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.pipeline import ingest_in_process
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv
from tests.support.samples import add_generated_book
from tests.support.web import serving

pytestmark = pytest.mark.slow


def _deposit(
    targets_env: TargetsEnv,
    servers: list[SeaweedServer],
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    tmp_path: Path,
    scanned_pages: int = 0,
) -> tuple[Settings, str]:
    settings = targets_env(servers).model_copy(update=scielo_server.settings_overrides())
    [ref] = add_generated_book(
        scielo_catalogue, f"acc{uuid.uuid4().hex[:6]}", 1, tmp_path, scanned_pages=scanned_pages
    )
    result = ingest_in_process(settings, ref)
    assert (result.state, result.version) == ("deposited", 1), result.reasons
    return settings, result.id or ""


def _stored_access(settings: Settings, server: SeaweedServer, record_id: str) -> tuple[bytes, str]:
    """The access copy's bytes as the first target holds them, and the catalogue's SHA-256."""
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        [access] = [f for f in catalogue.files(record_id, 1) if f.role == "access"]
        [obj] = [
            o
            for o in objects_of_copy(catalogue, record_id, 1, "t1")
            if o.path == f"data/{access.path}"
        ]
    finally:
        catalogue.close()
    got = server.client("admin").get_object(
        Bucket=server.bucket, Key=obj.key, VersionId=obj.version_id or ""
    )
    return got["Body"].read(), access.sha256


@pytest.fixture
def served_pair(
    seaweed_private_pair: list[SeaweedServer],
) -> Iterator[list[SeaweedServer]]:
    """The module's two servers, running at the start and again at the end of the test."""
    for server in seaweed_private_pair:
        if not server.local.is_running():
            server.local.up()
    yield seaweed_private_pair
    for server in seaweed_private_pair:
        if not server.local.is_running():
            server.local.up()


def test_the_access_copy_is_served_whole_in_ranges_and_publicly(
    served_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    tmp_path: Path,
) -> None:
    settings, record_id = _deposit(
        targets_env, served_pair, scielo_catalogue, scielo_server, tmp_path
    )
    stored, sha256 = _stored_access(settings, served_pair[0], record_id)
    size = len(stored)
    catalogue = Catalogue.open(settings.effective_database_url)
    try:  # the record announces its access copy, and is in the open-access full-text sets
        with catalogue.session() as session:
            exposed = get_record(session, record_id)
            assert exposed is not None and exposed.access_copy
            assert {"openaire", "driver"} <= set(sets_of(session, [record_id])[record_id])
    finally:
        catalogue.close()
    assert hashlib.sha256(stored).hexdigest() == sha256 and stored.startswith(b"%PDF-")
    with serving(create_app(settings)) as base:
        url = access_copy_url(f"{base}/oai", record_id, 1)
        assert url == f"{base}/access/{record_id}/v1"
        with httpx.Client(timeout=60) as client:
            whole = client.get(url)
            assert whole.status_code == 200
            assert whole.content == stored
            assert hashlib.sha256(whole.content).hexdigest() == sha256
            assert whole.headers["content-type"] == "application/pdf"
            assert whole.headers["content-length"] == str(size)
            assert whole.headers["etag"] == f'"{sha256}"'
            assert whole.headers["accept-ranges"] == "bytes"
            assert whole.headers["content-disposition"] == (
                f'inline; filename="{record_id}-v1.pdf"'
            )
            assert whole.headers["x-content-type-options"] == "nosniff"
            assert whole.headers["x-frame-options"] == "DENY"

            head = client.head(url)
            assert head.status_code == 200 and head.content == b""
            for name in ("content-length", "etag", "content-type", "accept-ranges"):
                assert head.headers[name] == whole.headers[name], name

            first = client.get(url, headers={"Range": "bytes=0-99"})
            assert first.status_code == 206
            assert first.content == stored[:100]
            assert first.headers["content-range"] == f"bytes 0-99/{size}"
            assert first.headers["content-length"] == "100"

            suffix = client.get(url, headers={"Range": "bytes=-500"})
            assert suffix.status_code == 206 and suffix.content == stored[-500:]
            assert suffix.headers["content-range"] == f"bytes {size - 500}-{size - 1}/{size}"

            tail = client.get(url, headers={"Range": f"bytes={size - 1000}-"})
            assert tail.status_code == 206 and tail.content == stored[size - 1000 :]

            past = client.get(url, headers={"Range": f"bytes={size - 10}-{size + 5000}"})
            assert past.status_code == 206 and past.content == stored[size - 10 :]

            beyond = client.get(url, headers={"Range": f"bytes={size}-"})
            assert beyond.status_code == 416
            assert beyond.headers["content-range"] == f"bytes */{size}"
            assert client.get(url, headers={"Range": "bytes=-0"}).status_code == 416

            # several ranges, another unit, nonsense: ignored, the whole file
            for ignored in ("bytes=0-1,5-9", "items=0-1", "bytes=9-2", "bytes=x-y"):
                answer = client.get(url, headers={"Range": ignored})
                assert (answer.status_code, answer.content) == (200, stored), ignored

            other = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
            assert (other.status_code, other.content) == (200, stored)
            same = client.get(url, headers={"Range": "bytes=0-9", "If-Range": f'"{sha256}"'})
            assert (same.status_code, same.content) == (206, stored[:10])
            cached = client.get(url, headers={"If-None-Match": f'"{sha256}"'})
            assert cached.status_code == 304 and cached.content == b""

            # public: no session; the review pages still want one
            review = client.get(f"{base}/review/", follow_redirects=False)
            assert review.status_code == 303
            assert review.headers["location"].startswith("/review/login")
            assert client.post(url).status_code == 405


def test_not_found_answers_and_the_second_copy_when_the_primary_is_stopped(
    served_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    tmp_path: Path,
) -> None:
    settings, record_id = _deposit(
        targets_env, served_pair, scielo_catalogue, scielo_server, tmp_path
    )
    stored, sha256 = _stored_access(settings, served_pair[0], record_id)
    with serving(create_app(settings)) as base, httpx.Client(timeout=60) as client:
        url = f"{base}/access/{record_id}/v1"
        for path in (
            f"/access/{record_id}/v2",  # no such version
            f"/access/{record_id}/v0",
            f"/access/{record_id}/v01",
            f"/access/{record_id}/v1x",
            f"/access/{record_id}/v-1",
            f"/access/{record_id}/v9999999999",
            "/access/scielo-books-nothing-01/v1",  # no such record
            "/access/..%2F..%2Fetc%2Fpasswd/v1",
            "/access/%2e%2e/v1",
            f"/access/{record_id.upper()}/v1",
            "/access/rec%00ord/v1",
        ):
            answer = client.get(f"{base}{path}")
            assert answer.status_code == 404, path
            assert b"%PDF" not in answer.content, path

        # a version that exists but was never deposited
        catalogue = Catalogue.open(settings.effective_database_url)
        try:
            catalogue.new_version(record_id, original_sha256=None, work_dir=None)
        finally:
            catalogue.close()
        assert client.get(f"{base}/access/{record_id}/v2").status_code == 404

        # the primary target stopped: the second copy answers with the same bytes
        served_pair[0].local.down(timeout=3)
        assert not served_pair[0].local.is_running()
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content == stored
        assert hashlib.sha256(whole.content).hexdigest() == sha256
        part = client.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == stored[100:200]

        # neither target answers: 503, never a wrong answer
        served_pair[1].local.down(timeout=3)
        down = client.get(url)
        assert down.status_code == 503 and down.headers["retry-after"] == "60"

        # withdrawn (an OAI deleted header): gone, whatever the storage says
        for server in served_pair:
            server.local.up()
        assert client.get(url).status_code == 200
        catalogue = Catalogue.open(settings.effective_database_url)
        try:
            # exposed without an announced access copy (no open licence): not served
            with catalogue.session() as session:
                exposed = get_record(session, record_id)
                assert exposed is not None
                exposed.access_copy = False
            assert client.get(url).status_code == 404
            with catalogue.session() as session:
                exposed = get_record(session, record_id)
                assert exposed is not None
                exposed.access_copy = True
            assert client.get(url).status_code == 200
            assert withdraw_record(catalogue, record_id, "taken down")
        finally:
            catalogue.close()
        assert client.get(url).status_code == 404
        assert client.head(url).status_code == 404


class CuttingProxy:
    """A loopback proxy in front of a real SeaweedFS server: every request is forwarded; the
    answer to a GET of an access copy keeps its status, headers and Content-Length but only
    the first ``cut`` bytes of the body are sent before the connection is closed (a target
    that dies mid-response). With ``trickle=(n, seconds)`` the whole body is sent instead,
    ``n`` bytes every ``seconds`` (a slow target)."""

    def __init__(
        self, upstream: str, cut: int | None = None, trickle: tuple[int, float] | None = None
    ) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self.cut_gets = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
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
                finally:
                    conn.close()
                cutting = self.command == "GET" and "/data/access/" in self.path
                self.send_response(response.status)
                dropped: tuple[str, ...] = ("transfer-encoding", "connection")
                if self.command != "HEAD":  # a HEAD keeps the object's length
                    dropped += ("content-length",)
                for name, value in response.getheaders():
                    if name.lower() not in dropped:
                        self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if cutting and trickle is not None:
                    step, pause = trickle
                    try:
                        for at in range(0, len(data), step):
                            self.wfile.write(data[at : at + step])
                            self.wfile.flush()
                            time.sleep(pause)
                    except OSError:  # the reader went away
                        self.close_connection = True
                    return
                if cutting and cut is not None:
                    proxy.cut_gets += 1
                    self.wfile.write(data[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> CuttingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_copy_failing_mid_response_is_continued_from_the_next_copy(
    served_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings, record_id = _deposit(
        targets_env, served_pair, scielo_catalogue, scielo_server, tmp_path
    )
    stored, sha256 = _stored_access(settings, served_pair[0], record_id)
    size = len(stored)
    assert size > CHUNK + 1000, size  # the first chunk comes whole from the primary
    cut = CHUNK + (size - CHUNK) // 2
    with CuttingProxy(served_pair[0].endpoint, cut) as proxy:
        targets = [
            t.model_copy(update={"endpoint_url": proxy.endpoint}) if t.name == "t1" else t
            for t in settings.storage_targets
        ]
        assert [t.name for t in targets] == ["t1", "t2"]
        proxied = settings.model_copy(update={"storage_targets": targets})
        with serving(create_app(proxied)) as base, httpx.Client(timeout=60) as client:
            url = f"{base}/access/{record_id}/v1"
            whole = client.get(url)
            assert proxy.cut_gets == 1  # the primary was read, and failed at byte ``cut``
            # at least its first chunk was sent; the second copy took over from there
            [at] = re.findall(r"t1 failed at byte (\d+)", caplog.text)
            assert CHUNK <= int(at) <= cut
            assert whole.status_code == 200 and len(whole.content) == size
            assert whole.content == stored
            assert hashlib.sha256(whole.content).hexdigest() == sha256
            part = client.get(url, headers={"Range": f"bytes=10-{size - 11}"})
            assert proxy.cut_gets == 2
            assert part.status_code == 206 and part.content == stored[10 : size - 10]


#: a stream of one byte: takes a slot for an instant (a probe of whether one is free)
FIRST_BYTE = {"Range": "bytes=0-0"}


def _proxied(settings: Settings, endpoint: str, **update: Any) -> Settings:
    """``settings`` with target t1 reached through ``endpoint``."""
    targets = [
        t.model_copy(update={"endpoint_url": endpoint}) if t.name == "t1" else t
        for t in settings.storage_targets
    ]
    return settings.model_copy(update={"storage_targets": targets, **update})


def test_streams_are_bounded_and_their_slots_come_back(
    served_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    tmp_path: Path,
) -> None:
    """``access_max_streams`` streams held open by a slow target (and readers that stop
    reading): the next request is 503 with Retry-After at once, /oai still answers; when the
    clients go, their slots come back."""
    settings, record_id = _deposit(
        targets_env, served_pair, scielo_catalogue, scielo_server, tmp_path
    )
    stored, _ = _stored_access(settings, served_pair[0], record_id)
    assert len(stored) > CHUNK, len(stored)  # a stream lasts seconds at the trickle's pace
    with CuttingProxy(served_pair[0].endpoint, trickle=(2048, 0.25)) as proxy:
        slow = _proxied(settings, proxy.endpoint, access_max_streams=2)
        with serving(create_app(slow)) as base, httpx.Client(timeout=20) as other:
            url = f"{base}/access/{record_id}/v1"

            def hold(stack: ExitStack) -> None:
                """Two streams opened (their headers read) and their bodies left unread."""
                for _ in range(2):
                    client = stack.enter_context(httpx.Client(timeout=20))
                    answer = stack.enter_context(client.stream("GET", url))
                    assert answer.status_code == 200
                    assert answer.headers["content-length"] == str(len(stored))

            for _ in range(2):  # the second round only opens if the first one's slots are back
                with ExitStack() as stack:
                    hold(stack)
                    started = time.monotonic()
                    busy = other.get(url)
                    assert busy.status_code == 503
                    assert busy.headers["retry-after"] == "10"
                    assert other.get(url, headers=FIRST_BYTE).status_code == 503
                    assert time.monotonic() - started < 5  # answered at once, never queued
                    identify = other.get(f"{base}/oai", params={"verb": "Identify"})
                    assert identify.status_code == 200 and b"<Identify>" in identify.content
                    # answers that stream nothing (catalogue lookups) take no slot
                    head = other.head(url)
                    assert head.status_code == 200
                    assert head.headers["content-length"] == str(len(stored))
                    etag = head.headers["etag"]
                    assert other.get(url, headers={"If-None-Match": etag}).status_code == 304
                    assert other.get(f"{base}/access/{record_id}/v2").status_code == 404
                # the clients are gone: their slots come back once the server sees it
                deadline = time.monotonic() + 20
                while other.get(url, headers=FIRST_BYTE).status_code == 503:
                    assert time.monotonic() < deadline, "a slot was never given back"
                    time.sleep(0.2)
                time.sleep(1)  # the second slot too (its stream ends within a read)

            # both slots free: two whole files at once, byte-identical, slow as they are
            with ThreadPoolExecutor(2) as pool:
                wholes = list(pool.map(lambda _: httpx.get(url, timeout=60), range(2)))
            assert [(w.status_code, w.content) for w in wholes] == [(200, stored)] * 2
            # and given back after a full response (just after the client has the last byte)
            deadline = time.monotonic() + 5
            while other.get(url, headers=FIRST_BYTE).status_code == 503:
                assert time.monotonic() < deadline, "a slot was never given back"
                time.sleep(0.1)


def test_a_client_that_stops_reading_gives_its_slot_back(
    served_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client that reads the headers and then nothing more (a raw socket with a small
    receive buffer: the server's send waits on it) holds its slot for
    ``access_send_timeout`` seconds, not for ever: its response is ended, its connection
    closed, and the slot serves the next client."""
    settings, record_id = _deposit(
        targets_env, served_pair, scielo_catalogue, scielo_server, tmp_path, scanned_pages=6
    )
    stored, _ = _stored_access(settings, served_pair[0], record_id)
    one = settings.model_copy(update={"access_max_streams": 1, "access_send_timeout": 2.0})
    with serving(create_app(one)) as base, httpx.Client(timeout=20) as other:
        url = f"{base}/access/{record_id}/v1"
        port = int(base.rpartition(":")[2])
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as stalled:
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
            stalled.settimeout(20)
            stalled.connect(("127.0.0.1", port))
            stalled.sendall(
                f"GET /access/{record_id}/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
            )
            assert stalled.recv(12) == b"HTTP/1.1 200"
            started = time.monotonic()
            # the stalled client holds the one slot while the server waits on its socket
            assert other.get(url, headers=FIRST_BYTE).status_code == 503
            deadline = started + 20
            while (probe := other.get(url, headers=FIRST_BYTE)).status_code == 503:
                assert time.monotonic() < deadline, "a client that stopped reading kept its slot"
                time.sleep(0.2)
            assert probe.status_code == 206 and probe.content == stored[:1]
            assert time.monotonic() - started >= 1.5  # held for the send timeout, no less
            # the server ended that response: the client gets less than the file, then EOF
            received = 12
            while chunk := stalled.recv(65536):
                received += len(chunk)
            assert received < len(stored)
    assert "read nothing for 2.0s" in caplog.text


def test_a_copy_with_another_checksum_is_skipped(
    served_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The primary's catalogue row points at another object of the same size (every GET
    answers the length asked): the S3 checksum (HEAD) tells it apart, and the bytes come from
    the second copy."""
    settings, record_id = _deposit(
        targets_env, served_pair, scielo_catalogue, scielo_server, tmp_path
    )
    stored, sha256 = _stored_access(settings, served_pair[0], record_id)
    other = stored[:100] + bytes(len(stored) - 100)
    assert len(other) == len(stored) and other != stored
    key = f"{settings.storage_targets[0].prefix}/other-{uuid.uuid4().hex}.pdf"
    put = (
        served_pair[0]
        .client("admin")
        .put_object(
            Bucket=settings.storage_targets[0].bucket,
            Key=key,
            Body=other,
            ChecksumAlgorithm="SHA256",
        )
    )
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        with catalogue.session() as session:
            [row] = [
                r
                for r in session.query(StoredObjectRow).filter_by(
                    item_id=record_id, version=1, target="t1"
                )
                if r.path.startswith("data/access/")
            ]
            row.key, row.version_id = key, put.get("VersionId")
    finally:
        catalogue.close()
    with serving(create_app(settings)) as base, httpx.Client(timeout=60) as client:
        url = f"{base}/access/{record_id}/v1"
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content == stored
        assert hashlib.sha256(whole.content).hexdigest() == sha256
        part = client.get(url, headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and part.content == stored[:100]
    assert f"{key} has SHA-256" in caplog.text
