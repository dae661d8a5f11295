"""A local stand-in for books.scielo.org, ArticleMeta and the journal sites, on 127.0.0.1.

One stdlib ``ThreadingHTTPServer`` on a free port serves, from a :class:`SampleCatalogue`:

- ``/api/v1/books/``: JSON list (``filter_initial``, ``filter_publisher``)
- ``/api/v1/book/SBID/``: book JSON
- ``/api/v1/changes/?since=SEQ``: the CouchDB changes feed
- ``/id/SBID``: book page HTML
- ``/id/SBID/pdf/SHORTNAME[-NN].pdf``: book / chapter PDF
- ``/api/v1/article/?collection=C&code=PID``: ArticleMeta document (``null`` when unknown)
- ``/api/v1/article/identifiers/?collection=C&from=D&until=D&offset=N``: ArticleMeta's paged
  list of article identifiers by processing date (see :meth:`SampleScieloServer._identifiers`)
- article PDF paths (from the document's ``fulltexts``): article PDFs

For tests it injects faults per path (:class:`Fault`: a status, N failures then success, an HTML
page labelled ``application/pdf``, a slow answer, a wrong Content-Length or a truncated body, a
redirect elsewhere, a connection reset, a compressed body with its Content-Encoding, e.g. a
decompression bomb made by :func:`gzip_bomb`) and records every request (path, query, headers),
and answers conditional requests (``If-None-Match`` / ``If-Modified-Since``) with 304.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import json
import logging
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from archive_ingest.scielo_sample.catalogue import PdfSource, SampleCatalogue
from archive_ingest.scielo_sample.render import (
    book_json,
    book_page_html,
    books_json,
    changes_json,
    error_page,
)

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=UTF-8"
HTML_TYPE = "text/html; charset=UTF-8"
PDF_TYPE = "application/pdf"
_CHUNK = 64 * 1024

#: ArticleMeta's page size for the identifiers routes: its default ``limit`` and its maximum.
IDENTIFIERS_PAGE_SIZE = 1000
#: ArticleMeta's ``from`` when none is given (restfulapi.py ``DEFAULT_FROM_DATE``).
IDENTIFIERS_DEFAULT_FROM = "1900-01-01"

_BOOK_JSON_RE = re.compile(r"^/api/v1/book/(?P<sbid>[A-Za-z0-9]+)/$")
_BOOK_PAGE_RE = re.compile(r"^/id/(?P<sbid>[A-Za-z0-9]+)/?$")


@dataclass
class Fault:
    """What to do wrong for requests to one path. Unset fields leave that aspect normal."""

    status: int | None = None  # answer this status with an HTML error page
    times: int | None = None  # apply to this many requests, then behave (None = always)
    delay: float = 0.0  # seconds to wait before answering
    body_delay: float = 0.0  # seconds to wait between the headers and the body
    html_as_pdf: bool = False  # answer 200 with an HTML page labelled application/pdf
    content_length: int | None = None  # declare this Content-Length (then close)
    truncate_to: int | None = None  # send only this many body bytes (then close)
    redirect_to: str | None = None  # answer 302 with this Location
    reset: bool = False  # reset the TCP connection without answering
    encoded_body: bytes | None = None  # answer 200 with these bytes, as they are ...
    content_encoding: str | None = None  # ... labelled with this Content-Encoding
    hits: int = 0  # how many requests it has been applied to

    def _take(self) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        self.hits += 1
        return True


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    fault: bool = False  # whether a fault was applied to it
    at: float = field(default_factory=time.monotonic)  # when it arrived (monotonic clock)

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


@dataclass(frozen=True)
class _Body:
    status: int
    media_type: str
    content: bytes | Path
    last_modified: dt.datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _today() -> dt.date:
    """Today as the sample catalogue dates things (UTC)."""
    return dt.datetime.now(dt.UTC).date()


def _etag(content: bytes | Path) -> str:
    if isinstance(content, Path):
        stat = content.stat()
        return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def gzip_bomb(decoded_size: int, *, layers: int = 1, head: bytes = b"%PDF-1.7\n") -> bytes:
    """``head`` and zeros up to ``decoded_size`` bytes, gzipped ``layers`` times: a body of a
    few hundred bytes (two layers) that a client decoding it whole holds in memory at full
    size. Built in 1 MiB steps, so making it needs no such memory here."""
    if layers < 1:
        raise ValueError("layers must be at least 1")
    body = _gzip_stream(head, decoded_size - len(head))
    for _ in range(layers - 1):
        body = _gzip_stream(body, 0)
    return body


def _gzip_stream(head: bytes, zeros: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [packer.compress(head)]
    block = bytes(1024 * 1024)
    while zeros > 0:
        parts.append(packer.compress(block[: min(zeros, len(block))]))
        zeros -= len(block)
    parts.append(packer.flush())
    return b"".join(parts)


def _length(content: bytes | Path) -> int:
    return content.stat().st_size if isinstance(content, Path) else len(content)


def _chunks(content: bytes | Path) -> Iterator[bytes]:
    if isinstance(content, bytes):
        for start in range(0, len(content), _CHUNK):
            yield content[start : start + _CHUNK]
        return
    with content.open("rb") as handle:
        while block := handle.read(_CHUNK):
            yield block


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    sample: SampleScieloServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SampleSciELO/1.0"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sample scielo: " + format, *args)

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    # --- the request ---------------------------------------------------------------------------
    def _handle(self, *, send_body: bool) -> None:
        sample = self.server.sample
        parts = urlsplit(self.path)
        fault = sample._fault_for(parts.path, parts.query)
        sample._record(
            RecordedRequest(
                self.command,
                parts.path,
                parts.query,
                {k.lower(): v for k, v in self.headers.items()},
                fault is not None,
            )
        )
        try:
            if fault is not None and self._apply_fault(fault, send_body):
                return
            body = sample._route(parts.path, parts.query)
            self._send(body, fault, send_body)
        except (BrokenPipeError, ConnectionResetError):  # the client went away: fine
            self.close_connection = True

    def _apply_fault(self, fault: Fault, send_body: bool) -> bool:
        """Apply the parts of ``fault`` that replace the answer; True if answered."""
        if fault.reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.close()
            return True
        if fault.delay:
            time.sleep(fault.delay)
        if fault.redirect_to:
            self._send(
                _Body(302, HTML_TYPE, b"", headers={"Location": fault.redirect_to}),
                None,
                send_body,
            )
            return True
        if fault.status:
            try:
                reason = HTTPStatus(fault.status).phrase
            except ValueError:
                reason = "Error"
            self._send(
                _Body(fault.status, HTML_TYPE, error_page(fault.status, reason)), fault, send_body
            )
            return True
        if fault.html_as_pdf:
            page = error_page(503, "Service Temporarily Unavailable")
            self._send(_Body(200, PDF_TYPE, page), fault, send_body)
            return True
        if fault.encoded_body is not None:
            headers = {"Content-Encoding": fault.content_encoding or "gzip"}
            media_type = JSON_TYPE if self.path.startswith("/api/") else PDF_TYPE
            body = _Body(200, media_type, fault.encoded_body, headers=headers)
            self._send(body, fault, send_body)
            return True
        return False

    def _not_modified(self, etag: str, last_modified: dt.datetime | None) -> bool:
        """RFC 9110: If-None-Match wins; If-Modified-Since only when it is absent."""
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or f"W/{etag}" in tags
        ims = self.headers.get("If-Modified-Since")
        if ims and last_modified is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            return last_modified.replace(microsecond=0) <= since
        return False

    def _send(self, body: _Body, fault: Fault | None, send_body: bool) -> None:
        etag = _etag(body.content)
        if body.status == 200 and self._not_modified(etag, body.last_modified):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        length = _length(body.content)
        declared = length
        closing = False
        if fault is not None and fault.content_length is not None:
            declared, closing = fault.content_length, True
        if fault is not None and fault.truncate_to is not None:
            closing = True
        self.send_response(body.status)
        self.send_header("Content-Type", body.media_type)
        self.send_header("Content-Length", str(declared))
        if body.status == 200:
            self.send_header("ETag", etag)
            if body.last_modified is not None:
                self.send_header(
                    "Last-Modified", email.utils.format_datetime(body.last_modified, usegmt=True)
                )
        for name, value in body.headers.items():
            self.send_header(name, value)
        if closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not send_body:
            return
        self.wfile.flush()
        if fault is not None and fault.body_delay:
            time.sleep(fault.body_delay)
        budget = fault.truncate_to if fault is not None and fault.truncate_to is not None else None
        for block in _chunks(body.content):
            if budget is not None:
                block = block[:budget]
                budget -= len(block)
            if block:
                self.wfile.write(block)
            if budget == 0:
                break
        self.wfile.flush()


class SampleScieloServer:
    """Serve a :class:`SampleCatalogue` on ``127.0.0.1``; a context manager.

    >>> with SampleScieloServer(catalogue) as server:   # doctest: +SKIP
    ...     settings = Settings(**server.settings_overrides())
    """

    def __init__(
        self,
        catalogue: SampleCatalogue,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        identifiers_page_size: int = IDENTIFIERS_PAGE_SIZE,
    ):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sample SciELO server binds to the loopback interface only")
        if identifiers_page_size < 1:
            raise ValueError("identifiers_page_size must be at least 1")
        self.catalogue = catalogue
        #: ArticleMeta's default and maximum ``limit`` (1000); set it small to make a listing
        #: of a few articles take several pages. May be changed while the server runs.
        self.identifiers_page_size = identifiers_page_size
        self._host = host
        self._port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._faults: dict[str, Fault] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SampleScieloServer:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self._host, self._port), _Handler)
        httpd.sample = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"sample-scielo-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SampleScieloServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sample SciELO server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, as an allow-list entry."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def settings_overrides(self) -> dict[str, Any]:
        """Settings that send every SciELO request (books, ArticleMeta, article sites) here."""
        return {
            "scielo_books_url": self.base_url,
            "scielo_articlemeta_url": self.base_url,
            "scielo_articles_url": self.base_url,
        }

    # --- faults and request log ---------------------------------------------------------------
    def inject(self, path: str, fault: Fault | None = None, **fields: Any) -> Fault:
        """Misbehave for ``path`` (or ``path?query``): ``inject(p, status=500, times=2)``."""
        fault = fault or Fault(**fields)
        with self._lock:
            self._faults[path] = fault
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fault_for(self, path: str, query: str) -> Fault | None:
        with self._lock:
            for key in (f"{path}?{query}" if query else None, path):
                fault = self._faults.get(key) if key else None
                if fault is not None and fault._take():
                    return fault
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # --- routing ------------------------------------------------------------------------------
    def _route(self, path: str, query: str) -> _Body:
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        cat = self.catalogue
        if path == "/api/v1/books/":
            data = books_json(
                cat, initial=params.get("filter_initial"), publisher=params.get("filter_publisher")
            )
            return _Body(200, JSON_TYPE, data)
        if path == "/api/v1/changes/":
            try:
                since = int(params.get("since", "0"))
            except ValueError:
                return self._error(400, "Bad Request")
            return _Body(200, JSON_TYPE, changes_json(cat, since))
        if match := _BOOK_JSON_RE.match(path):
            book = book_json(cat, match["sbid"])
            if book is None:
                return self._error(404, "Not Found")
            return _Body(200, JSON_TYPE, book, cat.books[match["sbid"]].updated)
        if match := _BOOK_PAGE_RE.match(path):
            page = book_page_html(cat, match["sbid"])
            if page is None:
                return self._error(404, "Not Found")
            return _Body(200, HTML_TYPE, page, cat.books[match["sbid"]].updated)
        if path == "/api/v1/article":  # Pyramid's append_slash redirect
            return _Body(302, HTML_TYPE, b"", headers={"Location": f"{path}/?{query}"})
        if path == "/api/v1/article/":
            if "code" not in params:
                return self._error(404, "Not Found")
            article = cat.article(params.get("collection", ""), params["code"])
            if article is None:  # ArticleMeta answers null, with 200
                return _Body(200, JSON_TYPE, b"null")
            return _Body(200, JSON_TYPE, json.dumps(article.document).encode(), article.updated)
        if path == "/api/v1/article/identifiers":  # append_slash, as above
            return _Body(302, HTML_TYPE, b"", headers={"Location": f"{path}/?{query}"})
        if path == "/api/v1/article/identifiers/":
            return self._identifiers(params)
        found: tuple[PdfSource, dt.datetime] | None = cat.find_pdf(path)
        if found is not None:
            return _Body(200, PDF_TYPE, found[0], found[1])
        return self._error(404, "Not Found")

    def _identifiers(self, params: dict[str, str]) -> _Body:
        """ArticleMeta's ``/api/v1/article/identifiers/``, as its source has it.

        Read from scieloorg/articles_meta (the service behind articlemeta.scielo.org):
        articlemeta/articlemeta.py (the REST views: ``identifiers_article``,
        ``_get_request_limit_param``, ``DEFAULT_FROM_DATE``), articlemeta/controller.py
        (``DataBroker.identifiers_article``, ``get_date_range_filter``, ``dates_to_string``,
        ``LIMIT = 1000``), articlemeta/__init__.py (route ``/api/v1/article/identifiers/``,
        Pyramid's append_slash redirect) and docs/source/api/article_identifiers.rst; paged
        the same way by scieloorg/articlemetaapi articlemeta/client.py
        (``documents_by_identifiers``: ``limit=1000``, ``offset += 1000`` until an empty page)
        and by a SciELO harvester class ``AMHarvesting`` (its docstring quotes a live answer of
        2023: ``meta`` = ``filter``, ``limit``, ``offset``, ``total``; it stops at
        ``offset >= total``).

        - query: ``collection`` and ``issn`` optional filters; ``from`` (default 1900-01-01)
          and ``until`` (default today), ISO dates, both days included, on the article's
          ``processing_date``; ``limit`` (default and maximum 1000, larger values cut to
          1000, not an integer or <= 0 -> 400); ``offset`` (default 0; not an integer or
          < 0 -> 400). A malformed date is an uncaught ``strptime`` error there: 500.
        - answer: ``{"meta": {"limit", "offset", "filter": {"processing_date": {"$gte",
          "$lte"}, "collection"?, "code_title"?}, "total"}, "objects": [{"code",
          "collection", "processing_date", "doi"?}]}``; ``total`` counts every match, not
          the page; objects sorted by ``processing_date`` ascending; every date rendered
          ``YYYY-MM-DD``. An offset past the end gives ``"objects": []``.
        """
        page_size = self.identifiers_page_size
        try:
            limit = int(params.get("limit", page_size))
            offset = int(params.get("offset", "0"))
        except ValueError:
            return self._error(400, "Bad Request")
        if limit <= 0 or offset < 0:
            return self._error(400, "Bad Request")
        limit = min(limit, page_size)
        try:
            start = dt.date.fromisoformat(params.get("from", IDENTIFIERS_DEFAULT_FROM))
            end = dt.date.fromisoformat(params.get("until", _today().isoformat()))
        except ValueError:
            return self._error(500, "Internal Server Error")
        collection, issn = params.get("collection") or None, params.get("issn") or None
        found = self.catalogue.articles_processed(
            collection=collection, issn=issn, start=start, end=end
        )
        fltr: dict[str, Any] = {
            "processing_date": {"$gte": start.isoformat(), "$lte": end.isoformat()}
        }
        if collection:
            fltr["collection"] = collection
        if issn:
            fltr["code_title"] = issn
        objects = []
        for article in found[offset : offset + limit]:
            obj = {
                "code": article.pid,
                "collection": article.collection,
                "processing_date": article.processing_date.isoformat(),
            }
            if article.document.get("doi"):
                obj["doi"] = str(article.document["doi"]).upper()
            objects.append(obj)
        meta = {"limit": limit, "offset": offset, "filter": fltr, "total": len(found)}
        return _Body(200, JSON_TYPE, json.dumps({"meta": meta, "objects": objects}).encode())

    @staticmethod
    def _error(status: int, reason: str) -> _Body:
        return _Body(status, HTML_TYPE, error_page(status, reason))
