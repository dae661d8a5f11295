"""The in-memory catalogue the sample SciELO server serves: books, chapters, articles, changes.

It models the SciELO records (a CouchDB "Monograph" with its "Part"s, an ArticleMeta document)
closely enough that the server can render faithful responses from it; rendering itself lives in
:mod:`.render`. The catalogue may be changed while a server runs (a lock guards it), which is
how tests exercise incremental harvesting through the changes feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive_ingest_demo.scielo_sample.articlemeta import articlemeta_document
from archive_ingest_demo.scielo_sample.real_records import RealRecord, site_pdf_paths

#: What a sample PDF is: bytes held in memory or a file read at request time.
PdfSource = bytes | Path

#: SciELO Books builds PDF names from the first creator of the first role in this order.
SHORTNAME_ROLES = (
    "individual_author",
    "organizer",
    "coordinator",
    "translator",
    "collaborator",
    "editor",
    "corporate_author",
    "other",
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _pdf(pdf_bytes: bytes | None, pdf_path: Path | str | None) -> PdfSource | None:
    if pdf_bytes is not None and pdf_path is not None:
        raise ValueError("give pdf_bytes or pdf_path, not both")
    if pdf_path is not None:
        path = Path(pdf_path)
        if not path.is_file():
            raise FileNotFoundError(f"sample PDF not found: {path}")
        return path
    return pdf_bytes


@dataclass
class SampleChapter:
    """A SciELO Books "Part"."""

    order: int
    title: str
    creators: list[tuple[str, str]] = field(default_factory=list)  # (role, full_name)
    pages: tuple[str, str] | None = None
    pdf: PdfSource | None = None
    text_language: str | None = None
    part_id: str = ""  # the CouchDB document id (a uuid-like hex string)
    updated: dt.datetime = field(default_factory=_now)

    @property
    def nn(self) -> str:
        return f"{self.order:02d}"


@dataclass
class SampleBook:
    """A SciELO Books "Monograph" (staff/models.py) with its parts."""

    sbid: str
    title: str
    publisher: str
    isbn: str
    eisbn: str = ""
    language: str = "pt"
    year: str = ""
    synopsis: str = ""
    creators: list[tuple[str, str]] = field(default_factory=list)  # (role, full_name)
    use_licence: str | None = None
    city: str | None = None
    country: str | None = None
    pages: str | None = None
    doi_number: str | None = None
    edition: str | None = None
    pdf: PdfSource | None = None
    epub: bytes | None = None
    omit: frozenset[str] = frozenset()  # book JSON keys to leave out (missing-field tests)
    chapters: dict[str, SampleChapter] = field(default_factory=dict)  # by "NN"
    created: dt.datetime = field(default_factory=_now)
    updated: dt.datetime = field(default_factory=_now)

    @property
    def shortname(self) -> str:
        """First creator's last name, lower case, ``-`` eISBN (else ISBN), as SciELO names PDFs."""
        isbn = (self.eisbn or self.isbn).replace("-", "")
        for role in SHORTNAME_ROLES:
            for creator_role, name in self.creators:
                if creator_role == role:
                    last = name.split(",", 1)[0] if "," in name else name.split()[0]
                    return f"{last.strip().lower()}-{isbn}"
        return f"book-{isbn}"

    def book_pdf_path(self) -> str:
        return f"/id/{self.sbid}/pdf/{self.shortname}.pdf"

    def chapter_pdf_path(self, nn: str) -> str:
        return f"/id/{self.sbid}/pdf/{self.shortname}-{nn}.pdf"

    def epub_path(self) -> str:
        return f"/id/{self.sbid}/epub/{self.shortname}.epub"


@dataclass
class SampleArticle:
    """An ArticleMeta document and the PDFs its site serves (by URL path).

    ``processing_date`` is ArticleMeta's (a date: the day SciELO last processed the record);
    the identifiers route filters and sorts on it.
    """

    collection: str
    pid: str
    document: dict[str, Any]
    pdfs: dict[str, PdfSource] = field(default_factory=dict)  # URL path -> PDF
    updated: dt.datetime = field(default_factory=_now)
    processing_date: dt.date = field(default_factory=lambda: _now().date())

    @property
    def issns(self) -> list[str]:
        """The journal's ISSNs, as ArticleMeta's ``code_title`` (what ``issn=`` filters on)."""
        codes = self.document.get("code_title")
        return [str(c) for c in codes] if isinstance(codes, list) else []


@dataclass(frozen=True)
class ChangeEntry:
    seq: int
    doc_id: str
    rev: str
    deleted: bool = False


class SampleCatalogue:
    """Books, chapters and articles to serve. Thread-safe; may change while served."""

    def __init__(self, *, public_books_url: str = "http://books.scielo.org") -> None:
        #: The host SciELO writes into its own JSON and meta tags (api/views.py hard-codes
        #: ``APP_DOMAIN = 'http://books.scielo.org'``): adapters must rebase these URLs.
        self.public_books_url = public_books_url.rstrip("/")
        self.books: dict[str, SampleBook] = {}
        self.articles: dict[tuple[str, str], SampleArticle] = {}
        self._changes: list[ChangeEntry] = []
        self._revisions: dict[str, int] = {}
        self._seq = 0
        self.lock = threading.RLock()

    # --- changes feed ------------------------------------------------------------------------
    def _record_change(self, doc_id: str, *, deleted: bool = False) -> None:
        with self.lock:
            self._seq += 1
            rev_number = self._revisions.get(doc_id, 0) + 1
            self._revisions[doc_id] = rev_number
            digest = hashlib.md5(f"{doc_id}/{rev_number}".encode(), usedforsecurity=False)
            self._changes = [c for c in self._changes if c.doc_id != doc_id]
            self._changes.append(
                ChangeEntry(self._seq, doc_id, f"{rev_number}-{digest.hexdigest()}", deleted)
            )

    def changes_since(self, since: int) -> tuple[list[ChangeEntry], int]:
        with self.lock:
            return [c for c in self._changes if c.seq > since], self._seq

    # --- books ---------------------------------------------------------------------------------
    def add_book(
        self,
        sbid: str,
        *,
        title: str,
        isbn: str,
        publisher: str = "EDUFBA",
        eisbn: str = "",
        language: str = "pt",
        year: str = "",
        synopsis: str = "",
        creators: Iterable[tuple[str, str]] = (),
        use_licence: str | None = None,
        city: str | None = None,
        country: str | None = None,
        pages: str | None = None,
        doi_number: str | None = None,
        edition: str | None = None,
        pdf_bytes: bytes | None = None,
        pdf_path: Path | str | None = None,
        omit: Iterable[str] = (),
    ) -> SampleBook:
        """Add (or replace) a book. ``creators`` are (SciELO role, "Surname, Given") pairs."""
        book = SampleBook(
            sbid=sbid,
            title=title,
            publisher=publisher,
            isbn=isbn,
            eisbn=eisbn,
            language=language,
            year=year,
            synopsis=synopsis,
            creators=list(creators),
            use_licence=use_licence,
            city=city,
            country=country,
            pages=pages,
            doi_number=doi_number,
            edition=edition,
            pdf=_pdf(pdf_bytes, pdf_path),
            omit=frozenset(omit),
        )
        with self.lock:
            self.books[sbid] = book
            self._record_change(sbid)
        return book

    def add_chapter(
        self,
        sbid: str,
        order: int,
        *,
        title: str,
        creators: Iterable[tuple[str, str]] = (),
        pages: tuple[str, str] | None = None,
        pdf_bytes: bytes | None = None,
        pdf_path: Path | str | None = None,
        text_language: str | None = None,
    ) -> SampleChapter:
        """Add a chapter (a "Part") to a book; ``order`` is its number (00 is front matter)."""
        with self.lock:
            book = self.books.get(sbid)
            if book is None:
                raise KeyError(f"no book {sbid!r} in the catalogue: add_book() it first")
            part_id = hashlib.sha1(f"{sbid}/{order}".encode(), usedforsecurity=False).hexdigest()
            chapter = SampleChapter(
                order=order,
                title=title,
                creators=list(creators),
                pages=pages,
                pdf=_pdf(pdf_bytes, pdf_path),
                text_language=text_language,
                part_id=part_id[:32],
            )
            book.chapters[chapter.nn] = chapter
            book.chapters = dict(sorted(book.chapters.items()))
            self._record_change(chapter.part_id)
        return chapter

    def update_book(self, sbid: str, **changes: Any) -> SampleBook:
        """Change fields of a book (bumps its revision and the changes feed)."""
        with self.lock:
            book = self.books[sbid]
            for name, value in changes.items():
                if not hasattr(book, name) or name in ("sbid", "chapters"):
                    raise AttributeError(f"SampleBook has no settable field {name!r}")
                setattr(book, name, value)
            book.updated = _now()
            self._record_change(sbid)
        return book

    def remove_book(self, sbid: str) -> None:
        with self.lock:
            book = self.books.pop(sbid)
            self._record_change(sbid, deleted=True)
            for chapter in book.chapters.values():
                self._record_change(chapter.part_id, deleted=True)

    # --- articles ------------------------------------------------------------------------------
    def add_article(
        self,
        collection: str,
        pid: str,
        *,
        document: Mapping[str, Any] | None = None,
        pdfs: Mapping[str, bytes | Path] | None = None,
        processing_date: dt.date | str | None = None,
        **fields: Any,
    ) -> SampleArticle:
        """Add an ArticleMeta article.

        ``document`` is served verbatim when given (e.g. a fixture file); otherwise one is built
        from ``fields`` by :func:`.articlemeta.articlemeta_document`. ``pdfs`` maps a language
        to its PDF; each is served at the path of the document's ``fulltexts`` URL (or, without
        fulltexts, at the path xylose derives: ``/pdf/ACRONYM/ISSUE/FILE.pdf``).
        ``processing_date`` (default today, UTC) is what the identifiers route lists it by.
        """
        pid = pid.upper()
        doc = (
            dict(document)
            if document is not None
            else articlemeta_document(collection=collection, pid=pid, **fields)
        )
        served: dict[str, PdfSource] = {}
        for lang, pdf in (pdfs or {}).items():
            served[pdf_path_for(doc, lang)] = pdf if isinstance(pdf, bytes) else Path(pdf)
        article = SampleArticle(collection, pid, doc, served)
        if processing_date is not None:
            article.processing_date = _date(processing_date)
        with self.lock:
            self.articles[(collection, pid)] = article
        return article

    def add_real_record(
        self,
        record: RealRecord,
        *,
        pdfs: Mapping[str, bytes | Path],
        processing_date: dt.date | str | None = None,
    ) -> SampleArticle:
        """Serve a real ArticleMeta document verbatim, and each PDF of ``pdfs`` (language ->
        PDF) at the path the journal site serves that language's PDF at
        (:func:`.real_records.site_pdf_paths`: the ``fulltexts`` URL, else the classic path)."""
        paths = site_pdf_paths(record.document)
        served: dict[str, PdfSource] = {}
        for lang, pdf in pdfs.items():
            if lang not in paths:
                raise ValueError(f"{record.path.name} has no PDF path for language {lang!r}")
            served[paths[lang]] = pdf if isinstance(pdf, bytes) else Path(pdf)
        article = SampleArticle(record.collection, record.pid, dict(record.document), served)
        if processing_date is not None:
            article.processing_date = _date(processing_date)
        with self.lock:
            self.articles[(record.collection, record.pid)] = article
        return article

    def update_article(
        self,
        collection: str,
        pid: str,
        *,
        processing_date: dt.date | str | None = None,
        document: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> SampleArticle:
        """SciELO reprocessed an article: a new processing date (default today, UTC) and, when
        given, a new document (verbatim, or rebuilt from ``fields``). Its PDFs stay."""
        with self.lock:
            article = self.articles[(collection, pid.upper())]
            if document is not None:
                article.document = dict(document)
            elif fields:
                article.document = articlemeta_document(
                    collection=collection, pid=article.pid, **fields
                )
            article.updated = _now()
            article.processing_date = _date(processing_date or article.updated.date())
        return article

    def articles_processed(
        self,
        *,
        collection: str | None,
        issn: str | None,
        start: dt.date,
        end: dt.date,
    ) -> list[SampleArticle]:
        """Articles processed from ``start`` to ``end`` (both days included), of one collection
        (else all) and one journal ISSN (else all), oldest processing date first."""
        with self.lock:
            found = [
                a
                for a in self.articles.values()
                if start <= a.processing_date <= end
                and (collection is None or a.collection == collection)
                and (issn is None or issn in a.issns)
            ]
        return sorted(found, key=lambda a: (a.processing_date, a.collection, a.pid))

    def article(self, collection: str, pid: str) -> SampleArticle | None:
        """The article whose PID or DOI is ``pid`` (ArticleMeta's ``code`` matches either), in
        ``collection``, or in any collection when it is ``""`` (the first found)."""
        code = pid.upper()
        with self.lock:
            if collection and (found := self.articles.get((collection, code))) is not None:
                return found
            for article in self.articles.values():
                if collection and article.collection != collection:
                    continue
                if code in (article.pid, str(article.document.get("doi") or "").upper()):
                    return article
        return None

    # --- lookups for the server ----------------------------------------------------------------
    def find_pdf(self, path: str) -> tuple[PdfSource, dt.datetime] | None:
        """The PDF served at ``path`` (book, chapter or article), with its modification time."""
        with self.lock:
            for book in self.books.values():
                if path == book.book_pdf_path() and book.pdf is not None:
                    return book.pdf, book.updated
                for nn, chapter in book.chapters.items():
                    if path == book.chapter_pdf_path(nn) and chapter.pdf is not None:
                        return chapter.pdf, chapter.updated
            for article in self.articles.values():
                if path in article.pdfs:
                    return article.pdfs[path], article.updated
        return None


def _date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def pdf_path_for(document: Mapping[str, Any], lang: str) -> str:
    """The URL path at which an article's PDF in ``lang`` is served."""
    fulltexts = document.get("fulltexts")
    if isinstance(fulltexts, dict) and isinstance(fulltexts.get("pdf"), dict):
        url = fulltexts["pdf"].get(lang)
        if not isinstance(url, str) or not url:
            raise ValueError(f"the document's fulltexts have no PDF in {lang!r}")
        return urlsplit(url).path
    article = document.get("article", {})
    journal = document.get("title", {})
    acronym = journal.get("v68", [{}])[0].get("_", "").lower()
    label = article.get("v4", [{}])[0].get("_", "")
    file_path = article.get("v702", [{}])[0].get("_", "")
    file_code = file_path.replace("/", "\\").split("\\")[-1].split(".")[0]
    if not (acronym and label and file_code):
        raise ValueError("document has neither fulltexts nor v68/v4/v702 to place its PDF")
    return f"/pdf/{acronym}/{label}/{file_code}.pdf"


def creators_by_role(creators: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for role, name in creators:
        out.setdefault(role, []).append(name)
    return out
