"""New versions of a record made by an archivist (edit metadata, re-run OCR).

A new version ``v<N+1>`` starts as a copy of ``v<N>``'s payload: unchanged files are hard
links (copied when the file system cannot link), so the old version's files are never opened
for writing. The stage checkpoints of ``v<N>`` are carried over for the stages that are not
re-run; then the ``describe`` and ``package`` stages (and, for an OCR re-run, ``ocr``) run
on ``v<N+1>`` through the ingest's runner exactly as in an ingest. :func:`open_version` stops
before those stages, for a flow run to do them (the ``rerun-ocr`` flow).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.ingest import checkpoints, describe, ocr, package
from archive_ingest.ingest.checkpoints import (
    DescribeCheckpoint,
    FetchCheckpoint,
    InspectCheckpoint,
    LicenceCheckpoint,
    OcrCheckpoint,
    PackageCheckpoint,
)
from archive_ingest.ingest.runner import run_stage
from archive_ingest.ingest.services import Handle, Services
from archive_ingest.models import Event, FileInfo, SourceRecord, State

#: events of the base version that describe a package or a deposit, not the carried payload
_NOT_CARRIED = {
    "metadata creation",
    "packing",
    "replication",
    "fixity check",
    "ingestion end",
    "information package creation",
}
_OCR_EVENTS = {"transcription", "normalization", "ocr", "optical character recognition"}


class VersionError(ArchiveIngestError):
    """A new version cannot be derived (no complete base version)."""


def link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def carried_events(events: list[Event], base: int, *, rerun_ocr: bool) -> list[Event]:
    """The base version's events that still describe the new version's payload (pure)."""
    out = []
    for ev in events:
        kind = ev.event_type.strip().lower()
        if kind in _NOT_CARRIED or (rerun_ocr and kind in _OCR_EVENTS):
            continue
        if ev.agent_type == "software" and kind in {"appraisal", "deaccession"}:
            continue  # the automatic hold of the base version: it is re-decided
        if rerun_ocr and set(ev.object_roles) & {"access", "text", "ocr-page", "ocr-report"}:
            continue
        out.append(
            ev.model_copy(
                update={"outcome_detail": {**ev.outcome_detail, "carried_from_version": base}}
            )
        )
    return out


def derive_version(
    svc: Services,
    record_id: str,
    *,
    events: list[Event],
    record: SourceRecord | None = None,
    ocr_languages: list[str] | None = None,
) -> Handle:
    """Open ``v<N+1>`` from the item's current version, apply a new record and/or re-run OCR,
    then describe and package it. ``events`` (the archivist's decision) go into its METS."""
    handle = open_version(svc, record_id, events=events, record=record, ocr_languages=ocr_languages)
    if ocr_languages is not None:
        run_stage(ocr.STAGE, svc, handle)
    run_stage(describe.STAGE, svc, handle)
    run_stage(package.STAGE, svc, handle)
    return handle


def open_version(
    svc: Services,
    record_id: str,
    *,
    events: list[Event],
    record: SourceRecord | None = None,
    ocr_languages: list[str] | None = None,
) -> Handle:
    """Open ``v<N+1>`` (state ``inspected``): payload carried over, the new record and the OCR
    languages in its inspect checkpoint, every checkpoint up to licence but the OCR one when
    OCR is re-run. What is left are the ingest's own stages: OCR, describe, package."""
    item = svc.catalogue.get_item(record_id)
    if item is None or not item.current_version:
        raise VersionError(f"{record_id}: no version to derive from")
    base = item.current_version
    ws = svc.workspace(record_id)
    fetched = checkpoints.load(ws, base, FetchCheckpoint)
    inspected = checkpoints.load(ws, base, InspectCheckpoint)
    ocr_ck = checkpoints.load(ws, base, OcrCheckpoint)
    lic = checkpoints.load(ws, base, LicenceCheckpoint)
    if fetched is None or inspected is None or ocr_ck is None or lic is None:
        raise VersionError(f"{record_id} v{base} is not complete: nothing to derive from")
    row = svc.catalogue.get_version(record_id, base)
    if row is None:
        raise VersionError(f"{record_id} v{base} has no catalogue row: nothing to derive from")
    rerun_ocr = ocr_languages is not None
    new_record = record or inspected.record

    # honest while it runs: the item is being processed again (deposited_version stays)
    version = svc.catalogue.new_version(
        record_id, original_sha256=row.original_sha256, work_dir=ws.root, state=State.INSPECTED
    )
    if ws.version_dir(version).exists():  # left over by a crash before the catalogue row
        shutil.rmtree(ws.version_dir(version))
    src, dst = ws.data_dir(base), ws.data_dir(version)
    carried: list[FileInfo] = [fetched.original, *fetched.source_files, lic.file]
    if not rerun_ocr:
        carried += ocr_ck.files
    for info in carried:
        link_or_copy(src / info.path, dst / info.path)
    svc.catalogue.add_files(record_id, version, carried)
    svc.catalogue.add_events(
        record_id,
        version,
        [
            *carried_events(svc.catalogue.events(record_id, base), base, rerun_ocr=rerun_ocr),
            *events,
        ],
    )
    summary: dict[str, Any] = {
        "fingerprint": (row.summary or {}).get("fingerprint"),
        "url": (row.summary or {}).get("url"),
        "derived_from": base,
    }
    if not rerun_ocr and "ocr" in (row.summary or {}):
        summary["ocr"] = row.summary["ocr"]
    if "translations" in (row.summary or {}):  # their validators: the next fetch asks by them
        summary["translations"] = row.summary["translations"]
    svc.catalogue.update_version(
        record_id,
        version,
        summary=summary,
        record=new_record.model_dump(mode="json", exclude={"raw_metadata"}),
        work_dir=str(ws.version_dir(version)),
    )
    checkpoints.save(ws, version, fetched)
    checkpoints.save(ws, version, lic)
    handle = Handle(record_id=record_id, source=item.source, version=version)
    # the record keeps its own languages; chosen OCR languages are the checkpoint's own field,
    # so an interrupted re-run (server restart) resumed by `ingest` still uses them
    checkpoints.save(
        ws,
        version,
        inspected.model_copy(
            update={
                "record": new_record,
                "ocr_languages": list(ocr_languages or [])
                if rerun_ocr
                else inspected.ocr_languages,
            }
        ),
    )
    if not rerun_ocr:
        checkpoints.save(ws, version, ocr_ck)
    svc.catalogue.update_item(record_id, title=new_record.title)
    return handle


def redescribe(svc: Services, handle: Handle) -> Handle:
    """Rewrite dc.xml, mets.xml and the tag files of a version that was never deposited.

    Used after a decision on a held version, so its METS carries the decision. The version's
    payload files other than the records are untouched.
    """
    if handle.version is None:
        raise VersionError(f"{handle.record_id}: no version to rewrite")
    item = svc.catalogue.get_item(handle.record_id)
    if item is None:
        raise VersionError(f"no item {handle.record_id!r}")
    if item.deposited_version is not None and item.deposited_version >= handle.version:
        raise VersionError(f"{handle.record_id} v{handle.version} was deposited: never rewritten")
    ws = svc.workspace(handle.record_id)
    checkpoints.drop(ws, handle.version, [DescribeCheckpoint, PackageCheckpoint])
    run_stage(describe.STAGE, svc, handle)
    run_stage(package.STAGE, svc, handle)
    return handle
