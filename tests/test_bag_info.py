"""Pure parts of the bag package: payload paths, manifest path encoding, bag-info tags."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_ingest.bag import (
    BagInfo,
    bag_info_from_record,
    check_payload_path,
    decode_manifest_path,
    encode_manifest_path,
    format_bag_size,
    payload_oxum,
    project_profile,
)
from archive_ingest.bag.info import render_bag_info
from archive_ingest.bag.paths import check_distinct, is_system_file
from archive_ingest.errors import PackageError
from archive_ingest.models import Relation, SourceRecord


def make_info(**changes: object) -> BagInfo:
    values: dict[str, object] = {
        "source_organization": "Example Archive",
        "external_identifier": "scielo-books-37t-05",
        "external_description": "A chapter",
        "bagging_date": dt.date(2001, 2, 3),
    }
    values.update(changes)
    return BagInfo.model_validate(values)


# --- manifest path encoding (RFC 8493 §2.1.3) -------------------------------------------


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("data/plain.pdf", "data/plain.pdf"),
        ("data/50%.txt", "data/50%25.txt"),
        ("data/a\r\nb", "data/a%0D%0Ab"),
        ("data/%0A literally", "data/%250A literally"),
        ("data/~tilde and space", "data/~tilde and space"),
    ],
)
def test_encode_manifest_path_encodes_only_cr_lf_percent(raw: str, encoded: str) -> None:
    assert encode_manifest_path(raw) == encoded
    assert decode_manifest_path(encoded) == raw


def test_decode_accepts_lower_case_hex() -> None:
    assert decode_manifest_path("data/a%0ab%0dc%25") == "data/a\nb\rc%"


@given(st.text())
def test_encoding_round_trips_and_leaves_one_line(text: str) -> None:
    encoded = encode_manifest_path(text)
    assert "\r" not in encoded and "\n" not in encoded
    assert decode_manifest_path(encoded) == text


# --- payload paths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "../outside.txt",
        "original/../../outside.txt",
        "original/./x.pdf",
        "original//x.pdf",
        "original/",
        "original\\x.pdf",
        "C:\\Windows\\x",
        "nul\x00byte",
        "tab\there",
        " leading.txt",
        "original/trailing.txt ",
    ],
)
def test_unsafe_payload_paths_are_refused(path: str) -> None:
    with pytest.raises(PackageError):
        check_payload_path(path)


@pytest.mark.parametrize(
    "path",
    ["original/x.pdf", "metadata/source/book-page.html", "odd name\nwith a line feed.txt", "é.txt"],
)
def test_safe_payload_paths_pass(path: str) -> None:
    assert check_payload_path(path) == path


def test_names_differing_only_in_case_or_normalisation_are_refused() -> None:
    with pytest.raises(PackageError, match="letter case"):
        check_distinct(["text/A.txt", "text/a.txt"])
    nfc = unicodedata.normalize("NFC", "Núñez.txt")
    nfd = unicodedata.normalize("NFD", "Núñez.txt")
    assert nfc != nfd
    with pytest.raises(PackageError):
        check_distinct([nfc, nfd])
    check_distinct(["text/a.txt", "text/b.txt"])  # distinct names pass


@pytest.mark.parametrize(
    ("path", "system"),
    [("x/.DS_Store", True), ("Thumbs.db", True), ("a/._x.pdf", True), ("a/thumbs.pdf", False)],
)
def test_system_files_are_recognised(path: str, system: bool) -> None:
    assert is_system_file(path) is system


# --- bag-info ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (1_400_000, "1.4 MB"),
        (999_950, "1.0 MB"),
        (260 * 10**9, "260.0 GB"),
    ],
)
def test_bag_size_is_for_people(size: int, text: str) -> None:
    assert format_bag_size(size) == text


def test_payload_oxum_is_octets_dot_streams() -> None:
    assert payload_oxum(18242, 6) == "18242.6"


def test_bag_info_is_sorted_one_line_and_dated_from_the_record() -> None:
    info = make_info(
        external_description="Title\r\n   with\ta break",
        bag_group_identifier="scielo-books-37t",
        internal_sender_identifier="scielo-books:37t/05",
        source_kind="scielo-books-chapter",
        version=2,
        extra_tags={"Contact-Email": "archive@example.org", "X-Note": ["second", "first"]},
    )
    text = render_bag_info(info, oxum="10.2", bag_size="10 bytes").decode("utf-8")
    lines = text.splitlines()
    labels = [line.split(":", 1)[0] for line in lines]
    assert labels == sorted(labels, key=str.lower)
    assert "External-Description: Title with a break" in lines
    assert "Bagging-Date: 2001-02-03" in lines
    assert "Payload-Oxum: 10.2" in lines
    assert "Version: 2" in lines
    assert lines.index("X-Note: second") < lines.index("X-Note: first")  # repeated tag keeps order
    assert f"BagIt-Profile-Identifier: {project_profile().identifier}" in lines
    assert text.endswith("\n") and "\r" not in text


def test_bag_info_wants_a_date_not_a_datetime() -> None:
    with pytest.raises(ValueError, match="date"):
        make_info(bagging_date=dt.datetime(2001, 2, 3, 10, 30, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    "extra",
    [
        {"Payload-Oxum": "1.1"},  # computed by write_bag
        {"bagging-date": "2020-01-01"},  # reserved whatever the case
        {"Bad Label": "x"},
        {"Colon:Label": "x"},
        {"Empty": "   "},
    ],
)
def test_extra_tags_cannot_override_or_break_the_file(extra: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        make_info(extra_tags=extra)


def test_blank_required_value_is_refused() -> None:
    with pytest.raises(ValueError):
        make_info(external_identifier=" \n ")


def _chapter() -> SourceRecord:
    return SourceRecord(
        record_id="scielo-books-37t-05",
        source="scielo-books:37t/05",
        source_kind="scielo-books-chapter",
        title="Capítulo  cinco",
        is_part_of=Relation(title="O livro", kind="book"),
    )


def test_bag_info_from_a_chapter_record_points_at_its_book() -> None:
    info = bag_info_from_record(
        _chapter(), organization="Example Archive", bagging_date=dt.date(2024, 5, 1), version=1
    )
    assert info.external_identifier == "scielo-books-37t-05"
    assert info.bag_group_identifier == "scielo-books-37t"  # the book's record id
    assert info.internal_sender_identifier == "scielo-books:37t/05"
    assert info.external_description == "Capítulo cinco. In: O livro"
    assert info.source_kind == "scielo-books-chapter"
    assert info.bagging_date == dt.date(2024, 5, 1)


def test_bag_info_from_an_article_has_no_group() -> None:
    article = SourceRecord(
        record_id="scielo-scl-s0102-311x2020000100001",
        source="scielo-article:scl/S0102-311X2020000100001",
        source_kind="scielo-article",
        title="An article",
    )
    info = bag_info_from_record(article, organization="Org", bagging_date=dt.date(2024, 5, 1))
    assert info.bag_group_identifier is None
    assert info.external_description == "An article"


def test_bag_info_from_record_reports_a_package_error() -> None:
    with pytest.raises(PackageError, match="scielo-books-37t-05"):
        bag_info_from_record(_chapter(), organization="  ", bagging_date=dt.date(2024, 5, 1))
