"""The sample SciELO server's HTTP side: one request in, a fault or the routed answer out, with
ETag / Last-Modified and conditional requests (304) as the real services answer them."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import logging
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from archive_ingest_demo.scielo_sample.faults import Fault, RecordedRequest
from archive_ingest_demo.scielo_sample.render import error_page

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=UTF-8"
HTML_TYPE = "text/html; charset=UTF-8"
PDF_TYPE = "application/pdf"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Body:
    status: int
    media_type: str
    content: bytes | Path
    last_modified: dt.datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Sample(Protocol):
    """What the handler asks of the server it belongs to (:class:`SampleScieloServer`)."""

    def fault_for(self, path: str, query: str) -> Fault | None: ...

    def record(self, request: RecordedRequest) -> None: ...

    def route(self, path: str, query: str) -> Body: ...


def _etag(content: bytes | Path) -> str:
    if isinstance(content, Path):
        stat = content.stat()
        return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _length(content: bytes | Path) -> int:
    return content.stat().st_size if isinstance(content, Path) else len(content)


def _chunks(content: bytes | Path) -> Iterator[bytes]:
    if isinstance(content, bytes):
        for start in range(0, len(content), _CHUNK):
            yield content[start : start + _CHUNK]
        return
    with content.open("rb") as handle:
        while block := handle.read(_CHUNK):
            yield block


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    sample: Sample


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SampleSciELO/1.0"
    server: HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sample scielo: " + format, *args)

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    # --- the request ---------------------------------------------------------------------------
    def _handle(self, *, send_body: bool) -> None:
        sample = self.server.sample
        parts = urlsplit(self.path)
        fault = sample.fault_for(parts.path, parts.query)
        sample.record(
            RecordedRequest(
                self.command,
                parts.path,
                parts.query,
                {k.lower(): v for k, v in self.headers.items()},
                fault is not None,
            )
        )
        try:
            if fault is not None and self._apply_fault(fault, send_body):
                return
            body = sample.route(parts.path, parts.query)
            self._send(body, fault, send_body)
        except (BrokenPipeError, ConnectionResetError):  # the client went away: fine
            self.close_connection = True

    def _apply_fault(self, fault: Fault, send_body: bool) -> bool:
        """Apply the parts of ``fault`` that replace the answer; True if answered."""
        if fault.reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.close()
            return True
        if fault.delay:
            time.sleep(fault.delay)
        if fault.redirect_to:
            self._send(
                Body(302, HTML_TYPE, b"", headers={"Location": fault.redirect_to}),
                None,
                send_body,
            )
            return True
        if fault.status:
            try:
                reason = HTTPStatus(fault.status).phrase
            except ValueError:
                reason = "Error"
            self._send(
                Body(fault.status, HTML_TYPE, error_page(fault.status, reason)), fault, send_body
            )
            return True
        if fault.html_as_pdf:
            page = error_page(503, "Service Temporarily Unavailable")
            self._send(Body(200, PDF_TYPE, page), fault, send_body)
            return True
        if fault.encoded_body is not None:
            headers = {"Content-Encoding": fault.content_encoding or "gzip"}
            media_type = JSON_TYPE if self.path.startswith("/api/") else PDF_TYPE
            body = Body(200, media_type, fault.encoded_body, headers=headers)
            self._send(body, fault, send_body)
            return True
        return False

    def _not_modified(self, etag: str, last_modified: dt.datetime | None) -> bool:
        """RFC 9110: If-None-Match wins; If-Modified-Since only when it is absent."""
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or f"W/{etag}" in tags
        ims = self.headers.get("If-Modified-Since")
        if ims and last_modified is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            return last_modified.replace(microsecond=0) <= since
        return False

    def _send(self, body: Body, fault: Fault | None, send_body: bool) -> None:
        etag = _etag(body.content)
        if body.status == 200 and self._not_modified(etag, body.last_modified):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        length = _length(body.content)
        declared = length
        closing = False
        if fault is not None and fault.content_length is not None:
            declared, closing = fault.content_length, True
        if fault is not None and fault.truncate_to is not None:
            closing = True
        self.send_response(body.status)
        self.send_header("Content-Type", body.media_type)
        self.send_header("Content-Length", str(declared))
        if body.status == 200:
            self.send_header("ETag", etag)
            if body.last_modified is not None:
                self.send_header(
                    "Last-Modified", email.utils.format_datetime(body.last_modified, usegmt=True)
                )
        for name, value in body.headers.items():
            self.send_header(name, value)
        if closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not send_body:
            return
        self.wfile.flush()
        if fault is not None and fault.body_delay:
            time.sleep(fault.body_delay)
        budget = fault.truncate_to if fault is not None and fault.truncate_to is not None else None
        for block in _chunks(body.content):
            if budget is not None:
                block = block[:budget]
                budget -= len(block)
            if block:
                self.wfile.write(block)
            if budget == 0:
                break
        self.wfile.flush()
