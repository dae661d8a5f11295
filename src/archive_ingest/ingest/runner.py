"""The runner: runs one stage for one item and records what it produced; outcomes.

:func:`run_stage` owns what every stage used to repeat:

- skip when done: the stage's checkpoint exists for the handle's version → skipped;
- the checkpoints the stage requires must exist (:class:`CheckpointMissing` otherwise);
- recording the stage's :class:`StageOutput` in the order the stages always used: files,
  events, version row, item state, rewritten checkpoints, then the stage's own checkpoint
  (last: a run killed before it redoes the stage), then the stage's crash point.

:func:`fail`, :func:`result_for` and :func:`item_result` turn the end of an ingest into the
one JSON line ``archive-ingest ingest`` prints per item; :func:`fail` records a failure (the
``ingestion end`` event and the ``failed``/``rejected`` state) with a reason a person reads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel, Field

from archive_ingest.catalogue.runs import count_item_run
from archive_ingest.catalogue.schema import Item
from archive_ingest.errors import ArchiveIngestError, RefError
from archive_ingest.ingest import checkpoints, registry
from archive_ingest.ingest.resolve import parse
from archive_ingest.ingest.services import SOFTWARE, Handle, Services, version_of
from archive_ingest.ingest.stage import Stage, StageOutput
from archive_ingest.logs import context as log_context
from archive_ingest.models import Event, State
from archive_ingest.reliability.crashpoints import crashpoint, pause_label


class ItemResult(BaseModel):
    """The one JSON object `archive-ingest ingest` prints per item."""

    id: str | None
    source: str
    state: str
    reasons: list[str] = Field(default_factory=list)
    licence: str | None = None
    bag: str | None = None
    version: int | None = None
    licence_outcome: str | None = None  # valid | needs_review | rejected (null: not checked)
    #: seconds per stage this run (``Handle.seconds``); absent when no stage ran
    stage_seconds: dict[str, float] | None = None


def run_stage(stage: Stage, svc: Services, handle: Handle) -> Handle:
    """Run ``stage`` for ``handle`` unless it is done; returns the handle for the next one,
    with the stage's seconds (run and recording) added to ``Handle.seconds``. A stage found
    done returns ``handle`` as it was (no seconds: nothing ran)."""
    started = time.perf_counter()
    # every log line of the stage names the item, its version and the stage (logs/context.py)
    with log_context.bound(
        record_id=handle.record_id, ref=handle.source, version=handle.version, stage=stage.name
    ):
        after = _run_stage(stage, svc, handle)
    if after is None:
        return handle
    seconds = dict(handle.seconds)
    seconds[stage.name] = round(seconds.get(stage.name, 0.0) + time.perf_counter() - started, 4)
    return after.model_copy(update={"seconds": seconds})


def _run_stage(stage: Stage, svc: Services, handle: Handle) -> Handle | None:
    """The handle after running ``stage``, or None when its checkpoint shows it done."""
    if handle.version is not None:
        ws = svc.workspace(handle.record_id)
        if stage.produces is not None and checkpoints.exists(ws, handle.version, stage.produces):
            return None
        for model in stage.requires:
            checkpoints.require(ws, handle.version, model)
    out = stage.run(svc, handle)
    after = out.handle or handle
    record(svc, stage, after, out)
    return after


def record(svc: Services, stage: Stage, handle: Handle, out: StageOutput) -> None:
    """Record what ``stage`` produced for ``handle``'s version (see the module docstring)."""
    nothing = not (out.files or out.events or out.version_update or out.rewritten)
    if nothing and out.state is None and out.checkpoint is None:
        return  # e.g. fetch found nothing new, or a deposit recorded itself
    version = version_of(handle)
    record_id = handle.record_id
    # the commits are named by the stage (``ocr.add_files``), as when each stage recorded itself
    with pause_label(stage.name):
        if out.files:
            svc.catalogue.add_files(record_id, version, out.files)
        if out.events:
            svc.catalogue.add_events(record_id, version, out.events)
        if out.version_update:
            svc.catalogue.update_version(record_id, version, **out.version_update)
        if out.state is not None:
            svc.catalogue.set_state(
                record_id, out.state, list(out.state_reasons), version=version, **out.state_fields
            )
    ws = svc.workspace(record_id)
    for earlier in out.rewritten:
        checkpoints.save(ws, version, earlier)
    if out.checkpoint is not None:
        checkpoints.save(ws, version, out.checkpoint)
        if stage.crashpoint:
            crashpoint(stage.crashpoint)


def run_stages(svc: Services, handle: Handle, stages: Sequence[Stage] | None = None) -> Handle:
    """Run ``stages`` (the registered ones by default) in order, in this process; an item
    found unchanged by fetch skips the rest."""
    for stage in registry.STAGES if stages is None else stages:
        if handle.unchanged:
            break
        handle = run_stage(stage, svc, handle)
    return handle


# --- outcome -----------------------------------------------------------------------------------
def fail(
    svc: Services, source: str, record_id: str | None, version: int | None, exc: BaseException
) -> ItemResult:
    """Record a failure (or rejection) with a reason a person understands."""
    if record_id is None:
        try:
            ref = parse(source, svc.settings)
        except RefError:
            ref = None
        if ref is not None and ref.record_id:
            record_id = ref.record_id
            source = ref.canonical
            svc.catalogue.ensure_item(
                record_id,
                source=source,
                source_kind=(
                    "scielo-article"
                    if ref.kind == "scielo-article"
                    else "scielo-books-chapter"
                    if ref.chapter
                    else "scielo-books-book"
                ),
            )
    if isinstance(exc, ArchiveIngestError):
        reason = str(exc)
        state = State(exc.final_state)
    else:
        reason = f"internal error: {type(exc).__name__}: {exc}"
        state = State.FAILED
    if record_id and svc.catalogue.get_item(record_id) is not None:
        svc.catalogue.add_events(
            record_id,
            version,
            [
                Event(
                    event_type="ingestion end",
                    outcome="failure",
                    agent=SOFTWARE,
                    detail=reason,
                    # harvests retry a failed item while its failures are transient, and a
                    # permanent one only harvest_retry_limit times (harvest/plan.py)
                    outcome_detail={"transient": bool(getattr(exc, "transient", False))},
                )
            ],
        )
        svc.catalogue.set_state(record_id, state, [reason], version=version)
    return ItemResult(
        id=record_id, source=source, state=state.value, reasons=[reason], version=version
    )


def result_for(svc: Services, handle: Handle) -> ItemResult:
    """The result line of the item at the end of its run; the seconds of the stages that ran
    (and, when OCR was one, its pages) are counted in the catalogue (catalogue/runs.py)."""
    item = svc.catalogue.get_item(handle.record_id)
    if item is None:
        raise ArchiveIngestError(f"{handle.record_id} is not in the catalogue")
    result = item_result(item, handle.reasons)
    result.stage_seconds = dict(handle.seconds) or None
    count_item_run(
        svc.catalogue, handle.seconds, record_id=handle.record_id, version=handle.version
    )
    return result


def item_result(item: Item, extra_reasons: Sequence[str] = ()) -> ItemResult:
    """The result line of an item as the catalogue has it now."""
    return ItemResult(
        id=item.id,
        source=item.source,
        state=item.state,
        reasons=[*(item.reasons or []), *extra_reasons],
        licence=item.licence_uri,
        bag=item.bag_uri,
        version=item.current_version or None,
        licence_outcome=item.licence_outcome,
    )
