"""A real HTTP receiver on 127.0.0.1 for the alert webhook: records every request (path,
headers, JSON body) and answers as told (a status, a delay before answering).

    with WebhookReceiver() as hook:
        url = hook.url("/hooks/TOKEN")
        ...
        assert hook.bodies()[0]["kind"] == "failed_items"

``status`` and ``delay`` may be changed while it runs (a slow or failing receiver).
``trickle=SECONDS``: the answer's headers at once, then its body one byte every SECONDS (no
read waits long enough for a timeout) for :data:`TRICKLE_FOR` seconds or until the receiver is
closed, then the connection is closed (the answer never completes).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

#: how long a trickling answer goes on
TRICKLE_FOR = 15.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout, a reset) is what some tests do on purpose."""


class WebhookReceiver:
    def __init__(self, status: int = 204, delay: float = 0.0, trickle: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.trickle = trickle
        self._closed = threading.Event()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.trickle:
                    self._trickle(receiver.trickle)
                    return
                try:
                    self.send_response(receiver.status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:  # the client gave up waiting (a slow receiver's test)
                    pass

            def _trickle(self, every: float) -> None:
                try:
                    self.send_response(receiver.status)
                    self.send_header("content-length", "100000")
                    self.end_headers()
                    self.wfile.flush()
                    end = time.monotonic() + TRICKLE_FOR
                    while not receiver._closed.wait(every) and time.monotonic() < end:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                except OSError:  # the client gave up
                    pass
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[Any]:
        with self._lock:
            return [r.json() for r in self.received]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
