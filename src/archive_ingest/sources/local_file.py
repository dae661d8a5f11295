"""A PDF that arrived by hand: ``file:PATH`` with ``--metadata FILE.json|FILE.xml``.

The metadata file may be:

* our own simple JSON (documented in docs/SOURCES.md)::

      {"title": "...", "creators": [{"name": "Silva, J.", "role": "author"}, "Souza, M."],
       "publisher": "...", "date": "2020-05", "languages": ["pt"],
       "identifiers": [{"scheme": "isbn", "value": "978..."}] or {"doi": "10.1/x"},
       "pages": {"first": "40", "last": "52"} or "40-52",
       "is_part_of": {"title": "...", "kind": "book", "identifiers": {"isbn": "..."}},
       "description": "...", "subjects": ["..."], "licence": "CC BY 4.0",
       "licence_url": "https://creativecommons.org/licenses/by/4.0/", "landing_url": "https://…",
       "translated_titles": {"en": "..."}}

* Dublin Core XML: an ``oai_dc:dc`` record (alone or inside an OAI-PMH response) or any
  element whose children are ``dc:`` elements;
* JATS XML (``<article>`` with ``front/article-meta``), as SciELO publishes it.

XML is parsed with defusedxml (no DTDs, no entities, no network). The record id is
``file-`` + the first 24 hex digits of the PDF's SHA-256 — computed by the caller, who hashes
the PDF anyway (:func:`file_record_id`).

The mappers are file_json.py (our JSON) and file_xml.py (Dublin Core, JATS); what they share
(safe XML parsing, identifiers, languages, dates) is file_fields.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from archive_ingest.errors import SourceError
from archive_ingest.models import Identifier, RawMetadata, SourceRecord
from archive_ingest.refs import ItemRef
from archive_ingest.settings import Settings
from archive_ingest.sources.base import finish
from archive_ingest.sources.file_fields import DC_NS, find_oai_dc, local_name, parse_xml
from archive_ingest.sources.file_json import map_local_json
from archive_ingest.sources.file_xml import map_dublin_core, map_jats

MAX_METADATA_BYTES = 20 * 1024 * 1024


def file_record_id(pdf_sha256: str) -> str:
    """``file-`` + the first 24 hex digits of the PDF's SHA-256."""
    digest = pdf_sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"not a SHA-256 hex digest: {pdf_sha256!r}")
    return f"file-{digest[:24]}"


# --- detection ------------------------------------------------------------------------------


def metadata_format(raw: bytes) -> str:
    """``json``, ``oai_dc``, ``dc`` or ``jats`` (raises :class:`SourceError` otherwise)."""
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        return "json"
    if head == b"<":
        root = parse_xml(raw)
        if find_oai_dc(root) is not None:
            return "oai_dc"
        if local_name(root.tag) == "article" and root.find("front") is not None:
            return "jats"
        if any(child.tag.startswith(f"{{{DC_NS}}}") for child in root):
            return "dc"
        raise SourceError(
            f"metadata XML with root <{local_name(root.tag)}> is neither Dublin Core (oai_dc) "
            "nor JATS"
        )
    raise SourceError("metadata file is neither JSON nor XML")


# --- the record -----------------------------------------------------------------------------

_MAPPERS = {
    "json": map_local_json,
    "oai_dc": map_dublin_core,
    "dc": map_dublin_core,
    "jats": map_jats,
}
_RAW_NAMES = {
    "json": ("metadata.json", "application/json"),
    "oai_dc": ("oai_dc.xml", "application/xml"),
    "dc": ("dc.xml", "application/xml"),
    "jats": ("jats.xml", "application/xml"),
}


def map_local_metadata(
    raw: bytes, *, record_id: str, source: str, pdf_sha256: str | None = None
) -> SourceRecord:
    """Map a hand-supplied metadata file (any of the accepted formats) to a ``file`` record."""
    fmt = metadata_format(raw)
    fields = _MAPPERS[fmt](raw)
    identifiers: list[Identifier] = list(fields.pop("identifiers", []))
    if pdf_sha256:
        identifiers.append(Identifier(scheme="sha256", value=pdf_sha256.lower()))
    name, media_type = _RAW_NAMES[fmt]
    return finish(
        SourceRecord(
            record_id=record_id,
            source=source,
            source_kind="file",
            identifiers=identifiers,
            raw_metadata=[RawMetadata(name=name, media_type=media_type, content=raw)],
            **fields,
        )
    )


def resolve_file(
    ref: ItemRef,
    metadata_file: Path,
    pdf_sha256: str,
    settings: Settings | None = None,
    *,
    record_id: str | None = None,
) -> SourceRecord:
    """``file:PATH`` + ``--metadata FILE``: read the metadata file and map it.

    ``pdf_sha256`` is the hex SHA-256 of the PDF (the caller hashes it while copying it in);
    the record id is ``file-`` + its first 24 hex digits unless ``record_id`` is given.
    """
    if ref.kind != "file":
        raise SourceError(f"not a file reference: {ref.canonical}")
    limit = settings.fetch_metadata_max_bytes if settings is not None else MAX_METADATA_BYTES
    try:
        size = metadata_file.stat().st_size
        if size > limit:
            raise SourceError(f"metadata file {metadata_file} is {size:,} bytes, over {limit:,}")
        raw = metadata_file.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"metadata file not found: {metadata_file}") from None
    except IsADirectoryError:
        raise SourceError(f"metadata path is a directory, not a file: {metadata_file}") from None
    except PermissionError:
        raise SourceError(f"metadata file not readable: {metadata_file}") from None
    return map_local_metadata(
        raw,
        record_id=record_id or file_record_id(pdf_sha256),
        source=ref.canonical,
        pdf_sha256=pdf_sha256,
    )
