"""Licence: validate the Creative Commons licence from metadata, the PDF statement and XMP.

Requires :class:`InspectCheckpoint`; produces :class:`LicenceCheckpoint` (the verdict and
``licence.json``, written into the payload). Event, recorded by the runner: one
``validation`` whose outcome is the verdict's (valid → success, needs_review → warning,
rejected → failure). The item's licence URI and outcome are set with its state.
"""

from __future__ import annotations

import json
from typing import Literal

from archive_ingest.digests import write_and_digest
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import InspectCheckpoint, LicenceCheckpoint
from archive_ingest.ingest.services import SOFTWARE, Handle, Services, version_of
from archive_ingest.ingest.stage import Stage, StageOutput
from archive_ingest.licence import LicencePolicy, LicenceVerdict, validate_licence
from archive_ingest.models import Event, FileInfo, State

_OUTCOME: dict[str, Literal["success", "warning", "failure"]] = {
    "valid": "success",
    "needs_review": "warning",
    "rejected": "failure",
}


def licence(svc: Services, handle: Handle) -> StageOutput:
    """Validate the Creative Commons licence from metadata, the PDF statement and XMP."""
    version = version_of(handle)
    ws = svc.workspace(handle.record_id)
    inspected = checkpoints.require(ws, version, InspectCheckpoint)
    record = inspected.record
    metadata = [v for v in (record.licence_statement, record.licence_url) if v]
    verdict: LicenceVerdict = validate_licence(
        metadata=metadata,
        pdf_text=inspected.inspection.first_page_text,
        xmp=inspected.inspection.xmp,
        policy=LicencePolicy.from_settings(svc.settings),
    )
    data = ws.data_dir(version)
    rel = "licence.json"
    digests = write_and_digest(data / rel, (verdict.to_json() + "\n").encode("utf-8"))
    info = FileInfo(
        role="record",
        path=rel,
        digests=digests,
        media_type="application/json",
        puid="fmt/817",
        format_name="JSON Data Interchange Format",
        identified_by=SOFTWARE,
    )
    event = Event(
        event_type="validation",
        agent=SOFTWARE,
        detail=(
            f"Creative Commons licence check: {verdict.outcome}"
            + (f" ({verdict.label}, {verdict.uri})" if verdict.uri else "")
        ),
        outcome=_OUTCOME.get(verdict.outcome, "warning"),
        outcome_detail={
            "outcome": verdict.outcome,
            "uri": verdict.uri,
            "reasons": list(verdict.reasons),
        },
        object_roles=["original"],
    )
    return StageOutput(
        files=[info],
        events=[event],
        state=State.LICENCE_CHECKED,
        state_fields={
            "licence_uri": verdict.uri if verdict.outcome == "valid" else None,
            "licence_outcome": verdict.outcome,
        },
        checkpoint=LicenceCheckpoint(verdict=json.loads(verdict.to_json()), file=info),
    )


STAGE = Stage(
    name="licence",
    run=licence,
    requires=(InspectCheckpoint,),
    produces=LicenceCheckpoint,
)
