"""Describe: write ``data/dc.xml`` and ``data/mets.xml`` (validated against the XSDs and the
METS profile).

Requires the fetch, inspect, OCR and licence checkpoints; produces
:class:`DescribeCheckpoint` (the two record files). Event, recorded by the runner:
``metadata creation``. The METS carries every event of the version recorded so far plus this
one (built in memory first, so the METS and the catalogue list the same events).
"""

from __future__ import annotations

import json

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import (
    DescribeCheckpoint,
    FetchCheckpoint,
    InspectCheckpoint,
    LicenceCheckpoint,
    OcrCheckpoint,
)
from archive_ingest.ingest.files import identify_new
from archive_ingest.ingest.services import SOFTWARE, Handle, Services, version_of
from archive_ingest.ingest.stage import Stage, StageOutput
from archive_ingest.licence import LicenceVerdict, dc_rights_text, premis_granted_acts
from archive_ingest.models import Event, State
from archive_ingest.records import OcrPage, PackageDescription, write_records


def describe(svc: Services, handle: Handle) -> StageOutput:
    """Write data/dc.xml and data/mets.xml (validated against the XSDs and our METS profile)."""
    version = version_of(handle)
    ws = svc.workspace(handle.record_id)
    inspected = checkpoints.require(ws, version, InspectCheckpoint)
    ocr_ck = checkpoints.require(ws, version, OcrCheckpoint)
    lic = checkpoints.require(ws, version, LicenceCheckpoint)
    verdict = LicenceVerdict.from_json(json.dumps(lic.verdict))
    row = svc.catalogue.get_version(handle.record_id, version)
    if row is None:
        raise ArchiveIngestError(f"{handle.record_id} v{version}: no such version")
    data = ws.data_dir(version)
    creation = Event(
        event_type="metadata creation",
        agent=SOFTWARE,
        detail="Dublin Core (oai_dc) and METS/PREMIS records written",
        object_roles=["package"],
    )
    events = [*svc.catalogue.events(handle.record_id, version), creation]
    valid = verdict.outcome == "valid"
    pages = [
        OcrPage(page=p["page"], kind=p["kind"], decision=p["decision"], file=p.get("hocr"))
        for p in ocr_ck.result["pages"]
    ]
    desc = PackageDescription(
        record=inspected.record,
        files=checkpoints.payload_files(ws, version),
        events=events,
        licence_uri=verdict.uri if valid else None,
        licence_label=verdict.label if valid else None,
        licence_outcome=verdict.outcome,
        rights_statement=dc_rights_text(verdict) if valid else inspected.record.licence_statement,
        granted_acts=premis_granted_acts(verdict.elements) if valid and verdict.elements else [],
        ocr_pages=pages,
        page_count=inspected.inspection.page_count,
        version=version,
        organization=svc.settings.organization,
        created=row.created_at,
    )
    for name in ("dc.xml", "mets.xml"):
        (data / name).unlink(missing_ok=True)  # unfinished attempt: rebuilt deterministically
    dc_path, mets_path = write_records(desc, data)
    files = [
        identify_new(data, dc_path.name, "record", "application/xml"),
        identify_new(data, mets_path.name, "record", "application/xml"),
    ]
    return StageOutput(
        files=files,
        events=[creation],
        state=State.DESCRIBED,
        checkpoint=DescribeCheckpoint(files=files),
    )


STAGE = Stage(
    name="describe",
    run=describe,
    requires=(FetchCheckpoint, InspectCheckpoint, OcrCheckpoint, LicenceCheckpoint),
    produces=DescribeCheckpoint,
)
