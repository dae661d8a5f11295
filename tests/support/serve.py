"""A real `archive-ingest serve` process (review UI + OAI-PMH) on a free loopback port.

:func:`serve_process` starts one against a HOME and a catalogue URL, with any settings as
``ARCHIVE_INGEST_*`` variables, waits until ``/oai`` answers and stops it (its process group)
afterwards. Two processes on the same HOME and catalogue share the session secret and the
catalogue, like two workers of one deployment. bench/bench_login_spray.py uses it too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.ports import free_port


@contextmanager
def serve_process(
    home: Path, database_url: str, *, timeout: float = 90, **settings: object
) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) of a running ``archive-ingest serve``."""
    port = free_port()
    env = {
        **os.environ,
        "ARCHIVE_INGEST_HOME": str(home),
        "ARCHIVE_INGEST_CONFIG": str(home / "absent-config.toml"),
        "ARCHIVE_INGEST_DATABASE_URL": database_url,
        **{f"ARCHIVE_INGEST_{k.upper()}": str(v) for k, v in settings.items()},
    }
    exe = Path(sys.executable).with_name("archive-ingest")
    log = (home / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=10) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"serve exited {proc.returncode}: see {log.name}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not answer within {timeout} s")
                try:
                    if client.get(f"{base}/oai", params={"verb": "Identify"}).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        log.close()
