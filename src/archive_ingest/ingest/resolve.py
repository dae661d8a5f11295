"""Resolve: a REF to a registered item (the first step; it has no version and no checkpoint).

The publisher metadata is fetched and mapped to a :class:`SourceRecord`, the item registered
in the catalogue and the record kept in ``incoming/record.json`` for the fetch stage. A
``file:`` REF copies the PDF into ``incoming/`` (digested in the same read) with the record
from ``--metadata``. Nothing is recorded as an event here: the item has no version yet.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

from archive_ingest.digests import copy_and_digest
from archive_ingest.errors import ContentError, RefError
from archive_ingest.ingest.services import Handle, Services
from archive_ingest.ingest.stage import NETWORK_RETRIES, RetryPolicy
from archive_ingest.models import SourceRecord
from archive_ingest.refs import ItemRef, parse_ref
from archive_ingest.settings import Settings
from archive_ingest.sources import resolve_file, resolve_record
from archive_ingest.workspace import ItemWorkspace, atomic_write_text, safe_filename

NAME = "resolve"
#: the publisher's pages are fetched: network retries
RETRY: RetryPolicy = NETWORK_RETRIES


def books_hosts(settings: Settings) -> tuple[str, ...]:
    parts = urlsplit(settings.scielo_books_url)
    host = (parts.hostname or "").lower()
    hosts = {"books.scielo.org", host}
    if parts.port:
        hosts.add(f"{host}:{parts.port}")
    return tuple(sorted(hosts))


def parse(ref_text: str, settings: Settings) -> ItemRef:
    return parse_ref(ref_text, books_hosts(settings))


def resolve(svc: Services, ref_text: str, metadata_path: str | None = None) -> Handle:
    """Resolve a REF to a record: fetch and map the publisher metadata, register the item."""
    ref = parse(ref_text, svc.settings)
    if ref.kind == "file":
        return _resolve_file(svc, ref, metadata_path)
    if metadata_path:
        raise RefError("--metadata is only for file: references")
    record = resolve_record(ref, svc.settings, svc.http)
    return _register(svc, record)


def _register(svc: Services, record: SourceRecord) -> Handle:
    svc.catalogue.ensure_item(
        record.record_id, source=record.source, source_kind=record.source_kind, title=record.title
    )
    ws = svc.workspace(record.record_id)
    ws.incoming.mkdir(parents=True, exist_ok=True)
    atomic_write_text(ws.incoming / "record.json", record.model_dump_json(indent=1))
    return Handle(record_id=record.record_id, source=record.source)


def _resolve_file(svc: Services, ref: ItemRef, metadata_path: str | None) -> Handle:
    if ref.path is None:
        raise RefError(f"{ref.canonical}: a file: reference names no file")
    src = ref.path.expanduser()
    if not src.is_file():
        raise RefError(f"no such PDF file: {src}")
    if not metadata_path:
        raise RefError("file: references need --metadata FILE.json|xml")
    staging = svc.settings.work_dir / "_incoming-files"
    staging.mkdir(parents=True, exist_ok=True)
    tmp = staging / f"{hashlib.sha256(str(src).encode()).hexdigest()[:16]}.pdf"
    tmp.unlink(missing_ok=True)
    with src.open("rb") as handle:
        try:
            digests = copy_and_digest(handle, tmp, max_bytes=svc.settings.fetch_max_bytes)
        except ValueError as exc:
            tmp.unlink(missing_ok=True)
            raise ContentError(f"{src}: {exc}") from None
    # a file already ingested from this path keeps its record id: a corrected PDF there is a
    # new version of that item (fetch compares the content), not a second item for one source
    known = svc.catalogue.item_by_source(ref.canonical)
    record = resolve_file(
        ref,
        Path(metadata_path),
        digests.sha256,
        svc.settings,
        record_id=known.id if known is not None else None,
    )
    handle_ = _register(svc, record)
    ws = svc.workspace(record.record_id)
    target = ws.incoming / safe_filename(src.name, default="original.pdf", suffix=".pdf")
    tmp.replace(target)
    atomic_write_text(
        ws.incoming / "local-file.json",
        json.dumps({"path": target.name, "digests": digests.model_dump(), "source": str(src)}),
    )
    return handle_


def load_incoming_record(ws: ItemWorkspace) -> SourceRecord:
    return SourceRecord.model_validate_json((ws.incoming / "record.json").read_text("utf-8"))
