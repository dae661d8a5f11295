"""What a source offers: pure parsers (bytes in, values out) and thin fetchers.

SciELO Books: the CouchDB changes feed (``/api/v1/changes/?since=SEQ``) says which documents
changed since a sequence number; the books list (``/api/v1/books/``) says which ids are books
(the others are chapter "parts"); each changed book's page lists its chapters.

SciELO articles: ArticleMeta's identifiers route
(``/api/v1/article/identifiers/?collection=C&from=DATE&until=DATE&offset=N``) pages through
``{"meta": {"limit", "offset", "filter", "total": N}, "objects": [{"code": PID,
"collection": C, "processing_date": "YYYY-MM-DD", "doi"?}]}``, oldest processing date first,
1000 a page (scieloorg/articles_meta articlemeta/articlemeta.py and controller.py; the sample
server's ``_identifiers`` has the details). ``from``/``until`` are days, both included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from archive_ingest.errors import ArchiveIngestError, RefError, SourceError
from archive_ingest.refs import parse_ref
from archive_ingest.sources import parse_book_page, parse_books_list, parse_changes_feed
from archive_ingest.sources.base import Getter, load_json
from archive_ingest.sources.urls import book_page_url, books_list_url, changes_url


def _record_id(ref: str) -> str:
    rid = parse_ref(ref).record_id
    if rid is None:  # only a file: REF has none, and listings never make one
        raise RefError(f"{ref} has no record id of its own")
    return rid


@dataclass(frozen=True)
class OfferedItem:
    ref: str
    record_id: str
    group: str  # the book (sbid) or the collection
    title: str | None = None
    changed: bool = False  # named by the changes feed / date range since the watermark


@dataclass
class Listing:
    items: list[OfferedItem] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    next_watermark: str | None = None
    problems: list[str] = field(default_factory=list)


def book_dates(raw: bytes) -> dict[str, dt.date]:
    """``_id`` → date of ``updated`` (or ``created``) from the books list, when present."""
    data = load_json(raw, "books list")
    out: dict[str, dt.date] = {}
    for book in data if isinstance(data, list) else []:
        if not isinstance(book, dict) or not book.get("_id"):
            continue
        text = str(book.get("updated") or book.get("created") or "")[:10]
        try:
            out[str(book["_id"])] = dt.date.fromisoformat(text)
        except ValueError:
            continue
    return out


def list_books(http: Getter, base: str, *, watermark: str | None, since: dt.date | None) -> Listing:
    """Every chapter of every book changed since ``watermark`` (a changes-feed seq) or, with
    ``since``, of every book updated on or after that date. No watermark: every book."""
    listing = Listing()
    raw_books = http.get_bytes(books_list_url(base)).content
    sbids = parse_books_list(raw_books)
    changed_books: set[str] = set(sbids)
    feed_changes, last_seq = parse_changes_feed(
        http.get_bytes(changes_url(base, watermark or 0)).content
    )
    listing.next_watermark = last_seq or watermark
    if since is not None:
        dates = book_dates(raw_books)
        changed_books = {s for s in sbids if s not in dates or dates[s] >= since}
    elif watermark is not None:
        ids = {c.id for c in feed_changes if not c.deleted}
        listing.deleted = sorted({c.id for c in feed_changes if c.deleted})
        changed_books = ids & set(sbids)
        if ids - set(sbids):
            # a chapter ("part") changed: the feed does not say whose, so every book's table of
            # contents is read again; ingest turns unchanged chapters into cheap no-ops
            changed_books = set(sbids)
    for sbid in sbids:
        if sbid not in changed_books:
            continue
        try:
            page = parse_book_page(http.get_bytes(book_page_url(base, sbid)).content)
        except ArchiveIngestError as exc:
            listing.problems.append(f"book {sbid}: {exc}")
            continue
        if not page.chapters:
            listing.problems.append(f"book {sbid}: no chapters in its table of contents")
        for row in page.chapters:
            if row.order is None:
                listing.problems.append(f"book {sbid}: chapter {row.title!r} has no number")
                continue
            if not row.pdf_href:
                listing.problems.append(f"book {sbid}/{row.order}: no PDF link ({row.title!r})")
                continue
            listing.items.append(
                OfferedItem(
                    ref=f"scielo-books:{sbid}/{row.order}",
                    record_id=_record_id(f"scielo-books:{sbid}/{row.order}"),
                    group=sbid,
                    title=row.title,
                    changed=sbid in changed_books,
                )
            )
    return listing


def identifiers_url(
    base: str, collection: str, since: dt.date | None, until: dt.date | None, offset: int
) -> str:
    query: dict[str, str | int] = {"collection": collection, "offset": offset}
    if since:
        query["from"] = since.isoformat()
    if until:
        query["until"] = until.isoformat()
    return f"{base.rstrip('/')}/api/v1/article/identifiers/?{urlencode(query)}"


def parse_identifiers(raw: bytes) -> tuple[list[tuple[str, str, str | None]], int | None]:
    """ArticleMeta identifiers page → [(collection, pid, processing_date)], total (``None``
    when the page does not say: older ArticleMeta answers carry no ``meta.total``)."""
    data = load_json(raw, "ArticleMeta identifiers")
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise SourceError("ArticleMeta identifiers: no 'objects' list")
    found = data.get("meta")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    out: list[tuple[str, str, str | None]] = []
    for obj in data["objects"]:
        if isinstance(obj, dict) and obj.get("code") and obj.get("collection"):
            date = obj.get("processing_date")
            out.append((str(obj["collection"]), str(obj["code"]), str(date) if date else None))
    total = meta.get("total")
    return out, int(total) if isinstance(total, int | str) and str(total).isdigit() else None


#: identifiers pages overlap by this many entries: ArticleMeta pages by offset in processing
#: date order, and an article reprocessed while we page moves to the end, shifting the rest back
#: by one; the overlap (deduplicated) keeps such a shift from hiding an article
PAGE_OVERLAP = 5


def list_articles(
    http: Getter,
    base: str,
    collection: str,
    *,
    watermark: str | None,
    since: dt.date | None,
    page_limit: int = 1000,
    today: dt.date | None = None,
) -> Listing:
    """Articles of ``collection`` processed on or after ``since`` (else the watermark date).

    ArticleMeta's ``from`` is inclusive and a processing date is a day, so a listing from the
    watermark names again the articles of the watermark's own day, seen by the last run: only a
    later processing date marks an article changed (one of that day the catalogue does not know
    is still selected, as new). With ``since`` every listed article counts as changed.

    The next watermark is the newest processing date seen, but never today (UTC) or later: a day
    is finished only once it is over, so articles reprocessed later today are still "changed"
    for the next run. Paging stops at an empty page or at ``meta.total``; hitting
    ``page_limit`` is a problem and leaves no next watermark (the run does not move it).
    """
    listing = Listing()
    start = since or (dt.date.fromisoformat(watermark) if watermark else None)
    offset, newest = 0, watermark
    seen: set[tuple[str, str]] = set()
    for _ in range(page_limit):
        objects, total = parse_identifiers(
            http.get_bytes(identifiers_url(base, collection, start, None, offset)).content
        )
        for coll, pid, date in objects:
            if date and (newest is None or date[:10] > newest):
                newest = date[:10]
            if (coll, pid) in seen:
                continue
            seen.add((coll, pid))
            changed = since is not None or not (watermark and date) or date[:10] > watermark
            listing.items.append(
                OfferedItem(
                    ref=f"scielo-article:{coll}/{pid}",
                    record_id=_record_id(f"scielo-article:{coll}/{pid}"),
                    group=coll,
                    changed=changed,
                )
            )
        end = offset + len(objects)
        if not objects or (total is not None and end >= total):
            break
        offset = end - PAGE_OVERLAP if len(objects) > 2 * PAGE_OVERLAP else end
    else:
        listing.problems.append(
            f"articles of {collection}: stopped after {page_limit} identifier pages; the "
            "watermark is not moved"
        )
        return listing
    yesterday = ((today or dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=1)).isoformat()
    if newest is not None and newest > yesterday:
        newest = max(yesterday, watermark) if watermark else yesterday
    listing.next_watermark = newest
    return listing
