"""The deposit of a version an archivist approved: the same :func:`deposit` as every other.

Contract with the review module (docs/PREFECT.md): approving a held item records the decision
as a PREMIS event, rewrites the held version's records, sets ``items.state`` to ``approved``
and deposits at once through :func:`deposit_approved_version`. When the storage is
unreachable or answers with a transient error, the item *stays* ``approved`` with the reason,
and the ``deposit-approved`` deployment (harvest/approved.py) retries it later; any other
error ends the item ``failed`` as in every other stage. Nothing is re-fetched, re-OCRed or
re-described: the deposit reuses the version's ``describe`` and ``package`` checkpoints,
write-once and verified like every automatic deposit. Every depositor claims the version in
the catalogue first, so one version is deposited by one of them at a time.

The fetch stage deposits an approved version first (:func:`deposit_approved_first`) before
it looks at the source again.
"""

from __future__ import annotations

import secrets

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.schema import Version
from archive_ingest.errors import ArchiveIngestError, StorageError
from archive_ingest.ingest.deposit import deposit
from archive_ingest.ingest.services import Handle, Services, version_of
from archive_ingest.models import State

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


def approved_under_replicated(catalogue: Catalogue, record_id: str, version: int) -> bool:
    """Whether ``version``, approved by an archivist, is stored on fewer targets than required
    (``under_replicated``): ``deposit-approved`` writes its missing copies."""
    item = catalogue.get_item(record_id)
    if (
        item is None
        or item.state != State.UNDER_REPLICATED.value
        or item.current_version != version
    ):
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

    An approved version left ``under_replicated`` (a target was down) is taken too: its
    missing copies are written and it ends ``deposited`` (or stays ``under_replicated``).

    The item stays ``approved`` until the deposit is recorded - never ``depositing``, a state
    no queue shows and ``deposit-approved`` does not take - so a killed or failed deposit is
    found and resumed by the next ``deposit-approved`` run. A transient failure (storage down,
    5xx, timeouts) returns the reason; any other exception is recorded as the item's reason
    and propagates to the caller."""
    version = version_of(handle)
    token = secrets.token_hex(16)
    if not svc.catalogue.claim_deposit(
        handle.record_id,
        version,
        token,
        lease_seconds=svc.settings.deposit_lease,
        take_depositing=approved_but_depositing(svc.catalogue, handle.record_id, version),
        take_under_replicated=approved_under_replicated(svc.catalogue, handle.record_id, version),
    ):
        return BEING_DEPOSITED
    try:
        deposit(
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
        svc.catalogue.set_state(handle.record_id, State.APPROVED, [reason], version=version)
        if not transient:
            raise
        return reason
    finally:
        svc.catalogue.release_deposit(handle.record_id, token)
    return None


def is_approved(svc: Services, record_id: str, latest: Version) -> bool:
    """``latest`` is approved, or was approved and left ``depositing`` by an approval from
    before approvals kept their items ``approved`` (deposited, never held for review again)."""
    if latest.state == State.APPROVED.value:
        return True
    return latest.state == State.DEPOSITING.value and approved_but_depositing(
        svc.catalogue, record_id, latest.version
    )


def deposit_approved_first(svc: Services, handle: Handle, version: int) -> Version:
    """An archivist approved ``version`` and its deposit was postponed (storage down): deposit
    it before looking at the source again, so that a changed source never strands the approval
    in a superseded version. Still impossible: the item fails with a transient reason (the
    approval stays on the version row) and the next try - a harvest's retry-failed, the
    operator - deposits it first again."""
    postponed = deposit_approved_version(svc, handle.model_copy(update={"version": version}))
    if postponed:
        raise StorageError(
            f"v{version} was approved and its deposit is still postponed, so the source was not "
            f"fetched again: {postponed}",
            transient=True,
        )
    row = svc.catalogue.get_version(handle.record_id, version)
    if row is None:
        raise ArchiveIngestError(f"{handle.record_id} v{version}: no such version")
    return row
