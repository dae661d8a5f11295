"""Source adapters: turn an item reference into a :class:`~archive_ingest.models.SourceRecord`.

One module per source, each split into pure mapping functions (bytes in, record out: tested
without a network) and a thin ``resolve`` that fetches through the :class:`Getter` it is
given. See docs/SOURCES.md.
"""

from __future__ import annotations

from pathlib import Path

from archive_ingest.errors import SourceError
from archive_ingest.models import SourceRecord
from archive_ingest.refs import ItemRef
from archive_ingest.settings import Settings
from archive_ingest.sources.base import Fetched, Getter
from archive_ingest.sources.book_json import map_book_json
from archive_ingest.sources.book_listing import parse_books_list, parse_changes_feed
from archive_ingest.sources.book_page import BookPage, ChapterRow, parse_book_page
from archive_ingest.sources.citation_page import (
    CitationPage,
    enrich_chapter_from_pdf_text,
    parse_citation_page,
)
from archive_ingest.sources.local_file import file_record_id, map_local_metadata, resolve_file
from archive_ingest.sources.scielo_articles import map_articlemeta, resolve_article
from archive_ingest.sources.scielo_books import (
    chapter_record,
    merge_book_page,
    resolve_book,
    resolve_chapter,
)
from archive_ingest.sources.urls import COLLECTION_SITES, allowed_hosts, rebase_url

__all__ = [
    "COLLECTION_SITES",
    "BookPage",
    "ChapterRow",
    "CitationPage",
    "Fetched",
    "Getter",
    "allowed_hosts",
    "chapter_record",
    "enrich_chapter_from_pdf_text",
    "file_record_id",
    "map_articlemeta",
    "map_book_json",
    "map_local_metadata",
    "merge_book_page",
    "parse_book_page",
    "parse_books_list",
    "parse_changes_feed",
    "parse_citation_page",
    "rebase_url",
    "resolve",
    "resolve_article",
    "resolve_book",
    "resolve_chapter",
    "resolve_file",
    "resolve_record",
]


def resolve(
    ref: ItemRef,
    settings: Settings,
    http: Getter,
    *,
    metadata_file: Path | None = None,
    pdf_sha256: str | None = None,
    record_id: str | None = None,
) -> SourceRecord:
    """Resolve any REF kind. ``file:`` REFs need ``metadata_file`` and the PDF's ``pdf_sha256``
    (the record id derives from it); the others fetch through ``http``."""
    if ref.kind == "scielo-books":
        if ref.chapter:
            return resolve_chapter(ref, settings, http)
        return resolve_book(ref, settings, http)
    if ref.kind == "scielo-article":
        return resolve_article(ref, settings, http)
    if ref.kind == "file":
        if metadata_file is None:
            raise SourceError(f"{ref.canonical} needs --metadata FILE.json|FILE.xml")
        if pdf_sha256 is None:
            raise SourceError(f"{ref.canonical}: the PDF's SHA-256 is needed (hash it first)")
        return resolve_file(ref, metadata_file, pdf_sha256, settings, record_id=record_id)
    raise SourceError(f"no source adapter for {ref.canonical!r}")


#: The name the pipeline imports.
resolve_record = resolve
