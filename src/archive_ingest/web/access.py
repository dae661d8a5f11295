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

import base64
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from anyio import CancelScope, CapacityLimiter, fail_after, to_thread
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from starlette.types import Message, Receive, Scope, Send

from archive_ingest.access_urls import ACCESS_ROUTE
from archive_ingest.catalogue.copies import copies_of, objects_of_copy
from archive_ingest.catalogue.schema import File, Version
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.models import RECORD_ID_RE
from archive_ingest.oai.tables import OaiRecord
from archive_ingest.settings import Settings
from archive_ingest.storage.s3 import S3Client, client_config, make_client
from archive_ingest.storage.targets import target_views

log = logging.getLogger(__name__)

#: version states whose bytes are stored and verified on at least one target
SERVED_STATES = frozenset({"deposited", "under_replicated"})
CHUNK = 32 * 1024
_VERSION = re.compile(r"[1-9][0-9]{0,8}")
_RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")
MAX_RANGE_HEADER = 200
#: a target that does not answer costs seconds, not the client's patience
READ_CONFIG = client_config(max_attempts=2, connect_timeout=3, read_timeout=30)
#: what a failing target raises while it opens or streams an object
_READ_ERRORS = (BotoCoreError, ClientError, OSError, ArchiveIngestError)


def valid_request(record_id: str, version: str) -> int | None:
    """The version number when both path segments are well-formed, else None."""
    if not RECORD_ID_RE.fullmatch(record_id) or ".." in record_id:
        return None
    if not _VERSION.fullmatch(version):
        return None
    return int(version)


class Unsatisfiable(Exception):
    """A byte range that starts at or after the end of the file (416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` (inclusive) of a single byte range, None for the whole file (no
    header, a malformed one, another unit or several ranges: ignored, RFC 9110 14.2).
    Raises :class:`Unsatisfiable` for a range with no byte inside the file."""
    if not header or len(header) > MAX_RANGE_HEADER:
        return None
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(size - suffix, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid range-spec: ignored
    if start >= size:
        raise Unsatisfiable
    return start, min(int(last), size - 1) if last else size - 1


@dataclass(frozen=True)
class Source:
    """One verified copy's object holding the access file."""

    target: str
    bucket: str
    key: str
    version_id: str | None


@dataclass(frozen=True)
class AccessCopy:
    record_id: str
    version: int
    size: int
    sha256: str
    sources: tuple[Source, ...]

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'

    @property
    def filename(self) -> str:
        # the record id's syntax ([a-z0-9._-]) needs no quoting in a header
        return f"{self.record_id}-v{self.version}.pdf"


def served_access_file(catalogue: Catalogue, record_id: str, version: int) -> File | None:
    """The access file of ``record_id``'s ``version`` if the route may serve it, else None."""
    with catalogue.session() as session:
        exposed = session.get(OaiRecord, record_id)
        if (
            exposed is None
            or exposed.deleted
            or not exposed.access_copy
            or version > exposed.version
        ):
            return None
        row = session.scalars(
            select(Version).where(Version.item_id == record_id, Version.version == version)
        ).first()
        if row is None or row.state not in SERVED_STATES:
            return None
        files = list(
            session.scalars(
                select(File).where(
                    File.item_id == record_id, File.version == version, File.role == "access"
                )
            )
        )
        if len(files) != 1 or files[0].media_type != "application/pdf" or files[0].size <= 0:
            return None
        session.expunge(files[0])
        return files[0]


def find_access_copy(
    catalogue: Catalogue, views: dict[str, Settings], record_id: str, version: int
) -> AccessCopy | None:
    """What the route serves for ``record_id`` v``version``, with every verified copy that
    holds it, in the targets' order (``views``); None when there is nothing to serve."""
    access = served_access_file(catalogue, record_id, version)
    if access is None:
        return None
    path = f"data/{access.path}"
    verified = {
        c.target for c in copies_of(catalogue, record_id, version) if c.status == "verified"
    }
    sources: list[Source] = []
    for target, view in views.items():
        if target not in verified:
            continue
        for obj in objects_of_copy(catalogue, record_id, version, target):
            if obj.path == path and (obj.size, obj.sha256) == (access.size, access.sha256):
                sources.append(Source(target, view.s3_bucket, obj.key, obj.version_id))
                break
    if not sources:
        return None
    return AccessCopy(record_id, version, access.size, access.sha256, tuple(sources))


class NoCopyAnswers(Exception):
    """No verified copy gave the bytes asked for (503)."""


class CopyReader:
    """Opens byte ranges of a copy's object on the targets, one S3 client per target."""

    def __init__(self, views: dict[str, Settings]) -> None:
        self.views = views
        self._clients: dict[str, S3Client] = {}
        self._lock = threading.Lock()

    def client(self, target: str) -> S3Client:
        with self._lock:
            if target not in self._clients:
                self._clients[target] = make_client(self.views[target], config=READ_CONFIG)
            return self._clients[target]

    def check(self, copy: AccessCopy, source: Source) -> None:
        """Raises unless ``source``'s object is the access file: its size, and its SHA-256 when
        the server keeps a full-object one (a HEAD; nothing is re-hashed)."""
        args: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key}
        if source.version_id:
            args["VersionId"] = source.version_id
        head = self.client(source.target).head_object(ChecksumMode="ENABLED", **args)
        if int(head.get("ContentLength", -1)) != copy.size:
            raise ArchiveIngestError(
                f"{source.target}: {source.key} is {head.get('ContentLength')} bytes, "
                f"not {copy.size}"
            )
        server_sum = head.get("ChecksumSHA256")
        if server_sum and head.get("ChecksumType") != "COMPOSITE":
            expected = base64.b64encode(bytes.fromhex(copy.sha256)).decode("ascii")
            if server_sum != expected:
                raise ArchiveIngestError(
                    f"{source.target}: {source.key} has SHA-256 {server_sum}, "
                    f"not the access file's {expected}"
                )

    def open(self, source: Source, start: int, end: int) -> Any:
        """The body of bytes ``start``..``end`` of ``source``'s object; raises when the target
        does not answer or answers with another length than asked."""
        args: dict[str, Any] = {
            "Bucket": source.bucket,
            "Key": source.key,
            "Range": f"bytes={start}-{end}",
        }
        if source.version_id:
            args["VersionId"] = source.version_id
        response = self.client(source.target).get_object(**args)
        body = response["Body"]
        if int(response.get("ContentLength", -1)) != end - start + 1:
            body.close()
            raise ArchiveIngestError(
                f"{source.target}: {source.key} answered {response.get('ContentLength')} bytes "
                f"for a range of {end - start + 1}"
            )
        return body

    def first_open(
        self, copy: AccessCopy, start: int, end: int, after: int = -1
    ) -> tuple[int, Any]:
        """``(index, body)`` of the first source after ``after`` that opens."""
        for index in range(after + 1, len(copy.sources)):
            source = copy.sources[index]
            try:
                self.check(copy, source)
                return index, self.open(source, start, end)
            except _READ_ERRORS as exc:
                log.warning(
                    "access copy of %s v%s: %s does not serve it (%s)",
                    copy.record_id,
                    copy.version,
                    source.target,
                    exc,
                )
        raise NoCopyAnswers

    def stream(
        self, copy: AccessCopy, start: int, end: int, index: int, body: Any
    ) -> Iterator[bytes]:
        """Bytes ``start``..``end``, in chunks; a copy failing mid-way is replaced by the next
        one from the byte reached. When none is left the response ends short (the client
        sees fewer bytes than its Content-Length)."""
        position = start
        try:
            while position <= end:
                try:
                    chunk = body.read(min(CHUNK, end - position + 1))
                except _READ_ERRORS as exc:
                    log.warning(
                        "access copy of %s v%s: %s failed at byte %d (%s)",
                        copy.record_id,
                        copy.version,
                        copy.sources[index].target,
                        position,
                        exc,
                    )
                    chunk = b""
                if not chunk:
                    body.close()
                    try:
                        index, body = self.first_open(copy, position, end, after=index)
                    except NoCopyAnswers:
                        log.error(
                            "access copy of %s v%s: no copy left at byte %d",
                            copy.record_id,
                            copy.version,
                            position,
                        )
                        return
                    continue
                position += len(chunk)
                yield chunk
        finally:
            body.close()


def _headers(copy: AccessCopy) -> dict[str, str]:
    return {
        "ETag": copy.etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'inline; filename="{copy.filename}"',
        # the bytes of a version never change; a harvester may keep them and revalidate
        "Cache-Control": "public, no-cache",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _not_found() -> Response:
    return Response("not found\n", status_code=404, media_type="text/plain")


class Slots:
    """At most ``size`` streams at once; :meth:`take` never waits (full: None)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.in_use = 0
        self._lock = threading.Lock()

    def take(self) -> Callable[[], None] | None:
        """A release function (calling it again does nothing), or None when all are taken."""
        with self._lock:
            if self.in_use >= self.size:
                return None
            self.in_use += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if not released.is_set():
                    released.set()
                    self.in_use -= 1

        return release


class Relay:
    """A stream's chunks for the response, each read in a thread under the route's own
    limiter (``limiter``); :meth:`close` ends the stream and closes its S3 body, also one
    never read."""

    def __init__(self, chunks: Iterator[bytes], body: Any, limiter: CapacityLimiter) -> None:
        self._chunks = chunks
        self._body = body
        self._limiter = limiter

    def __aiter__(self) -> Relay:
        return self

    async def __anext__(self) -> bytes:
        chunk = await to_thread.run_sync(next, self._chunks, None, limiter=self._limiter)
        if chunk is None:
            raise StopAsyncIteration
        return chunk

    def _close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # a generator: its own body, whichever copy it reached
        self._body.close()  # the first one, when the stream never started (twice is harmless)

    async def close(self) -> None:
        with CancelScope(shield=True):
            await to_thread.run_sync(self._close, limiter=self._limiter)


class SlotResponse(StreamingResponse):
    """A streamed body holding a slot: when the response ends, however it ends (whole, the
    client gone, a client too slow, an error), the stream is closed and the slot given back.

    Each message sent to the client has ``send_timeout`` seconds: a client that stops
    reading (its socket's buffers full) has its response ended there, the connection closed,
    rather than holding the slot for as long as it likes."""

    def __init__(
        self,
        content: Relay,
        release: Callable[[], None],
        send_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(content, **kwargs)
        self._relay = content
        self._release = release
        self._send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_in_time(message: Message) -> None:
            with fail_after(self._send_timeout):
                await send(message)

        try:
            try:
                await super().__call__(scope, receive, send_in_time)
            except* TimeoutError:
                log.warning(
                    "access copy: a client read nothing for %ss; its response is ended",
                    self._send_timeout,
                )
        finally:
            try:
                await self._relay.close()
            finally:
                self._release()


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
        if if_none_match and _etag_matches(if_none_match, copy.etag):
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
