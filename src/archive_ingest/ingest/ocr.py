"""OCR: re-OCR the original in a child process with the per-page gate.

Requires :class:`FetchCheckpoint` and :class:`InspectCheckpoint`; produces
:class:`OcrCheckpoint` (the OCR result, the derived files, what asks for review). Writes the
access copy, the plain text, one hOCR file per page and ``ocr-report.json`` into the payload.
Events, recorded by the runner: those the OCR stage reports (ocr/stage.py), in its order.
The flow holds a slot of the global OCR concurrency limit around this stage; the runner
passes ``after-ocr`` once the checkpoint is saved.
"""

from __future__ import annotations

import shutil

from archive_ingest.errors import OcrError
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import FetchCheckpoint, InspectCheckpoint, OcrCheckpoint
from archive_ingest.ingest.files import identify_new
from archive_ingest.ingest.services import Handle, Services, version_of, version_summary
from archive_ingest.ingest.stage import Stage, StageOutput
from archive_ingest.models import State
from archive_ingest.ocr import run_ocr_stage


def ocr(svc: Services, handle: Handle) -> StageOutput:
    """Re-OCR in a child process with the per-page gate; access copy, text, hOCR per page."""
    version = version_of(handle)
    ws = svc.workspace(handle.record_id)
    fetched = checkpoints.require(ws, version, FetchCheckpoint)
    inspected = checkpoints.require(ws, version, InspectCheckpoint)
    pages, limit = inspected.inspection.page_count, svc.settings.ocr_max_pages
    if pages > limit:  # fail fast and clearly, rather than time out hours later
        raise OcrError(
            f"the PDF has {pages} pages, more than ocr_max_pages ({limit}); not OCRed. Raise "
            "ARCHIVE_INGEST_OCR_MAX_PAGES (and ARCHIVE_INGEST_OCR_TIMEOUT_SECONDS) and re-run: "
            "the fetched original is kept and the ingest resumes at OCR"
        )
    data = ws.data_dir(version)
    for leftover in ("access", "text", "ocr"):  # a crashed earlier attempt
        shutil.rmtree(data / leftover, ignore_errors=True)
    result = run_ocr_stage(
        data / fetched.original.path,
        data,
        inspected.ocr_languages or inspected.record.languages,
        svc.settings,
        original_sha256=fetched.original.digests.sha256,
        scratch=ws.tmp,
    )
    files = [
        identify_new(data, result.access_path, "access", "application/pdf"),
        identify_new(data, result.text_path, "text", "text/plain"),
        *[identify_new(data, p, "ocr-page", "text/html") for p in result.hocr_paths],
        identify_new(data, result.report_path, "ocr-report", "application/json"),
    ]
    return StageOutput(
        files=files,
        events=list(result.events),
        version_update={
            "summary": {
                **version_summary(svc, handle),
                "ocr": {
                    "decisions": result.decisions(),
                    "access_format": result.access_format,
                    "languages": result.languages,
                    "pages": len(result.pages),
                },
            }
        },
        state=State.OCR_DONE,
        checkpoint=OcrCheckpoint(
            result=result.model_dump(mode="json"),
            files=files,
            needs_review=list(result.needs_review_reasons),
        ),
    )


STAGE = Stage(
    name="ocr",
    run=ocr,
    requires=(FetchCheckpoint, InspectCheckpoint),
    produces=OcrCheckpoint,
    crashpoint="after-ocr",
    ocr_slot=True,
)
