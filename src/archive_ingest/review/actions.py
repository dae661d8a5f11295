"""What an archivist can decide. Each action records a PREMIS event with the archivist as agent
(type person, name and id) and then reuses the ingest's own stages; the web layer only parses
forms and calls these functions.

approve          held version: decision event → re-describe + re-package the held version (it
                 was never deposited, so its METS can carry the decision) → the deposit stage's
                 ``deposit`` (ingest/deposit.py), through ``ingest.approval``
reject           held version: state ``rejected`` with the reason; kept, never deposited
override_licence held version: ``decide_licence`` → licence.json and its checkpoint rewritten,
                 records rewritten; the item stays in review (or is rejected) until approved
edit_record      new version with the edited Dublin Core fields (deposited if the item was)
start_ocr_rerun  new version opened for OCR in other languages, finished by a Prefect flow run
                 (``rerun-ocr``, started through the launcher the web app was given);
                 ``rerun_ocr`` does the same in the calling process
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from archive_ingest.digests import write_and_digest
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.approval import deposit_approved_version
from archive_ingest.ingest.checkpoints import InspectCheckpoint, LicenceCheckpoint
from archive_ingest.ingest.deposit import deposit
from archive_ingest.ingest.hold import review_reasons
from archive_ingest.ingest.runner import fail
from archive_ingest.ingest.services import Handle, Services
from archive_ingest.licence import LicenceVerdict, decide_licence
from archive_ingest.models import Creator, Event, SourceRecord, State
from archive_ingest.review.users import User
from archive_ingest.review.versions import derive_version, open_version, redescribe

DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")
EDITABLE = ("title", "creators", "date", "publisher", "description", "subjects", "languages")


class ReviewError(ArchiveIngestError):
    """An action that does not apply to the item as it is (wrong state, bad input)."""


@dataclass(frozen=True)
class Outcome:
    record_id: str
    version: int
    state: str
    message: str


def archivist_event(
    user: User,
    event_type: str,
    detail: str,
    *,
    outcome: Literal["success", "failure"] = "success",
    outcome_detail: dict[str, Any] | None = None,
) -> Event:
    return Event(
        event_type=event_type,
        outcome=outcome,
        detail=detail,
        outcome_detail=outcome_detail or {},
        agent=user.name,
        agent_type="person",
        agent_id=user.agent_id,
        object_roles=["package"],
    )


def _clean_note(note: str, *, required: bool, what: str = "a reason") -> str:
    note = " ".join(note.split())[:2000]
    if required and not note:
        raise ReviewError(f"give {what}")
    return note


def _held(svc: Services, record_id: str) -> Handle:
    item = svc.catalogue.get_item(record_id)
    if item is None:
        raise ReviewError(f"no item {record_id!r}")
    if item.state != State.NEEDS_REVIEW.value or not item.current_version:
        raise ReviewError(f"{record_id} is {item.state}, not waiting for review")
    return Handle(record_id=record_id, source=item.source, version=item.current_version)


def _outcome(svc: Services, handle: Handle, message: str) -> Outcome:
    item = svc.catalogue.get_item(handle.record_id)
    if item is None or handle.version is None:
        raise ReviewError(f"{handle.record_id}: no item or version to report on")
    return Outcome(handle.record_id, handle.version, item.state, message)


def _rehold(svc: Services, handle: Handle) -> None:
    """After rewriting a held version's records: back to review (or rejected), reasons anew."""
    state, reasons = review_reasons(svc, handle)
    svc.catalogue.set_state(
        handle.record_id, state or State.NEEDS_REVIEW, reasons, version=handle.version
    )


# --- decisions on the held version ---------------------------------------------------------
def approve(
    svc: Services, record_id: str, user: User, note: str = "", licence_uri: str | None = None
) -> Outcome:
    """Deposit the held package, through the same ``deposit`` as automatic deposits."""
    handle = _held(svc, record_id)
    note = _clean_note(note, required=False)
    if licence_uri:
        override_licence(svc, record_id, user, licence_uri, note or "licence chosen on approval")
    ws = svc.workspace(record_id)
    if handle.version is None:
        raise ReviewError(f"{record_id} has no version waiting for review")
    lic = checkpoints.load(ws, handle.version, LicenceCheckpoint)
    if lic is None:
        raise ReviewError(f"{record_id} v{handle.version} has no licence checkpoint")
    if lic.verdict.get("outcome") != "valid":
        raise ReviewError(
            "the licence is not valid: choose the licence (override) before approving"
        )
    _, reasons = review_reasons(svc, handle)
    event = archivist_event(
        user,
        "appraisal",
        f"approved for deposit by {user.name}" + (f": {note}" if note else ""),
        outcome_detail={"decision": "approve", "accepted_reasons": reasons},
    )
    svc.catalogue.add_events(record_id, handle.version, [event])
    redescribe(svc, handle)  # the held METS now carries the decision
    svc.catalogue.set_state(
        record_id, State.APPROVED, [f"approved by {user.name}"], version=handle.version
    )
    # the event is in the catalogue already; a storage outage keeps it approved (retried later)
    postponed = deposit_approved_version(svc, handle)
    if postponed:
        return _outcome(svc, handle, postponed)
    outcome = _outcome(svc, handle, f"v{handle.version} deposited")
    if outcome.state == State.UNDER_REPLICATED.value:
        return _outcome(
            svc, handle, f"v{handle.version} stored on fewer targets than required (see reasons)"
        )
    return outcome


def reject(svc: Services, record_id: str, user: User, reason: str) -> Outcome:
    handle = _held(svc, record_id)
    reason = _clean_note(reason, required=True)
    event = archivist_event(
        user,
        "appraisal",
        f"rejected by {user.name}: {reason}",
        outcome="failure",
        outcome_detail={"decision": "reject"},
    )
    svc.catalogue.add_events(record_id, handle.version, [event])
    svc.catalogue.set_state(
        record_id, State.REJECTED, [f"rejected by {user.name}: {reason}"], version=handle.version
    )
    return _outcome(svc, handle, "rejected; kept in the catalogue, not deposited")


def override_licence(
    svc: Services, record_id: str, user: User, uri: str | None, reason: str
) -> Outcome:
    """Decide the licence of the held version (``uri`` None = no acceptable licence)."""
    handle = _held(svc, record_id)
    if handle.version is None:
        raise ReviewError(f"{record_id} has no version waiting for review")
    reason = _clean_note(reason, required=True)
    ws = svc.workspace(record_id)
    lic = checkpoints.load(ws, handle.version, LicenceCheckpoint)
    if lic is None:
        raise ReviewError(f"{record_id} v{handle.version} has no licence checkpoint")
    verdict = LicenceVerdict.model_validate(lic.verdict)
    try:
        decided = decide_licence(verdict, archivist=user.name, uri=uri or None, note=reason)
    except ArchiveIngestError as exc:
        raise ReviewError(str(exc)) from None
    data = ws.data_dir(handle.version)
    # a new file, never a write through a hard link another version may share
    (data / lic.file.path).unlink(missing_ok=True)
    digests = write_and_digest(data / lic.file.path, (decided.to_json() + "\n").encode("utf-8"))
    info = lic.file.model_copy(update={"digests": digests})
    event = archivist_event(
        user,
        "validation",
        f"licence decided by {user.name}: {decided.outcome}"
        + (f" ({decided.label}, {decided.uri})" if decided.uri else "")
        + f"; {reason}",
        outcome="success" if decided.outcome == "valid" else "failure",
        outcome_detail={
            "decision": "licence override",
            "previous_outcome": verdict.outcome,
            "outcome": decided.outcome,
            "uri": decided.uri,
        },
    )
    svc.catalogue.add_files(record_id, handle.version, [info])
    svc.catalogue.add_events(record_id, handle.version, [event])
    checkpoints.save(
        ws,
        handle.version,
        LicenceCheckpoint(verdict=json.loads(decided.to_json()), file=info),
    )
    svc.catalogue.update_item(
        record_id,
        licence_uri=decided.uri if decided.outcome == "valid" else None,
        licence_outcome=decided.outcome,
    )
    redescribe(svc, handle)
    _rehold(svc, handle)
    return _outcome(svc, handle, f"licence decided: {decided.outcome}")


# --- new versions ----------------------------------------------------------------------------
def apply_edits(record: SourceRecord, form: dict[str, str]) -> tuple[SourceRecord, list[str]]:
    """The record with the edited Dublin Core fields, and the names of the fields changed."""
    update: dict[str, Any] = {}
    if "title" in form:
        title = " ".join(form["title"].split())
        if not title:
            raise ReviewError("the title cannot be empty")
        update["title"] = title
    if "creators" in form:
        names = [" ".join(n.split()) for n in form["creators"].splitlines()]
        old = {c.name: c for c in record.creators}
        update["creators"] = [old.get(n) or Creator(name=n) for n in names if n]
    if "date" in form:
        date = form["date"].strip()
        if date and not DATE_RE.fullmatch(date):
            raise ReviewError("the date is YYYY, YYYY-MM or YYYY-MM-DD")
        update["date"] = date or None
    if "publisher" in form:
        update["publisher"] = " ".join(form["publisher"].split()) or None
    if "description" in form:
        update["description"] = form["description"].strip() or None
    if "subjects" in form:
        update["subjects"] = [s.strip() for s in form["subjects"].splitlines() if s.strip()]
    if "languages" in form:
        langs = [x.strip().lower() for x in re.split(r"[,\s]+", form["languages"]) if x.strip()]
        if any(not LANG_RE.fullmatch(x) for x in langs):
            raise ReviewError("languages are ISO 639 codes separated by commas")
        update["languages"] = langs
    changed = [
        key
        for key, value in update.items()
        if getattr(record, key) != (list(value) if isinstance(value, list) else value)
    ]
    return record.model_copy(update=update), changed


def finish_new_version(svc: Services, handle: Handle, was_deposited: bool) -> None:
    """A deposited item gets its new AIP version; a held one stays held (reasons recomputed)
    until an archivist approves it: a change is not an approval."""
    if was_deposited:
        deposit(svc, handle, agent_events=[])
    else:
        _rehold(svc, handle)


def _new_version(
    svc: Services, base: Handle, was_deposited: bool, *, finish: bool = True, **derive: Any
) -> Handle:
    """Derive, describe, package and deposit/hold v<N+1> (``finish=False``: only open it); a
    failure on the way ends the item ``failed`` with its reason (so it shows in the queue) and
    is raised as a ReviewError."""
    if base.version is None:
        raise ReviewError(f"{base.record_id} has no version to derive from")
    try:
        if finish:
            handle = derive_version(svc, base.record_id, **derive)
            finish_new_version(svc, handle, was_deposited)
        else:
            handle = open_version(svc, base.record_id, **derive)
    except Exception as exc:
        item = svc.catalogue.get_item(base.record_id)
        version = item.current_version if item else None
        if version is not None and version > base.version:
            result = fail(svc, base.source, base.record_id, version, exc)
            raise ReviewError(f"v{version} failed: {'; '.join(result.reasons)}") from exc
        raise
    return handle


def _current_record(svc: Services, record_id: str) -> tuple[Handle, SourceRecord, bool]:
    item = svc.catalogue.get_item(record_id)
    if item is None or not item.current_version:
        raise ReviewError(f"no item {record_id!r} with a package")
    if item.state not in (State.NEEDS_REVIEW.value, State.DEPOSITED.value):
        raise ReviewError(f"{record_id} is {item.state}: only held or deposited items change")
    inspected = checkpoints.load(svc.workspace(record_id), item.current_version, InspectCheckpoint)
    if inspected is None:
        raise ReviewError(f"{record_id} v{item.current_version} has no inspected record")
    handle = Handle(record_id=record_id, source=item.source, version=item.current_version)
    return handle, inspected.record, item.state == State.DEPOSITED.value


def edit_record(
    svc: Services, record_id: str, user: User, form: dict[str, str], note: str = ""
) -> Outcome:
    """Edit Dublin Core fields: a new version of the record (and of the AIP if deposited)."""
    base, record, was_deposited = _current_record(svc, record_id)
    new_record, changed = apply_edits(record, form)
    if not changed:
        raise ReviewError("nothing changed")
    note = _clean_note(note, required=False)
    event = archivist_event(
        user,
        "metadata modification",
        f"Dublin Core edited by {user.name}: {', '.join(changed)}" + (f"; {note}" if note else ""),
        outcome_detail={
            "decision": "edit",
            "base_version": base.version,
            "changes": {k: _jsonable(getattr(new_record, k)) for k in changed},
        },
    )
    handle = _new_version(svc, base, was_deposited, events=[event], record=new_record)
    return _outcome(svc, handle, f"v{handle.version} created ({', '.join(changed)})")


@dataclass(frozen=True)
class OcrRerun:
    """A version opened for an OCR re-run; the ``rerun-ocr`` flow finishes it (OCR, describe,
    package, then deposit if ``deposit`` - the item was deposited - else held for review)."""

    record_id: str
    version: int
    deposit: bool


#: starts the ``rerun-ocr`` flow run for an opened version; returns where it runs (a message)
OcrRerunLauncher = Callable[[OcrRerun], str]


def _ocr_request(
    svc: Services, record_id: str, user: User, languages: list[str], note: str
) -> tuple[Handle, bool, list[str], Event]:
    langs = [x.strip().lower() for x in languages if x.strip()]
    if not langs or any(not LANG_RE.fullmatch(x) for x in langs):
        raise ReviewError("languages are ISO 639 codes, e.g. pt, es, eng")
    base, _record, was_deposited = _current_record(svc, record_id)
    note = _clean_note(note, required=False)
    event = archivist_event(
        user,
        "appraisal",
        f"OCR re-run requested by {user.name} with {', '.join(langs)}"
        + (f"; {note}" if note else ""),
        outcome_detail={"decision": "rerun ocr", "languages": langs, "base_version": base.version},
    )
    return base, was_deposited, langs, event


def start_ocr_rerun(
    svc: Services,
    record_id: str,
    user: User,
    languages: list[str],
    note: str,
    launch: OcrRerunLauncher,
) -> Outcome:
    """Open v<N+1> for OCR in ``languages`` (the decision recorded, state ``inspected``, so no
    other decision applies meanwhile) and hand it to ``launch``: a Prefect flow run does the
    OCR, under the same retries and OCR concurrency limits as an ingest. A launch that fails
    ends the item ``failed`` with the reason (never a version silently left behind)."""
    base, was_deposited, langs, event = _ocr_request(svc, record_id, user, languages, note)
    handle = _new_version(
        svc, base, was_deposited, finish=False, events=[event], ocr_languages=langs
    )
    if handle.version is None:
        raise ReviewError(f"{record_id}: the OCR re-run opened no version")
    rerun = OcrRerun(record_id, handle.version, was_deposited)
    try:
        where = launch(rerun)
    except Exception as exc:
        reason = ArchiveIngestError(f"the OCR re-run could not be started: {exc}")
        reason.transient = True  # Prefect unreachable: worth another try
        fail(svc, handle.source, record_id, handle.version, reason)
        raise ReviewError(str(reason)) from exc
    return _outcome(svc, handle, f"v{handle.version} opened; OCR in {', '.join(langs)}: {where}")


def rerun_ocr(
    svc: Services, record_id: str, user: User, languages: list[str], note: str = ""
) -> Outcome:
    """Re-run OCR with other languages in this process: a new version (deposited if the item
    was). The review UI uses :func:`start_ocr_rerun` (a Prefect flow run) instead."""
    base, was_deposited, langs, event = _ocr_request(svc, record_id, user, languages, note)
    handle = _new_version(svc, base, was_deposited, events=[event], ocr_languages=langs)
    return _outcome(svc, handle, f"v{handle.version} created with OCR in {', '.join(langs)}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value
