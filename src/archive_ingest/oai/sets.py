"""Which OAI sets a record belongs to (pure).

Hierarchy with ':' (a record in ``license:by-nc-sa`` is also in ``license``):

- ``source`` / ``source:scielo-books`` / ``source:scielo-articles`` (``source:files`` for local)
- ``license`` / ``license:by-nc-sa`` ... (``license:cc0``, ``license:pdm``, ``license:other``)
- ``publisher`` / ``publisher:<slug>``
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

_CC = re.compile(r"creativecommons\.org/licenses/([a-z-]+)/", re.I)

TOP_NAMES = {"source": "Source", "license": "Licence", "publisher": "Publisher"}
SOURCE_NAMES = {
    "scielo-books": "SciELO Books",
    "scielo-articles": "SciELO articles",
    "files": "Local files",
}


def slug(text: str) -> str:
    """ASCII, lower case, runs of anything else as one '-' (never empty)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    value = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return value[:100] or "unknown"


def source_set(source_kind: str | None) -> str | None:
    if not source_kind:
        return None
    if source_kind.startswith("scielo-books"):
        return "scielo-books"
    if source_kind.startswith("scielo-article"):
        return "scielo-articles"
    return "files"


def licence_set(licence_uri: str | None) -> str | None:
    if not licence_uri:
        return None
    match = _CC.search(licence_uri)
    if match:
        return match.group(1).lower()
    if "publicdomain/zero" in licence_uri:
        return "cc0"
    if "publicdomain/mark" in licence_uri:
        return "pdm"
    return "other"


def record_sets(
    *, source_kind: str | None, licence_uri: str | None, publisher: str | None
) -> dict[str, str]:
    """setSpec -> setName for one record, ancestors included, in a stable order."""
    sets: dict[str, str] = {}
    src = source_set(source_kind)
    if src:
        sets["source"] = TOP_NAMES["source"]
        sets[f"source:{src}"] = f"Source: {SOURCE_NAMES[src]}"
    lic = licence_set(licence_uri)
    if lic:
        sets["license"] = TOP_NAMES["license"]
        label = lic.upper() if lic not in ("other",) else "other licence"
        sets[f"license:{lic}"] = (
            f"Licence: {'CC ' if lic not in ('cc0', 'pdm', 'other') else ''}{label}"
        )
    if publisher and publisher.strip():
        sets["publisher"] = TOP_NAMES["publisher"]
        sets[f"publisher:{slug(publisher)}"] = f"Publisher: {publisher.strip()}"
    return sets


def sets_from_catalogue(record: Mapping[str, Any], licence_uri: str | None) -> dict[str, str]:
    """Sets from a version's stored ``record`` JSON (a SourceRecord dump) and the licence."""
    return record_sets(
        source_kind=record.get("source_kind"),
        licence_uri=licence_uri or record.get("licence_url"),
        publisher=record.get("publisher"),
    )
