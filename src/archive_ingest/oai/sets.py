"""Which OAI sets a record belongs to (pure).

Hierarchy with ':' (a record in ``license:by-nc-sa`` is also in ``license``):

- ``source`` / ``source:scielo-books`` / ``source:scielo-articles`` (``source:files`` for local)
- ``license`` / ``license:by-nc-sa`` ... (``license:cc0``, ``license:pdm``, ``license:other``)
- ``publisher`` / ``publisher:<slug>``
- ``collection`` / ``collection:scl`` ...: the SciELO journal collection of an article
  (the three-letter code of its REF, ``scielo-article:scl/<PID>``)
- ``issn`` / ``issn:0034-8910``: the journal of an article, by each of its ISSNs (print and
  electronic; the record's own identifiers and its ``is_part_of``)

and two flat sets that aggregators of open-access literature harvest, both holding the
records whose full text is open access (a Creative Commons or public-domain licence, and an
access copy that ``serve`` hands out at ``/access/<id>/v<N>``):

- ``openaire`` ("OpenAIRE"): the set the OpenAIRE Guidelines for Literature Repositories
  name (``openaire_data`` is the one for data archives, not ours);
- ``driver`` ("Open Access DRIVERset"): the DRIVER Guidelines 2.0 set of textual
  open-access resources with their full text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from archive_ingest.identifiers import normalise_issn
from archive_ingest.records.vocab import is_open_access

_CC = re.compile(r"creativecommons\.org/licenses/([a-z-]+)/", re.I)
_COLLECTION = re.compile(r"^[a-z]{3}$")
_ARTICLE_SOURCE = re.compile(r"^scielo-article:([a-z]{3})/")

TOP_NAMES = {
    "source": "Source",
    "license": "Licence",
    "publisher": "Publisher",
    "collection": "SciELO collection",
    "issn": "Journal (ISSN)",
}
SOURCE_NAMES = {
    "scielo-books": "SciELO Books",
    "scielo-articles": "SciELO articles",
    "files": "Local files",
}
#: the flat sets of open-access full texts: setSpec -> setName, as the guidelines name them
OPEN_ACCESS_SETS = {"openaire": "OpenAIRE", "driver": "Open Access DRIVERset"}


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


def issn_set(value: str | None) -> str | None:
    """``0034-8910`` for an ISSN in any usual spelling, None for anything else."""
    return normalise_issn(value)


def record_sets(
    *,
    source_kind: str | None,
    licence_uri: str | None,
    publisher: str | None,
    collection: str | None = None,
    issns: Iterable[str] = (),
    journal: str | None = None,
    full_text: bool = False,
) -> dict[str, str]:
    """setSpec -> setName for one record, ancestors included, in a stable order.

    ``full_text``: the record's access copy is served; with an open licence the record is in
    the ``openaire`` and ``driver`` sets."""
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
    code = (collection or "").strip().lower()
    if _COLLECTION.fullmatch(code):
        sets["collection"] = TOP_NAMES["collection"]
        sets[f"collection:{code}"] = f"SciELO collection: {code}"
    found = [s for s in dict.fromkeys(issn_set(i) for i in issns) if s]
    if found:
        sets["issn"] = TOP_NAMES["issn"]
        title = " ".join((journal or "").split())
        for issn in found:
            sets[f"issn:{issn}"] = f"Journal: {title} (ISSN {issn})" if title else f"ISSN {issn}"
    if full_text and is_open_access(licence_uri):
        sets.update(OPEN_ACCESS_SETS)
    return sets


def _identifiers(value: Any) -> list[Mapping[str, Any]]:
    return [i for i in value if isinstance(i, Mapping)] if isinstance(value, list) else []


def _record_issns(record: Mapping[str, Any]) -> tuple[list[str], str | None]:
    """The ISSNs of a record's journal (its own identifiers, then its ``is_part_of``'s) and
    the journal's title when the record is part of one."""
    parent = record.get("is_part_of")
    parent = parent if isinstance(parent, Mapping) else {}
    values = [
        str(i.get("value") or "")
        for i in [
            *_identifiers(record.get("identifiers")),
            *_identifiers(parent.get("identifiers")),
        ]
        if i.get("scheme") in ("issn", "eissn")
    ]
    title = parent.get("title") if parent.get("kind") in ("journal-issue", "journal") else None
    return values, title if isinstance(title, str) else None


def collection_of(record: Mapping[str, Any]) -> str | None:
    """The SciELO journal collection of an article record (from its REF)."""
    match = _ARTICLE_SOURCE.match(str(record.get("source") or ""))
    return match.group(1) if match else None


def sets_from_catalogue(
    record: Mapping[str, Any], licence_uri: str | None, *, full_text: bool = False
) -> dict[str, str]:
    """Sets from a version's stored ``record`` JSON (a SourceRecord dump) and the licence;
    ``full_text``: the version's access copy is served (:func:`record_sets`)."""
    issns, journal = _record_issns(record)
    return record_sets(
        source_kind=record.get("source_kind"),
        licence_uri=licence_uri or record.get("licence_url"),
        publisher=record.get("publisher"),
        collection=collection_of(record),
        issns=issns,
        journal=journal,
        full_text=full_text,
    )
