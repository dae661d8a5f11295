"""What `archive-ingest repair` did, or would do: one :class:`Action` per bad object (or
receipt), one :class:`CopyRepair` per copy checked, and the :class:`RepairReport` the command
prints as JSON (its exit code: 1 when a copy is lost or its repair failed)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Action(BaseModel):
    """One bad object (or receipt) of a copy and what was (or would be) done about it."""

    key: str
    reason: str
    detail: str = ""
    bad_version: str | None = None
    source_target: str | None = None  # None: no good copy anywhere
    new_version: str | None = None


class CopyRepair(BaseModel):
    record_id: str
    version: int
    target: str
    #: clean | repaired | planned | lost | failed
    status: str
    actions: list[Action] = Field(default_factory=list)
    lost: list[str] = Field(default_factory=list)
    detail: str = ""


class RepairReport(BaseModel):
    dry_run: bool
    checked: int = 0
    copies: list[CopyRepair] = Field(default_factory=list)

    @property
    def lost(self) -> list[CopyRepair]:
        return [c for c in self.copies if c.status == "lost"]

    @property
    def failed(self) -> list[CopyRepair]:
        return [c for c in self.copies if c.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.lost or self.failed else 0

    def summary(self) -> dict[str, object]:
        def rows(status: str) -> list[dict[str, object]]:
            return [c.model_dump() for c in self.copies if c.status == status]

        return {
            "dry_run": self.dry_run,
            "checked": self.checked,
            "clean": len(rows("clean")),
            "planned": rows("planned"),
            "repaired": rows("repaired"),
            "lost": rows("lost"),
            "failed": rows("failed"),
        }
