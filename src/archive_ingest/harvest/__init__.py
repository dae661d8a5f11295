"""Harvesting: list what a source offers, select what is new or changed since the
last successful run (a watermark kept in the catalogue), ingest it in a bounded batch, report.

Pure parts (listing parsers, selection, reports) are separate from the side-effecting edges
(HTTP through :class:`~archive_ingest.http.SourceHttp`, the catalogue, the webhook). The Prefect
flows live in ``flows/harvest.py``; the CLI command in :mod:`archive_ingest.harvest.cli`.
Approved deposits (:mod:`archive_ingest.harvest.approved`) are imported from their module: they
run the ingest's deposit stage, and this package is loaded by every command line start.
"""

from __future__ import annotations

from archive_ingest.harvest.model import Candidate, HarvestPlan, RunReport, parse_source
from archive_ingest.harvest.plan import plan_harvest
from archive_ingest.harvest.report import build_report
from archive_ingest.harvest.store import get_watermark, record_run, set_watermark

__all__ = [
    "Candidate",
    "HarvestPlan",
    "RunReport",
    "build_report",
    "get_watermark",
    "parse_source",
    "plan_harvest",
    "record_run",
    "set_watermark",
]
