"""REF parsing: every accepted form, and a clear one-line error for everything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_ingest.errors import RefError
from archive_ingest.refs import parse_ref

HOSTS = ("books.scielo.org", "127.0.0.1:8765")


@pytest.mark.parametrize(
    ("text", "canonical", "record_id"),
    [
        ("scielo-books:27bn3", "scielo-books:27bn3", "scielo-books-27bn3"),
        ("scielo-books:37t/05", "scielo-books:37t/05", "scielo-books-37t-05"),
        ("scielo-books:37t/5", "scielo-books:37t/05", "scielo-books-37t-05"),
        ("SCIELO-BOOKS:Q7GTD/12", "scielo-books:q7gtd/12", "scielo-books-q7gtd-12"),
        ("https://books.scielo.org/id/27bn3", "scielo-books:27bn3", "scielo-books-27bn3"),
        ("http://books.scielo.org/id/k3w36/16", "scielo-books:k3w36/16", "scielo-books-k3w36-16"),
        (
            "https://books.scielo.org/id/27bn3/pdf/jaco-9788575114988.pdf",
            "scielo-books:27bn3",
            "scielo-books-27bn3",
        ),
        (
            "https://books.scielo.org/id/k3w36/pdf/daza-9789978105689-16.pdf",
            "scielo-books:k3w36/16",
            "scielo-books-k3w36-16",
        ),
        (
            "http://127.0.0.1:8765/id/qhzxr/pdf/assef-9786557082331-07.pdf",
            "scielo-books:qhzxr/07",
            "scielo-books-qhzxr-07",
        ),
        (
            "scielo-article:scl/S0102-311X2008000100001",
            "scielo-article:scl/S0102-311X2008000100001",
            "scielo-scl-s0102-311x2008000100001",
        ),
    ],
)
def test_accepted_forms(text: str, canonical: str, record_id: str) -> None:
    ref = parse_ref(text, HOSTS)
    assert ref.canonical == canonical
    assert ref.record_id == record_id


def test_url_and_short_forms_resolve_to_the_same_item() -> None:
    forms = [
        "scielo-books:k3w36/16",
        "https://books.scielo.org/id/k3w36/16",
        "https://books.scielo.org/id/k3w36/pdf/daza-9789978105689-16.pdf",
    ]
    assert len({parse_ref(f, HOSTS).record_id for f in forms}) == 1


def test_file_reference_keeps_path_and_has_no_record_id_yet() -> None:
    ref = parse_ref("file:/tmp/some dir/x.pdf", HOSTS)
    assert ref.kind == "file" and ref.path == Path("/tmp/some dir/x.pdf")
    assert ref.record_id is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("nonsense", "unknown item reference"),
        ("ftp:thing", "unknown item reference scheme"),
        ("scielo-books:", "bad SciELO Books id"),
        ("scielo-books:../etc", "bad SciELO Books id"),
        ("scielo-books:abc/xx", "bad chapter number"),
        ("scielo-books:abc/05/extra", "bad SciELO Books reference"),
        ("scielo-article:scl", "three-letter collection"),
        ("scielo-article:scl/123", "bad SciELO PID"),
        ("scielo-article:../S0102-311X2008000100001", "three-letter collection"),
        ("https://evil.example/id/27bn3", "not a configured SciELO Books host"),
        ("https://books.scielo.org/about", "not a SciELO Books item URL"),
        ("https://books.scielo.org/id/27bn3/pdf/cover.jpeg", "not a SciELO Books PDF name"),
        ("scielo-books:abc\x00", "control characters"),
        ("file:", "bad file reference"),
    ],
)
def test_malformed_references_get_one_line_errors(text: str, fragment: str) -> None:
    with pytest.raises(RefError) as info:
        parse_ref(text, HOSTS)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
