"""ISBN check digits, language codes, ISO dates, DOIs: the normalisers every adapter uses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_ingest.sources.normalise import (
    fold,
    isbn13_check_digit,
    iso_date,
    language_code,
    normalise_doi,
    normalise_isbn,
    plain_text,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("978-85-99662-84-7", "9788599662847"),
        ("ISBN: 978-85-232-0560-7", "9788523205607"),
        ("ISBN-13 978 9978 10 568 9", "9789978105689"),
        ("85-232-0560-8", "8523205608"),  # ISBN-10 of the same EDUFBA book
        ("0-8044-2957-x", "080442957X"),  # ISBN-10 whose check digit is X
    ],
)
def test_valid_isbns_are_normalised(text: str, value: str) -> None:
    isbn = normalise_isbn(text)
    assert isbn is not None
    assert isbn.value == value
    assert isbn.valid, isbn.problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("978-85-99662-84-8", "wrong check digit"),
        ("8523205607", "wrong check digit"),
        ("978-85-99", "not 10 or 13 digits"),
        ("n/a", "not 10 or 13 digits"),
    ],
)
def test_invalid_isbns_say_why(text: str, problem: str) -> None:
    isbn = normalise_isbn(text)
    assert isbn is not None
    assert not isbn.valid
    assert isbn.problem == problem


@pytest.mark.parametrize("text", [None, "", "   ", 9788523205607])
def test_no_isbn_is_none(text: object) -> None:
    assert normalise_isbn(text) is None


@given(st.from_regex(r"97[89][0-9]{10}", fullmatch=True), st.integers(0, 12), st.integers(1, 9))
def test_isbn13_check_digit_catches_every_single_digit_error(
    digits: str, position: int, shift: int
) -> None:
    valid = digits[:12] + isbn13_check_digit(digits[:12])
    assert normalise_isbn(valid).valid  # type: ignore[union-attr]
    wrong = valid[:position] + str((int(valid[position]) + shift) % 10) + valid[position + 1 :]
    assert not normalise_isbn(wrong).valid  # type: ignore[union-attr]


def test_isbn13_check_digit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        isbn13_check_digit("97885")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("pt", "pt"),
        ("PT", "pt"),
        ("por", "pt"),
        ("pt-BR", "pt"),
        ("pt_BR", "pt"),
        ("Português", "pt"),
        ("Portuguese", "pt"),
        ("spa", "es"),
        ("Español", "es"),
        ("eng", "en"),
        ("fre", "fr"),
        ("deu", "de"),
    ],
)
def test_language_codes(value: str, code: str) -> None:
    assert language_code(value) == code


@pytest.mark.parametrize("value", ["", "xx", "klingon", None, 3])
def test_unknown_language_is_none(value: object) -> None:
    assert language_code(value) is None


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2009", "2009"),
        (2009, "2009"),
        ("20110900", "2011-09"),  # ISIS: 00 = unknown day
        ("20110000", "2011"),
        ("20120216", "2012-02-16"),
        ("2011-09", "2011-09"),
        ("2011-09-01T00:00:00Z", "2011-09-01"),
        ("2012-03-31 00:00:00.000000", "2012-03-31"),
    ],
)
def test_iso_dates(value: object, iso: str) -> None:
    assert iso_date(value) == iso


@pytest.mark.parametrize("value", ["2011-13", "20110231", "0000", "sometime", "", None, "09/2011"])
def test_bad_dates_are_none(value: object) -> None:
    assert iso_date(value) is None


@pytest.mark.parametrize(
    ("value", "doi"),
    [
        ("10.1590/S2179-975X2012005000004", "10.1590/S2179-975X2012005000004"),
        ("http://dx.doi.org/10.1111/j.1365-2109.2006.01556.x", "10.1111/j.1365-2109.2006.01556.x"),
        ("https://doi.org/10.7476/9789978105689.0017.", "10.7476/9789978105689.0017"),
        ("doi: 10.1000/xyz", "10.1000/xyz"),
    ],
)
def test_dois(value: str, doi: str) -> None:
    assert normalise_doi(value) == doi


def test_not_a_doi() -> None:
    assert normalise_doi("S2179-975X2011000300002") is None


def test_plain_text_and_fold() -> None:
    assert plain_text("A <i>Misgurnus</i> &amp; co\n ") == "A Misgurnus & co"
    assert fold("Diálogo  Interdisciplinar!") == fold("dialogo interdisciplinar")
