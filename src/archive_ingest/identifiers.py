"""The one form of a DOI and of an ISSN, for every package that reads or writes them (pure).

The source adapters (``sources/``), the record builders (``records/openaire.py``) and the OAI
sets (``oai/sets.py``) all meet DOIs and ISSNs written many ways; each answers the same form
from here, so a record and the sets and metadata built from it never disagree about one.
A leaf module: it imports nothing of the project.
"""

from __future__ import annotations

import re

_DOI_RE = re.compile(r"10\.[0-9]{4,9}/\S+")
#: an ISSN as people write it: an optional ``ISSN`` or ``urn:issn:`` label, the two halves with
#: or without a hyphen (or a dash or a space), a final ``x`` in either case
_ISSN_RE = re.compile(
    r"(?:urn:issn:|issn\s*:?)?\s*([0-9]{4})[-\u2010\u2011\u2013\u2014 ]?([0-9]{3}[0-9X])",
    re.IGNORECASE,
)


def normalise_doi(value: object) -> str | None:
    """The bare DOI (``10.xxxx/…``) from a DOI, ``doi:`` label or doi.org URL."""
    if not isinstance(value, str):
        return None
    match = _DOI_RE.search(value.strip())
    if not match:
        return None
    return match.group(0).rstrip(".,;)")


def normalise_issn(value: object) -> str | None:
    """``0034-8910`` (upper-case ``X``) from an ISSN in any usual spelling (``00348910``,
    ``ISSN 0034-891x``, ``urn:issn:0034-8910``); ``None`` for anything else, including text
    around the number. The check digit is not checked: publishers' records are taken as they
    state the number."""
    if not isinstance(value, str):
        return None
    match = _ISSN_RE.fullmatch(value.strip())
    return f"{match.group(1)}-{match.group(2).upper()}" if match else None
