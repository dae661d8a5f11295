"""A local stand-in for books.scielo.org, ArticleMeta and the journal sites, on 127.0.0.1.

One stdlib ``ThreadingHTTPServer`` on a free port serves, from a :class:`SampleCatalogue`:

- ``/api/v1/books/``: JSON list (``filter_initial``, ``filter_publisher``)
- ``/api/v1/book/SBID/``: book JSON
- ``/api/v1/changes/?since=SEQ``: the CouchDB changes feed
- ``/id/SBID``: book page HTML
- ``/id/SBID/pdf/SHORTNAME[-NN].pdf``: book / chapter PDF
- ``/api/v1/article/?collection=C&code=PID``: ArticleMeta document (``null`` when unknown),
  rendered as ArticleMeta renders it (see :meth:`SampleScieloServer._article`); real documents
  are served verbatim (:mod:`.real_records`)
- ``/api/v1/article/identifiers/?collection=C&from=D&until=D&offset=N``: ArticleMeta's paged
  list of article identifiers by processing date (see :meth:`SampleScieloServer._identifiers`)
- article PDF paths (from the document's ``fulltexts``, else the classic site's
  ``/pdf/ACRONYM/ISSUE/FILE.pdf``): article PDFs

For tests it injects faults per path (:class:`Fault`: a status, N failures then success, an HTML
page labelled ``application/pdf``, a slow answer, a wrong Content-Length or a truncated body, a
redirect elsewhere, a connection reset, a compressed body with its Content-Encoding, e.g. a
decompression bomb made by :func:`gzip_bomb`) and records every request (path, query, headers),
and answers conditional requests (``If-None-Match`` / ``If-Modified-Since``) with 304.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from typing import Any
from urllib.parse import parse_qs

from archive_ingest_demo.scielo_sample.catalogue import PdfSource, SampleCatalogue
from archive_ingest_demo.scielo_sample.faults import Fault, RecordedRequest
from archive_ingest_demo.scielo_sample.handler import (
    HTML_TYPE,
    JSON_TYPE,
    PDF_TYPE,
    Body,
    Handler,
    HTTPServer,
)
from archive_ingest_demo.scielo_sample.real_records import articlemeta_answer, jsonp
from archive_ingest_demo.scielo_sample.render import (
    book_json,
    book_page_html,
    books_json,
    changes_json,
    error_page,
)

JAVASCRIPT_TYPE = "application/javascript; charset=UTF-8"
#: ArticleMeta's page size for the identifiers routes: its default ``limit`` and its maximum.
IDENTIFIERS_PAGE_SIZE = 1000
#: ArticleMeta's ``from`` when none is given (restfulapi.py ``DEFAULT_FROM_DATE``).
IDENTIFIERS_DEFAULT_FROM = "1900-01-01"

_BOOK_JSON_RE = re.compile(r"^/api/v1/book/(?P<sbid>[A-Za-z0-9]+)/$")
_BOOK_PAGE_RE = re.compile(r"^/id/(?P<sbid>[A-Za-z0-9]+)/?$")


def _today() -> dt.date:
    """Today as the sample catalogue dates things (UTC)."""
    return dt.datetime.now(dt.UTC).date()


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
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._faults: dict[str, Fault] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SampleScieloServer:
        if self._httpd is not None:
            return self
        httpd = HTTPServer((self._host, self._port), Handler)
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

    def fault_for(self, path: str, query: str) -> Fault | None:
        with self._lock:
            for key in (f"{path}?{query}" if query else None, path):
                fault = self._faults.get(key) if key else None
                if fault is not None and fault._take():
                    return fault
        return None

    def record(self, request: RecordedRequest) -> None:
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
    def route(self, path: str, query: str) -> Body:
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        cat = self.catalogue
        if path == "/api/v1/books/":
            data = books_json(
                cat, initial=params.get("filter_initial"), publisher=params.get("filter_publisher")
            )
            return Body(200, JSON_TYPE, data)
        if path == "/api/v1/changes/":
            try:
                since = int(params.get("since", "0"))
            except ValueError:
                return self._error(400, "Bad Request")
            return Body(200, JSON_TYPE, changes_json(cat, since))
        if match := _BOOK_JSON_RE.match(path):
            book = book_json(cat, match["sbid"])
            if book is None:
                return self._error(404, "Not Found")
            return Body(200, JSON_TYPE, book, cat.books[match["sbid"]].updated)
        if match := _BOOK_PAGE_RE.match(path):
            page = book_page_html(cat, match["sbid"])
            if page is None:
                return self._error(404, "Not Found")
            return Body(200, HTML_TYPE, page, cat.books[match["sbid"]].updated)
        if path == "/api/v1/article":  # Pyramid's append_slash redirect
            return Body(302, HTML_TYPE, b"", headers={"Location": f"{path}/?{query}"})
        if path == "/api/v1/article/":
            return self._article(params)
        if path == "/api/v1/article/identifiers":  # append_slash, as above
            return Body(302, HTML_TYPE, b"", headers={"Location": f"{path}/?{query}"})
        if path == "/api/v1/article/identifiers/":
            return self._identifiers(params)
        found: tuple[PdfSource, dt.datetime] | None = cat.find_pdf(path)
        if found is not None:
            return Body(200, PDF_TYPE, found[0], found[1])
        return self._error(404, "Not Found")

    def _article(self, params: dict[str, str]) -> Body:
        """ArticleMeta's ``/api/v1/article/``, as scieloorg/articles_meta answers it.

        ``code`` is required (no ``code``: no view matches, 404); ``collection`` is optional
        (without it the first article whose PID or DOI is ``code``); ``body`` must be ``true``
        or ``false`` (else 400) and the document's ``body`` key is left out unless ``true``;
        an unknown article is ``null`` with 200. Rendered by the ``jsonp`` renderer
        (``json.dumps(indent=4)``, or ``/**/CALLBACK(...);`` as JavaScript with ``callback``):
        :func:`.real_records.articlemeta_answer`.
        """
        if "code" not in params:
            return self._error(404, "Not Found")
        body = params.get("body", "false")
        if body not in ("true", "false"):
            return self._error(400, "Bad Request")
        article = self.catalogue.article(params.get("collection", ""), params["code"])
        document = article.document if article is not None else None
        payload = articlemeta_answer(document, body=body == "true")
        updated = article.updated if article is not None else None
        callback = params.get("callback")
        if callback is None:
            return Body(200, JSON_TYPE, payload, updated)
        try:
            return Body(200, JAVASCRIPT_TYPE, jsonp(payload, callback), updated)
        except ValueError:
            return self._error(400, "Bad Request")

    def _identifiers(self, params: dict[str, str]) -> Body:
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
        return Body(200, JSON_TYPE, json.dumps({"meta": meta, "objects": objects}).encode())

    @staticmethod
    def _error(status: int, reason: str) -> Body:
        return Body(status, HTML_TYPE, error_page(status, reason))
