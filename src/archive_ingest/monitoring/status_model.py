"""What `archive-ingest status` reports (``--json`` prints a :class:`StatusReport`; its keys
are stable, and it never holds a secret). Gathered by ``status.py``, judged by
``status_health.py``, drawn by ``status_view.py``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from archive_ingest.monitoring.probes import CatalogueService, PrefectService, ToolCheck, WebService

Health = Literal["ok", "degraded", "down"]
#: the command's exit code for each health (monitoring/status_health.py says when)
EXIT_CODES: dict[Health, int] = {"ok": 0, "down": 1, "degraded": 3}


class Problem(BaseModel):
    """One thing that makes the status ``down`` or ``degraded``, in a line."""

    severity: Literal["down", "degraded"]
    what: str


class TargetReport(BaseModel):
    """One storage target: whether it answers and is safe to write to (probed now), and what
    the catalogue records stored on it."""

    name: str
    configured: bool = True  # False: the catalogue has copies on a target no longer configured
    embedded: bool = False
    endpoint: str = ""
    bucket: str = ""
    up: bool = False  # answers S3
    #: an embedded server that is not running: every command that writes starts it
    on_demand: bool = False
    bucket_exists: bool | None = None
    versioning: bool | None = None
    object_lock: bool | None = None
    default_retention: str | None = None
    detail: str = ""
    #: copy status (verified, failed, damaged, lost) -> copies the catalogue records here
    copies: dict[str, int] = Field(default_factory=dict)
    objects: int = 0
    bytes: int = 0
    #: audit finding (missing, size-mismatch, ...) -> stored objects whose last check found it
    findings: dict[str, int] = Field(default_factory=dict)

    @property
    def safe(self) -> bool:
        """Answers, its bucket exists with versioning and Object Lock."""
        return bool(self.up and self.bucket_exists and self.versioning and self.object_lock)


class LastRun(BaseModel):
    """When a job last ran and how it ended (None: the catalogue knows of no run)."""

    job: str
    at: dt.datetime | None = None
    age_seconds: float | None = None
    #: ingest: the state the last item reached; other jobs: success or failure
    outcome: str | None = None
    last_success: dt.datetime | None = None


class Queues(BaseModel):
    """Work waiting: for archivists (the review queue), and for an operator."""

    review: int = 0
    review_oldest_age_seconds: float | None = None
    failed: int = 0
    under_replicated: int = 0
    #: approved, their deposit postponed (storage was down): deposit-approved deposits them
    approved: int = 0
    stuck: int = 0
    stuck_oldest_age_seconds: float | None = None
    stuck_after_hours: float = 0.0


class Services(BaseModel):
    catalogue: CatalogueService
    prefect: PrefectService | None = None
    web: WebService | None = None
    tools: list[ToolCheck] = Field(default_factory=list)


class StatusReport(BaseModel):
    """What `archive-ingest status --json` prints (keys are stable; never a secret)."""

    generated_at: dt.datetime
    health: Health
    exit_code: int
    problems: list[Problem] = Field(default_factory=list)
    services: Services
    copies_required: int
    targets: list[TargetReport] = Field(default_factory=list)
    #: whether the catalogue's figures were read: False when it does not answer or its schema
    #: is not this code's; then items and last_runs are empty, queues is null and the
    #: targets' copies, objects, bytes and findings are not known (not zeros)
    figures_read: bool = False
    #: state -> items in it (every state listed, zeros included, when the figures were read)
    items: dict[str, int] = Field(default_factory=dict)
    last_runs: list[LastRun] = Field(default_factory=list)
    queues: Queues | None = None
