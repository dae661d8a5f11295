"""Language codes: ISO 639-3 in the records, the shortest ISO 639 code in xml:lang."""

from __future__ import annotations

import pytest

from archive_ingest.errors import PackageError
from archive_ingest.records.languages import ISO639_1_TO_3, bcp47, to_iso639_3


@pytest.mark.parametrize(
    ("given", "expected"),
    [("pt", "por"), ("PT-br", "por"), ("es", "spa"), ("en_US", "eng"), ("fre", "fra"),
     ("ger", "deu"), ("por", "por"), ("arn", "arn"), ("gn", "grn"), ("qu", "que")],
)  # fmt: skip
def test_publisher_codes_become_iso639_3(given: str, expected: str) -> None:
    assert to_iso639_3(given) == expected


@pytest.mark.parametrize("given", ["", "portuguese", "p", "xx", "pt BR", "12"])
def test_non_codes_are_refused(given: str) -> None:
    with pytest.raises(PackageError):
        to_iso639_3(given)


def test_xml_lang_uses_the_shortest_code() -> None:
    assert (bcp47("por"), bcp47("pt-BR"), bcp47("arn")) == ("pt", "pt", "arn")


def test_the_table_covers_all_184_iso639_1_codes() -> None:
    assert len(ISO639_1_TO_3) == 184
    assert all(len(k) == 2 and len(v) == 3 for k, v in ISO639_1_TO_3.items())
