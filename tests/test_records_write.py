"""Writing records and raw metadata into a package's data/ directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_ingest.errors import PackageError
from archive_ingest.records import (
    build_dc,
    build_mets,
    validate_dc,
    validate_mets,
    write_raw_metadata,
    write_records,
)
from tests.support.records import BOOK_JSON, chapter_description, chapter_record


def test_raw_metadata_is_written_verbatim(tmp_path: Path) -> None:
    paths = write_raw_metadata(chapter_record(), tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "source-metadata/book.json",
        "source-metadata/book-page.html",
    ]
    assert paths[0].read_bytes() == BOOK_JSON
    # idempotent: writing the same bytes again is fine
    assert write_raw_metadata(chapter_record(), tmp_path) == paths


def test_records_are_validated_and_written(tmp_path: Path) -> None:
    desc = chapter_description()
    dc_path, mets_path = write_records(desc, tmp_path)
    assert (dc_path.name, mets_path.name) == ("dc.xml", "mets.xml")
    assert dc_path.read_bytes() == build_dc(desc)
    assert mets_path.read_bytes() == build_mets(desc)
    validate_dc(dc_path.read_bytes())
    validate_mets(mets_path.read_bytes())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_an_existing_record_with_other_content_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "dc.xml").write_bytes(b"<old/>")
    with pytest.raises(PackageError, match="exists with different content"):
        write_records(chapter_description(), tmp_path)
    assert (tmp_path / "dc.xml").read_bytes() == b"<old/>"
    assert not (tmp_path / "mets.xml").exists()


def test_nothing_is_written_when_the_records_cannot_be_built(tmp_path: Path) -> None:
    desc = chapter_description(page_count=3)  # OCR pages beyond the page count
    with pytest.raises(PackageError):
        write_records(desc, tmp_path)
    assert list(tmp_path.iterdir()) == []
