"""The public access copy: ``GET`` and ``HEAD /access/{record_id}/v{version}`` (access_urls.py).

What harvesters (CORE, BASE) fetch through the ``dc:identifier`` of an OAI record: the
access-copy PDF of one deposited version, read from a stored AIP, never from a workspace.

Public, no login (the review pages keep theirs): only what the OAI endpoint already exposes
is served. A version is served when its record is exposed over OAI-PMH, not withdrawn (a
deleted header answers 404 for every version) and announced with an access copy (the
record's ``access_copy`` flag: an open-access licence and an access file, oai/store.py), the
version is at most the exposed one and was deposited (``deposited`` or ``under_replicated``:
stored and verified on at least one target; every deposited version has a valid Creative
Commons licence, docs/LICENCE.md), and the catalogue lists its ``access`` file. Anything
else is 404, the same answer as for a record that does not exist, so the route tells
nothing of held or rejected items.

The request names nothing local: ``record_id`` must match the record-id syntax and
``version`` be a plain positive integer, and both only select catalogue rows; the bytes come
from the S3 object the catalogue recorded for that copy (key and object version).

The copies are tried in the configured targets' order (the primary first), each ``verified``
copy whose object the catalogue lists with the access file's size and SHA-256. Before a copy
is read, a HEAD (``ChecksumMode=ENABLED``) must report the object's size and, when the server
keeps a full-object SHA-256, that SHA-256 (a single-request upload sends one; a multipart
upload, above ``s3_multipart_threshold``, carries a full-object CRC32 instead, storage/upload.py,
and for it only the size is checked): this re-hashes nothing, but catches another object
answering at the recorded key and version. A
target that does not answer, or answers with another size or checksum (or a range of another
length), is skipped for the next. The body is streamed in chunks (bounded memory); when a
copy fails in the middle of a response, the stream goes on from the next copy at the byte
reached (the bytes are the same: one SHA-256).

The route is bounded on its own (``access_max_streams``, default 8): that many streams are
served at once, each with at most one thread under the route's own limiter (a
``CapacityLimiter`` on anyio's worker threads: S3 reads), never counted against the default
limiter that ``/oai`` and the review pages use; a stream beyond them answers 503 with
``Retry-After``. Answers that stream nothing (404, 304, 416, HEAD: catalogue lookups) take no
slot; their lookups have a limiter of their own of the same size. A stream's slot is given
back when its response ends: sent whole, cut short by the storage, the client gone, or the
client too slow (each message sent has ``access_send_timeout`` seconds, default 60; then the
response is ended and the connection closed); the stream is closed at once, not left to the
garbage collector. ``Range``
(one byte range: ``a-b``, ``a-`` or ``-n``) answers 206 with ``Content-Range``, an
unsatisfiable range 416; several ranges or a malformed header are ignored (the whole file,
as RFC 9110 allows). ``ETag`` is the file's SHA-256 (``If-None-Match`` answers 304,
``If-Range`` is honoured).
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from archive_ingest.access_urls import ACCESS_ROUTE
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.settings import Settings
from archive_ingest.storage.targets import target_views
from archive_ingest.web.access_request import (
    Unsatisfiable,
    etag_matches,
    parse_range,
    valid_request,
)
from archive_ingest.web.copy_reader import (
    AccessCopy,
    CopyReader,
    NoCopyAnswers,
    find_access_copy,
)
from archive_ingest.web.stream_slots import Relay, SlotResponse, Slots

log = logging.getLogger(__name__)


def _headers(copy: AccessCopy) -> dict[str, str]:
    return {
        "ETag": copy.etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'inline; filename="{copy.filename}"',
        # the bytes of a version never change; a harvester may keep them and revalidate
        "Cache-Control": "public, no-cache",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }


def _not_found() -> Response:
    return Response("not found\n", status_code=404, media_type="text/plain")


def _busy() -> Response:
    return Response(
        "too many access copies are being served; try again shortly\n",
        status_code=503,
        media_type="text/plain",
        headers={"Retry-After": "10"},
    )


def access_router(settings: Settings) -> APIRouter:
    """``GET``/``HEAD`` :data:`ACCESS_ROUTE`, public (no session)."""
    router = APIRouter(include_in_schema=False)
    lock = threading.Lock()
    opened: dict[str, Any] = {}
    slots = Slots(settings.access_max_streams)
    #: the streams' own limiter on anyio's worker threads: one thread per slot, never
    #: counted against the default limiter that /oai and the review pages use
    limiter = CapacityLimiter(settings.access_max_streams)
    #: catalogue lookups (404, 304, HEAD, and before a stream takes its slot): a limiter of
    #: their own, so that held streams never stop them and they never take a stream's thread
    lookups = CapacityLimiter(settings.access_max_streams)

    def catalogue() -> Catalogue:
        with lock:
            if "catalogue" not in opened:
                opened["catalogue"] = Catalogue.open(settings.effective_database_url)
            found: Catalogue = opened["catalogue"]
            return found

    def reader() -> CopyReader:
        with lock:
            if "reader" not in opened:
                views = {v.storage_target_name: v for v in target_views(settings)}
                opened["reader"] = CopyReader(views)
            found: CopyReader = opened["reader"]
            return found

    def answer(
        method: str, headers_in: dict[str, str], record_id: str, number: int
    ) -> Response | tuple[CopyReader, AccessCopy, tuple[int, int], Response]:
        """The catalogue lookup of a request (a thread under ``lookups``): a finished
        response (404, 304, 416, HEAD), or what to stream and the response it goes into
        (status and headers)."""
        try:
            copies = reader()
        except ArchiveIngestError as exc:
            log.error("access copies cannot be read: %s", exc)
            return Response("storage not configured\n", status_code=503, media_type="text/plain")
        copy = find_access_copy(catalogue(), copies.views, record_id, number)
        if copy is None:
            return _not_found()
        headers = _headers(copy)
        if_none_match = headers_in.get("if-none-match")
        if if_none_match and etag_matches(if_none_match, copy.etag):
            return Response(status_code=304, headers=headers)
        wanted = headers_in.get("range")
        if_range = headers_in.get("if-range")
        if if_range is not None and if_range.strip() != copy.etag:
            wanted = None  # the client holds other bytes: the whole file
        try:
            span = parse_range(wanted, copy.size)
        except Unsatisfiable:
            return Response(
                status_code=416,
                headers={**headers, "Content-Range": f"bytes */{copy.size}"},
            )
        start, end = span if span is not None else (0, copy.size - 1)
        status = 206 if span is not None else 200
        headers["Content-Length"] = str(end - start + 1)
        if span is not None:
            headers["Content-Range"] = f"bytes {start}-{end}/{copy.size}"
        if method == "HEAD":
            return Response(status_code=status, headers=headers, media_type="application/pdf")
        shape = Response(status_code=status, headers=headers, media_type="application/pdf")
        return copies, copy, (start, end), shape

    def first_open(
        copies: CopyReader, copy: AccessCopy, start: int, end: int
    ) -> tuple[int, Any] | Response:
        """The first copy that opens (a thread under the stream's slot), or 503."""
        try:
            return copies.first_open(copy, start, end)
        except NoCopyAnswers:
            return Response(
                "no copy of the file answers now; try again later\n",
                status_code=503,
                media_type="text/plain",
                headers={"Retry-After": "60"},
            )

    @router.api_route(ACCESS_ROUTE, methods=["GET", "HEAD"])
    async def access_copy(request: Request, record_id: str, version: str) -> Response:
        number = valid_request(record_id, version)
        if number is None:
            return _not_found()
        work = partial(answer, request.method, dict(request.headers), record_id, number)
        done = await to_thread.run_sync(work, limiter=lookups)
        if isinstance(done, Response):
            return done  # a lookup only: no stream, no slot
        copies, copy, (start, end), shape = done
        release = slots.take()
        if release is None:
            return _busy()
        try:
            opened_copy = await to_thread.run_sync(
                first_open, copies, copy, start, end, limiter=limiter
            )
        except BaseException:
            release()
            raise
        if isinstance(opened_copy, Response):
            release()
            return opened_copy
        index, body = opened_copy
        return SlotResponse(
            Relay(copies.stream(copy, start, end, index, body), body, limiter),
            release,
            settings.access_send_timeout,
            status_code=shape.status_code,
            headers={k: v for k, v in shape.headers.items() if k != "content-type"},
            media_type="application/pdf",
        )

    return router


__all__ = [
    "ACCESS_ROUTE",
    "AccessCopy",
    "CopyReader",
    "Slots",
    "Unsatisfiable",
    "access_router",
    "find_access_copy",
    "parse_range",
    "valid_request",
]
