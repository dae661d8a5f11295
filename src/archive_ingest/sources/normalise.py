"""Small pure normalisers shared by the adapters: ISBNs, languages, dates, roles, text.

Publishers write the same fact many ways ("978-85-232-0560-7", "por", "pt_BR", "20110900",
"individual_author"); the record keeps one form so that later stages (Dublin Core, METS, the
catalogue) never have to guess. Nothing here raises on odd input: it answers ``None`` or says
what was wrong, and the adapter decides whether that is a note or a missing field.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from dataclasses import dataclass

# the DOI's one form, shared with records/openaire.py, re-exported for the adapters
from archive_ingest.identifiers import normalise_doi as normalise_doi

# --- text -----------------------------------------------------------------------------------

_WS_RE = re.compile(r"\s+")
_TAG_RE = re.compile(r"<[^>]*>")


def clean_text(value: object) -> str | None:
    """Collapse whitespace; ``None`` for anything empty or not a string."""
    if not isinstance(value, str):
        return None
    text = _WS_RE.sub(" ", value).strip()
    return text or None


def plain_text(value: object) -> str | None:
    """Text from an HTML-ish string (ArticleMeta titles carry entities and <i> tags)."""
    if not isinstance(value, str):
        return None
    return clean_text(html.unescape(_TAG_RE.sub("", value)))


def fold(text: str) -> str:
    """A comparison key: case, accents, punctuation and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


# --- ISBN -----------------------------------------------------------------------------------

_ISBN_PREFIX_RE = re.compile(r"^\s*ISBN(?:-1[03])?\s*:?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Isbn:
    """An ISBN as digits (and a final X), with the verdict of its check digit."""

    value: str
    valid: bool
    problem: str | None = None


def normalise_isbn(text: object) -> Isbn | None:
    """Strip the label, hyphens and spaces; check the check digit. ``None`` for empty input."""
    if not isinstance(text, str) or not text.strip():
        return None
    value = re.sub(r"[\s\-‐‑–.]", "", _ISBN_PREFIX_RE.sub("", text)).upper()
    if re.fullmatch(r"[0-9]{9}[0-9X]", value):
        return Isbn(value, _isbn10_ok(value), None if _isbn10_ok(value) else "wrong check digit")
    if re.fullmatch(r"[0-9]{13}", value):
        ok = _isbn13_ok(value)
        return Isbn(value, ok, None if ok else "wrong check digit")
    return Isbn(value, False, "not 10 or 13 digits")


def _isbn10_ok(value: str) -> bool:
    total = 0
    for position, char in enumerate(value):
        digit = 10 if char == "X" else int(char)
        total += (10 - position) * digit
    return total % 11 == 0


def _isbn13_ok(value: str) -> bool:
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(value))
    return total % 10 == 0


def isbn13_check_digit(first12: str) -> str:
    """The check digit that completes 12 digits into a valid ISBN-13."""
    if not re.fullmatch(r"[0-9]{12}", first12):
        raise ValueError(f"need 12 digits, got {first12!r}")
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


# --- languages ------------------------------------------------------------------------------

# ISO 639-2/B, 639-2/T and 639-3 codes and common names (en/pt/es) -> ISO 639-1. Only the
# languages SciELO publishes in with any frequency; an unknown value is reported, not guessed.
_LANGUAGES: dict[str, str] = {}
for _code, _aliases in {
    "pt": ("por", "portuguese", "português", "portugues", "portugués"),
    "es": ("spa", "spanish", "español", "espanol", "espanhol", "castellano"),
    "en": ("eng", "english", "inglês", "ingles", "inglés"),
    "fr": ("fre", "fra", "french", "français", "francais", "francês", "francés"),
    "de": ("ger", "deu", "german", "deutsch", "alemão", "alemán"),
    "it": ("ita", "italian", "italiano"),
    "ca": ("cat", "catalan", "català", "catalão", "catalán"),
    "gl": ("glg", "galician", "galego", "gallego"),
    "la": ("lat", "latin", "latim", "latín"),
    "ru": ("rus", "russian", "russo", "ruso"),
    "zh": ("chi", "zho", "chinese", "chinês", "chino"),
    "ja": ("jpn", "japanese", "japonês", "japonés"),
    "af": ("afr", "afrikaans"),
    "gn": ("grn", "guarani", "guaraní"),
    "qu": ("que", "quechua", "quéchua"),
    "nl": ("dut", "nld", "dutch", "holandês", "neerlandés"),
}.items():
    _LANGUAGES[_code] = _code
    for _alias in _aliases:
        _LANGUAGES[_alias] = _code


def language_code(value: object) -> str | None:
    """ISO 639-1 (lower case) for a code, a tagged code ("pt-BR", "pt_BR") or a name."""
    if not isinstance(value, str):
        return None
    text = value.strip().casefold()
    if not text:
        return None
    if text in _LANGUAGES:
        return _LANGUAGES[text]
    primary = re.split(r"[-_]", text, maxsplit=1)[0]
    return _LANGUAGES.get(primary)


# --- dates ----------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(?P<y>[0-9]{4})(?:-(?P<m>[0-9]{2})(?:-(?P<d>[0-9]{2}))?)?$")
_ISIS_DATE_RE = re.compile(r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})$")


def iso_date(value: object) -> str | None:
    """ISO 8601 ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` from the forms SciELO uses.

    Accepts ISO dates (optionally followed by a time), the ISIS form ``YYYYMMDD`` in which
    ``00`` means "unknown" (``20110900`` is September 2011, as xylose reads it), and a bare year.
    Impossible dates answer ``None``.
    """
    if isinstance(value, int) and 1000 <= value <= 9999:
        return str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    text = re.split(r"[T ]", text, maxsplit=1)[0] if len(text) > 10 else text
    match = _DATE_RE.fullmatch(text) or _ISIS_DATE_RE.fullmatch(text)
    if not match:
        return None
    year, month, day = match.group("y"), match.group("m"), match.group("d")
    if year == "0000":
        return None
    if not month or month == "00":
        return year
    if not 1 <= int(month) <= 12:
        return None
    if not day or day == "00":
        return f"{year}-{month}"
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    return f"{year}-{month}-{day}"


# --- creator roles --------------------------------------------------------------------------

#: SciELO Books role names (staff/models.py) -> our role name; corporate_author also sets
#: ``Creator.corporate``. Anything else becomes "other" with a note.
BOOK_ROLES: dict[str, str] = {
    "individual_author": "author",
    "corporate_author": "author",
    "organizer": "organizer",
    "editor": "editor",
    "translator": "translator",
    "coordinator": "coordinator",
    "collaborator": "collaborator",
    "other": "other",
}

#: SciELO Books builds a PDF's short name from the first creator of the first role present in
#: this order (staff/models.py, Monograph.shortname).
SHORTNAME_ROLE_ORDER: tuple[str, ...] = (
    "individual_author",
    "organizer",
    "coordinator",
    "translator",
    "collaborator",
    "editor",
    "corporate_author",
    "other",
)

#: Role abbreviations printed after names in SciELO citations ("RIBEIRO, MTF., org.").
CITATION_ROLES: dict[str, str] = {
    "org": "organizer",
    "orgs": "organizer",
    "ed": "editor",
    "eds": "editor",
    "coord": "coordinator",
    "coords": "coordinator",
    "trad": "translator",
    "trads": "translator",
    "tr": "translator",
    "comp": "other",
    "comps": "other",
}

#: ArticleMeta author role codes (v10 subfield r) -> our role name.
ARTICLE_ROLES: dict[str, str] = {
    "nd": "author",
    "": "author",
    "ed": "editor",
    "edt": "editor",
    "org": "organizer",
    "coord": "coordinator",
    "tr": "translator",
    "trad": "translator",
    "com": "collaborator",
}
