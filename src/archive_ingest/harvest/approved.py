"""The ``deposit-approved`` deployment: deposit the records an archivist approved.

Approving a held item (review/actions.py) sets it ``approved`` and deposits it at once
through :func:`archive_ingest.ingest.approval.deposit_approved_version`, the deposit stage's
own :func:`archive_ingest.ingest.deposit.deposit` behind a claim. When the storage is
unreachable or answers with a transient error, the item *stays* ``approved`` with the reason,
and :func:`deposit_approved` (the deployment, every 15 minutes; docs/PREFECT.md) retries it
later through the same function. Nothing is re-fetched, re-OCRed or re-described.
"""

from __future__ import annotations

import logging
from typing import Any

from archive_ingest.ingest.approval import (
    BEING_DEPOSITED,
    approved_but_depositing,
    approved_under_replicated,
    deposit_approved_version,
)
from archive_ingest.ingest.runner import fail, result_for
from archive_ingest.ingest.services import Handle, Services
from archive_ingest.models import State
from archive_ingest.settings import Settings

__all__ = [
    "APPROVED_STATE",
    "BEING_DEPOSITED",
    "approved_but_depositing",
    "deposit_approved",
    "deposit_approved_version",
]

log = logging.getLogger(__name__)

APPROVED_STATE = State.APPROVED.value


def deposit_approved(settings: Settings, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Deposit every version in state ``approved`` (and every approved version an older
    approval left ``depositing``, and the missing copies of every approved version left
    ``under_replicated``); one result per item deposited or failed here. An item
    another depositor holds is left to it and not listed."""
    svc = Services.open(settings)
    results: list[dict[str, Any]] = []
    try:
        items = (
            svc.catalogue.list_items(state=APPROVED_STATE, limit=limit)
            + [
                item
                for item in svc.catalogue.list_items(state=State.DEPOSITING.value, limit=limit)
                if item.current_version
                and approved_but_depositing(svc.catalogue, item.id, item.current_version)
            ]
            + [
                item
                for item in svc.catalogue.list_items(
                    state=State.UNDER_REPLICATED.value, limit=limit
                )
                if item.current_version
                and approved_under_replicated(svc.catalogue, item.id, item.current_version)
            ]
        )
        for item in items:
            handle = Handle(
                record_id=item.id, source=item.source, version=item.current_version or None
            )
            try:
                if handle.version is None:
                    raise RuntimeError("approved item has no version")
                if deposit_approved_version(svc, handle) == BEING_DEPOSITED:
                    log.info("%s is being deposited by another run; left to it", item.id)
                    continue
                results.append(result_for(svc, handle).model_dump(mode="json"))
            except Exception as exc:  # recorded per item: one bad item never stops the rest
                log.debug("deposit of approved %s failed", item.id, exc_info=True)
                results.append(
                    fail(svc, item.source, item.id, handle.version, exc).model_dump(mode="json")
                )
    finally:
        svc.close()
    return results
