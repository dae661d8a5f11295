"""Deposit: put the bag into every storage target (write-once, verified, receipt last), or
hold the version.

Requires every checkpoint up to ``package``; produces no checkpoint (the receipt in S3 and
the version row are its record). The stage's ``run`` (:func:`deposit_or_hold`) first asks the
hold policy (ingest/hold.py): a held or rejected version gets its ``appraisal`` or
``deaccession`` event and state through the runner like any stage's output. A version that
needs nobody goes to :func:`deposit`, the one deposit path: an archivist's approval
(ingest/approval.py) and a deposited item's new version (review/actions.py) call it too.

:func:`deposit` writes one copy per storage target, in parallel (ingest/copies.py), each
verified as one deposit always was. It records its own events (the archivist's
``agent_events``, then each new copy's replication and fixity events, naming its target)
because they must go in after the receipts exist and the file locations are set (those of
the first target in order that holds a verified copy), then each copy (catalogue/copies.py),
then the version row and the state: ``deposited`` when at least ``copies_required`` copies
are verified, ``under_replicated`` (reasons naming each missing target and why) when fewer
are. A run killed in between resumes at a deposit that finds its receipts and records the
rest; a re-run of an ``under_replicated`` version writes only the missing copies. Once an
item is ``deposited``, every hook of :data:`AFTER_DEPOSIT` runs (OAI-PMH publication).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from archive_ingest.catalogue.copies import copies_of, verified_targets
from archive_ingest.errors import ArchiveIngestError, CopyDamagedError
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import (
    STAGE_CHECKPOINTS,
    DescribeCheckpoint,
    PackageCheckpoint,
)
from archive_ingest.ingest.copies import (
    CopyOutcome,
    deposit_to_targets,
    missing_reasons,
    no_copy_error,
    record_copies,
)
from archive_ingest.ingest.hold import hold_decision, hold_event
from archive_ingest.ingest.publish import publish_for_harvesters
from archive_ingest.ingest.services import Handle, Services, version_of, version_summary
from archive_ingest.ingest.stage import DEPOSIT_RETRIES, Stage, StageOutput
from archive_ingest.models import Digests, Event, State
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.storage.receipt import DepositReceipt
from archive_ingest.storage.targets import copies_required

#: called with (services, record id) once a deposit is recorded, in order
AfterDeposit = Callable[[Services, str], None]
AFTER_DEPOSIT: tuple[AfterDeposit, ...] = (publish_for_harvesters,)


def run_after_deposit(svc: Services, record_id: str) -> None:
    for hook in AFTER_DEPOSIT:
        hook(svc, record_id)


def deposit_or_hold(svc: Services, handle: Handle) -> StageOutput:
    """Deposit a version that needs nobody; hold (or reject) the others, package kept. A
    version already stored on some target (``under_replicated``, or approved and stored) was
    decided before: its missing copies are deposited, it is never held again."""
    if verified_targets(svc.catalogue, handle.record_id, version_of(handle)):
        return StageOutput(handle=deposit(svc, handle))
    state, reasons = hold_decision(svc, handle)
    if state is not None:
        return StageOutput(events=[hold_event(state, reasons)], state=state, state_reasons=reasons)
    return StageOutput(handle=deposit(svc, handle))


def deposit(
    svc: Services,
    handle: Handle,
    *,
    agent_events: list[Event] | None = None,
    in_progress: State = State.DEPOSITING,
    in_progress_reasons: Sequence[str] = (),
) -> Handle:
    """Put the bag into every storage target (write-once, verified, receipt last, in
    parallel) and mark it ``deposited``, or ``under_replicated`` when fewer targets than
    ``copies_required`` hold a verified copy (at least one does). No verified copy at all
    raises (the stage retries; the item fails; nothing is lost).

    While it runs the item is ``in_progress`` (``depositing``; an approval's deposit stays
    ``approved``, the state ``deposit-approved`` resumes after a kill or a failure).

    A re-run finds the copies already there (a verified no-op per target) and writes only
    the missing ones; copies the catalogue already had as verified add no events again."""
    version = version_of(handle)
    settings = svc.settings
    ws = svc.workspace(handle.record_id)
    described = checkpoints.require(ws, version, DescribeCheckpoint)
    packaged = checkpoints.require(ws, version, PackageCheckpoint)
    manifest: dict[str, Digests] = {
        f"data/{info.path}": info.digests
        for info in [*checkpoints.payload_files(ws, version), *described.files]
    }
    manifest.update(packaged.tag_files)
    svc.catalogue.set_state(
        handle.record_id, in_progress, list(in_progress_reasons), version=version
    )
    statuses = {c.target: c.status for c in copies_of(svc.catalogue, handle.record_id, version)}
    recorded_verified = {target for target, status in statuses.items() if status == "verified"}
    # a copy the audit found damaged (or lost) stays so when it fails again: repair's work
    audited = {target for target, status in statuses.items() if status in ("damaged", "lost")}
    outcomes = deposit_to_targets(
        settings,
        record_id=handle.record_id,
        version=version,
        bag_dir=ws.bag_dir(version),
        manifest=manifest,
    )
    # a copy the audit found damaged that this run merely found in place (a HEAD check, which
    # cannot see bit rot) stays damaged and does not count: only repair's full check clears it
    still_damaged = {o.target for o in outcomes if o.target in audited and _reused(o)}
    verified = [o for o in outcomes if o.receipt is not None and o.target not in still_damaged]
    # a copy recorded verified counts while its target is merely unreachable, never once this
    # run found it is not the AIP (an object that does not verify, a receipt not ours)
    refuted = {o.target for o in outcomes if isinstance(o.error, CopyDamagedError)}
    known = recorded_verified - refuted
    kept = sorted(
        known
        | still_damaged
        | {o.target for o in outcomes if o.receipt is None and o.target in audited}
    )
    if not verified:
        record_copies(svc.catalogue, handle.record_id, version, outcomes, skip=kept)
        held = known & {o.target for o in outcomes}
        if not held:
            raise no_copy_error(outcomes)
        # a re-run that reached no target leaves the copies recorded before as they were: the
        # item stays stored (under_replicated), not failed, and the next run tries again
        required = copies_required(settings)
        state = State.DEPOSITED if len(held) >= required else State.UNDER_REPLICATED
        svc.catalogue.set_state(
            handle.record_id, state, missing_reasons(outcomes, held), version=version
        )
        return handle
    crashpoint("after-receipt")
    # copies found as they were (verified before, unchanged since) are not recorded again
    unchanged = [o.target for o in verified if o.target in known and _reused(o)]
    # a failed try on a target with a recorded copy (verified before, now down; or damaged)
    # changes nothing recorded: the audit and repair judge stored copies, not a missed deposit
    kept_failed = [o.target for o in outcomes if o.receipt is None and o.target in known | audited]
    first = _receipt(verified[0])
    svc.catalogue.set_file_locations(
        handle.record_id,
        version,
        {obj.path: (obj.key, obj.version_id) for obj in first.objects},
    )
    # a run killed after its events but before its copies were recorded finds them here:
    # a target that already has this version's replication event gets no second one
    logged = {
        ev.outcome_detail.get("target")
        for ev in svc.catalogue.events(handle.record_id, version)
        if ev.event_type == "replication" and ev.outcome_detail.get("target")
    }
    events = [
        ev
        for o in verified
        if o.target not in unchanged and o.target not in logged
        for ev in _receipt(o).events
    ]
    svc.catalogue.add_events(handle.record_id, version, [*(agent_events or []), *events])
    # after the events: a run killed in between finds them (above) rather than losing them
    record_copies(
        svc.catalogue,
        handle.record_id,
        version,
        outcomes,
        skip=[*unchanged, *kept_failed, *still_damaged],
    )
    required = copies_required(settings)
    # verified now, or before and not refuted now (on a target still configured)
    holders = ({o.target for o in verified} | known) & {o.target for o in outcomes}
    svc.catalogue.update_version(
        handle.record_id,
        version,
        bag_uri=first.bag_uri,
        summary={
            **version_summary(svc, handle),
            "receipt": {
                "key": first.receipt_key,
                "version_id": first.receipt_version_id,
                "payload_oxum": first.payload_oxum,
                "reused": first.reused,
                "target": first.target,
            },
            "copies": {
                "verified": [o.target for o in outcomes if o.target in holders],
                "missing": [o.target for o in outcomes if o.target not in holders],
                "required": required,
            },
        },
    )
    without = [o for o in outcomes if o.target not in holders]
    missing = missing_reasons(outcomes, holders) if without else []
    state = State.DEPOSITED if len(holders) >= required else State.UNDER_REPLICATED
    svc.catalogue.set_state(
        handle.record_id,
        state,
        missing,
        version=version,
        bag_uri=first.bag_uri,
        deposited_version=version,
    )
    if state == State.DEPOSITED:
        run_after_deposit(svc, handle.record_id)
    return handle


def _receipt(outcome: CopyOutcome) -> DepositReceipt:
    if outcome.receipt is None:
        raise ArchiveIngestError(f"no verified copy on {outcome.target}")
    return outcome.receipt


def _reused(outcome: CopyOutcome) -> bool:
    return outcome.receipt is not None and outcome.receipt.reused


STAGE = Stage(
    name="deposit",
    run=deposit_or_hold,
    requires=STAGE_CHECKPOINTS,  # every earlier stage's checkpoint
    produces=None,
    retry=DEPOSIT_RETRIES,
)
