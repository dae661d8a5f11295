"""The run report from the per-item results ``ingest_item`` returns (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from archive_ingest.harvest.model import RunReport

COLUMNS = ("id", "source", "state", "licence", "pages", "ocr", "bag", "reasons")


def row_for(result: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One table row: state, licence, pages, OCR decisions, bag URI (extra: from the catalogue)."""
    extra = extra or {}
    return {
        "id": result.get("id"),
        "source": result.get("source"),
        "state": result.get("state"),
        "licence": result.get("licence") or result.get("licence_outcome"),
        "pages": extra.get("pages"),
        "ocr": extra.get("ocr"),
        "bag": result.get("bag"),
        "reasons": list(result.get("reasons") or []),
    }


def build_report(
    source: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    problems: Iterable[str] = (),
    notes: Iterable[str] = (),
    watermark_before: str | None = None,
    watermark_after: str | None = None,
    watermark_stored: bool = False,
) -> RunReport:
    table = [dict(r) for r in rows]
    counts = Counter(str(r.get("state")) for r in table)
    counts["total"] = len(table)
    return RunReport(
        source=source,
        rows=table,
        counts=dict(counts),
        problems=list(problems),
        notes=list(notes),
        watermark_before=watermark_before,
        watermark_after=watermark_after,
        watermark_stored=watermark_stored,
    )


def ocr_facts(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Pages and OCR decisions from a version's summary (``{"ocr": {"pages", "decisions"}}``)."""
    found = summary.get("ocr")
    ocr: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    decisions = ocr.get("decisions")
    if isinstance(decisions, Mapping):
        decisions = ", ".join(f"{k}={v}" for k, v in sorted(decisions.items()))
    elif isinstance(decisions, list):
        decisions = ", ".join(f"{k}={v}" for k, v in sorted(Counter(map(str, decisions)).items()))
    return {"pages": ocr.get("pages"), "ocr": decisions}
