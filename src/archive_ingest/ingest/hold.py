"""The hold policy: which versions cannot go into storage without an archivist.

A version is *held* (``needs_review``) when its licence is not validated, OCR asks for a
look, the record lacks creators or a date, or a file the publisher lists (a PDF in another
language) could not be fetched; it is *rejected* when its licence is not an
acceptable one. A version an archivist derived from a version never deposited (an edit or an
OCR re-run of a held item) is held too: a change is not an approval. The deposit stage asks
:func:`hold_decision` first and records :func:`hold_event` for a held or rejected version.
"""

from __future__ import annotations

from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import (
    FetchCheckpoint,
    InspectCheckpoint,
    LicenceCheckpoint,
    OcrCheckpoint,
)
from archive_ingest.ingest.services import SOFTWARE, Handle, Services, version_of
from archive_ingest.models import Event, State

#: why an archivist's new version of a held item is held again
DERIVED_FROM_HELD = "review: a new version of a held item, made by an archivist, waits for approval"


def review_reasons(svc: Services, handle: Handle) -> tuple[State | None, list[str]]:
    """Why this version cannot go into storage on its own (empty = it can)."""
    version = version_of(handle)
    ws = svc.workspace(handle.record_id)
    lic = checkpoints.require(ws, version, LicenceCheckpoint)
    ocr_ck = checkpoints.require(ws, version, OcrCheckpoint)
    inspected = checkpoints.require(ws, version, InspectCheckpoint)
    reasons: list[str] = []
    outcome = lic.verdict.get("outcome")
    licence_reasons = [f"licence: {r}" for r in lic.verdict.get("reasons", [])]
    if outcome == "rejected":
        return State.REJECTED, licence_reasons or ["licence: not an acceptable licence"]
    if outcome != "valid":
        reasons += licence_reasons or ["licence: not validated"]
    reasons += [f"ocr: {r}" for r in ocr_ck.needs_review]
    fetched = checkpoints.require(ws, version, FetchCheckpoint)
    reasons += [
        f"fetch: the {m.role} in {m.language} the publisher lists is missing ({m.reason})"
        for m in fetched.missing
    ]
    record = inspected.record
    if not record.creators:
        reasons.append("metadata: no creators found")
    if not record.date:
        reasons.append("metadata: no publication date")
    return (State.NEEDS_REVIEW if reasons else None), reasons


def derived_from_a_held_version(svc: Services, handle: Handle) -> bool:
    """Whether this version was derived by the review module from a version never deposited."""
    row = svc.catalogue.get_version(handle.record_id, version_of(handle))
    base = (row.summary or {}).get("derived_from") if row is not None else None
    if base is None:
        return False
    item = svc.catalogue.get_item(handle.record_id)
    deposited = item.deposited_version if item is not None else None
    return deposited is None or deposited < int(base)


def hold_decision(svc: Services, handle: Handle) -> tuple[State | None, list[str]]:
    """``(None, [])`` when the version may be deposited, else its state and reasons."""
    state, reasons = review_reasons(svc, handle)
    if state is None and derived_from_a_held_version(svc, handle):
        # an archivist's new version of a held item, resumed here after an interruption (a
        # server restart during an OCR re-run): a change is not an approval
        return State.NEEDS_REVIEW, [DERIVED_FROM_HELD]
    return state, reasons


def hold_event(state: State, reasons: list[str]) -> Event:
    """The event of an automatic hold (appraisal) or rejection (deaccession)."""
    held = state == State.NEEDS_REVIEW
    return Event(
        event_type="appraisal" if held else "deaccession",
        agent=SOFTWARE,
        outcome="warning" if held else "failure",
        detail=("held for archivist review: " if held else "rejected: ") + "; ".join(reasons),
        object_roles=["package"],
    )
