"""Plain data of a harvest: what a source offers, what was selected, what happened."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from archive_ingest.errors import RefError

_COLLECTION_RE = re.compile(r"^[a-z]{3}$")


@dataclass(frozen=True)
class Source:
    """``scielo-books`` or ``scielo-articles:COLLECTION`` (e.g. ``scielo-articles:scl``)."""

    kind: str  # "scielo-books" | "scielo-articles"
    collection: str | None = None

    @property
    def key(self) -> str:
        """The watermark key in the catalogue."""
        return self.kind if self.collection is None else f"{self.kind}:{self.collection}"


def parse_source(text: str) -> Source:
    value = text.strip().lower()
    if value in ("scielo-books", "books"):
        return Source("scielo-books")
    if value.startswith("scielo-articles:"):
        collection = value.split(":", 1)[1]
        if not _COLLECTION_RE.match(collection):
            raise RefError(f"bad SciELO collection code {collection!r} (three letters, e.g. scl)")
        return Source("scielo-articles", collection)
    raise RefError(f"unknown harvest source {text!r}: scielo-books or scielo-articles:COLLECTION")


def parse_since(text: str | None) -> dt.date | None:
    if text is None or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise RefError(f"--since wants a date YYYY-MM-DD, not {text!r}") from None


@dataclass(frozen=True)
class Candidate:
    """One item the source offers, as an ingest REF, and why it is (or is not) selected."""

    ref: str
    record_id: str
    reason: str  # new | changed | retry-failed | retry-stalled | retry-exhausted | unchanged
    title: str | None = None

    @property
    def selected(self) -> bool:
        return self.reason in ("new", "changed", "retry-failed", "retry-stalled")


@dataclass
class HarvestPlan:
    """What a run would ingest, every problem seen while listing, and the next watermark."""

    source: str
    since: str | None  # the watermark (or --since) the listing started from
    next_watermark: str | None  # stored after a successful run only
    candidates: list[Candidate] = field(default_factory=list)
    #: something could not be listed or harvested (the run did not do all it should)
    problems: list[str] = field(default_factory=list)
    #: worth telling, nothing went wrong (deleted at the source, a held item looked at again)
    notes: list[str] = field(default_factory=list)
    limit: int | None = None

    @property
    def selected(self) -> list[Candidate]:
        chosen = [c for c in self.candidates if c.selected]
        return chosen[: self.limit] if self.limit is not None else chosen

    @property
    def truncated(self) -> bool:
        """A --limit cut the selection: the watermark must not move past unseen items."""
        return self.limit is not None and len([c for c in self.candidates if c.selected]) > (
            self.limit
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "since": self.since,
            "next_watermark": self.next_watermark,
            "would_ingest": [
                {"ref": c.ref, "id": c.record_id, "reason": c.reason, "title": c.title}
                for c in self.selected
            ],
            "skipped": {
                reason: sum(1 for c in self.candidates if c.reason == reason)
                for reason in sorted({c.reason for c in self.candidates if not c.selected})
            },
            "truncated_by_limit": self.truncated,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


@dataclass
class RunReport:
    """The run report: per-item rows plus counts (Prefect artifacts and CLI stdout)."""

    source: str
    rows: list[dict[str, Any]]
    counts: dict[str, int]
    problems: list[str]
    watermark_before: str | None
    watermark_after: str | None
    watermark_stored: bool
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)

    @property
    def review(self) -> int:
        return self.counts.get("needs_review", 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "counts": self.counts,
            "problems": self.problems,
            "notes": self.notes,
            "watermark_before": self.watermark_before,
            "watermark_after": self.watermark_after,
            "watermark_stored": self.watermark_stored,
            "items": self.rows,
        }

    def markdown(self) -> str:
        lines = [
            f"# Harvest of `{self.source}`",
            "",
            "| state | items |",
            "|---|---|",
            *(f"| {state} | {n} |" for state, n in sorted(self.counts.items())),
            "",
            f"Watermark: `{self.watermark_before}` → `{self.watermark_after}` "
            + ("(stored)" if self.watermark_stored else "(NOT stored)"),
        ]
        if self.problems:
            lines += ["", "## Problems", "", *(f"- {p}" for p in self.problems)]
        if self.notes:
            lines += ["", "## Notes", "", *(f"- {n}" for n in self.notes)]
        failed = [r for r in self.rows if r.get("state") == "failed"]
        if failed:
            lines += ["", "## Failed items", ""]
            lines += [f"- `{r['id'] or r['source']}`: {'; '.join(r['reasons'])}" for r in failed]
        return "\n".join(lines) + "\n"
