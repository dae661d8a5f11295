"""The content fingerprint of an item's versions is pinned: a field added to SourceRecord, or
any other change to how the fingerprint is made, must not change it for records that do not
use the change, or every item in the catalogue opens a new version on its next run (a harvest
of an unchanged collection would re-OCR, re-package and re-store all of it).

The two values were computed by the code that stored the catalogue's fingerprints before
``document_type`` and the translations existed (commit 376b257), for the record below."""

from __future__ import annotations

from types import SimpleNamespace

from archive_ingest.ingest.versioning import fingerprint, same_content
from archive_ingest.models import Creator, Identifier, PageRange, SourceRecord

#: fingerprint(RECORD, "a" * 64) and with_hosts=True, by the earlier code
PINNED = "6f16d9bb4b2e0ac7217c16ffbc0568f72eb966a3ba4ca676c45f6a39d1c24b48"
PINNED_WITH_HOSTS = "acb4f8149c197b71b5f647a6001f291604353fe5875c60497e84d8c91f4603d8"

RECORD = SourceRecord(
    record_id="scielo-books-37t-05",
    source="scielo-books:37t/05",
    source_kind="scielo-books-chapter",
    title="Construindo",
    creators=[Creator(name="Pablo", role="author")],
    publisher="Centro",
    date="2008",
    languages=["pt"],
    identifiers=[Identifier(scheme="doi", value="10.7476/9788599662847.0005")],
    pages=PageRange(first="40", last="52"),
    licence_url="http://creativecommons.org/licenses/by-nc-sa/3.0/",
    pdf_urls={"pt": "http://books.scielo.org/id/37t/pdf/x.pdf"},
)


def test_a_record_without_the_later_fields_keeps_its_fingerprint() -> None:
    assert fingerprint(RECORD, "a" * 64) == PINNED
    assert fingerprint(RECORD, "a" * 64, with_hosts=True) == PINNED_WITH_HOSTS
    assert fingerprint(RECORD, "a" * 64, translations={}) == PINNED


def test_a_later_field_counts_once_it_is_set() -> None:
    typed = RECORD.model_copy(update={"document_type": "editorial"})
    assert fingerprint(typed, "a" * 64) != PINNED


def test_a_version_stored_by_the_earlier_code_is_the_same_content() -> None:
    stored = SimpleNamespace(summary={"fingerprint": PINNED})  # what same_content reads
    assert same_content(stored, RECORD, "a" * 64)  # type: ignore[arg-type]
    assert not same_content(stored, RECORD, "b" * 64)  # type: ignore[arg-type]
