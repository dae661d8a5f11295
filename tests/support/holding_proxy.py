"""A loopback HTTP proxy in front of SeaweedFS that can *hold* one S3 request.

Every request is forwarded and counted. At request number ``hold_at`` (or the first request
equal to ``hold``) the proxy forwards it
(so the server has done it), then, instead of answering, sets ``held`` and waits for
``release``: the client is stopped at the worst moment - the server acted, the client never
learnt it. A test kills the client then, sets ``release``, and the held connection is dropped.
``fail_matching = "text"`` answers every request whose ``METHOD path`` contains the text with
500 InternalError instead (not forwarded), however often the client retries.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HoldingProxy:
    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self.upstream = (host, int(port))
        self.hold_at = 0  # 0: never hold
        self.hold: str | None = None
        self.fail_matching: str | None = None
        self.requests: list[str] = []
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
                with proxy.lock:
                    proxy.requests.append(f"{self.command} {self.path}")
                    hold = len(proxy.requests) == proxy.hold_at or (
                        proxy.hold is not None and proxy.requests[-1] == proxy.hold
                    )
                    if hold:
                        proxy.hold, proxy.hold_at = None, 0  # once
                    fail = bool(proxy.fail_matching) and proxy.fail_matching in proxy.requests[-1]
                if fail:
                    error = b"<Error><Code>InternalError</Code><Message>boom</Message></Error>"
                    self.send_response(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    if self.command != "HEAD":
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
                finally:
                    conn.close()
                if hold:
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

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def arm(self, hold_at: int, hold: str | None = None) -> None:
        """Count from zero again and hold request number ``hold_at`` (0: none), or the first
        request that is ``hold`` (``"PUT /bucket/key"``)."""
        with self.lock:
            self.requests = []
            self.hold_at = hold_at
            self.hold = hold
        self.held.clear()
        self.release.clear()

    def __enter__(self) -> HoldingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
