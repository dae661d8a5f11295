"""What one audit pass found: per copy, per target; the JSON report and the readable table.

The JSON keeps the keys of the single-copy audit (``checked``, ``ok``, ``failed`` with ``aip``,
``record_id``, ``version`` and ``problems``, ``read_back``, ``incomplete``) and adds the target
of each failed copy and a ``targets`` section: per target, objects checked, objects and bytes
re-hashed, the findings by kind, what is overdue for its re-hash and the projected coverage of
the re-hash cycle.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field
from rich.table import Table

from archive_ingest.models import Event, utcnow
from archive_ingest.storage.verify import Problem

Tier = Literal["fast", "fast+full"]


class CopyResult(BaseModel):
    """One copy of one AIP version on one target, after this pass."""

    record_id: str
    version: int
    target: str
    bag_uri: str
    receipt_key: str
    known: bool = True  # False: found in storage, not (yet) in the catalogue's copies
    problems: list[Problem] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    unadopted: str | None = None  # found in storage, not recorded, and not adopted: why
    objects_checked: int = 0
    objects_rehashed: int = 0
    objects_rehashed_sha512: int = 0  # of those, re-hashed with SHA-512 as well as SHA-256
    bytes_rehashed: int = 0
    event: Event | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def tier(self) -> Tier:
        return "fast+full" if self.objects_rehashed else "fast"

    @property
    def rehash_digests(self) -> str:
        """The digests of this pass's re-hash, as the fixity event names them."""
        if self.objects_rehashed_sha512 >= self.objects_rehashed:
            return "SHA-256, SHA-512"
        if not self.objects_rehashed_sha512:
            return "SHA-256"
        return f"SHA-256; SHA-512 too for {self.objects_rehashed_sha512} of them"


class TargetReport(BaseModel):
    """One target's pass."""

    name: str
    endpoint: str
    bucket: str
    reachable: bool = True
    error: str | None = None
    copies: list[CopyResult] = Field(default_factory=list)
    incomplete: list[str] = Field(default_factory=list)  # version folders without a receipt
    objects_checked: int = 0
    objects_rehashed: int = 0
    bytes_rehashed: int = 0
    rehash_stopped: str | None = None  # why the full tier stopped early (budget)
    budget_bytes: int | None = None
    budget_seconds: float | None = None
    total_objects: int = 0
    total_bytes: int = 0
    overdue_objects: int = 0  # last re-hash older than the cycle (or never), before this pass
    overdue_bytes: int = 0
    cycle_days: float = 30.0
    interval_hours: float = 24.0

    @property
    def findings(self) -> Counter[str]:
        kinds: Counter[str] = Counter(p.reason for c in self.copies for p in c.problems)
        if not self.reachable:
            kinds["unreachable"] += 1
        return kinds

    @property
    def failed(self) -> bool:
        return not self.reachable or any(not c.ok for c in self.copies)

    def projected_cycle_days(self) -> float | None:
        """Days to re-hash every byte at this pass's pace, one pass per interval."""
        if not self.bytes_rehashed or not self.total_bytes:
            return None
        passes = self.total_bytes / self.bytes_rehashed
        return round(passes * self.interval_hours / 24.0, 2)

    def cycle_coverage(self) -> float | None:
        """Share of the stored bytes this pace re-hashes within one cycle (1.0: all of them)."""
        if not self.total_bytes:
            return None
        passes = self.cycle_days * 24.0 / self.interval_hours
        return round(min(1.0, self.bytes_rehashed * passes / self.total_bytes), 4)

    def summary(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "bucket": self.bucket,
            "reachable": self.reachable,
            "error": self.error,
            "copies": len(self.copies),
            "copies_ok": sum(1 for c in self.copies if c.ok),
            "objects_checked": self.objects_checked,
            "objects_rehashed": self.objects_rehashed,
            "bytes_rehashed": self.bytes_rehashed,
            "findings": dict(sorted(self.findings.items())),
            "rehash": {
                "budget_bytes": self.budget_bytes,
                "budget_seconds": self.budget_seconds,
                "stopped": self.rehash_stopped,
                "total_objects": self.total_objects,
                "total_bytes": self.total_bytes,
                "overdue_objects": self.overdue_objects,
                "overdue_bytes": self.overdue_bytes,
                "cycle_days": self.cycle_days,
                "interval_hours": self.interval_hours,
                "projected_cycle_days": self.projected_cycle_days(),
                "cycle_coverage": self.cycle_coverage(),
            },
            "incomplete": self.incomplete,
        }


class AuditReport(BaseModel):
    """Every target's pass."""

    targets: list[TargetReport]
    full: bool
    started_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: dt.datetime = Field(default_factory=utcnow)

    @property
    def copies(self) -> list[CopyResult]:
        return [c for t in self.targets for c in t.copies]

    @property
    def failed(self) -> list[CopyResult]:
        return [c for c in self.copies if not c.ok]

    @property
    def unreachable(self) -> list[TargetReport]:
        return [t for t in self.targets if not t.reachable]

    @property
    def checked(self) -> int:
        return len(self.copies)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.unreachable else 0

    def report(self) -> dict[str, Any]:
        """The JSON report ``audit`` prints."""
        return {
            "checked": self.checked,
            "ok": sum(1 for c in self.copies if c.ok),
            "failed": [
                {
                    "aip": c.bag_uri,
                    "record_id": c.record_id,
                    "version": c.version,
                    "target": c.target,
                    "problems": [p.model_dump() for p in c.problems],
                }
                for c in self.failed
            ],
            "unreachable": [{"target": t.name, "error": t.error} for t in self.unreachable],
            "read_back": sum(1 for c in self.copies if c.objects_rehashed),
            "objects_rehashed": sum(t.objects_rehashed for t in self.targets),
            "bytes_rehashed": sum(t.bytes_rehashed for t in self.targets),
            "incomplete": [i for t in self.targets for i in t.incomplete],
            "unadopted": [
                {
                    "aip": c.bag_uri,
                    "record_id": c.record_id,
                    "version": c.version,
                    "target": c.target,
                    "why": c.unadopted,
                }
                for c in self.copies
                if c.unadopted
            ],
            "full": self.full,
            "targets": {t.name: t.summary() for t in self.targets},
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
        }


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def table(report: AuditReport) -> Table:
    """One row per target: copies, objects checked, re-hashed, overdue, findings by kind."""
    grid = Table(title="fixity audit", title_justify="left")
    for name in ("target", "copies ok", "objects checked", "re-hashed", "overdue", "findings"):
        grid.add_column(name, justify="left" if name in ("target", "findings") else "right")
    for target in report.targets:
        if not target.reachable:
            grid.add_row(target.name, "-", "-", "-", "-", "[bold red]does not answer[/bold red]")
            continue
        kinds = target.findings
        findings = (
            "[bold red]" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + "[/bold red]"
            if kinds
            else "[green]none[/green]"
        )
        grid.add_row(
            target.name,
            f"{sum(1 for c in target.copies if c.ok)}/{len(target.copies)}",
            str(target.objects_checked),
            f"{target.objects_rehashed} ({_size(target.bytes_rehashed)})",
            f"{target.overdue_objects} ({_size(target.overdue_bytes)})",
            findings,
        )
    return grid
