"""Deposit of records approved by an archivist (the ``deposit-approved`` deployment).

Contract with the review module (issue 6; docs/PREFECT.md): approving a held item records the
decision as a PREMIS event, rewrites the held version's records, sets ``items.state`` to
``approved`` and deposits at once through :func:`deposit_approved_version`. When the storage is
unreachable or answers with a transient error, the item *stays* ``approved`` with the reason,
and the ``deposit-approved`` deployment (:func:`deposit_approved`, every 15 minutes) retries it
later; any other error ends the item ``failed`` as in every other stage. Nothing is re-fetched,
re-OCRed or re-described: the deposit reuses the version's ``describe`` and ``package``
checkpoints, write-once and verified like every automatic deposit. Every depositor claims
the version in the catalogue first, so one version is deposited by one of them at a time.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from archive_ingest import pipeline
from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.models import State
from archive_ingest.pipeline import Handle, Services
from archive_ingest.settings import Settings

log = logging.getLogger(__name__)

APPROVED_STATE = State.APPROVED.value


#: what :func:`deposit_approved_version` returns when another depositor holds the claim
BEING_DEPOSITED = (
    "approved; being deposited by another run (an approval, deposit-approved or a re-run): "
    "left to it"
)


def approved_but_depositing(catalogue: Catalogue, record_id: str, version: int) -> bool:
    """Whether ``version`` was approved by an archivist although its item is ``depositing``:
    what an approval's deposit left before approvals kept their items ``approved`` (it is
    then deposited like any approved version, once not updated for the deposit lease)."""
    item = catalogue.get_item(record_id)
    if item is None or item.state != State.DEPOSITING.value or item.current_version != version:
        return False
    return any(
        ev.event_type == "appraisal" and ev.outcome_detail.get("decision") == "approve"
        for ev in catalogue.events(record_id, version)
    )


def deposit_approved_version(svc: Services, handle: Handle) -> str | None:
    """Deposit an approved version; ``None`` when deposited, else why it was postponed
    (:data:`BEING_DEPOSITED` when another depositor holds it).

    The deposit is claimed first (``Catalogue.claim_deposit``: one conditional update), so an
    approval, the ``deposit-approved`` deployment and a re-run never deposit one version at the
    same time (doubled events, file locations, OAI publications); a claim is released at the
    end, or expires after ``Settings.deposit_lease`` when its depositor was killed.

    The item stays ``approved`` until the deposit is recorded - never ``depositing``, a state
    no queue shows and ``deposit-approved`` does not take - so a killed or failed deposit is
    found and resumed by the next ``deposit-approved`` run. A transient failure (storage down,
    5xx, timeouts) returns the reason; any other exception is recorded as the item's reason
    and propagates to the caller."""
    assert handle.version is not None
    token = secrets.token_hex(16)
    if not svc.catalogue.claim_deposit(
        handle.record_id,
        handle.version,
        token,
        lease_seconds=svc.settings.deposit_lease,
        take_depositing=approved_but_depositing(svc.catalogue, handle.record_id, handle.version),
    ):
        return BEING_DEPOSITED
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
    finally:
        svc.catalogue.release_deposit(handle.record_id, token)
    return None


def deposit_approved(settings: Settings, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Deposit every version in state ``approved`` (and every approved version an older
    approval left ``depositing``); one result per item deposited or failed here. An item
    another depositor holds is left to it and not listed."""
    svc = Services.open(settings)
    results: list[dict[str, Any]] = []
    try:
        items = svc.catalogue.list_items(state=APPROVED_STATE, limit=limit) + [
            item
            for item in svc.catalogue.list_items(state=State.DEPOSITING.value, limit=limit)
            if item.current_version
            and approved_but_depositing(svc.catalogue, item.id, item.current_version)
        ]
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
