"""SciELO Books: a book (``scielo-books:SBID``) or one chapter (``scielo-books:SBID/NN``).

Three sources describe a chapter and none is complete (see /work/shared/reference/scielo.md):
the book JSON (``/api/v1/book/SBID/``: title, creators by role, publisher, ISBNs, language,
year, synopsis, and ``use_licence`` where the server adds it), the book page (``/id/SBID``:
the chapter table with each chapter's title and PDF link, plus pages, eISBN, DOI), and the
chapter PDF's first page (creators and page range; see :mod:`.citation_page`).

The mapping functions are pure (bytes in, records out); :func:`resolve` is the thin edge that
fetches and calls them. Every URL comes from ``settings.scielo_books_url``; URLs found inside
the metadata are rebased onto it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from archive_ingest.errors import SourceError
from archive_ingest.models import Creator, Identifier, PageRange, Relation, SourceRecord
from archive_ingest.refs import ItemRef
from archive_ingest.settings import Settings
from archive_ingest.sources.base import (
    Getter,
    fetch,
    finish,
    isbn_identifier,
    load_json,
    raw_from,
)
from archive_ingest.sources.book_page import BookPage, parse_book_page
from archive_ingest.sources.normalise import (
    BOOK_ROLES,
    SHORTNAME_ROLE_ORDER,
    clean_text,
    iso_date,
    language_code,
    normalise_doi,
)
from archive_ingest.sources.urls import (
    book_json_url,
    book_page_url,
    chapter_page_url,
    rebase_url,
)

DEFAULT_BOOKS_URL = "https://books.scielo.org"
IsbnScheme = Literal["isbn", "eisbn"]


# --- book JSON ------------------------------------------------------------------------------


def parse_book_creators(value: Any) -> tuple[list[tuple[str, str]], list[str]]:
    """(SciELO role, full name) pairs from any of the shapes SciELO has served.

    * the API's ``{"organizer": [["Ribeiro, M.", null], ...]}`` (role -> [name, link_resume]),
      or with plain name strings (older api/views.py);
    * the CouchDB record's list of ``[["role", r], ["full_name", n], ["link_resume", l]]``;
    * a list of ``{"role": r, "full_name": n}`` objects.
    """
    pairs: list[tuple[str, str]] = []
    notes: list[str] = []

    def add(role: object, name: object) -> None:
        text = clean_text(name)
        role_text = clean_text(role) or "other"
        if text:
            pairs.append((role_text.lower(), text))

    if isinstance(value, dict):
        for role, names in value.items():
            for entry in names if isinstance(names, list) else [names]:
                if isinstance(entry, list | tuple):
                    add(role, entry[0] if entry else None)
                else:
                    add(role, entry)
    elif isinstance(value, list):
        for entry in value:
            if isinstance(entry, dict):
                add(entry.get("role"), entry.get("full_name") or entry.get("name"))
            elif isinstance(entry, list | tuple):
                fields = {
                    str(pair[0]): pair[1]
                    for pair in entry
                    if isinstance(pair, list | tuple) and len(pair) == 2
                }
                add(fields.get("role"), fields.get("full_name"))
    elif value not in (None, "", {}, []):
        notes.append(f"book JSON creators in an unknown shape ({type(value).__name__}); ignored")
    return pairs, notes


def book_creators(pairs: Iterable[tuple[str, str]]) -> tuple[list[Creator], list[str]]:
    creators: list[Creator] = []
    notes: list[str] = []
    for role, name in pairs:
        mapped = BOOK_ROLES.get(role)
        if mapped is None:
            notes.append(f"unknown SciELO Books creator role {role!r} for {name!r}; kept as other")
            mapped = "other"
        creators.append(Creator(name=name, role=mapped, corporate=role == "corporate_author"))
    return creators, notes


def shortname(pairs: list[tuple[str, str]], isbn: str | None) -> str | None:
    """SciELO's PDF short name: first creator's last name, lower case, ``-`` ISBN."""
    if not isbn:
        return None
    for role in SHORTNAME_ROLE_ORDER:
        for creator_role, name in pairs:
            if creator_role == role:
                last = name.split(",", 1)[0] if "," in name else name.split()[0]
                return f"{last.strip().lower()}-{isbn}"
    return None


def map_book_json(
    raw: bytes, *, base_url: str = DEFAULT_BOOKS_URL, sbid: str | None = None
) -> SourceRecord:
    """Map ``/api/v1/book/SBID/`` to a book record (title may be empty: see ``missing``).

    ``sbid`` is what was asked for: a record for another book is an error. URLs inside the
    JSON are rebased onto ``base_url``.
    """
    data = load_json(raw, "book JSON")
    if not isinstance(data, dict):
        raise SourceError(f"book JSON is a {type(data).__name__}, not an object")
    book_id = clean_text(data.get("_id"))
    if sbid and book_id and book_id.lower() != sbid.lower():
        raise SourceError(f"book JSON describes book {book_id!r}, not the requested {sbid!r}")
    sbid = (sbid or book_id or "").lower()
    if not sbid:
        raise SourceError("book JSON has no _id (the book's SciELO id)")

    notes: list[str] = []
    pairs, creator_notes = parse_book_creators(data.get("creators"))
    creators, role_notes = book_creators(pairs)
    notes += creator_notes + role_notes

    year = clean_text(data.get("year"))
    date = iso_date(year) if year else None
    if year and not date:
        notes.append(f"book year {year!r} is not a date; ignored")

    languages: list[str] = []
    language = clean_text(data.get("language"))
    if language:
        code = language_code(language)
        if code:
            languages.append(code)
        else:
            notes.append(f"book language {language!r} is not a known language code; ignored")

    landing = book_page_url(base_url, sbid)
    identifiers = [Identifier(scheme="scielo-sbid", value=sbid)]
    isbn_values: dict[str, str] = {}
    isbn_keys: tuple[tuple[IsbnScheme, str], ...] = (
        ("isbn", "pisbn"),
        ("isbn", "isbn"),
        ("eisbn", "eisbn"),
    )
    for scheme, key in isbn_keys:
        if scheme in isbn_values:
            continue
        ident, note = isbn_identifier(scheme, data.get(key), f"book {key}")
        if note:
            notes.append(note)
        if ident:
            identifiers.append(ident)
            isbn_values[scheme] = ident.value
    doi = normalise_doi(data.get("doi_number"))
    if doi:
        identifiers.append(Identifier(scheme="doi", value=doi))
    identifiers.append(Identifier(scheme="url", value=landing))

    licence = clean_text(data.get("use_licence"))
    licence_url = (
        licence if licence and licence.lower().startswith(("http://", "https://")) else None
    )

    pdf_urls: dict[str, str] = {}
    pdf_file = data.get("pdf_file")
    uri = clean_text(pdf_file.get("uri")) if isinstance(pdf_file, dict) else None
    if uri:
        try:
            pdf_urls[""] = rebase_url(uri, base_url)
        except SourceError as exc:
            notes.append(f"book PDF link unusable: {exc}")
    elif isinstance(pdf_file, dict) and pdf_file:
        # the raw CouchDB record names an attachment, not a URL: use SciELO's naming rule
        name = shortname(pairs, isbn_values.get("eisbn") or isbn_values.get("isbn"))
        if name:
            pdf_urls[""] = f"{base_url.rstrip('/')}/id/{quote(sbid)}/pdf/{quote(name)}.pdf"
            notes.append("book PDF URL derived from SciELO's file naming rule (no link given)")

    pages = clean_text(data.get("pages"))
    return finish(
        SourceRecord(
            record_id=f"scielo-books-{sbid}",
            source=f"scielo-books:{sbid}",
            source_kind="scielo-books-book",
            title=clean_text(data.get("title")) or "",
            creators=creators,
            publisher=clean_text(data.get("publisher")),
            date=date,
            languages=languages,
            identifiers=identifiers,
            pages=PageRange(count=int(pages)) if pages and pages.isdigit() else None,
            description=clean_text(data.get("synopsis")),
            licence_statement=licence,
            licence_url=licence_url,
            pdf_urls=pdf_urls,
            landing_url=landing,
            notes=notes,
        )
    )


# --- book page ------------------------------------------------------------------------------


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
    assert page is not None  # page_required
    return chapter_record(book, page, ref.chapter, base_url=settings.scielo_books_url)


def resolve(ref: ItemRef, settings: Settings, http: Getter) -> SourceRecord:
    return (resolve_chapter if ref.chapter else resolve_book)(ref, settings, http)


# --- listings for harvesting ----------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One entry of the CouchDB changes feed behind ``/api/v1/changes/``."""

    seq: str
    id: str
    deleted: bool = False


def parse_changes_feed(raw: bytes) -> tuple[list[Change], str | None]:
    """``{"results": [{"seq", "id", "changes", "deleted"?}], "last_seq"}`` -> changes, last_seq.

    ``seq`` is kept as text: CouchDB 1.x answers integers, 2.x+ opaque strings.
    """
    data = load_json(raw, "changes feed")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise SourceError("changes feed has no 'results' list")
    changes: list[Change] = []
    for entry in data["results"]:
        if not isinstance(entry, dict) or "id" not in entry or "seq" not in entry:
            raise SourceError(f"changes feed entry without id/seq: {str(entry)[:80]}")
        changes.append(Change(str(entry["seq"]), str(entry["id"]), bool(entry.get("deleted"))))
    last = data.get("last_seq")
    return changes, None if last is None else str(last)


def parse_books_list(raw: bytes) -> list[str]:
    """The sbids of ``/api/v1/books/`` (a JSON list of book objects)."""
    data = load_json(raw, "books list")
    if not isinstance(data, list):
        raise SourceError("books list is not a JSON list")
    return [str(b["_id"]) for b in data if isinstance(b, dict) and clean_text(b.get("_id"))]
