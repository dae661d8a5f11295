"""What ``reconcile`` reports: each disagreement a :class:`Finding`, each fix an :class:`Action`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal[
    "incomplete-upload",
    "multipart-upload",
    "aip-not-in-catalogue",
    "catalogue-without-aip",
    "version-id-mismatch",
    "unreadable-receipt",
    "stalled-item",
    "unfinished-older-version",
    "check-failed",
    "stale-work-folder",
    "under-replicated",
]


class Finding(BaseModel):
    kind: Kind
    record_id: str
    version: int | None = None
    detail: str
    keys: list[str] = Field(default_factory=list)
    #: the storage target a bucket finding is about (None: the catalogue or work folders)
    target: str | None = None
    #: ``under-replicated``: the targets without a verified copy
    missing_targets: list[str] = Field(default_factory=list)


class TargetSummary(BaseModel):
    """One storage target as reconcile saw it."""

    name: str
    bucket: str
    prefix: str
    reachable: bool = True
    complete_aips: int = 0


class Action(BaseModel):
    action: Literal["aborted-upload", "deleted-version", "removed-work-folder", "kept"]
    key: str
    version_id: str | None = None
    reason: str = ""


class ReconcileReport(BaseModel):
    bucket: str  # the first target's (every target: ``targets``)
    prefix: str
    complete_aips: int = 0  # over every target
    targets: list[TargetSummary] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    fixed: bool = False

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def kept(self) -> list[Action]:
        return [a for a in self.actions if a.action == "kept"]

    @property
    def remaining(self) -> bool:
        """Something still needs a person (or a re-run of the ingest)."""
        if not self.fixed:
            return bool(self.findings)
        fixable = {"incomplete-upload", "multipart-upload", "stale-work-folder"}
        return bool(self.kept) or any(f.kind not in fixable for f in self.findings)
