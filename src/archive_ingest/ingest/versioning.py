"""The versioning policy: when fetched content is a new version, the same one, or nothing new.

An item's content is identified by its *fingerprint*: the PDF's SHA-256 plus the mapped
metadata (not the raw pages), plus, for an article the publisher lists in several languages,
the SHA-256 of each other language's PDF (or ``missing`` for one that could not be fetched):
a change in any of the PDFs is a new version. The newest version in a *settled* state
(deposited, held for review, rejected) with the same fingerprint means nothing to do (the
item is *unchanged*); the same fingerprint on an unfinished version resumes that version;
anything else opens a new version. The fetch stage applies these rules; this module only decides.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archive_ingest.catalogue.schema import Version
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import FetchCheckpoint
from archive_ingest.models import SourceRecord, State
from archive_ingest.workspace import ItemWorkspace

#: states after which a version is settled: the same content again is a no-op
SETTLED = frozenset({State.DEPOSITED.value, State.NEEDS_REVIEW.value, State.REJECTED.value})


#: SourceRecord fields added after fingerprints were first stored: they count only when set, so
#: an item whose record does not use them keeps the fingerprint its versions hold (else every
#: item in the catalogue would open a new version on its next run)
ADDED_FIELDS = ("document_type",)

#: what stands for a translation's SHA-256 when its download failed for good (held version)
MISSING = "missing"


def fingerprint(
    record: SourceRecord,
    pdf_sha256: str,
    *,
    with_hosts: bool = False,
    translations: Mapping[str, str] | None = None,
) -> str:
    """Identity of the item's content: the PDF bytes plus the mapped metadata (not raw pages).

    URLs count without scheme and host: they are rebased onto the configured source base
    (``scielo_books_url`` ...), and a mirror, a proxy, http→https or the demo's sample server on
    another port is the same content, not a new version. ``with_hosts`` gives the fingerprint
    as versions before this rule stored it, so their items still match (no mass re-version).

    ``translations`` (language -> SHA-256 or :data:`MISSING`) are the PDFs in the other
    languages; none (a book, a one-language article) leaves the fingerprint as it always was."""
    mapped = record.model_dump(mode="json", exclude={"raw_metadata", "notes"})
    for name in ADDED_FIELDS:  # unset, a later field leaves older fingerprints as they were
        if mapped.get(name) is None:
            mapped.pop(name, None)
    if not with_hosts:
        mapped = _without_hosts(mapped)
    blob = json.dumps(mapped, sort_keys=True, ensure_ascii=False) + pdf_sha256
    if translations:
        blob += json.dumps(sorted(translations.items()), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _without_hosts(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_hosts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_hosts(item) for item in value]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    return value


def same_content(
    latest: Version,
    record: SourceRecord,
    pdf_sha256: str,
    translations: Mapping[str, str] | None = None,
) -> bool:
    """Whether ``latest`` holds this record and these PDFs (either fingerprint rule)."""
    stored = (latest.summary or {}).get("fingerprint")
    return stored is not None and stored in (
        fingerprint(record, pdf_sha256, translations=translations),
        fingerprint(record, pdf_sha256, with_hosts=True, translations=translations),
    )


def stored_translations(latest: Version) -> dict[str, dict[str, Any]]:
    """What the fetch of ``latest`` recorded per translation (language -> url, sha256, etag,
    last_modified; sha256 :data:`MISSING` for one it could not fetch)."""
    value = (latest.summary or {}).get("translations")
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, dict)}


def settled(latest: Version) -> bool:
    return latest.state in SETTLED


def unfetched(ws: ItemWorkspace, latest: Version, pdf_sha256: str) -> bool:
    """Whether ``latest`` was opened for this very PDF and its fetch never finished (no
    checkpoint, not settled): nothing was built on it, so the fetch is redone into it."""
    return (
        latest.original_sha256 == pdf_sha256
        and latest.state not in SETTLED
        and latest.state != State.APPROVED.value
        and checkpoints.load(ws, latest.version, FetchCheckpoint) is None
    )
