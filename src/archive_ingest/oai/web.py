"""The thin FastAPI router: GET and POST ``/oai`` -> :func:`archive_ingest.oai.provider.respond`.

The arguments are decoded from the raw bytes of the query string or form body
(:func:`archive_ingest.oai.protocol.decode_query`); the baseURL is the configured one
(:func:`base_url`), never built from the request's Host header.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from archive_ingest.catalogue.store import Catalogue
from archive_ingest.models import utcnow
from archive_ingest.oai.protocol import decode_query, to_epoch
from archive_ingest.oai.provider import Config, respond
from archive_ingest.oai.tokens import token_key
from archive_ingest.settings import Settings

MEDIA_TYPE = "text/xml; charset=UTF-8"
MAX_FORM_BYTES = 64 * 1024  # an OAI request is a handful of short arguments
#: ``archive-ingest serve``'s default address; the CLI sets ``oai_base_url`` from its own
#: --host/--port (:func:`serve_base_url`), so this only applies to an app built elsewhere
DEFAULT_BASE_URL = "http://127.0.0.1:8000/oai"
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}


def base_url(settings: Settings) -> str:
    """The baseURL every response carries: ``oai_base_url``, never anything from a request."""
    return settings.oai_base_url or DEFAULT_BASE_URL


def serve_base_url(host: str, port: int) -> str | None:
    """The baseURL of a server bound to ``host:port``; None for a wildcard address (every
    interface: only the operator knows the public name, so ``oai_base_url`` is required)."""
    if host in _WILDCARD_HOSTS:
        return None
    name = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{name}:{port}/oai"


def oai_router(settings: Settings) -> APIRouter:
    router = APIRouter()
    url = base_url(settings)
    # opened on the first request, once: the catalogue and the repository's settings
    catalogues: list[Catalogue] = []
    configs: list[Config] = []
    lock = threading.Lock()

    def catalogue() -> Catalogue:
        with lock:
            if not catalogues:
                catalogues.append(Catalogue.open(settings.effective_database_url))
        return catalogues[0]

    def config() -> Config:
        with lock:
            if not configs:
                configs.append(
                    Config(
                        repository_name=settings.oai_repository_name,
                        repository_identifier=settings.repository_identifier,
                        admin_email=settings.oai_admin_email,
                        page_size=settings.oai_page_size,
                        page_bytes=settings.oai_page_bytes,
                        key=token_key(settings),
                    )
                )
        return configs[0]

    def answer(pairs: list[tuple[str, str]]) -> Response:
        with catalogue().session() as session:
            body = respond(config(), session, pairs, url, to_epoch(utcnow()))
        return Response(content=body, media_type=MEDIA_TYPE)

    @router.get("/oai")
    async def oai_get(request: Request) -> Response:
        pairs = decode_query(request.scope.get("query_string", b""))
        return await run_in_threadpool(answer, pairs)

    @router.post("/oai")
    async def oai_post(request: Request) -> Response:
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_FORM_BYTES:  # stop reading; answered as an illegal argument
                break
        if len(raw) > MAX_FORM_BYTES:
            pairs = [("verb", "Identify"), ("oversized", "")]
        else:
            pairs = decode_query(bytes(raw))
        return await run_in_threadpool(answer, pairs)

    return router
