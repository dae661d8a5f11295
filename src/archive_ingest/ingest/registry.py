"""The ordered stages of an ingest after ``resolve``: the one list the flow and the runner read.

Adding a stage is one new module (its ``STAGE``) and one line here; docs/ARCHITECTURE.md
("Adding a stage") walks through it, tests/test_stage_registry.py does it with a test stage.
``resolve`` is not listed: it turns a REF into the handle the stages take (ingest/resolve.py).
"""

from __future__ import annotations

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.ingest import deposit, describe, fetch, inspect, licence, ocr, package
from archive_ingest.ingest.stage import Stage

STAGES: tuple[Stage, ...] = (
    fetch.STAGE,
    inspect.STAGE,
    ocr.STAGE,
    licence.STAGE,
    describe.STAGE,
    package.STAGE,
    deposit.STAGE,
)


def stage(name: str) -> Stage:
    """The registered stage called ``name``."""
    for candidate in STAGES:
        if candidate.name == name:
            return candidate
    raise ArchiveIngestError(f"no ingest stage called {name!r}")


def with_stage(new: Stage, *, after: str, stages: tuple[Stage, ...] = STAGES) -> tuple[Stage, ...]:
    """``stages`` with ``new`` inserted after the stage ``after`` (for tests and tools)."""
    names = [s.name for s in stages]
    if after not in names:
        raise ArchiveIngestError(f"no ingest stage called {after!r}")
    at = names.index(after) + 1
    return (*stages[:at], new, *stages[at:])
