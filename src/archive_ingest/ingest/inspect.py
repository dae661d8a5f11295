"""Inspect: check the PDF, identify every file's format, complete chapter metadata.

Requires :class:`FetchCheckpoint`; produces :class:`InspectCheckpoint` (the inspection and
the record, completed from page one for a book chapter) and rewrites the fetch checkpoint
with the files' identified formats. Events, recorded by the runner: one ``format
identification`` per file (original first, then the translations and the source metadata),
then ``validation`` of the original PDF (translations are kept as received, not inspected).
A PDF that cannot be read records its failed ``validation`` here before the error ends the
item (the runner records nothing for a failed stage).
"""

from __future__ import annotations

from archive_ingest.errors import PdfError
from archive_ingest.formats import identify
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import FetchCheckpoint, InspectCheckpoint
from archive_ingest.ingest.resolve import load_incoming_record
from archive_ingest.ingest.services import SOFTWARE, Handle, Services, version_of
from archive_ingest.ingest.stage import Stage, StageOutput
from archive_ingest.models import Event, FileInfo, State
from archive_ingest.pdf.inspection import inspect_pdf
from archive_ingest.sources import enrich_chapter_from_pdf_text


def inspect(svc: Services, handle: Handle) -> StageOutput:
    """Inspect the PDF, identify formats, and complete chapter metadata from page one."""
    version = version_of(handle)
    ws = svc.workspace(handle.record_id)
    fetched = checkpoints.require(ws, version, FetchCheckpoint)
    data = ws.data_dir(version)
    record = load_incoming_record(ws)
    try:
        inspection = inspect_pdf(data / fetched.original.path)
    except PdfError as exc:
        svc.catalogue.add_events(
            handle.record_id,
            version,
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
                # a translation by its path: its role has one file per language
                object_roles=[info.path if info.role == "translation" else info.role],
            )
        )
    if record.source_kind == "scielo-books-chapter":
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
    return StageOutput(
        files=identified,
        events=[*fmt_events, validation],
        version_update={"record": record.model_dump(mode="json", exclude={"raw_metadata"})},
        state=State.INSPECTED,
        state_fields={"title": record.title},
        rewritten=[
            fetched.model_copy(update={"original": identified[0], "source_files": identified[1:]})
        ],
        checkpoint=InspectCheckpoint(inspection=inspection, record=record),
    )


STAGE = Stage(
    name="inspect",
    run=inspect,
    requires=(FetchCheckpoint,),
    produces=InspectCheckpoint,
)
