"""The typed values that travel between stages. Pure data: no I/O here.

A source adapter turns a publisher's record into one :class:`SourceRecord`; later stages add
their own results (``FileInfo`` per stored file, OCR and licence verdicts) and the catalogue
keeps the item's :class:`State` and its PREMIS-style :class:`Event` log.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from datetime import UTC
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RECORD_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


class State(StrEnum):
    """Where an item is. The last four are final states reported by `ingest`."""

    RESOLVED = "resolved"
    FETCHED = "fetched"
    INSPECTED = "inspected"
    OCR_DONE = "ocr_done"
    LICENCE_CHECKED = "licence_checked"
    DESCRIBED = "described"
    PACKAGED = "packaged"
    APPROVED = "approved"  # an archivist approved it; its deposit is pending or postponed
    DEPOSITING = "depositing"
    DEPOSITED = "deposited"
    #: stored and verified on fewer targets than copies_required; `replicate` or a re-run
    #: completes it
    UNDER_REPLICATED = "under_replicated"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {State.DEPOSITED, State.UNDER_REPLICATED, State.NEEDS_REVIEW, State.REJECTED, State.FAILED}
)
#: states an item passes through while a run works on it; an item left in one of these long
#: after its last update was interrupted (a killed worker) and is "stalled"
IN_PROGRESS_STATES = frozenset(set(State) - FINAL_STATES - {State.APPROVED})


class Creator(BaseModel):
    """A person or body responsible for the item, with the publisher's role name."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    role: str = "author"  # author, organizer, editor, translator, coordinator, ...
    corporate: bool = False
    affiliation: str | None = None
    orcid: str | None = None


IdentifierScheme = Literal[
    "isbn", "eisbn", "issn", "eissn", "doi", "scielo-pid", "scielo-sbid", "url", "sha256"
]


class Identifier(BaseModel):
    model_config = ConfigDict(frozen=True)

    scheme: IdentifierScheme
    value: str = Field(min_length=1)


class PageRange(BaseModel):
    model_config = ConfigDict(frozen=True)

    first: str | None = None
    last: str | None = None
    count: int | None = None

    def label(self) -> str | None:
        if self.first and self.last and self.first != self.last:
            return f"{self.first}-{self.last}"
        if self.count:
            return f"{self.count} p."
        return self.first


class Relation(BaseModel):
    """The larger work an item is part of (the book of a chapter, the issue of an article)."""

    model_config = ConfigDict(frozen=True)

    title: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    url: str | None = None
    creators: tuple[Creator, ...] = ()
    kind: Literal["book", "journal-issue", "journal", "series"] = "book"
    volume: str | None = None
    issue: str | None = None


class RawMetadata(BaseModel):
    """A publisher response kept verbatim for the package (bytes exactly as received)."""

    name: str  # file name inside the package, e.g. "book.json", "book-page.html"
    media_type: str
    url: str | None = None
    content: bytes
    fetched_at: dt.datetime = Field(default_factory=utcnow)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}", value):
            raise ValueError(f"unsafe raw metadata file name: {value!r}")
        return value


SourceKind = Literal["scielo-books-book", "scielo-books-chapter", "scielo-article", "file"]


class SourceRecord(BaseModel):
    """One item as its publisher describes it, mapped to our own fields."""

    record_id: str
    source: str  # the canonical REF, e.g. "scielo-books:37t/05"
    source_kind: SourceKind
    title: str
    translated_titles: dict[str, str] = Field(default_factory=dict)
    creators: list[Creator] = Field(default_factory=list)
    publisher: str | None = None
    date: str | None = None  # ISO 8601: YYYY, YYYY-MM or YYYY-MM-DD
    languages: list[str] = Field(default_factory=list)  # ISO 639-1 as the publisher says
    identifiers: list[Identifier] = Field(default_factory=list)
    pages: PageRange | None = None
    is_part_of: Relation | None = None
    description: str | None = None
    subjects: list[str] = Field(default_factory=list)
    licence_statement: str | None = None  # the licence exactly as the publisher states it
    licence_url: str | None = None
    pdf_urls: dict[str, str] = Field(default_factory=dict)  # language ("" = only) -> URL
    landing_url: str | None = None
    #: the publisher's own document type when it states one (ArticleMeta v71 read as xylose
    #: names it: "research-article", "editorial", "correction", "press-release", ...)
    document_type: str | None = None
    raw_metadata: list[RawMetadata] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)  # fields the source did not give
    notes: list[str] = Field(default_factory=list)

    @field_validator("record_id")
    @classmethod
    def _safe_record_id(cls, value: str) -> str:
        if not RECORD_ID_RE.fullmatch(value) or ".." in value:
            raise ValueError(f"unsafe record id: {value!r}")
        return value

    def identifier(self, scheme: str) -> str | None:
        for ident in self.identifiers:
            if ident.scheme == scheme:
                return ident.value
        return None

    def primary_pdf_language(self) -> str | None:
        """The key of the original PDF in ``pdf_urls``: ``""`` for the only one, else the
        original language (the first of ``languages``) when it has a PDF, else the first by
        language code (a stable choice, whatever order the publisher lists them in); ``None``
        without a PDF."""
        if not self.pdf_urls:
            return None
        for lang in ("", *self.languages[:1]):
            if lang in self.pdf_urls:
                return lang
        return min(self.pdf_urls)

    def primary_pdf_url(self) -> str | None:
        """The PDF that is the item's original (``primary_pdf_language``)."""
        lang = self.primary_pdf_language()
        return None if lang is None else self.pdf_urls[lang]


class Digests(BaseModel):
    """Every digest of one byte stream, computed in a single read."""

    model_config = ConfigDict(frozen=True)

    size: int
    sha256: str
    sha512: str
    md5: str | None = None  # no longer computed (D11); kept for older records
    crc32c: str | None = None  # base64, as S3 wants it, when computed

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


class FileInfo(BaseModel):
    """A file the package will hold, with what we know about it."""

    #: ``translation``: a PDF the publisher lists in another language than the original's,
    #: kept as received beside it (path ``translation/<language>/<name>``)
    role: Literal[
        "original",
        "translation",
        "access",
        "text",
        "ocr-page",
        "source-metadata",
        "record",
        "ocr-report",
    ]
    path: str  # relative to the bag's data/ directory, POSIX separators
    digests: Digests
    media_type: str
    puid: str | None = None  # PRONOM identifier, e.g. fmt/276
    format_name: str | None = None
    format_version: str | None = None
    identified_by: str | None = None  # tool and version that gave the PUID


class Event(BaseModel):
    """A PREMIS-style event. ``event_type`` uses the PREMIS event type vocabulary labels."""

    event_type: str  # capture, message digest calculation, format identification, ...
    outcome: Literal["success", "failure", "warning", "info"] = "success"
    detail: str = ""
    outcome_detail: dict[str, Any] = Field(default_factory=dict)
    agent: str = "archive-ingest"
    agent_type: Literal["software", "person", "organization"] = "software"
    agent_id: str | None = None
    datetime: dt.datetime = Field(default_factory=utcnow)
    object_roles: list[str] = Field(default_factory=list)  # which files it concerns


class PdfInspection(BaseModel):
    """What pypdf (or pikepdf) found in a PDF, without changing it."""

    page_count: int
    pdf_version: str | None = None
    encrypted: bool = False
    text_chars_per_page: list[int] = Field(default_factory=list)
    pages_with_text: int = 0
    fonts_per_page: list[list[str]] = Field(default_factory=list)
    images_per_page: list[int] = Field(default_factory=list)
    invisible_text_pages: list[int] = Field(default_factory=list)  # 0-based, text render mode 3
    has_xmp: bool = False
    xmp: str | None = None
    info: dict[str, str] = Field(default_factory=dict)
    has_javascript: bool = False
    has_embedded_files: bool = False
    first_page_text: str = ""
    warnings: list[str] = Field(default_factory=list)
