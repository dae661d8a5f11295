"""Running the ingest stages in the test process, in the flow's order (no Prefect)."""

from __future__ import annotations

from collections.abc import Sequence

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.ingest.resolve import resolve
from archive_ingest.ingest.runner import ItemResult, fail, result_for, run_stages
from archive_ingest.ingest.services import Handle, Services
from archive_ingest.ingest.stage import Stage
from archive_ingest.settings import Settings


def ingest_in_process(
    settings: Settings, ref: str, stages: Sequence[Stage] | None = None
) -> ItemResult:
    """``ingest_item`` without Prefect: every registered stage (or ``stages``) through the
    runner, and a stage's error recorded as the item's outcome (as the flow does) instead of
    raised."""
    svc = Services.open(settings)
    handle: Handle | None = None
    try:
        handle = resolve(svc, ref)
        handle = run_stages(svc, handle, stages)
        return result_for(svc, handle)
    except ArchiveIngestError as exc:
        if handle is None:
            raise
        return fail(svc, ref, handle.record_id, handle.version, exc)
    finally:
        svc.close()
