"""The shape every stage module shares: a :class:`Stage` (what it requires, what it
produces, how it runs, its retry policy) and the :class:`StageOutput` its ``run`` returns.

A stage's ``run(services, handle)`` does the stage's own work (files in the payload, the
checks) and returns what is to be recorded; :func:`archive_ingest.ingest.runner.run_stage`
records it in this order, the order every stage used when it recorded itself:

    files → events → version row update → item state → extra checkpoints → the checkpoint

so the PREMIS events (types, outcomes, details, order) are those the stage returns, recorded
once the stage has succeeded. A stage whose events must go in with another catalogue write
(fetch: files and events in one transaction; deposit: after the receipt) records them
itself and returns none; its module docstring says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archive_ingest.ingest.checkpoints import Checkpoint
from archive_ingest.ingest.services import Handle, Services
from archive_ingest.models import Event, FileInfo, State


@dataclass(frozen=True)
class RetryPolicy:
    """How often the flow retries a stage that failed with a transient error."""

    retries: int = 0
    retry_delays: tuple[int, ...] = ()
    #: a stage that talks to the network (source or storage): retried with jitter
    network: bool = False


#: network stages (the source): a retry can help
NETWORK_RETRIES = RetryPolicy(retries=2, retry_delays=(2, 10), network=True)
#: the deposit: storage hiccups last longer
DEPOSIT_RETRIES = RetryPolicy(retries=3, retry_delays=(5, 30, 120), network=True)


@dataclass
class StageOutput:
    """What a stage's ``run`` leaves for the runner to record (see the module docstring)."""

    #: the handle for the next stage (None: the one the stage was given)
    handle: Handle | None = None
    files: list[FileInfo] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    #: keyword arguments of ``Catalogue.update_version`` (empty: no update)
    version_update: Mapping[str, Any] = field(default_factory=dict)
    #: the item's new state (None: the stage set it itself or leaves it)
    state: State | None = None
    state_reasons: list[str] = field(default_factory=list)
    #: keyword arguments of ``Catalogue.set_state`` besides the state and reasons
    state_fields: Mapping[str, Any] = field(default_factory=dict)
    #: checkpoints of earlier stages this stage rewrites, saved before its own
    rewritten: list[Checkpoint] = field(default_factory=list)
    #: the stage's own checkpoint (None: nothing to save, e.g. nothing new fetched)
    checkpoint: Checkpoint | None = None


StageRun = Callable[[Services, Handle], StageOutput]


@dataclass(frozen=True)
class Stage:
    """One stage of the ingest, as the registry lists it."""

    name: str
    run: StageRun
    #: checkpoints of earlier stages that must exist before ``run`` (checked by the runner)
    requires: tuple[type[Checkpoint], ...] = ()
    #: the stage's checkpoint: when it exists for the handle's version, the stage is skipped
    produces: type[Checkpoint] | None = None
    retry: RetryPolicy = RetryPolicy()
    #: the crash point the runner passes once the checkpoint is saved (kill tests)
    crashpoint: str | None = None
    #: OCR: the flow holds a slot of the global OCR concurrency limit around it
    ocr_slot: bool = False
