"""Loopback HTTP proxies in front of SeaweedFS that inject S3 faults.

:class:`ForwardingProxy` forwards every request, after asking :meth:`ForwardingProxy.plan`
what to do with it: forward it, answer an :class:`S3Error` instead (not forwarded), or
``"hold"`` it: forward it (so the server has done it), then, instead of answering, set ``held``
and wait for ``release``: the client is stopped at the worst moment - the server acted, the
client never learnt it. A test kills the client then, sets ``release``, and the held connection
is dropped.

:class:`HoldingProxy` counts every request and holds request number ``hold_at`` (or the first
request equal to ``hold``); ``fail_matching = "text"`` answers every request whose
``METHOD path`` contains the text with 500 InternalError instead, however often the client
retries.
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self


@dataclass(frozen=True)
class S3Error:
    """An answer the proxy gives instead of forwarding the request."""

    status: int
    body: bytes


Plan = Literal["forward", "hold"] | S3Error


class ForwardingProxy:
    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self.upstream = (host, int(port))
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                plan = proxy.plan(self.command, self.path)
                if isinstance(plan, S3Error):
                    self.send_response(plan.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(plan.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(plan.body)
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
                finally:
                    conn.close()
                if plan == "hold":
                    proxy.held.set()
                    proxy.release.wait(120)
                    self.close_connection = True
                    return  # no answer: the client is dead by now
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                length_header = response.getheader("Content-Length", "0")
                self.send_header(
                    "Content-Length", length_header if self.command == "HEAD" else str(len(data))
                )
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def plan(self, command: str, path: str) -> Plan:
        """What to do with the request ``command path`` (called from the server's threads)."""
        return "forward"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


INTERNAL_ERROR = S3Error(500, b"<Error><Code>InternalError</Code><Message>boom</Message></Error>")


class HoldingProxy(ForwardingProxy):
    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.hold_at = 0  # 0: never hold
        self.hold: str | None = None
        self.fail_matching: str | None = None
        self.requests: list[str] = []

    def plan(self, command: str, path: str) -> Plan:
        with self.lock:
            self.requests.append(f"{command} {path}")
            hold = len(self.requests) == self.hold_at or (
                self.hold is not None and self.requests[-1] == self.hold
            )
            if hold:
                self.hold, self.hold_at = None, 0  # once
            fail = bool(self.fail_matching and self.fail_matching in self.requests[-1])
        if fail:
            return INTERNAL_ERROR
        return "hold" if hold else "forward"

    def arm(self, hold_at: int, hold: str | None = None) -> None:
        """Count from zero again and hold request number ``hold_at`` (0: none), or the first
        request that is ``hold`` (``"PUT /bucket/key"``)."""
        with self.lock:
            self.requests = []
            self.hold_at = hold_at
            self.hold = hold
        self.held.clear()
        self.release.clear()
