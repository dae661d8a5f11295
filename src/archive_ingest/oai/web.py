"""The thin FastAPI router: GET and POST ``/oai`` -> :func:`archive_ingest.oai.provider.respond`."""

from __future__ import annotations

import threading
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from archive_ingest.catalogue.store import Catalogue
from archive_ingest.models import utcnow
from archive_ingest.oai.protocol import to_epoch
from archive_ingest.oai.provider import Config, respond
from archive_ingest.oai.tokens import token_key
from archive_ingest.settings import Settings

MEDIA_TYPE = "text/xml; charset=UTF-8"
MAX_FORM_BYTES = 64 * 1024  # an OAI request is a handful of short arguments


def oai_router(settings: Settings) -> APIRouter:
    router = APIRouter()
    state: dict[str, object] = {}
    lock = threading.Lock()

    def catalogue() -> Catalogue:
        with lock:
            if "catalogue" not in state:
                state["catalogue"] = Catalogue.open(settings.effective_database_url)
        return state["catalogue"]  # type: ignore[return-value]

    def config() -> Config:
        with lock:
            if "config" not in state:
                state["config"] = Config(
                    repository_name=settings.oai_repository_name,
                    repository_identifier=settings.repository_identifier,
                    admin_email=settings.oai_admin_email,
                    page_size=settings.oai_page_size,
                    page_bytes=settings.oai_page_bytes,
                    key=token_key(settings),
                )
        return state["config"]  # type: ignore[return-value]

    def answer(request: Request, pairs: list[tuple[str, str]]) -> Response:
        base_url = settings.oai_base_url or str(request.url.replace(query=""))
        with catalogue().session() as session:
            body = respond(config(), session, pairs, base_url, to_epoch(utcnow()))
        return Response(content=body, media_type=MEDIA_TYPE)

    @router.get("/oai")
    async def oai_get(request: Request) -> Response:
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        return await run_in_threadpool(answer, request, pairs)

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
            pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return await run_in_threadpool(answer, request, pairs)

    return router
