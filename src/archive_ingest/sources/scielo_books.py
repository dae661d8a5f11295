"""SciELO Books: a book (``scielo-books:SBID``) or one chapter (``scielo-books:SBID/NN``).

Three sources describe a chapter and none is complete (see docs/SOURCES.md):
the book JSON (``/api/v1/book/SBID/``: title, creators by role, publisher, ISBNs, language,
year, synopsis, and ``use_licence`` where the server adds it), the book page (``/id/SBID``:
the chapter table with each chapter's title and PDF link, plus pages, eISBN, DOI), and the
chapter PDF's first page (creators and page range; see :mod:`.citation_page`).

The mapping functions are pure (bytes in, records out): the book JSON's in book_json.py, the
book page's and the chapter's here; :func:`resolve` is the thin edge that fetches and calls
them. The harvest listings (changes feed, books list) are in book_listing.py. Every URL comes
from ``settings.scielo_books_url``; URLs found inside the metadata are rebased onto it.
"""

from __future__ import annotations

from typing import Any

from archive_ingest.errors import SourceError
from archive_ingest.models import Identifier, PageRange, Relation, SourceRecord
from archive_ingest.refs import ItemRef
from archive_ingest.settings import Settings
from archive_ingest.sources.base import Getter, fetch, finish, isbn_identifier, raw_from
from archive_ingest.sources.book_json import (
    DEFAULT_BOOKS_URL,
    IsbnScheme,
    book_creators,
    map_book_json,
)
from archive_ingest.sources.book_page import BookPage, parse_book_page
from archive_ingest.sources.normalise import iso_date, language_code, normalise_doi
from archive_ingest.sources.urls import (
    book_json_url,
    book_page_url,
    chapter_page_url,
    rebase_url,
)


def merge_book_page(
    book: SourceRecord, page: BookPage, *, base_url: str = DEFAULT_BOOKS_URL
) -> SourceRecord:
    """Fill what the book JSON lacked from the book page; note where the two disagree."""
    notes = list(book.notes) + list(page.warnings)
    update: dict[str, Any] = {}
    if not book.title and page.title:
        update["title"] = page.title
        notes.append("book title taken from the book page")
    elif page.title and book.title and page.title != book.title:
        notes.append(f"book page title {page.title!r} differs from the book JSON title")

    if not book.creators:
        pairs: list[tuple[str, str]] = []
        for role, names in page.creators:
            pairs += [(role, n.strip()) for n in names.split(";") if n.strip()]
        if not pairs:
            pairs = [("individual_author", name) for name in page.authors]
        if pairs:
            update["creators"], role_notes = book_creators(pairs)
            notes += role_notes
            notes.append("book creators taken from the book page")

    publisher = page.fields.get("publisher") or page.publisher
    if not book.publisher and publisher:
        update["publisher"] = publisher
    year = page.fields.get("year") or page.publication_date
    if not book.date and year and iso_date(year):
        update["date"] = iso_date(year)
    language = language_code(page.fields.get("language"))
    if not book.languages and language:
        update["languages"] = [language]
    if not book.description and page.synopsis:
        update["description"] = page.synopsis
    pages = page.fields.get("pages", "")
    if book.pages is None and pages.isdigit():
        update["pages"] = PageRange(count=int(pages))

    identifiers = list(book.identifiers)
    have = {i.scheme: i.value for i in identifiers}
    page_isbns: tuple[tuple[IsbnScheme, str | None], ...] = (
        ("isbn", page.fields.get("isbn") or page.isbn),
        ("eisbn", page.fields.get("eisbn")),
    )
    for scheme, value in page_isbns:
        ident, note = isbn_identifier(scheme, value, f"book page {scheme}")
        if ident is None:
            continue
        if scheme not in have:
            identifiers.append(ident)
            if note:
                notes.append(note)
        elif have[scheme] != ident.value:
            notes.append(
                f"book page {scheme} {ident.value} differs from the book JSON's {have[scheme]}"
            )
    doi = normalise_doi(page.fields.get("doi"))
    if doi and "doi" not in have:
        identifiers.append(Identifier(scheme="doi", value=doi))
    update["identifiers"] = identifiers

    if not book.pdf_urls:
        candidates = [page.pdf_url, *(h for h in page.download_links if h.endswith(".pdf"))]
        for candidate in candidates:
            if not candidate:
                continue
            try:
                update["pdf_urls"] = {"": rebase_url(candidate, base_url)}
                notes.append("book PDF link taken from the book page")
                break
            except SourceError as exc:
                notes.append(f"book page PDF link unusable: {exc}")
    update["notes"] = notes
    return finish(book.model_copy(update=update))


def chapter_record(
    book: SourceRecord, page: BookPage, chapter: str, *, base_url: str = DEFAULT_BOOKS_URL
) -> SourceRecord:
    """The record of chapter ``chapter`` (``"05"``) from the book record and its book page.

    Creators and page range are not in either: they come from the chapter PDF's first page,
    via :func:`archive_ingest.sources.citation_page.enrich_chapter_from_pdf_text`.
    """
    sbid = book.identifier("scielo-sbid") or book.record_id.removeprefix("scielo-books-")
    chapter = f"{int(chapter):02d}"
    row = page.chapter(chapter)
    if row is None:
        known = ", ".join(r.order for r in page.chapters if r.order) or "none"
        raise SourceError(
            f"book {sbid!r} has no chapter {chapter} in its table of contents (chapters: {known})"
        )
    notes = list(book.notes)
    pdf_urls: dict[str, str] = {}
    if row.pdf_href:
        try:
            pdf_urls[""] = rebase_url(row.pdf_href, base_url)
        except SourceError as exc:
            notes.append(f"chapter PDF link unusable: {exc}")
    else:
        notes.append(f"the book page lists chapter {chapter} without a PDF link")
    if book.licence_statement:
        notes.append("licence statement is the book's use_licence (SciELO states it per book)")
    landing = chapter_page_url(base_url, sbid, chapter)
    relation = Relation(
        title=book.title or None,
        identifiers=tuple(
            i for i in book.identifiers if i.scheme in ("isbn", "eisbn", "doi", "scielo-sbid")
        ),
        url=book.landing_url,
        creators=tuple(book.creators),
        kind="book",
    )
    return finish(
        SourceRecord(
            record_id=f"scielo-books-{sbid}-{chapter}",
            source=f"scielo-books:{sbid}/{chapter}",
            source_kind="scielo-books-chapter",
            title=row.title,
            publisher=book.publisher,
            date=book.date,
            languages=list(book.languages),
            identifiers=[Identifier(scheme="url", value=landing)],
            is_part_of=relation,
            licence_statement=book.licence_statement,
            licence_url=book.licence_url,
            pdf_urls=pdf_urls,
            landing_url=landing,
            raw_metadata=list(book.raw_metadata),
            notes=notes,
        )
    )


# --- the edge: fetch and map ----------------------------------------------------------------


def _fetch_book(
    sbid: str, settings: Settings, http: Getter, *, page_required: bool
) -> tuple[SourceRecord, BookPage | None]:
    base = settings.scielo_books_url
    limit = settings.fetch_metadata_max_bytes
    json_response = fetch(
        http,
        book_json_url(base, sbid),
        what="book JSON",
        accept="application/json",
        max_bytes=limit,
        not_found=f"SciELO Books has no book {sbid!r}",
    )
    book = map_book_json(json_response.content, base_url=base, sbid=sbid)
    raws = [raw_from("book.json", json_response, "application/json")]
    page: BookPage | None = None
    try:
        page_response = fetch(
            http,
            book_page_url(base, sbid),
            what="book page",
            accept="text/html",
            max_bytes=limit,
            not_found=f"SciELO Books has no book page for {sbid!r}",
        )
        raws.append(raw_from("book-page.html", page_response, "text/html"))
        page = parse_book_page(page_response.content)
    except SourceError as exc:
        if page_required:
            raise
        book = book.model_copy(update={"notes": [*book.notes, f"book page not used: {exc}"]})
    book = book.model_copy(update={"raw_metadata": raws})
    if page is not None:
        book = merge_book_page(book, page, base_url=base)
    return book, page


def resolve_book(ref: ItemRef, settings: Settings, http: Getter) -> SourceRecord:
    """``scielo-books:SBID``: the whole book, its PDF being the book PDF."""
    if ref.kind != "scielo-books" or not ref.sbid or ref.chapter:
        raise SourceError(f"not a SciELO Books book reference: {ref.canonical}")
    book, _ = _fetch_book(ref.sbid, settings, http, page_required=False)
    if not book.title:
        raise SourceError(f"SciELO Books book {ref.sbid!r} has no title in its JSON or page")
    return book


def resolve_chapter(ref: ItemRef, settings: Settings, http: Getter) -> SourceRecord:
    """``scielo-books:SBID/NN``: one chapter; creators and pages follow from its PDF."""
    if ref.kind != "scielo-books" or not ref.sbid or not ref.chapter:
        raise SourceError(f"not a SciELO Books chapter reference: {ref.canonical}")
    book, page = _fetch_book(ref.sbid, settings, http, page_required=True)
    if page is None:  # page_required: a missing page raised already
        raise SourceError(f"SciELO Books has no book page for {ref.sbid!r}")
    return chapter_record(book, page, ref.chapter, base_url=settings.scielo_books_url)


def resolve(ref: ItemRef, settings: Settings, http: Getter) -> SourceRecord:
    return (resolve_chapter if ref.chapter else resolve_book)(ref, settings, http)
