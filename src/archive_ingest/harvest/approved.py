"""Deposit of records approved by an archivist (the ``deposit-approved`` deployment).

Contract with the review module (issue 6; docs/PREFECT.md): approving a held item records the
decision as a PREMIS event, rewrites the held version's records, sets ``items.state`` to
``approved`` and deposits at once through :func:`deposit_approved_version`. When the storage is
unreachable or answers with a transient error, the item *stays* ``approved`` with the reason,
and the ``deposit-approved`` deployment (:func:`deposit_approved`, every 15 minutes) retries it
later; any other error ends the item ``failed`` as in every other stage. Nothing is re-fetched,
re-OCRed or re-described: the deposit reuses the version's ``describe`` and ``package``
checkpoints, write-once and verified like every automatic deposit.
"""

from __future__ import annotations

import logging
from typing import Any

from archive_ingest import pipeline
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.models import State
from archive_ingest.pipeline import Handle, Services
from archive_ingest.settings import Settings

log = logging.getLogger(__name__)

APPROVED_STATE = State.APPROVED.value


def deposit_approved_version(svc: Services, handle: Handle) -> str | None:
    """Deposit an approved version; ``None`` when deposited, else why it was postponed.

    The item stays ``approved`` until the deposit is recorded - never ``depositing``, a state
    no queue shows and ``deposit-approved`` does not take - so a killed or failed deposit is
    found and resumed by the next ``deposit-approved`` run. A transient failure (storage down,
    5xx, timeouts) returns the reason; any other exception is recorded as the item's reason
    and propagates to the caller."""
    assert handle.version is not None
    try:
        pipeline.deposit(
            svc,
            handle,
            agent_events=[],
            in_progress=State.APPROVED,
            in_progress_reasons=[
                "approved; deposit in progress (if it was interrupted, "
                "`archive-ingest deposit-approved` resumes it)"
            ],
        )
    except Exception as exc:
        transient = isinstance(exc, ArchiveIngestError) and exc.transient
        reason = (
            f"approved; deposit {'postponed' if transient else 'failed'}, retried by the "
            f"deposit-approved deployment or `archive-ingest deposit-approved`: {exc}"
        )
        svc.catalogue.set_state(handle.record_id, State.APPROVED, [reason], version=handle.version)
        if not transient:
            raise
        return reason
    return None


def deposit_approved(settings: Settings, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Deposit every version in state ``approved``; one result per item, failures included."""
    svc = Services.open(settings)
    results: list[dict[str, Any]] = []
    try:
        for item in svc.catalogue.list_items(state=APPROVED_STATE, limit=limit):
            handle = Handle(
                record_id=item.id, source=item.source, version=item.current_version or None
            )
            try:
                if handle.version is None:
                    raise RuntimeError("approved item has no version")
                deposit_approved_version(svc, handle)
                results.append(pipeline.result_for(svc, handle).model_dump(mode="json"))
            except Exception as exc:  # recorded per item: one bad item never stops the rest
                log.debug("deposit of approved %s failed", item.id, exc_info=True)
                results.append(
                    pipeline.fail(svc, item.source, item.id, handle.version, exc).model_dump(
                        mode="json"
                    )
                )
    finally:
        svc.close()
    return results
