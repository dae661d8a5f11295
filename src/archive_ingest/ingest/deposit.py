"""Deposit: put the bag into S3 (write-once, verified, receipt last), or hold the version.

Requires every checkpoint up to ``package``; produces no checkpoint (the receipt in S3 and
the version row are its record). The stage's ``run`` (:func:`deposit_or_hold`) first asks the
hold policy (ingest/hold.py): a held or rejected version gets its ``appraisal`` or
``deaccession`` event and state through the runner like any stage's output. A version that
needs nobody goes to :func:`deposit`, the one deposit path: an archivist's approval
(ingest/approval.py) and a deposited item's new version (review/actions.py) call it too.

:func:`deposit` records its own events (the archivist's ``agent_events``, then the receipt's
replication and fixity events) because they must go in after the receipt exists and the file
locations are set, and before the version row and the ``deposited`` state: a run killed in
between resumes at a deposit that finds its receipt and records the rest. Once the deposit
is recorded, every hook of :data:`AFTER_DEPOSIT` runs (OAI-PMH publication).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import (
    STAGE_CHECKPOINTS,
    DescribeCheckpoint,
    PackageCheckpoint,
)
from archive_ingest.ingest.hold import hold_decision, hold_event
from archive_ingest.ingest.publish import publish_for_harvesters
from archive_ingest.ingest.services import Handle, Services, version_of, version_summary
from archive_ingest.ingest.stage import DEPOSIT_RETRIES, Stage, StageOutput
from archive_ingest.models import Digests, Event, State
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.receipt import LockPolicy
from archive_ingest.storage.s3 import make_client, probe_endpoint

#: called with (services, record id) once a deposit is recorded, in order
AfterDeposit = Callable[[Services, str], None]
AFTER_DEPOSIT: tuple[AfterDeposit, ...] = (publish_for_harvesters,)


def run_after_deposit(svc: Services, record_id: str) -> None:
    for hook in AFTER_DEPOSIT:
        hook(svc, record_id)


def deposit_or_hold(svc: Services, handle: Handle) -> StageOutput:
    """Deposit a version that needs nobody; hold (or reject) the others, package kept."""
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
    """Put the bag into S3 (write-once, verified, receipt last) and mark it deposited.

    While it runs the item is ``in_progress`` (``depositing``; an approval's deposit stays
    ``approved``, the state ``deposit-approved`` resumes after a kill or a failure)."""
    version = version_of(handle)
    probe_endpoint(svc.settings)  # an endpoint that does not answer fails here within seconds
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
    client = make_client(svc.settings)
    receipt = deposit_bag(
        client,
        bucket=svc.settings.s3_bucket,
        prefix=svc.settings.s3_prefix,
        record_id=handle.record_id,
        version=version,
        bag_dir=ws.bag_dir(version),
        manifest=manifest,
        lock=LockPolicy.from_settings(svc.settings),
        read_back=svc.settings.s3_verify_read_back,
        multipart_threshold=svc.settings.s3_multipart_threshold,
    )
    crashpoint("after-receipt")
    svc.catalogue.set_file_locations(
        handle.record_id,
        version,
        {obj.path: (obj.key, obj.version_id) for obj in receipt.objects},
    )
    svc.catalogue.add_events(handle.record_id, version, [*(agent_events or []), *receipt.events])
    svc.catalogue.update_version(
        handle.record_id,
        version,
        bag_uri=receipt.bag_uri,
        summary={
            **version_summary(svc, handle),
            "receipt": {
                "key": receipt.receipt_key,
                "version_id": receipt.receipt_version_id,
                "payload_oxum": receipt.payload_oxum,
                "reused": receipt.reused,
            },
        },
    )
    svc.catalogue.set_state(
        handle.record_id,
        State.DEPOSITED,
        [],
        version=version,
        bag_uri=receipt.bag_uri,
        deposited_version=version,
    )
    run_after_deposit(svc, handle.record_id)
    return handle


STAGE = Stage(
    name="deposit",
    run=deposit_or_hold,
    requires=STAGE_CHECKPOINTS,  # every earlier stage's checkpoint
    produces=None,
    retry=DEPOSIT_RETRIES,
)
