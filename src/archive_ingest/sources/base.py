"""What every adapter shares: the fetcher it is given, JSON decoding, verbatim raw responses.

Adapters never build their own HTTP client. They receive a :class:`Getter` — in production the
lead's :class:`archive_ingest.http.SourceHttp`, which enforces the host allow-list, size limits
and retries — so the mapping code stays pure and the network stays at the edge.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from archive_ingest.errors import FetchError, SourceError
from archive_ingest.models import Identifier, RawMetadata, SourceRecord
from archive_ingest.sources.normalise import normalise_isbn


class Fetched(Protocol):
    """The part of ``archive_ingest.http.HttpResult`` the adapters use."""

    @property
    def url(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def media_type(self) -> str: ...
    @property
    def content(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


class Getter(Protocol):
    """Anything with ``SourceHttp.get_bytes``'s signature.

    Must raise :class:`~archive_ingest.errors.FetchError` (with ``status``) on a non-200 answer
    and refuse hosts that are not configured.
    """

    def get_bytes(
        self, url: str, *, max_bytes: int | None = None, accept: str | None = None
    ) -> Fetched: ...


def fetch(
    http: Getter,
    url: str,
    *,
    what: str,
    accept: str,
    max_bytes: int | None = None,
    not_found: str | None = None,
) -> Fetched:
    """GET ``url``; a 404 becomes a :class:`SourceError` saying ``not_found`` when given.

    Other failures (5xx, timeouts, refused hosts) stay :class:`FetchError`: they are about the
    network, not the record, and a transient one may succeed later.
    """
    try:
        return http.get_bytes(url, max_bytes=max_bytes, accept=accept)
    except FetchError as exc:
        if not_found is not None and exc.status in (404, 410):
            raise SourceError(f"{not_found} ({what} {url} answered HTTP {exc.status})") from None
        raise


def load_json(raw: bytes, what: str) -> Any:
    """Decode a JSON document or raise :class:`SourceError` with a one-line reason."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{what} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if not text.strip():
        raise SourceError(f"{what} is empty")
    try:
        return json.loads(text)
    except RecursionError:
        raise SourceError(f"{what} is nested too deeply to be metadata") from None
    except json.JSONDecodeError as exc:
        start = text.lstrip()[:1]
        hint = " (looks like an HTML page)" if start == "<" else ""
        raise SourceError(
            f"{what} is not valid JSON{hint}: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def raw_from(name: str, response: Fetched, default_media_type: str) -> RawMetadata:
    """Keep a publisher response byte for byte, with where and what it was."""
    return RawMetadata(
        name=name,
        media_type=response.media_type or default_media_type,
        url=response.url,
        content=response.content,
    )


#: The fields each kind of record is expected to have; absent ones are listed in ``missing``.
EXPECTED_FIELDS: dict[str, tuple[str, ...]] = {
    "scielo-books-book": (
        "title", "creators", "publisher", "date", "languages", "isbn", "description",
        "licence_statement", "pdf_urls",
    ),
    "scielo-books-chapter": (
        "title", "creators", "pages", "publisher", "date", "languages", "licence_statement",
        "pdf_urls",
    ),
    "scielo-article": (
        "title", "creators", "publisher", "date", "languages", "doi", "pages", "description",
        "licence_statement", "pdf_urls",
    ),
    "file": ("title", "creators", "date", "languages", "licence_statement"),
}  # fmt: skip


def missing_fields(record: SourceRecord) -> list[str]:
    """Which expected fields of ``record`` are empty (derived, so it can never go stale)."""
    missing: list[str] = []
    for name in EXPECTED_FIELDS[record.source_kind]:
        if name == "isbn":
            present = bool(record.identifier("isbn") or record.identifier("eisbn"))
        elif name == "doi":
            present = bool(record.identifier("doi"))
        else:
            present = bool(getattr(record, name))
        if not present:
            missing.append(name)
    return missing


def finish(record: SourceRecord) -> SourceRecord:
    """Recompute ``missing`` and de-duplicate ``notes``: the last step of every mapper."""
    return record.model_copy(
        update={"missing": missing_fields(record), "notes": dedupe(record.notes)}
    )


def isbn_identifier(
    scheme: Literal["isbn", "eisbn"], value: object, where: str
) -> tuple[Identifier | None, str | None]:
    """An ISBN identifier and, when something is off with it, a note saying what.

    A wrong check digit is kept (the publisher's value is still what identifies the book) but
    noted; something that is not an ISBN at all is dropped with a note.
    """
    isbn = normalise_isbn(value)
    if isbn is None:
        return None, None
    if isbn.valid:
        return Identifier(scheme=scheme, value=isbn.value), None
    if isbn.problem == "wrong check digit":
        return (
            Identifier(scheme=scheme, value=isbn.value),
            f"{where} ISBN {isbn.value} has a wrong check digit (kept as given)",
        )
    return None, f"{where} ISBN {value!r} is not an ISBN ({isbn.problem}); ignored"


def dedupe(items: list[str]) -> list[str]:
    """Order-preserving de-duplication (for ``missing`` and ``notes``)."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
