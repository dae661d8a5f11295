"""A real HTTP server for an ASGI app in tests: uvicorn on a free 127.0.0.1 port, in a thread.

A helper (no fixture): ``with serving(app) as base: httpx.get(f"{base}/oai?...")``.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.support.ports import free_port


@contextmanager
def serving(app: Any, *, start_timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` for the block; yields its base URL (``http://127.0.0.1:PORT``)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    # in the caller's context, so context-held settings (Prefect's) reach the app's threads
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(server.run,), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
