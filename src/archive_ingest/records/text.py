"""XML-safe text: every string that goes into a record passes through here.

lxml refuses some characters with a ``ValueError`` and happily writes others that a
validator or an OAI harvester will choke on. Rather than let either happen, text is cleaned
the same way everywhere, and a *required* value that is empty after cleaning is refused
with a :class:`PackageError` naming the field.

Cleaning (and nothing else, so meaning is kept):

* Unicode NFC normalisation (a base letter + combining accent becomes one code point
  where Unicode has one; marks with no precomposed form are kept as they are);
* removal of everything XML 1.0 cannot hold (C0 controls other than TAB/LF/CR, NUL,
  lone surrogates, U+FFFE, U+FFFF) and of what XML 1.0 *discourages* (C1 controls,
  Unicode noncharacters such as U+FDD0 or U+1FFFE) and U+FEFF (a BOM inside text);
* whitespace: single-line values collapse every run of whitespace (tabs, newlines,
  U+2028 ...) to one space and are stripped; multi-line values keep their line breaks.

Right-to-left text and bidirectional marks are legal XML and are kept as they are.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from archive_ingest.errors import PackageError

# Characters removed: not XML 1.0 Char, or discouraged (C1 controls, noncharacters, BOM).
_REMOVE_RE = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f"  # C0 controls except TAB, LF, CR
    "\x7f-\x9f"  # DEL and C1 controls
    "\ud800-\udfff"  # lone surrogates (a Python str can hold them, XML cannot)
    "\ufdd0-\ufdef"  # noncharacters
    "\ufeff"  # BOM / zero-width no-break space
    "\ufffe\uffff"
    "]"
    "|[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)
_SPACE_RE = re.compile(r"\s+")
# Line breaks of every kind, for multi-line values.
_LINE_BREAK_RE = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~-._"
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _strip_illegal(value: str) -> str:
    # Remove surrogates first: NFC normalisation cannot encode a lone surrogate.
    value = _REMOVE_RE.sub("", value)
    value = unicodedata.normalize("NFC", value)
    # NFC never creates illegal characters, but be certain.
    return _REMOVE_RE.sub("", value)


def clean_line(value: str | None) -> str | None:
    """A single-line value (title, name, attribute) cleaned for XML; ``None`` when empty."""
    if value is None:
        return None
    cleaned = _SPACE_RE.sub(" ", _strip_illegal(value)).strip()
    return cleaned or None


def clean_block(value: str | None) -> str | None:
    """A multi-line value (description, note) cleaned for XML; ``None`` when empty."""
    if value is None:
        return None
    text = _strip_illegal(value)
    lines = [_SPACE_RE.sub(" ", line).strip() for line in _LINE_BREAK_RE.split(text)]
    cleaned = "\n".join(lines).strip()
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    return cleaned or None


def require_line(value: str | None, field: str) -> str:
    """Like :func:`clean_line`, but refuse a value that is missing or empty after cleaning."""
    cleaned = clean_line(value)
    if cleaned is None:
        raise PackageError(
            f"{field} is empty (or holds only characters an XML record cannot contain): {value!r}"
        )
    return cleaned


def clean_uri(value: str | None) -> str | None:
    """An absolute URI (or IRI) cleaned and percent-encoded so it is a valid xs:anyURI.

    Returns ``None`` for an empty value or one that is not an absolute URI (no scheme):
    a URI-typed element must never hold a bare word.
    """
    line = clean_line(value)
    if line is None or not _SCHEME_RE.match(line):
        return None
    return quote(line, safe=_URI_SAFE)


def is_xml_safe(value: str) -> bool:
    """Whether ``value`` needs no cleaning at all (used by the profile checks and tests)."""
    return _REMOVE_RE.search(value) is None
