"""The archive's figures as Prometheus metrics: a custom collector on a registry of its own.

:class:`ArchiveCollector` turns one :class:`~archive_ingest.monitoring.figures.ArchiveFigures`
into metric families on each scrape (nothing is kept between scrapes: the catalogue is the
state). Every name starts ``archive_ingest_`` and carries its unit (``_bytes``, ``_seconds``,
``_timestamp_seconds``); counts of things are gauges (they go down when items leave a state),
the OCR runs and pages are counters and the stage durations a histogram (they only grow).
Label values come from the data but are bounded: states, source kinds, SciELO collections,
targets, finding kinds, file roles, gate decisions, stages and jobs; never an item.

The registry is not prometheus_client's global one, so nothing else in the process (Prefect
registers its own metrics there) is exposed, and each web application has its own.
docs/OPERATIONS.md lists every metric.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import get_args

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from archive_ingest import __version__
from archive_ingest.catalogue.copies import CopyStatus
from archive_ingest.monitoring.figures import ArchiveFigures
from archive_ingest.storage.verify import Reason

PREFIX = "archive_ingest"
log = logging.getLogger(__name__)


def _gauge(
    name: str, doc: str, labels: Iterable[str], rows: Iterable[tuple[list[str], float]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels))
    for values, value in rows:
        family.add_metric(values, value)
    return family


def _single(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=value)


def _timestamp(at: dt.datetime | None) -> float:
    return at.timestamp() if at is not None else 0.0


def _known_targets(figures: ArchiveFigures) -> list[str]:
    """The targets the catalogue records copies on."""
    return sorted({c.target for c in figures.copies} | {f.target for f in figures.findings})


def _every_status(figures: ArchiveFigures) -> list[tuple[list[str], float]]:
    """Copies by target and status: every status of every known target, 0 included (a series
    goes back to 0 instead of disappearing when the last damaged copy is repaired)."""
    counts = {(c.target, c.status): c.copies for c in figures.copies}
    statuses = [*get_args(CopyStatus), *sorted({s for _, s in counts} - set(get_args(CopyStatus)))]
    return [([t, s], counts.get((t, s), 0)) for t in _known_targets(figures) for s in statuses]


def _every_finding(figures: ArchiveFigures) -> list[tuple[list[str], float]]:
    """Audit findings by kind and target: every kind the checks give (storage/verify.py) for
    every known target, 0 included."""
    counts = {(f.kind, f.target): f.objects for f in figures.findings}
    kinds = [*get_args(Reason), *sorted({k for k, _ in counts} - set(get_args(Reason)))]
    return [([k, t], counts.get((k, t), 0)) for t in _known_targets(figures) for k in kinds]


def figure_families(figures: ArchiveFigures) -> Iterator[Metric]:
    """The metric families of ``figures`` (see docs/OPERATIONS.md, Metrics)."""
    yield _gauge(
        "items",
        "Items (records) by state, source kind and SciELO collection",
        ["state", "source_kind", "collection"],
        (([r.state, r.source_kind, r.collection], r.items) for r in figures.items),
    )
    yield _gauge(
        "versions",
        "Versions of every item by state",
        ["state"],
        (([state], n) for state, n in figures.versions.items()),
    )
    yield _single(
        "review_queue_items", "Items waiting for an archivist (needs_review)", figures.review_queue
    )
    yield _single(
        "review_queue_oldest_age_seconds",
        "Age of the oldest item waiting for an archivist (since its last update); 0 when none",
        figures.review_queue_oldest_age_seconds or 0.0,
    )
    yield _gauge(
        "copies",
        "Copies of AIP versions by storage target and status (verified, failed, damaged, lost; "
        "every status of every target with copies, 0 included)",
        ["target", "status"],
        _every_status(figures),
    )
    yield _gauge(
        "copies_per_version",
        "Stored versions (with any copies row) by their number of verified copies",
        ["copies"],
        (([str(n)], versions) for n, versions in figures.copies_per_version.items()),
    )
    yield _gauge(
        "deposited_objects",
        "Objects the catalogue records stored on each target (receipts included; every copy's, "
        "lost and damaged ones too)",
        ["target"],
        (([t.target], t.objects) for t in figures.targets),
    )
    yield _gauge(
        "deposited_bytes",
        "Bytes the catalogue records stored on each target (every copy's, lost and damaged "
        "ones too)",
        ["target"],
        (([t.target], t.bytes) for t in figures.targets),
    )
    yield _gauge(
        "fetched_files",
        "Files downloaded from sources by the fetch stage, by role, every version",
        ["role"],
        (([role], n) for role, n in figures.fetched_files.items()),
    )
    yield _gauge(
        "fetched_bytes",
        "Bytes downloaded from sources by the fetch stage, by role, every version",
        ["role"],
        (([role], n) for role, n in figures.fetched_bytes.items()),
    )
    yield CounterMetricFamily(
        f"{PREFIX}_ocr_runs",
        "Runs of the OCR stage (an OCR re-run counts again)",
        value=figures.ocr_runs,
    )
    pages = CounterMetricFamily(
        f"{PREFIX}_ocr_pages",
        "Pages through the OCR stage by the text-quality gate's decision",
        labels=["decision"],
    )
    for decision, n in figures.ocr_pages.items():
        pages.add_metric([decision], n)
    yield pages
    yield _gauge(
        "licence_outcome_items",
        "Items by licence outcome (valid, needs_review, rejected, unchecked)",
        ["outcome"],
        (([o], n) for o, n in figures.licence_outcomes.items()),
    )
    yield _gauge(
        "audit_findings",
        "Stored objects whose last audit check found a problem, by kind and target "
        "(every kind of every target with copies, 0 included)",
        ["kind", "target"],
        _every_finding(figures),
    )
    yield _gauge(
        "last_success_timestamp_seconds",
        "When each job last succeeded (Unix time; 0: never, as far as the catalogue knows)",
        ["job"],
        (([j.job], _timestamp(j.last_success)) for j in figures.jobs),
    )
    yield _gauge(
        "last_run_timestamp_seconds",
        "When each job last ended, successful or not (Unix time; 0: never; ingest: the last "
        "deposit, equal to its last success)",
        ["job"],
        (([j.job], _timestamp(j.last_run)) for j in figures.jobs),
    )
    stages = HistogramMetricFamily(
        f"{PREFIX}_stage_duration_seconds",
        "Seconds each ingest stage took, every run counted when its item's run ended",
        labels=["stage"],
    )
    for stage in figures.stages:
        stages.add_metric(
            [stage.stage],
            buckets=[(b.le, b.runs) for b in stage.buckets],
            sum_value=stage.seconds,
        )
    yield stages


class ArchiveCollector(Collector):
    """Reads the figures on every scrape (``read``: e.g. ``lambda: archive_figures(cat)``).
    A catalogue that cannot be read (whatever the error: a database that does not answer, a
    schema that is not this code's, a path that cannot be opened) gives
    ``archive_ingest_catalogue_up 0`` and no figures (the error kind is logged, never its
    text: it may carry the database URL)."""

    def __init__(self, read: Callable[[], ArchiveFigures]) -> None:
        self._read = read

    def describe(self) -> Iterable[Metric]:
        return ()  # no read of the catalogue when the collector is registered

    def collect(self) -> Iterable[Metric]:
        yield _gauge(
            "build_info", "The archive-ingest version serving", ["version"], [([__version__], 1)]
        )
        started = time.perf_counter()
        try:
            figures = self._read()
        except Exception as exc:  # any failure to read is catalogue_up 0, never a 500
            cause = type(getattr(exc, "orig", None) or exc).__name__
            log.warning("metrics: the catalogue could not be read (%s)", cause)
            yield _single("catalogue_up", "Whether the catalogue could be read (1) or not (0)", 0)
            return
        yield _single("catalogue_up", "Whether the catalogue could be read (1) or not (0)", 1)
        yield _single(
            "figures_read_seconds",
            "Seconds this scrape took to read the figures from the catalogue",
            time.perf_counter() - started,
        )
        yield from figure_families(figures)


def metrics_registry(read: Callable[[], ArchiveFigures]) -> CollectorRegistry:
    """A registry of its own holding only the archive's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ArchiveCollector(read))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry in the Prometheus text format (one scrape: the catalogue is read now)."""
    return generate_latest(registry)
