"""Fixity audit of every copy on every storage target, recorded in the catalogue.

The tiers (a fast HEAD/listing pass of every object; a full re-hash within a budget,
least-recently re-hashed objects first) are :mod:`archive_ingest.audit`; the storage side of
each tier is :mod:`archive_ingest.storage.audit_fast` and :mod:`archive_ingest.storage.rehash`.
This module is what the ``audit`` command and the scheduled Prefect flow call, so both do and
record the same.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from archive_ingest.audit.report import AuditReport
from archive_ingest.audit.run import audit_targets
from archive_ingest.audit.target import AuditOptions
from archive_ingest.settings import Settings


def audit_and_record(
    settings: Settings,
    *,
    targets: Sequence[str] = (),
    full: bool = False,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
    sample: int | None = None,
    read_back_all: bool = False,
    rng: random.Random | None = None,
) -> AuditReport:
    """The fast tier on every copy of every target (or those named); with ``full`` the
    budgeted re-hash; ``sample`` N copies per target or ``read_back_all`` re-hashed in full."""
    options = AuditOptions(
        full=full,
        max_bytes=max_bytes,
        max_seconds=max_seconds,
        sample=sample or 0,
        read_back_all=read_back_all,
        rng=rng,
    )
    return audit_targets(settings, options, targets=targets)
