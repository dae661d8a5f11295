"""The health page's charts, built from :mod:`archive_ingest.monitoring.history` (pure).

Headline figures from :mod:`archive_ingest.monitoring.figures` (items, the review queue, stored
objects, audit findings, the last audit, harvest and replication), then four charts
(review/charts.py draws them): outcomes per day (stacked columns), the review queue by age
(columns), the audit's re-hash coverage (a gauge per target) and the copies per target
(stacked rows, with the same numbers and each target's objects and bytes in a table). Each
chart's ``<desc>`` says its numbers in words.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from markupsafe import Markup

from archive_ingest.monitoring.figures import ArchiveFigures
from archive_ingest.monitoring.history import OUTCOMES, HealthHistory, TargetCoverage
from archive_ingest.review.charts import column_chart, row_chart
from archive_ingest.review.svg import Bar, number, percent

COVERAGE_SERIES = ("within cycle", "before the cycle", "never re-hashed")
COPY_SERIES = ("verified", "failed", "damaged", "lost", "missing")
ALL_TARGETS = "all targets"


@dataclass(frozen=True)
class Chart:
    """One chart of the page: its id, heading, the SVG and a line of explanation."""

    chart_id: str
    heading: str
    svg: Markup
    note: str


def _counts(named: dict[str, int]) -> str:
    return ", ".join(f"{name} {number(value)}" for name, value in named.items()) or "none"


def daily_chart(history: HealthHistory) -> Chart:
    days = history.days
    first, last = days[0].day, days[-1].day
    totals = {o: sum(d.counts.get(o, 0) for d in days) for o in OUTCOMES}
    busy = [f"{d.day.isoformat()}: {_counts(_nonzero(d.counts))}" for d in days if d.total]
    title = f"Outcomes per day, {first.isoformat()} to {last.isoformat()} (UTC)"
    desc = (
        f"Versions that reached a final state per day over {len(days)} days: "
        f"{number(sum(totals.values()))} in all ({_counts(totals)}). "
        + ("By day: " + "; ".join(busy) + "." if busy else "None on any day.")
    )
    svg = column_chart(
        "chart-daily",
        title,
        desc,
        [Bar(d.day.strftime("%m-%d"), dict(d.counts)) for d in days],
        OUTCOMES,
        x_label="day (UTC, month-day)",
        y_label="versions",
        empty_note=f"No version reached a final state in the last {len(days)} days",
        label_every=5,
    )
    note = "Each column is one day; the number above it is that day's total."
    return Chart("chart-daily", "Outcomes per day", svg, note)


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def queue_chart(history: HealthHistory) -> Chart:
    buckets = history.queue_ages
    total = sum(b.count for b in buckets)
    desc = f"{number(total)} item(s) waiting for review, by time since their last change: " + (
        "; ".join(f"{b.label}: {number(b.count)}" for b in buckets) + "."
    )
    svg = column_chart(
        "chart-queue",
        "Review queue by age",
        desc,
        [Bar(b.label, {"waiting": b.count}) for b in buckets],
        ("waiting",),
        x_label="time since the item's last change",
        y_label="items",
        empty_note="Nothing waiting for review",
    )
    note = f"{number(total)} item(s) in the queue (needs_review)."
    return Chart("chart-queue", "Review queue by age", svg, note)


def _coverage_bar(label: str, cov: TargetCoverage) -> Bar:
    older = cov.objects - cov.within_cycle - cov.never_hashed
    values = (cov.within_cycle, older, cov.never_hashed)
    return Bar(label, dict(zip(COVERAGE_SERIES, values, strict=True)))


def coverage_rows(history: HealthHistory) -> list[Bar]:
    """One row per target with stored objects, led by all targets together when several."""
    rows = [_coverage_bar(c.target, c) for c in history.coverage]
    if len(rows) > 1:
        together = TargetCoverage(
            target=ALL_TARGETS,
            objects=sum(c.objects for c in history.coverage),
            within_cycle=sum(c.within_cycle for c in history.coverage),
            never_hashed=sum(c.never_hashed for c in history.coverage),
        )
        rows.insert(0, _coverage_bar(ALL_TARGETS, together))
    return rows


def coverage_chart(history: HealthHistory) -> Chart:
    cycle = number(history.cycle_days)
    rows = coverage_rows(history)
    parts = [
        f"{bar.label}: {percent(bar.values[COVERAGE_SERIES[0]], bar.total())} "
        f"({number(bar.values[COVERAGE_SERIES[0]])} of {number(bar.total())} objects)"
        for bar in rows
    ]
    desc = f"Stored objects whose last full re-hash is within the {cycle}-day cycle: " + (
        "; ".join(parts) + "." if parts else "no stored objects yet."
    )
    svg = row_chart(
        "chart-coverage",
        f"Re-hash coverage ({cycle}-day cycle)",
        desc,
        rows,
        COVERAGE_SERIES,
        x_label=f"share of stored objects re-hashed within {cycle} days",
        share=True,
        empty_note="No stored objects yet",
    )
    note = (
        f"The audit re-hashes every stored object within {cycle} days "
        "(audit_rehash_cycle_days); the figure is the share re-hashed within that time."
    )
    return Chart("chart-coverage", "Audit re-hash coverage", svg, note)


def copy_rows(history: HealthHistory) -> list[Bar]:
    return [
        Bar(c.target, {name: int(getattr(c, name)) for name in COPY_SERIES}) for c in history.copies
    ]


def copies_chart(history: HealthHistory) -> Chart:
    rows = copy_rows(history)
    desc = "Copies of versions per storage target: " + (
        "; ".join(f"{bar.label}: {_counts(bar.values)}" for bar in rows) + "."
    )
    svg = row_chart(
        "chart-copies",
        "Copies per target",
        desc,
        rows,
        COPY_SERIES,
        x_label="versions",
        empty_note="No copies recorded yet",
    )
    note = "Missing: versions verified on another target with no copy on this one."
    return Chart("chart-copies", "Copies per target", svg, note)


def health_charts(history: HealthHistory) -> list[Chart]:
    return [
        daily_chart(history),
        queue_chart(history),
        coverage_chart(history),
        copies_chart(history),
    ]


@dataclass(frozen=True)
class Glance:
    """One headline figure: its id, label, value and a line of detail."""

    key: str
    label: str
    value: str
    detail: str


def _when(at: dt.datetime | None) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if at is not None else "never"


def _age(seconds: float) -> str:
    days = seconds / 86400
    if days >= 1:
        return f"{number(math.floor(days))} day(s)"
    return f"{number(math.floor(seconds / 3600))} hour(s)"


def byte_size(size: int) -> str:
    """``size`` bytes in a readable unit (1000-based: kB, MB, GB, TB)."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{number(size)} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} TB"


def _job(figures: ArchiveFigures, job: str, label: str) -> Glance:
    times = figures.job(job)
    detail = (
        f"last run {_when(times.last_run)} did not succeed"
        if times.last_run is not None and times.last_run != times.last_success
        else "last successful run"
    )
    return Glance(f"last-{job}", label, _when(times.last_success), detail)


def glances(figures: ArchiveFigures) -> list[Glance]:
    """The headline figures above the charts, all from :mod:`.figures`."""
    states = figures.items_by_state
    queue_detail = (
        f"oldest waiting {_age(figures.review_queue_oldest_age_seconds)}"
        if figures.review_queue_oldest_age_seconds is not None
        else "nothing waiting"
    )
    findings: dict[str, int] = {}
    for finding in figures.findings:
        findings[finding.kind] = findings.get(finding.kind, 0) + finding.objects
    objects = sum(t.objects for t in figures.targets)
    size = sum(t.bytes for t in figures.targets)
    return [
        Glance(
            "items", "Items", number(sum(states.values())), _counts(dict(sorted(states.items())))
        ),
        Glance("queue", "Review queue", number(figures.review_queue), queue_detail),
        Glance("stored", "Stored objects", number(objects), f"{byte_size(size)} on all targets"),
        Glance(
            "findings",
            "Audit findings",
            number(sum(findings.values())),
            _counts(findings) if findings else "no object with a problem",
        ),
        _job(figures, "audit", "Last audit"),
        _job(figures, "harvest", "Last harvest"),
        _job(figures, "replicate", "Last replication"),
    ]
