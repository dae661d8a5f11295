"""Package: write the BagIt tag files from the known digests and validate the bag.

Requires every checkpoint up to ``describe``; produces :class:`PackageCheckpoint` (the tag
files' digests and the Payload-Oxum, which the deposit's manifest uses). The payload is not
read again: the manifests come from the digests the earlier stages recorded. Event,
recorded by the runner: ``packing`` (profile and Payload-Oxum).
"""

from __future__ import annotations

from archive_ingest.bag import bag_info_from_record, validate_bag, write_bag
from archive_ingest.errors import ArchiveIngestError, PackageError
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import (
    DescribeCheckpoint,
    FetchCheckpoint,
    InspectCheckpoint,
    LicenceCheckpoint,
    OcrCheckpoint,
    PackageCheckpoint,
)
from archive_ingest.ingest.services import SOFTWARE, Handle, Services, version_of
from archive_ingest.ingest.stage import Stage, StageOutput
from archive_ingest.models import Event, State


def package(svc: Services, handle: Handle) -> StageOutput:
    """Write the BagIt tag files from the known digests and validate the bag with our profile."""
    version = version_of(handle)
    ws = svc.workspace(handle.record_id)
    inspected = checkpoints.require(ws, version, InspectCheckpoint)
    described = checkpoints.require(ws, version, DescribeCheckpoint)
    row = svc.catalogue.get_version(handle.record_id, version)
    if row is None:
        raise ArchiveIngestError(f"{handle.record_id} v{version}: no such version")
    files = [*checkpoints.payload_files(ws, version), *described.files]
    payload = {info.path: info.digests for info in files}
    info = bag_info_from_record(
        inspected.record,
        organization=svc.settings.organization,
        bagging_date=row.created_at.date(),
        version=version,
    )
    bag_dir = ws.bag_dir(version)
    summary = write_bag(bag_dir, payload, info)
    report = validate_bag(bag_dir, fast=True)
    if not report.valid:
        raise PackageError("the bag does not validate: " + "; ".join(report.errors[:5]))
    tag_files = {name: d for name, d in summary.files().items() if not name.startswith("data/")}
    packing = Event(
        event_type="packing",
        agent=SOFTWARE,
        object_roles=["package"],
        detail=f"BagIt 1.0 bag, profile {report.profile_identifier}, "
        f"Payload-Oxum {summary.payload_oxum}",
        outcome_detail={"payload_oxum": summary.payload_oxum, "bag_size": summary.bag_size},
    )
    return StageOutput(
        events=[packing],
        state=State.PACKAGED,
        checkpoint=PackageCheckpoint(tag_files=tag_files, payload_oxum=summary.payload_oxum),
    )


STAGE = Stage(
    name="package",
    run=package,
    requires=(
        FetchCheckpoint,
        InspectCheckpoint,
        OcrCheckpoint,
        LicenceCheckpoint,
        DescribeCheckpoint,
    ),
    produces=PackageCheckpoint,
)
