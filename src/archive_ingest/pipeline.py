"""The stages of ``ingest_item``, as plain functions over (record id, version).

Each stage reads what it needs from the item's workspace and the catalogue, writes its files
into the package payload, records PREMIS-style events, saves a checkpoint and returns a small
summary. The Prefect flow in ``flows/ingest.py`` only strings them together and adds retries;
``archive-ingest ingest`` runs that flow. Stages are idempotent: a finished stage is skipped.

    resolve  → fetch → inspect → ocr → licence → describe → package → deposit | hold
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field

from archive_ingest import __version__
from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.schema import Item, Version
from archive_ingest.digests import copy_and_digest, write_and_digest
from archive_ingest.errors import (
    ArchiveIngestError,
    ContentError,
    OcrError,
    PackageError,
    PdfError,
    RefError,
    StorageError,
)
from archive_ingest.http import SourceHttp
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import (
    DescribeCheckpoint,
    FetchCheckpoint,
    InspectCheckpoint,
    LicenceCheckpoint,
    OcrCheckpoint,
    PackageCheckpoint,
)
from archive_ingest.models import (
    Digests,
    Event,
    FileInfo,
    SourceRecord,
    State,
)
from archive_ingest.refs import ItemRef, parse_ref
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.settings import Settings
from archive_ingest.workspace import (
    ItemWorkspace,
    atomic_write_text,
    ensure_home,
    safe_filename,
    sweep_work_folders,
)

log = logging.getLogger(__name__)

SOFTWARE = f"archive-ingest {__version__}"
#: states after which a version is settled: the same content again is a no-op
_SETTLED = frozenset({State.DEPOSITED.value, State.NEEDS_REVIEW.value, State.REJECTED.value})


class ItemResult(BaseModel):
    """The one JSON object `archive-ingest ingest` prints per item."""

    id: str | None
    source: str
    state: str
    reasons: list[str] = Field(default_factory=list)
    licence: str | None = None
    bag: str | None = None
    version: int | None = None
    licence_outcome: str | None = None  # valid | needs_review | rejected (null: not checked)


class Handle(BaseModel):
    """What the flow passes from stage to stage: ids and paths, never the bytes."""

    record_id: str
    source: str
    version: int | None = None
    unchanged: bool = False
    reasons: list[str] = Field(default_factory=list)


@dataclass
class Services:
    """The side-effecting parts a run needs, built once per flow run."""

    settings: Settings
    catalogue: Catalogue
    http: SourceHttp

    @classmethod
    def open(cls, settings: Settings) -> Services:
        from archive_ingest.sources import allowed_hosts

        ensure_home(settings.home)
        catalogue = Catalogue.open(settings.effective_database_url)
        http = SourceHttp(settings, allowed_hosts(settings))
        return cls(settings=settings, catalogue=catalogue, http=http)

    def close(self) -> None:
        self.http.close()
        self.catalogue.close()

    def workspace(self, record_id: str) -> ItemWorkspace:
        return ItemWorkspace(self.settings.home, record_id)


# --- resolve -----------------------------------------------------------------------------------
def books_hosts(settings: Settings) -> tuple[str, ...]:
    from urllib.parse import urlsplit

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
    from archive_ingest.sources import resolve_record

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
    from archive_ingest.sources.local_file import resolve_file

    assert ref.path is not None
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


# --- fetch -------------------------------------------------------------------------------------
def _fingerprint(record: SourceRecord, pdf_sha256: str, *, with_hosts: bool = False) -> str:
    """Identity of the item's content: the PDF bytes plus the mapped metadata (not raw pages).

    URLs count without scheme and host: they are rebased onto the configured source base
    (``scielo_books_url`` ...), and a mirror, a proxy, http→https or the demo's sample server on
    another port is the same content, not a new version. ``with_hosts`` gives the fingerprint
    as versions before this rule stored it, so their items still match (no mass re-version)."""
    mapped = record.model_dump(mode="json", exclude={"raw_metadata", "notes"})
    if not with_hosts:
        mapped = _without_hosts(mapped)
    blob = json.dumps(mapped, sort_keys=True, ensure_ascii=False) + pdf_sha256
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


def _same_content(latest: Version, record: SourceRecord, pdf_sha256: str) -> bool:
    stored = (latest.summary or {}).get("fingerprint")
    return stored is not None and stored in (
        _fingerprint(record, pdf_sha256),
        _fingerprint(record, pdf_sha256, with_hosts=True),
    )


def _unchanged(svc: Services, handle: Handle, latest: Version) -> Handle:
    """Nothing new to ingest. A deposited item is (re)published for harvesters: a run killed
    between the deposit's last commit and the OAI-PMH publication left it unpublished, and
    publishing is idempotent (the datestamp moves only when the record changes)."""
    if latest.state == State.DEPOSITED.value:
        _publish_for_harvesters(svc, handle.record_id)
    return handle.model_copy(update={"version": latest.version, "unchanged": True})


def _unfetched(ws: ItemWorkspace, latest: Version, pdf_sha256: str) -> bool:
    """Whether ``latest`` was opened for this very PDF and its fetch never finished (no
    checkpoint, not settled): nothing was built on it, so the fetch is redone into it."""
    return (
        latest.original_sha256 == pdf_sha256
        and latest.state not in _SETTLED
        and latest.state != State.APPROVED.value
        and checkpoints.load(ws, latest.version, FetchCheckpoint) is None
    )


def fetch(svc: Services, handle: Handle) -> Handle:
    """Download the PDF (streamed, bounded, digested once) and open a version for it.

    Same content as the newest version that reached a final state → nothing to do
    (``unchanged``). Same content as an unfinished version → resume it (when a killed run left
    it without a fetch checkpoint, the fetch is redone into it: files and events replaced, not
    added twice). Otherwise a new version.
    """
    ws = svc.workspace(handle.record_id)
    for folder in sweep_work_folders(ws.tmp):  # what a killed earlier run of this item left
        log.info("removed the work folder %s a killed run left", folder)
    record = load_incoming_record(ws)
    item = svc.catalogue.get_item(handle.record_id)
    assert item is not None
    latest = (
        svc.catalogue.get_version(handle.record_id, item.current_version)
        if (item.current_version)
        else None
    )
    if latest is not None and _approved(svc, handle.record_id, latest):
        latest = _deposit_approved_first(svc, handle, latest.version)

    started = Event(event_type="capture", detail="", agent=SOFTWARE)
    if record.source_kind == "file":
        meta = json.loads((ws.incoming / "local-file.json").read_text("utf-8"))
        pdf_path = ws.incoming / meta["path"]
        digests = Digests.model_validate(meta["digests"])
        url, etag, last_modified, media_type = None, None, None, "application/pdf"
        capture_detail = f"copied from local file {meta['source']}"
    else:
        url = record.primary_pdf_url()
        if not url:
            raise ContentError("the publisher metadata names no PDF for this item")
        name = safe_filename(url.split("?", 1)[0], default="original.pdf", suffix=".pdf")
        pdf_path = ws.incoming / name
        pdf_path.unlink(missing_ok=True)
        settled = latest is not None and latest.state in _SETTLED
        download = svc.http.download(
            url,
            pdf_path,
            etag=item.source_etag if settled else None,
            last_modified=item.source_last_modified if settled else None,
        )
        if download.not_modified:
            # 304: the PDF is the one we hold; unchanged unless the metadata changed
            assert latest is not None
            if _same_content(latest, record, latest.original_sha256 or ""):
                return _unchanged(svc, handle, latest)
            download = svc.http.download(url, pdf_path)
        assert download.path is not None and download.digests is not None
        digests, etag, last_modified = download.digests, download.etag, download.last_modified
        media_type = download.media_type or "application/pdf"
        capture_detail = (
            f"GET {download.url} ({download.attempts} attempt(s), {download.seconds:.2f} s)"
        )
        url = download.url

    fingerprint = _fingerprint(record, digests.sha256)
    version: int | None = None
    if latest is not None and _same_content(latest, record, digests.sha256):
        if latest.state in _SETTLED:
            pdf_path.unlink(missing_ok=True)
            return _unchanged(svc, handle, latest)
        if checkpoints.load(ws, latest.version, FetchCheckpoint) is not None:
            pdf_path.unlink(missing_ok=True)
            return handle.model_copy(update={"version": latest.version})
        version = latest.version  # opened, its fetch never finished: redo it into this version
    elif latest is not None and _unfetched(ws, latest, digests.sha256):
        version = latest.version  # same PDF, opened before the fingerprint was stored with it

    if version is None:
        # the fingerprint goes in with the row: a run killed before this stage ends finds the
        # version again by its content and finishes it, instead of opening another
        version = svc.catalogue.new_version(
            handle.record_id,
            original_sha256=digests.sha256,
            work_dir=ws.version_dir(0).parent,
            summary={"fingerprint": fingerprint, "url": url},
        )
    data = ws.data_dir(version)
    if ws.version_dir(version).exists():  # what an interrupted fetch into it left: redone
        shutil.rmtree(ws.version_dir(version))
    (data / "original").mkdir(parents=True)
    original_rel = f"original/{pdf_path.name}"
    pdf_path.replace(data / original_rel)
    original = FileInfo(
        role="original", path=original_rel, digests=digests, media_type="application/pdf"
    )
    source_files = []
    for raw in record.raw_metadata:
        rel = f"source-metadata/{raw.name}"
        source_files.append(
            FileInfo(
                role="source-metadata",
                path=rel,
                digests=write_and_digest(data / rel, raw.content),
                media_type=raw.media_type or "application/octet-stream",
            )
        )
    events = [
        started.model_copy(
            update={
                "detail": capture_detail,
                "outcome_detail": {
                    "url": url,
                    "declared_type": media_type,
                    "etag": etag,
                    "last_modified": last_modified,
                },
                "object_roles": ["original"],
            }
        ),
        Event(
            event_type="message digest calculation",
            agent=SOFTWARE,
            detail="sha256 and sha512 computed in the same read as the download",
            outcome_detail={
                "size": digests.size,
                "sha256": digests.sha256,
                "sha512": digests.sha512,
            },
            object_roles=["original"],
        ),
    ]
    svc.catalogue.record_fetch(
        handle.record_id,
        version,
        files=[original, *source_files],
        events=events,
        summary={"fingerprint": fingerprint, "url": url},
        record=record.model_dump(mode="json", exclude={"raw_metadata"}),
        work_dir=str(ws.version_dir(version)),
        source_etag=etag,
        source_last_modified=last_modified,
        title=record.title,
    )
    checkpoints.save(
        ws,
        version,
        FetchCheckpoint(
            url=url,
            original=original,
            source_files=source_files,
            fingerprint=fingerprint,
            etag=etag,
            last_modified=last_modified,
        ),
    )
    crashpoint("after-fetch")
    return handle.model_copy(update={"version": version})


# --- inspect -----------------------------------------------------------------------------------
def inspect(svc: Services, handle: Handle) -> Handle:
    """Inspect the PDF, identify formats, and complete chapter metadata from page one."""
    from archive_ingest.formats import identify
    from archive_ingest.pdf.inspection import inspect_pdf

    assert handle.version is not None
    ws = svc.workspace(handle.record_id)
    if checkpoints.load(ws, handle.version, InspectCheckpoint) is not None:
        return handle
    fetched = checkpoints.load(ws, handle.version, FetchCheckpoint)
    assert fetched is not None
    data = ws.data_dir(handle.version)
    record = load_incoming_record(ws)
    try:
        inspection = inspect_pdf(data / fetched.original.path)
    except PdfError as exc:
        svc.catalogue.add_events(
            handle.record_id,
            handle.version,
            [
                Event(
                    event_type="validation",
                    outcome="failure",
                    agent=SOFTWARE,
                    detail=f"PDF inspection: {exc}",
                    object_roles=["original"],
                )
            ],
        )
        raise
    if inspection.encrypted:
        raise PdfError("the PDF is encrypted; the archive does not keep encrypted masters")
    if inspection.page_count < 1:
        raise PdfError("the PDF has no pages")

    files = [fetched.original, *fetched.source_files]
    identified: list[FileInfo] = []
    fmt_events: list[Event] = []
    for info in files:
        fmt = identify(data / info.path)
        identified.append(
            info.model_copy(
                update={
                    "puid": fmt.puid,
                    "format_name": fmt.format_name,
                    "format_version": fmt.format_version,
                    "identified_by": f"{fmt.tool} {fmt.tool_version}",
                }
            )
        )
        fmt_events.append(
            Event(
                event_type="format identification",
                agent=f"{fmt.tool} {fmt.tool_version}",
                detail=f"{info.path}: {fmt.puid or 'unidentified'} ({fmt.format_name or '?'})",
                outcome="success" if fmt.puid else "warning",
                outcome_detail={"path": info.path, "puid": fmt.puid, "basis": fmt.basis},
                object_roles=[info.role],
            )
        )
    if record.source_kind == "scielo-books-chapter":
        from archive_ingest.sources import enrich_chapter_from_pdf_text

        record = enrich_chapter_from_pdf_text(record, inspection.first_page_text)
    validation = Event(
        event_type="validation",
        agent=SOFTWARE,
        object_roles=["original"],
        detail=(
            f"PDF {inspection.pdf_version}, {inspection.page_count} pages, "
            f"{inspection.pages_with_text} with a text layer"
        ),
        outcome="warning" if inspection.warnings or inspection.has_javascript else "success",
        outcome_detail={
            "javascript": inspection.has_javascript,
            "embedded_files": inspection.has_embedded_files,
            "warnings": inspection.warnings,
        },
    )
    svc.catalogue.add_files(handle.record_id, handle.version, identified)
    svc.catalogue.add_events(handle.record_id, handle.version, [*fmt_events, validation])
    svc.catalogue.update_version(
        handle.record_id,
        handle.version,
        record=record.model_dump(mode="json", exclude={"raw_metadata"}),
    )
    svc.catalogue.set_state(
        handle.record_id, State.INSPECTED, [], version=handle.version, title=record.title
    )
    checkpoints.save(
        ws,
        handle.version,
        fetched.model_copy(
            update={
                "original": identified[0],
                "source_files": identified[1:],
            }
        ),
    )
    checkpoints.save(
        ws,
        handle.version,
        InspectCheckpoint(
            inspection=inspection,
            record=record,
        ),
    )
    return handle


# --- ocr -----------------------------------------------------------------------------------------


def _identify_new(data: Path, rel: str, role: str, media_type: str) -> FileInfo:
    """Digest (once: the file was just written) and identify a derivative."""
    from archive_ingest.digests import digest_file
    from archive_ingest.formats import identify

    fmt = identify(data / rel)
    return FileInfo(
        role=role,  # type: ignore[arg-type]
        path=rel,
        digests=digest_file(data / rel),
        media_type=fmt.media_type or media_type,
        puid=fmt.puid,
        format_name=fmt.format_name,
        format_version=fmt.format_version,
        identified_by=f"{fmt.tool} {fmt.tool_version}",
    )


def ocr(svc: Services, handle: Handle) -> Handle:
    """Re-OCR in a child process with the per-page gate; access copy, text, hOCR per page."""
    from archive_ingest.ocr import run_ocr_stage

    assert handle.version is not None
    ws = svc.workspace(handle.record_id)
    if ws.checkpoint_path(handle.version, "ocr").is_file():
        return handle
    fetched = checkpoints.load(ws, handle.version, FetchCheckpoint)
    inspected = checkpoints.load(ws, handle.version, InspectCheckpoint)
    assert fetched is not None and inspected is not None
    pages, limit = inspected.inspection.page_count, svc.settings.ocr_max_pages
    if pages > limit:  # fail fast and clearly, rather than time out hours later
        raise OcrError(
            f"the PDF has {pages} pages, more than ocr_max_pages ({limit}); not OCRed. Raise "
            "ARCHIVE_INGEST_OCR_MAX_PAGES (and ARCHIVE_INGEST_OCR_TIMEOUT_SECONDS) and re-run: "
            "the fetched original is kept and the ingest resumes at OCR"
        )
    data = ws.data_dir(handle.version)
    for leftover in ("access", "text", "ocr"):  # a crashed earlier attempt
        shutil.rmtree(data / leftover, ignore_errors=True)
    result = run_ocr_stage(
        data / fetched.original.path,
        data,
        inspected.ocr_languages or inspected.record.languages,
        svc.settings,
        original_sha256=fetched.original.digests.sha256,
        scratch=ws.tmp,
    )
    files = [
        _identify_new(data, result.access_path, "access", "application/pdf"),
        _identify_new(data, result.text_path, "text", "text/plain"),
        *[_identify_new(data, p, "ocr-page", "text/html") for p in result.hocr_paths],
        _identify_new(data, result.report_path, "ocr-report", "application/json"),
    ]
    svc.catalogue.add_files(handle.record_id, handle.version, files)
    svc.catalogue.add_events(handle.record_id, handle.version, result.events)
    svc.catalogue.update_version(
        handle.record_id,
        handle.version,
        summary={
            **_summary(svc, handle),
            "ocr": {
                "decisions": result.decisions(),
                "access_format": result.access_format,
                "languages": result.languages,
                "pages": len(result.pages),
            },
        },
    )
    svc.catalogue.set_state(handle.record_id, State.OCR_DONE, [], version=handle.version)
    checkpoints.save(
        ws,
        handle.version,
        OcrCheckpoint(
            result=result.model_dump(mode="json"),
            files=files,
            needs_review=list(result.needs_review_reasons),
        ),
    )
    crashpoint("after-ocr")
    return handle


def _summary(svc: Services, handle: Handle) -> dict[str, Any]:
    assert handle.version is not None
    row = svc.catalogue.get_version(handle.record_id, handle.version)
    return dict(row.summary or {}) if row else {}


# --- licence -------------------------------------------------------------------------------------


def licence(svc: Services, handle: Handle) -> Handle:
    """Validate the Creative Commons licence from metadata, the PDF statement and XMP."""
    from archive_ingest.licence import LicencePolicy, LicenceVerdict, validate_licence

    assert handle.version is not None
    ws = svc.workspace(handle.record_id)
    if ws.checkpoint_path(handle.version, "licence").is_file():
        return handle
    inspected = checkpoints.load(ws, handle.version, InspectCheckpoint)
    assert inspected is not None
    record = inspected.record
    metadata = [v for v in (record.licence_statement, record.licence_url) if v]
    verdict: LicenceVerdict = validate_licence(
        metadata=metadata,
        pdf_text=inspected.inspection.first_page_text,
        xmp=inspected.inspection.xmp,
        policy=LicencePolicy.from_settings(svc.settings),
    )
    data = ws.data_dir(handle.version)
    rel = "licence.json"
    digests = write_and_digest(data / rel, (verdict.to_json() + "\n").encode("utf-8"))
    info = FileInfo(
        role="record",
        path=rel,
        digests=digests,
        media_type="application/json",
        puid="fmt/817",
        format_name="JSON Data Interchange Format",
        identified_by=SOFTWARE,
    )
    outcome = {"valid": "success", "needs_review": "warning", "rejected": "failure"}
    event = Event(
        event_type="validation",
        agent=SOFTWARE,
        detail=(
            f"Creative Commons licence check: {verdict.outcome}"
            + (f" ({verdict.label}, {verdict.uri})" if verdict.uri else "")
        ),
        outcome=outcome.get(verdict.outcome, "warning"),  # type: ignore[arg-type]
        outcome_detail={
            "outcome": verdict.outcome,
            "uri": verdict.uri,
            "reasons": list(verdict.reasons),
        },
        object_roles=["original"],
    )
    svc.catalogue.add_files(handle.record_id, handle.version, [info])
    svc.catalogue.add_events(handle.record_id, handle.version, [event])
    svc.catalogue.set_state(
        handle.record_id,
        State.LICENCE_CHECKED,
        [],
        version=handle.version,
        licence_uri=verdict.uri if verdict.outcome == "valid" else None,
        licence_outcome=verdict.outcome,
    )
    checkpoints.save(
        ws,
        handle.version,
        LicenceCheckpoint(
            verdict=json.loads(verdict.to_json()),
            file=info,
        ),
    )
    return handle


# --- describe ------------------------------------------------------------------------------------


def _payload_files(ws: ItemWorkspace, version: int) -> list[FileInfo]:
    fetched = checkpoints.load(ws, version, FetchCheckpoint)
    ocr_ck = checkpoints.load(ws, version, OcrCheckpoint)
    lic = checkpoints.load(ws, version, LicenceCheckpoint)
    assert fetched is not None and ocr_ck is not None and lic is not None
    return [fetched.original, *fetched.source_files, *ocr_ck.files, lic.file]


def describe(svc: Services, handle: Handle) -> Handle:
    """Write data/dc.xml and data/mets.xml (validated against the XSDs and our METS profile)."""
    from archive_ingest.licence import LicenceVerdict, dc_rights_text, premis_granted_acts
    from archive_ingest.records import OcrPage, PackageDescription, write_records

    assert handle.version is not None
    ws = svc.workspace(handle.record_id)
    if ws.checkpoint_path(handle.version, "describe").is_file():
        return handle
    inspected = checkpoints.load(ws, handle.version, InspectCheckpoint)
    ocr_ck = checkpoints.load(ws, handle.version, OcrCheckpoint)
    lic = checkpoints.load(ws, handle.version, LicenceCheckpoint)
    assert inspected is not None and ocr_ck is not None and lic is not None
    verdict = LicenceVerdict.from_json(json.dumps(lic.verdict))
    row = svc.catalogue.get_version(handle.record_id, handle.version)
    assert row is not None
    data = ws.data_dir(handle.version)
    creation = Event(
        event_type="metadata creation",
        agent=SOFTWARE,
        detail="Dublin Core (oai_dc) and METS/PREMIS records written",
        object_roles=["package"],
    )
    events = [*svc.catalogue.events(handle.record_id, handle.version), creation]
    valid = verdict.outcome == "valid"
    pages = [
        OcrPage(page=p["page"], kind=p["kind"], decision=p["decision"], file=p.get("hocr"))
        for p in ocr_ck.result["pages"]
    ]
    desc = PackageDescription(
        record=inspected.record,
        files=_payload_files(ws, handle.version),
        events=events,
        licence_uri=verdict.uri if valid else None,
        licence_label=verdict.label if valid else None,
        licence_outcome=verdict.outcome,
        rights_statement=dc_rights_text(verdict) if valid else inspected.record.licence_statement,
        granted_acts=premis_granted_acts(verdict.elements) if valid and verdict.elements else [],
        ocr_pages=pages,
        page_count=inspected.inspection.page_count,
        version=handle.version,
        organization=svc.settings.organization,
        created=row.created_at,
    )
    for name in ("dc.xml", "mets.xml"):
        (data / name).unlink(missing_ok=True)  # unfinished attempt: rebuilt deterministically
    dc_path, mets_path = write_records(desc, data)
    files = [
        _identify_new(data, dc_path.name, "record", "application/xml"),
        _identify_new(data, mets_path.name, "record", "application/xml"),
    ]
    svc.catalogue.add_files(handle.record_id, handle.version, files)
    svc.catalogue.add_events(handle.record_id, handle.version, [creation])
    svc.catalogue.set_state(handle.record_id, State.DESCRIBED, [], version=handle.version)
    checkpoints.save(ws, handle.version, DescribeCheckpoint(files=files))
    return handle


# --- package -------------------------------------------------------------------------------------


def package(svc: Services, handle: Handle) -> Handle:
    """Write the BagIt tag files from the known digests and validate the bag with our profile."""
    from archive_ingest.bag import bag_info_from_record, validate_bag, write_bag

    assert handle.version is not None
    ws = svc.workspace(handle.record_id)
    if ws.checkpoint_path(handle.version, "package").is_file():
        return handle
    inspected = checkpoints.load(ws, handle.version, InspectCheckpoint)
    described = checkpoints.load(ws, handle.version, DescribeCheckpoint)
    assert inspected is not None and described is not None
    row = svc.catalogue.get_version(handle.record_id, handle.version)
    assert row is not None
    files = [*_payload_files(ws, handle.version), *described.files]
    payload = {info.path: info.digests for info in files}
    info = bag_info_from_record(
        inspected.record,
        organization=svc.settings.organization,
        bagging_date=row.created_at.date(),
        version=handle.version,
    )
    bag_dir = ws.bag_dir(handle.version)
    summary = write_bag(bag_dir, payload, info)
    report = validate_bag(bag_dir, fast=True)
    if not report.valid:
        raise PackageError("the bag does not validate: " + "; ".join(report.errors[:5]))
    tag_files = {name: d for name, d in summary.files().items() if not name.startswith("data/")}
    svc.catalogue.add_events(
        handle.record_id,
        handle.version,
        [
            Event(
                event_type="packing",
                agent=SOFTWARE,
                object_roles=["package"],
                detail=f"BagIt 1.0 bag, profile {report.profile_identifier}, "
                f"Payload-Oxum {summary.payload_oxum}",
                outcome_detail={"payload_oxum": summary.payload_oxum, "bag_size": summary.bag_size},
            )
        ],
    )
    svc.catalogue.set_state(handle.record_id, State.PACKAGED, [], version=handle.version)
    checkpoints.save(
        ws,
        handle.version,
        PackageCheckpoint(
            tag_files=tag_files,
            payload_oxum=summary.payload_oxum,
        ),
    )
    return handle


# --- decide, deposit or hold ---------------------------------------------------------------------
def review_reasons(svc: Services, handle: Handle) -> tuple[State | None, list[str]]:
    """Why this version cannot go into storage on its own (empty = it can)."""
    assert handle.version is not None
    ws = svc.workspace(handle.record_id)
    lic = checkpoints.load(ws, handle.version, LicenceCheckpoint)
    ocr_ck = checkpoints.load(ws, handle.version, OcrCheckpoint)
    inspected = checkpoints.load(ws, handle.version, InspectCheckpoint)
    assert lic is not None and ocr_ck is not None and inspected is not None
    reasons: list[str] = []
    outcome = lic.verdict.get("outcome")
    licence_reasons = [f"licence: {r}" for r in lic.verdict.get("reasons", [])]
    if outcome == "rejected":
        return State.REJECTED, licence_reasons or ["licence: not an acceptable licence"]
    if outcome != "valid":
        reasons += licence_reasons or ["licence: not validated"]
    reasons += [f"ocr: {r}" for r in ocr_ck.needs_review]
    record = inspected.record
    if not record.creators:
        reasons.append("metadata: no creators found")
    if not record.date:
        reasons.append("metadata: no publication date")
    return (State.NEEDS_REVIEW if reasons else None), reasons


def _approved(svc: Services, record_id: str, latest: Version) -> bool:
    """``latest`` is approved, or was approved and left ``depositing`` by an approval from
    before approvals kept their items ``approved`` (deposited, never held for review again)."""
    from archive_ingest.harvest.approved import approved_but_depositing

    if latest.state == State.APPROVED.value:
        return True
    return latest.state == State.DEPOSITING.value and approved_but_depositing(
        svc.catalogue, record_id, latest.version
    )


def _deposit_approved_first(svc: Services, handle: Handle, version: int) -> Version:
    """An archivist approved ``version`` and its deposit was postponed (storage down): deposit
    it before looking at the source again, so that a changed source never strands the approval
    in a superseded version. Still impossible: the item fails with a transient reason (the
    approval stays on the version row) and the next try - a harvest's retry-failed, the
    operator - deposits it first again."""
    from archive_ingest.harvest.approved import deposit_approved_version

    postponed = deposit_approved_version(svc, handle.model_copy(update={"version": version}))
    if postponed:
        raise StorageError(
            f"v{version} was approved and its deposit is still postponed, so the source was not "
            f"fetched again: {postponed}",
            transient=True,
        )
    row = svc.catalogue.get_version(handle.record_id, version)
    assert row is not None
    return row


def _derived_from_a_held_version(svc: Services, handle: Handle) -> bool:
    """Whether this version was derived by the review module from a version never deposited."""
    assert handle.version is not None
    row = svc.catalogue.get_version(handle.record_id, handle.version)
    base = (row.summary or {}).get("derived_from") if row is not None else None
    if base is None:
        return False
    item = svc.catalogue.get_item(handle.record_id)
    deposited = item.deposited_version if item is not None else None
    return deposited is None or deposited < int(base)


def deposit_or_hold(svc: Services, handle: Handle) -> Handle:
    """Deposit a version that needs nobody; hold (or reject) the others, package kept."""
    assert handle.version is not None
    state, reasons = review_reasons(svc, handle)
    if state is None and _derived_from_a_held_version(svc, handle):
        # an archivist's new version of a held item, resumed here after an interruption (a
        # server restart during an OCR re-run): a change is not an approval
        state, reasons = (
            State.NEEDS_REVIEW,
            ["review: a new version of a held item, made by an archivist, waits for approval"],
        )
    if state is not None:
        svc.catalogue.add_events(
            handle.record_id,
            handle.version,
            [
                Event(
                    event_type="appraisal" if state == State.NEEDS_REVIEW else "deaccession",
                    agent=SOFTWARE,
                    outcome="warning" if state == State.NEEDS_REVIEW else "failure",
                    detail=(
                        "held for archivist review: "
                        if state == State.NEEDS_REVIEW
                        else "rejected: "
                    )
                    + "; ".join(reasons),
                    object_roles=["package"],
                )
            ],
        )
        svc.catalogue.set_state(handle.record_id, state, reasons, version=handle.version)
        return handle
    return deposit(svc, handle)


def deposit(
    svc: Services,
    handle: Handle,
    *,
    agent_events: list[Event] | None = None,
    in_progress: State = State.DEPOSITING,
    in_progress_reasons: Sequence[str] = (),
) -> Handle:
    """Put the bag into S3 (write-once, verified, receipt last) and mark it deposited.

    While it runs the item is ``in_progress`` (``depositing``; an approval's deposit stays
    ``approved``, the state ``deposit-approved`` resumes after a kill or a failure)."""
    from archive_ingest.storage.deposit import deposit_bag
    from archive_ingest.storage.receipt import LockPolicy
    from archive_ingest.storage.s3 import make_client, probe_endpoint

    assert handle.version is not None
    probe_endpoint(svc.settings)  # an endpoint that does not answer fails here within seconds
    ws = svc.workspace(handle.record_id)
    described = checkpoints.load(ws, handle.version, DescribeCheckpoint)
    packaged = checkpoints.load(ws, handle.version, PackageCheckpoint)
    assert described is not None and packaged is not None
    manifest: dict[str, Digests] = {
        f"data/{info.path}": info.digests
        for info in [*_payload_files(ws, handle.version), *described.files]
    }
    manifest.update(packaged.tag_files)
    svc.catalogue.set_state(
        handle.record_id, in_progress, list(in_progress_reasons), version=handle.version
    )
    client = make_client(svc.settings)
    receipt = deposit_bag(
        client,
        bucket=svc.settings.s3_bucket,
        prefix=svc.settings.s3_prefix,
        record_id=handle.record_id,
        version=handle.version,
        bag_dir=ws.bag_dir(handle.version),
        manifest=manifest,
        lock=LockPolicy.from_settings(svc.settings),
        read_back=svc.settings.s3_verify_read_back,
        multipart_threshold=svc.settings.s3_multipart_threshold,
    )
    crashpoint("after-receipt")
    svc.catalogue.set_file_locations(
        handle.record_id,
        handle.version,
        {obj.path: (obj.key, obj.version_id) for obj in receipt.objects},
    )
    svc.catalogue.add_events(
        handle.record_id, handle.version, [*(agent_events or []), *receipt.events]
    )
    svc.catalogue.update_version(
        handle.record_id,
        handle.version,
        bag_uri=receipt.bag_uri,
        summary={
            **_summary(svc, handle),
            "receipt": {
                "key": receipt.receipt_key,
                "version_id": receipt.receipt_version_id,
                "payload_oxum": receipt.payload_oxum,
                "reused": receipt.reused,
            },
        },
    )
    svc.catalogue.set_state(
        handle.record_id,
        State.DEPOSITED,
        [],
        version=handle.version,
        bag_uri=receipt.bag_uri,
        deposited_version=handle.version,
    )
    _publish_for_harvesters(svc, handle.record_id)
    return handle


def _publish_for_harvesters(svc: Services, record_id: str) -> None:
    """Expose the deposited record over OAI-PMH (its datestamp moves only when it changes).

    The AIP is safely stored by now: a failure here is logged and recorded, never turned into a
    failed ingest; `archive-ingest oai backfill` publishes what was missed.
    """
    from archive_ingest.oai.store import publish_deposited

    try:
        publish_deposited(svc.catalogue, record_id)
    except Exception as exc:  # the deposit stands; report and go on
        log.warning("OAI-PMH publication of %s failed: %s", record_id, exc)
        svc.catalogue.add_events(
            record_id,
            None,
            [
                Event(
                    event_type="dissemination",
                    outcome="warning",
                    agent=SOFTWARE,
                    detail=f"OAI-PMH publication failed ({type(exc).__name__}); run `oai backfill`",
                )
            ],
        )


# --- outcome -----------------------------------------------------------------------------------
def fail(
    svc: Services, source: str, record_id: str | None, version: int | None, exc: BaseException
) -> ItemResult:
    """Record a failure (or rejection) with a reason a person understands."""
    if record_id is None:
        try:
            ref = parse(source, svc.settings)
        except RefError:
            ref = None
        if ref is not None and ref.record_id:
            record_id = ref.record_id
            source = ref.canonical
            svc.catalogue.ensure_item(
                record_id,
                source=source,
                source_kind=(
                    "scielo-article"
                    if ref.kind == "scielo-article"
                    else "scielo-books-chapter"
                    if ref.chapter
                    else "scielo-books-book"
                ),
            )
    if isinstance(exc, ArchiveIngestError):
        reason = str(exc)
        state = State(exc.final_state)
    else:
        reason = f"internal error: {type(exc).__name__}: {exc}"
        state = State.FAILED
    if record_id and svc.catalogue.get_item(record_id) is not None:
        svc.catalogue.add_events(
            record_id,
            version,
            [
                Event(
                    event_type="ingestion end",
                    outcome="failure",
                    agent=SOFTWARE,
                    detail=reason,
                    # harvests retry a failed item while its failures are transient, and a
                    # permanent one only harvest_retry_limit times (harvest/plan.py)
                    outcome_detail={"transient": bool(getattr(exc, "transient", False))},
                )
            ],
        )
        svc.catalogue.set_state(record_id, state, [reason], version=version)
    return ItemResult(
        id=record_id, source=source, state=state.value, reasons=[reason], version=version
    )


def result_for(svc: Services, handle: Handle) -> ItemResult:
    item = svc.catalogue.get_item(handle.record_id)
    assert item is not None
    return item_result(item, handle.reasons)


def item_result(item: Item, extra_reasons: Sequence[str] = ()) -> ItemResult:
    """The result line of an item as the catalogue has it now."""
    return ItemResult(
        id=item.id,
        source=item.source,
        state=item.state,
        reasons=[*(item.reasons or []), *extra_reasons],
        licence=item.licence_uri,
        bag=item.bag_uri,
        version=item.current_version or None,
        licence_outcome=item.licence_outcome,
    )
