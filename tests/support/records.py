"""Builders for the records tests: a realistic SciELO Books chapter and its package.

The chapter mirrors the one in reference/scielo.md ("Building the Industrial Cordons:
Maipú-Cerrillos", pp. 40-52 of *Chilean Voices*, CC BY-NC-SA 3.0), with Portuguese as its
language and organizers as its creators, as SciELO Books records often have.
Data builders shared by the tests/test_records_*.py modules (and the OAI ones).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from archive_ingest.models import (
    Creator,
    Event,
    FileInfo,
    Identifier,
    PageRange,
    RawMetadata,
    Relation,
    SourceRecord,
)
from archive_ingest.records import OcrPage, PackageDescription, raw_metadata_path
from tests.support.bag import digests_of

CC_BY_NC_SA_30 = "http://creativecommons.org/licenses/by-nc-sa/3.0/"
CREATED = dt.datetime(2026, 3, 4, 12, 30, tzinfo=dt.UTC)
BOOK_JSON = json.dumps(
    {
        "_id": "37t",
        "title": "Chilean Voices",
        "publisher": "Centro Edelstein de Pesquisas Sociais",
        "pisbn": "9788599662847",
        "language": "pt",
        "year": "2008",
        "creators": {"organizer": [["Henfrey, Colin", None], ["Sorj, Bernardo", None]]},
    },
    ensure_ascii=False,
).encode("utf-8")
BOOK_PAGE = b"<html><head><meta name='citation_title' content='Chilean Voices'></head></html>"


def chapter_record(**overrides: Any) -> SourceRecord:
    values: dict[str, Any] = {
        "record_id": "scielo-books-37t-05",
        "source": "scielo-books:37t/05",
        "source_kind": "scielo-books-chapter",
        "title": "Construindo os cordões industriais: Maipú-Cerrillos",
        "translated_titles": {"en": "Building the Industrial Cordons: Maipú-Cerrillos"},
        "creators": [
            Creator(name="Henfrey, Colin", role="organizer"),
            Creator(name="Sorj, Bernardo", role="organizer"),
            Creator(name="Pablo", role="author"),
        ],
        "publisher": "Centro Edelstein de Pesquisas Sociais",
        "date": "2008",
        "languages": ["pt"],
        "identifiers": [Identifier(scheme="doi", value="10.7476/9788599662847.0005")],
        "pages": PageRange(first="40", last="52"),
        "is_part_of": Relation(
            title="Chilean Voices",
            identifiers=(Identifier(scheme="isbn", value="978-85-99662-84-7"),),
            url="http://books.scielo.org/id/37t",
            creators=(
                Creator(name="Henfrey, Colin", role="organizer"),
                Creator(name="Sorj, Bernardo", role="organizer"),
            ),
        ),
        "description": "Depoimento de um operário sobre os cordões industriais.\nSantiago, 1972.",
        "subjects": ["Unidade Popular", "Chile"],
        "licence_statement": "CC BY-NC-SA 3.0",
        "licence_url": CC_BY_NC_SA_30,
        "pdf_urls": {"": "http://books.scielo.org/id/37t/pdf/henfrey-9788599662847-05.pdf"},
        "landing_url": "http://books.scielo.org/id/37t/05",
        "raw_metadata": [
            RawMetadata(
                name="book.json",
                media_type="application/json",
                url="http://books.scielo.org/api/v1/book/37t/",
                content=BOOK_JSON,
                fetched_at=dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC),
            ),
            RawMetadata(
                name="book-page.html",
                media_type="text/html",
                url="http://books.scielo.org/id/37t",
                content=BOOK_PAGE,
                fetched_at=dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC),
            ),
        ],
    }
    values.update(overrides)
    return SourceRecord(**values)


def chapter_files(record: SourceRecord | None = None) -> list[FileInfo]:
    record = record or chapter_record()
    files = [
        FileInfo(
            role="original",
            path="original/henfrey-9788599662847-05.pdf",
            digests=digests_of(b"%PDF-1.4 original"),
            media_type="application/pdf",
            puid="fmt/18",
            format_name="Acrobat PDF 1.4 - Portable Document Format",
            format_version="1.4",
            identified_by="siegfried 1.11.2 (pygfried)",
        ),
        FileInfo(
            role="access",
            path="access/henfrey-9788599662847-05.pdfa.pdf",
            digests=digests_of(b"%PDF-1.7 access copy"),
            media_type="application/pdf",
            puid="fmt/476",
            format_name="Acrobat PDF/A - Portable Document Format",
            format_version="2b",
        ),
        FileInfo(
            role="text",
            path="text/henfrey-9788599662847-05.txt",
            digests=digests_of(b"texto"),
            media_type="text/plain",
            puid="x-fmt/111",
            format_name="Plain Text File",
        ),
        FileInfo(
            role="ocr-report",
            path="ocr/report.json",
            digests=digests_of(b"{}"),
            media_type="application/json",
            puid="fmt/817",
            format_name="JSON Data Interchange Format",
        ),
    ]
    for raw in record.raw_metadata:
        files.append(
            FileInfo(
                role="source-metadata",
                path=raw_metadata_path(raw.name),
                digests=digests_of(raw.content),
                media_type=raw.media_type,
                puid="fmt/817" if raw.media_type == "application/json" else "fmt/96",
            )
        )
    return files


def at(minute: int) -> dt.datetime:
    return dt.datetime(2026, 3, 4, 12, minute, tzinfo=dt.UTC)


def chapter_events() -> list[Event]:
    return [
        Event(
            event_type="capture",
            detail="GET http://books.scielo.org/id/37t/pdf/henfrey-9788599662847-05.pdf",
            datetime=at(1),
            object_roles=["original", "source-metadata"],
        ),
        Event(event_type="message digest calculation", datetime=at(2), object_roles=["original"]),
        Event(
            event_type="format identification",
            agent="siegfried 1.11.2",
            datetime=at(3),
            object_roles=["original", "access", "text", "source-metadata", "ocr-report"],
        ),
        Event(
            event_type="OCR",
            agent="ocrmypdf 17.13.0",
            detail="ocrmypdf --redo-ocr --output-type pdfa-2 -l por",
            datetime=at(10),
            outcome_detail={"tesseract": "5.3.0", "pages_ocred": 12},
            object_roles=["access", "text", "ocr-report"],
        ),
        Event(
            event_type="licence validation",
            detail="metadata, page one and XMP agree: CC BY-NC-SA 3.0",
            datetime=at(11),
            object_roles=["original", "source-metadata"],
        ),
        Event(
            event_type="review decision",
            agent="Ana Archivist",
            agent_type="person",
            agent_id="ana",
            detail="NC licence accepted for preservation",
            datetime=at(20),
        ),
    ]


def chapter_pages() -> list[OcrPage]:
    pages = [OcrPage(page=1, kind="born-digital", decision="kept")]
    pages += [OcrPage(page=n, kind="scanned", decision="redo-ocr") for n in range(2, 14)]
    return pages


def chapter_description(**overrides: Any) -> PackageDescription:
    record = overrides.pop("record", None) or chapter_record()
    values: dict[str, Any] = {
        "record": record,
        "files": chapter_files(record),
        "events": chapter_events(),
        "licence_uri": CC_BY_NC_SA_30,
        "licence_label": "CC BY-NC-SA 3.0",
        "licence_outcome": "accepted",
        "rights_statement": (
            "All the contents of this chapter, except where otherwise noted, is licensed under "
            "a Creative Commons Attribution-Non Commercial-ShareAlike 3.0 Unported."
        ),
        "granted_acts": ["replicate", "migrate", "disseminate"],
        "ocr_pages": chapter_pages(),
        "page_count": 13,
        "version": 1,
        "organization": "Arquivo Exemplo",
        "software_version": "0.1.0",
        "created": CREATED,
    }
    values.update(overrides)
    return PackageDescription(**values)
