"""``GET /metrics``: the archive's figures in the Prometheus text format (monitoring/metrics.py).

Access: the answer holds aggregate figures only (counts, bytes, times, storage target names,
the software version), no item, no secret, no URL. It is served on ``serve``'s own address,
loopback unless the operator binds another. With ``metrics_token`` set (at least 32
printable characters, else ``serve`` refuses to start) a scrape must carry
``Authorization: Bearer <token>``, compared in constant time; without it, 401. A public
``serve`` (OAI-PMH for harvesters) should set the token or keep ``/metrics`` off its proxy.

A scrape reads the catalogue (a handful of aggregate queries, well under a second at 100,000
items) in a worker thread, never on the event loop, and one scrape at a time: a second
scraper waits for the first instead of doubling the load on the database.
"""

from __future__ import annotations

import hmac
import threading

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from archive_ingest.catalogue.store import Catalogue
from archive_ingest.monitoring.figures import ArchiveFigures, archive_figures
from archive_ingest.monitoring.metrics import exposition, metrics_registry
from archive_ingest.secret_files import MIN_SECRET_CHARS, check_secret
from archive_ingest.settings import Settings


def metrics_token(settings: Settings) -> bytes | None:
    """The token scrapes must present, or None; a short or garbled one is a ConfigError."""
    if settings.metrics_token is None:
        return None
    value = settings.metrics_token.get_secret_value().encode("utf-8")
    return check_secret(value, MIN_SECRET_CHARS, source="setting metrics_token")


def _authorised(request: Request, token: bytes) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "replace"), token)


def metrics_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    token = metrics_token(settings)
    one_at_a_time = CapacityLimiter(1)
    opened: list[Catalogue] = []  # on the first scrape, once
    lock = threading.Lock()

    def read() -> ArchiveFigures:
        with lock:
            if not opened:
                opened.append(Catalogue.open(settings.effective_database_url))
        return archive_figures(opened[0])

    registry = metrics_registry(read)

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        if token is not None and not _authorised(request, token):
            return Response(
                "a bearer token is required\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body = await to_thread.run_sync(exposition, registry, limiter=one_at_a_time)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
