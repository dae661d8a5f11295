"""HTTP to the configured SciELO hosts only: bounded, streamed, retried where it can help.

* Only hosts named in the settings are fetched; a redirect to any other host is refused
  (no SSRF through redirects or metadata-supplied URLs).
* Bodies are streamed to disk with every digest computed on the way in, with a size limit
  checked against Content-Length *and* against the bytes actually received.
* Content-Encoding is decoded here, not by httpx (:mod:`archive_ingest.http_decoding`): one
  coding at most, inflated in small steps, the decoded bytes bounded by the same limit as the
  raw bytes (no decompression bomb reaches memory or disk).
* Retries with exponential backoff and jitter on 5xx, 429, timeouts and broken connections
  only; 4xx answers are final.
* ETag / Last-Modified are kept so a later fetch can be conditional (304 = unchanged).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from archive_ingest.digests import MultiHasher
from archive_ingest.errors import ContentError, FetchError
from archive_ingest.http_decoding import ACCEPT_ENCODING, BoundedBody, content_coding
from archive_ingest.models import Digests
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.settings import Settings

log = logging.getLogger(__name__)
_T = TypeVar("_T")

PDF_MAGIC = b"%PDF-"
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class HttpResult:
    url: str
    status: int
    media_type: str
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


@dataclass(frozen=True)
class Download:
    url: str
    path: Path | None  # None when the server said 304 Not Modified
    digests: Digests | None
    media_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool = False
    attempts: int = 1
    seconds: float = 0.0


def host_key(url: str) -> tuple[str, str]:
    """(host, host:port) of a URL, lower case."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host, f"{host}:{parts.port}" if parts.port else host


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every ``SourceHttp`` shares (certifi's CA bundle, as httpx's
    default). Building one loads the bundle: 0.25 s here, paid by every item while each run
    built its own; a context is safe to share between clients and threads."""
    return httpx.create_ssl_context(trust_env=False)


class SourceHttp:
    """A small client for the publisher's hosts. Thread-safe; use one per run."""

    def __init__(
        self,
        settings: Settings,
        allowed_hosts: Iterable[str],
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        if not self.allowed_hosts:
            raise ValueError("no allowed hosts configured")
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(
                settings.fetch_read_timeout, connect=settings.fetch_connect_timeout
            ),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            transport=transport,
            trust_env=False,
            verify=tls_context(),
        )
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SourceHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- policy ------------------------------------------------------------------------------
    def check_allowed(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"refusing non-HTTP URL {url!r}")
        if parts.username or parts.password:
            raise FetchError("refusing a URL with credentials in it")
        host, host_port = host_key(url)
        if host not in self.allowed_hosts and host_port not in self.allowed_hosts:
            raise FetchError(
                f"refusing to fetch from {host_port!r}: not a configured source host "
                f"({', '.join(sorted(self.allowed_hosts))})"
            )

    def _polite_wait(self, url: str) -> None:
        interval = self.settings.fetch_min_interval_seconds
        if interval <= 0:
            return
        host = host_key(url)[1]
        with self._lock:
            now = time.monotonic()
            wait = self._last_request.get(host, 0.0) + interval - now
            self._last_request[host] = max(now, now + wait)
        if wait > 0:
            time.sleep(wait)

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            with contextlib.suppress(ValueError):
                return min(float(retry_after), 60.0)
        base = self.settings.fetch_backoff_seconds * (2.0 ** (attempt - 1))
        return min(base, 60.0) * (0.5 + random.random() / 2)

    # --- requests ----------------------------------------------------------------------------
    def _open(self, url: str, headers: dict[str, str]) -> tuple[httpx.Response, str]:
        """Send a GET, following redirects only within the allowed hosts."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            self.check_allowed(current)
            self._polite_wait(current)
            request = self._client.build_request("GET", current, headers=headers)
            response = self._client.send(request, stream=True)
            if response.has_redirect_location:
                location = response.headers.get("location", "")
                response.close()
                if not location:
                    raise FetchError(f"redirect without a Location from {current}")
                target = urljoin(current, location)
                try:
                    self.check_allowed(target)
                except FetchError as exc:
                    raise FetchError(f"{current} redirects off the allowed hosts: {exc}") from None
                current = target
                continue
            return response, current
        raise FetchError(f"too many redirects starting at {url}")

    def _with_retries(self, url: str, action: str, func: Callable[[int], _T]) -> _T:
        """``func(attempt)`` until it succeeds, fails for good, or the retries are spent."""
        attempts = self.settings.fetch_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return func(attempt)
            except FetchError as exc:
                if not exc.transient or attempt == attempts:
                    raise
                delay = self._backoff(attempt, exc.retry_after)
                log.warning(
                    "%s %s failed (%s); retry %d/%d in %.1fs",
                    action,
                    url,
                    exc,
                    attempt,
                    attempts - 1,
                    delay,
                )
                time.sleep(delay)
        # settings refuse fetch_retries < 0, so the loop makes at least one attempt
        raise FetchError(f"{action} {url}: no attempt made (fetch_retries is {attempts - 1})")

    @staticmethod
    def _transport_error(url: str, exc: httpx.HTTPError) -> FetchError:
        kind = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return FetchError(f"timed out fetching {url} ({kind})", transient=True)
        return FetchError(f"network error fetching {url}: {kind}: {exc}", transient=True)

    @staticmethod
    def _status_error(url: str, response: httpx.Response) -> FetchError:
        status = response.status_code
        transient = status in RETRY_STATUSES
        return FetchError(
            f"{url} answered HTTP {status} {response.reason_phrase}".rstrip(),
            transient=transient,
            status=status,
            retry_after=response.headers.get("retry-after"),
        )

    def get_bytes(
        self, url: str, *, max_bytes: int | None = None, accept: str | None = None
    ) -> HttpResult:
        """GET a small document (metadata) into memory, bounded by ``max_bytes``."""
        limit = max_bytes or self.settings.fetch_metadata_max_bytes
        headers = {"Accept": accept} if accept else {}

        def attempt(_: int) -> HttpResult:
            try:
                response, final_url = self._open(url, headers)
                try:
                    if response.status_code != 200:
                        raise self._status_error(final_url, response)
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > limit:
                        raise FetchError(
                            f"{final_url} is {int(declared)} bytes, over the limit of {limit}"
                        )
                    body = _bounded_body(response, final_url, limit)
                    chunks = list(body.blocks(response.iter_raw()))
                    self._check_length(final_url, response, body.raw_bytes)
                    return HttpResult(
                        url=final_url,
                        status=response.status_code,
                        media_type=_media_type(response),
                        content=b"".join(chunks),
                        headers={k.lower(): v for k, v in response.headers.items()},
                    )
                finally:
                    response.close()
            except httpx.HTTPError as exc:
                raise self._transport_error(url, exc) from None

        return self._with_retries(url, "GET", attempt)

    @staticmethod
    def _check_length(url: str, response: httpx.Response, received: int) -> None:
        """``received``: the raw (still encoded) bytes, which is what Content-Length counts."""
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) != received:
            raise FetchError(
                f"{url}: body truncated or wrong length (Content-Length {declared}, "
                f"received {received} bytes)",
                transient=True,
            )

    def download(
        self,
        url: str,
        dest: Path,
        *,
        max_bytes: int | None = None,
        expect_pdf: bool = True,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Download:
        """Stream ``url`` into ``dest`` (written via ``dest.part``, renamed when complete)."""
        limit = max_bytes or self.settings.fetch_max_bytes
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        started = time.monotonic()

        def attempt(number: int) -> Download:
            part.unlink(missing_ok=True)
            try:
                response, final_url = self._open(url, headers)
            except httpx.HTTPError as exc:
                raise self._transport_error(url, exc) from None
            try:
                if response.status_code == 304 and (etag or last_modified):
                    return Download(
                        url=final_url,
                        path=None,
                        digests=None,
                        media_type="",
                        etag=etag,
                        last_modified=last_modified,
                        not_modified=True,
                        attempts=number,
                        seconds=time.monotonic() - started,
                    )
                if response.status_code != 200:
                    raise self._status_error(final_url, response)
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise FetchError(
                        f"{final_url} is {int(declared):,} bytes, over the size limit of "
                        f"{limit:,} bytes"
                    )
                media_type = _media_type(response)
                body = _bounded_body(response, final_url, limit)
                blocks = body.blocks(response.iter_raw(1024 * 1024))
                digests = self._stream_to(part, blocks, final_url, expect_pdf, media_type)
                self._check_length(final_url, response, body.raw_bytes)
            except httpx.HTTPError as exc:
                part.unlink(missing_ok=True)
                raise self._transport_error(url, exc) from None
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            finally:
                response.close()
            part.replace(dest)
            return Download(
                url=final_url,
                path=dest,
                digests=digests,
                media_type=media_type,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                attempts=number,
                seconds=time.monotonic() - started,
            )

        return self._with_retries(url, "download", attempt)

    @staticmethod
    def _stream_to(
        part: Path, blocks: Iterable[bytes], url: str, expect_pdf: bool, media_type: str
    ) -> Digests:
        """Write the decoded ``blocks`` (size-bounded by their reader) to ``part``, hashing them
        on the way; a body that does not start as a PDF is refused at its first kilobyte."""
        with MultiHasher() as hasher, part.open("xb") as out:
            head = b""
            checked = not expect_pdf
            for block in blocks:
                if not checked:
                    head += block[:1024]
                    if len(head) >= 1024 or PDF_MAGIC in head:
                        _check_pdf_magic(head, url, media_type)
                        checked = True
                hasher.update(block)
                out.write(block)
                crashpoint("mid-download")
            if not checked:
                _check_pdf_magic(head, url, media_type)
            return hasher.digests()


def _bounded_body(response: httpx.Response, url: str, limit: int) -> BoundedBody:
    """The body reader for ``response``: one Content-Encoding at most, ``limit`` bytes at most
    (raw and decoded alike)."""
    coding = content_coding(response.headers.get("content-encoding"), url)
    return BoundedBody(url, coding, limit, over=f"{url} is over the size limit of {limit:,} bytes")


def _check_pdf_magic(head: bytes, url: str, media_type: str) -> None:
    if PDF_MAGIC in head[:1024]:
        return
    if not head:
        raise ContentError(f"{url} sent an empty body, not a PDF")
    sniff = head[:256].lstrip().lower()
    if sniff.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise ContentError(
            f"{url} sent an HTML/XML page (declared {media_type or 'no type'}), not a PDF"
        )
    raise ContentError(f"{url} did not send a PDF (no %PDF- header; declared {media_type!r})")


def _media_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower()
