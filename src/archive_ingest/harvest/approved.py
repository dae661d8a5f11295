"""Deposit of records approved by an archivist (the ``deposit-approved`` deployment).

Contract with the review module (issue 6), documented in docs/PREFECT.md: approving an item
sets ``items.state`` to ``"approved"`` for its ``current_version``, whose ``describe`` and
``package`` checkpoints are current (rewritten if the archivist changed the records), and adds
the approval as a PREMIS event. :func:`deposit_approved` then deposits each such version with
:func:`archive_ingest.pipeline.deposit` (write-once, verified, receipt last). When no item is
in that state it does nothing, so the deployment is safe to schedule before review ships.
"""

from __future__ import annotations

import logging
from typing import Any

from archive_ingest import pipeline
from archive_ingest.pipeline import Handle, Services
from archive_ingest.settings import Settings

log = logging.getLogger(__name__)

APPROVED_STATE = "approved"


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
                pipeline.deposit(svc, handle)
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
