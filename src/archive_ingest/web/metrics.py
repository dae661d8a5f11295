"""``GET /metrics``: the archive's figures in the Prometheus text format (monitoring/metrics.py).

Access: the answer holds aggregate figures only (counts, bytes, times, storage target names,
the software version), no item, no secret, no URL. With ``metrics_token`` set (at least 32
printable characters, else ``serve`` refuses to start) a scrape must carry
``Authorization: Bearer <token>``, compared in constant time; without it, 401. Without a
token only loopback clients (127.0.0.0/8, ::1) are answered, anyone else gets 403: behind
a reverse proxy ``serve`` takes the client's address from its forwarded headers
(``web_forwarded_allow_ips``), so a proxied scraper shows its own address, not the proxy's.

A scrape reads the catalogue (a handful of aggregate queries, well under a second at 100,000
items) in a worker thread, never on the event loop, and one scrape at a time: a second
scraper waits for the first instead of doubling the load on the database, and a scraper that
gave up while it waited (its connection closed) costs no read. The catalogue is opened
without migrating it (a scrape never changes the schema); one whose schema is not this
code's, or that cannot be opened, is ``archive_ingest_catalogue_up 0``. A SQLite catalogue
that does not exist yet (before the first ingest) is an empty archive, and is not created.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import threading

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from archive_ingest.catalogue.engine import schema_at_head
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.monitoring.figures import ArchiveFigures, archive_figures
from archive_ingest.monitoring.metrics import exposition, metrics_registry
from archive_ingest.monitoring.probes import sqlite_file
from archive_ingest.secret_files import MIN_SECRET_CHARS, check_secret
from archive_ingest.settings import Settings


class CatalogueNotReadable(ArchiveIngestError):
    """The catalogue's schema is not this code's (a scrape reads no figures)."""


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


def loopback_client(host: str | None) -> bool:
    """Whether a client's address (``request.client.host``) is a loopback one: 127.0.0.0/8,
    ::1 or an IPv4-mapped 127.x; anything else, a name or no address is not."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def metrics_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    token = metrics_token(settings)
    one_at_a_time = CapacityLimiter(1)
    url = settings.effective_database_url
    opened: list[Catalogue] = []  # on the first scrape that finds the catalogue, once
    lock = threading.Lock()

    def read() -> ArchiveFigures:
        with lock:
            if not opened:
                file = sqlite_file(url)
                if file is not None:
                    try:
                        file.stat()  # another OSError (a path under a file, ...): up 0
                    except FileNotFoundError:  # an empty archive, not created by a scrape
                        return ArchiveFigures(generated_at=dt.datetime.now(dt.UTC))
                opened.append(Catalogue.open(url, migrate_schema=False))
        catalogue = opened[0]
        if not schema_at_head(catalogue.engine):
            raise CatalogueNotReadable("the catalogue's schema is not this code's")
        return archive_figures(catalogue)

    registry = metrics_registry(read)

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        if token is None and not loopback_client(request.client and request.client.host):
            return Response(
                "metrics are served to loopback clients only unless metrics_token is set\n",
                status_code=403,
                media_type="text/plain",
            )
        if token is not None and not _authorised(request, token):
            return Response(
                "a bearer token is required\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        async with one_at_a_time:
            if await request.is_disconnected():  # gave up while an earlier scrape read
                return Response(status_code=503)
            body = await to_thread.run_sync(exposition, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
