"""SciELO Books' book JSON (``/api/v1/book/SBID/``) -> the book's SourceRecord.

Pure: bytes in, record out. Creators come in several shapes (SciELO has served more than one)
and are mapped to our roles; URLs inside the JSON are rebased onto the configured base URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import quote

from archive_ingest.errors import SourceError
from archive_ingest.models import Creator, Identifier, PageRange, SourceRecord
from archive_ingest.sources.base import finish, isbn_identifier, load_json
from archive_ingest.sources.normalise import (
    BOOK_ROLES,
    SHORTNAME_ROLE_ORDER,
    clean_text,
    iso_date,
    language_code,
    normalise_doi,
)
from archive_ingest.sources.urls import book_page_url, rebase_url

DEFAULT_BOOKS_URL = "https://books.scielo.org"
IsbnScheme = Literal["isbn", "eisbn"]


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
