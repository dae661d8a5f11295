"""Adding a stage: one module with a ``STAGE`` and one registry line. Here a test stage (a
stand-in virus scan of the original) goes between fetch and inspect, and a real ingest of a
generated sample chapter (real OCR and SeaweedFS, the local sample SciELO server) runs it
through the runner: once, with its checkpoint and its event in order, skipped on a re-run,
and the item deposited as without it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from flows.ingest import STAGE_TASKS, stage_task, task_for

from archive_ingest.ingest import checkpoints, registry
from archive_ingest.ingest.checkpoints import Checkpoint, FetchCheckpoint
from archive_ingest.ingest.runner import run_stage
from archive_ingest.ingest.services import SOFTWARE, Handle, Services, version_of
from archive_ingest.ingest.stage import Stage, StageOutput
from archive_ingest.models import Event
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.pipeline import ingest_in_process
from tests.support.samples import add_generated_book


class ScanCheckpoint(Checkpoint):
    stage: ClassVar[str] = "virus-scan"

    sha256: str
    clean: bool


class Scanner:
    """The test stage's ``run``: counts its calls, records one event, leaves a checkpoint."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, svc: Services, handle: Handle) -> StageOutput:
        version = version_of(handle)
        fetched = checkpoints.require(svc.workspace(handle.record_id), version, FetchCheckpoint)
        self.calls.append((handle.record_id, version))
        return StageOutput(
            events=[
                Event(
                    event_type="virus check",
                    agent=SOFTWARE,
                    detail=f"{fetched.original.path}: no virus found (test scanner)",
                    object_roles=["original"],
                )
            ],
            checkpoint=ScanCheckpoint(sha256=fetched.original.digests.sha256, clean=True),
        )


def test_a_registered_stage_runs_between_fetch_and_inspect(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    scanner = Scanner()
    scan = Stage(
        name="virus-scan", run=scanner, requires=(FetchCheckpoint,), produces=ScanCheckpoint
    )
    stages = registry.with_stage(scan, after="fetch")
    assert [s.name for s in stages] == [
        "fetch",
        "virus-scan",
        "inspect",
        "ocr",
        "licence",
        "describe",
        "package",
        "deposit",
    ]
    monkeypatch.setattr(registry, "STAGES", stages)  # the one registry line, for this test
    assert registry.stage("virus-scan") is scan
    assert stage_task(scan).name == "virus-scan"  # the flow makes its Prefect task alike

    [ref] = add_generated_book(scielo_catalogue, "reg01", 1, tmp_path, scanned_pages=0)
    settings = seaweed_settings.model_copy(update=scielo_server.settings_overrides())
    result = ingest_in_process(settings, ref)
    assert (result.state, result.version) == ("deposited", 1), result.reasons
    record_id = result.id or ""
    assert scanner.calls == [(record_id, 1)]

    svc = Services.open(settings)
    try:
        ws = svc.workspace(record_id)
        saved = checkpoints.require(ws, 1, ScanCheckpoint)
        fetched = checkpoints.require(ws, 1, FetchCheckpoint)
        assert saved == ScanCheckpoint(sha256=fetched.original.digests.sha256, clean=True)
        assert ws.checkpoint_path(1, "virus-scan").is_file()  # next to the other stages'

        kinds = [ev.event_type for ev in svc.catalogue.events(record_id, 1)]
        assert kinds.count("virus check") == 1
        at = kinds.index("virus check")
        assert kinds[:at] == ["capture", "message digest calculation"], kinds
        assert kinds[at + 1] == "format identification", kinds
        assert "virus check" in (ws.data_dir(1) / "mets.xml").read_text("utf-8")

        # done: the runner skips it for this version
        handle = Handle(record_id=record_id, source=result.source, version=1)
        assert run_stage(scan, svc, handle) == handle
        assert scanner.calls == [(record_id, 1)]
    finally:
        svc.close()

    # a re-run of the same ingest: unchanged, nothing runs again, still deposited v1
    again = ingest_in_process(settings, ref)
    assert (again.state, again.version) == ("deposited", 1), again.reasons
    assert scanner.calls == [(record_id, 1)]


def test_each_stage_names_its_own_checkpoint() -> None:
    # the runner finds a stage's checkpoint file by the checkpoint's name: the two must agree
    # (deposit leaves none: the catalogue's deposited version and its receipt say it is done)
    producing = [s for s in registry.STAGES if s.produces is not None]
    assert [s.name for s in registry.STAGES if s.produces is None] == ["deposit"]
    for stage in producing:
        assert stage.produces is not None and stage.produces.stage == stage.name


def test_the_flow_makes_a_task_for_a_stage_registered_after_import() -> None:
    scan = Stage(name="virus-scan-late", run=Scanner(), produces=ScanCheckpoint)
    assert scan.name not in STAGE_TASKS
    try:
        made = task_for(scan)
        assert made.name == "virus-scan-late"
        assert task_for(scan) is made  # built once
    finally:
        STAGE_TASKS.pop(scan.name, None)
