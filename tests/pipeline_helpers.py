"""Running the ingest stages in the test process, in the flow's order (no Prefect)."""

from __future__ import annotations

from archive_ingest import pipeline
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.pipeline import Handle, ItemResult, Services
from archive_ingest.settings import Settings

STAGES = (
    pipeline.inspect,
    pipeline.ocr,
    pipeline.licence,
    pipeline.describe,
    pipeline.package,
    pipeline.deposit_or_hold,
)


def ingest_in_process(settings: Settings, ref: str) -> ItemResult:
    """``ingest_item`` without Prefect: every stage, and a stage's error recorded as the
    item's outcome (as the flow does) instead of raised."""
    svc = Services.open(settings)
    handle: Handle | None = None
    try:
        handle = pipeline.resolve(svc, ref)
        handle = pipeline.fetch(svc, handle)
        if not handle.unchanged:
            for stage in STAGES:
                handle = stage(svc, handle)
        return pipeline.result_for(svc, handle)
    except ArchiveIngestError as exc:
        if handle is None:
            raise
        return pipeline.fail(svc, ref, handle.record_id, handle.version, exc)
    finally:
        svc.close()
