"""Harvesting: list what a source offers, select what is new or changed since the
last successful run (a watermark kept in the catalogue), ingest it in a bounded batch, report.

Pure parts (listing parsers, selection, reports) are separate from the side-effecting edges
(HTTP through :class:`~archive_ingest.http.SourceHttp`, the catalogue, the webhook). The Prefect
flows live in ``flows/harvest.py``; the CLI command in :mod:`archive_ingest.harvest.cli`.
"""

from __future__ import annotations

from archive_ingest.harvest.approved import APPROVED_STATE, deposit_approved
from archive_ingest.harvest.model import Candidate, HarvestPlan, RunReport, parse_source
from archive_ingest.harvest.plan import plan_harvest
from archive_ingest.harvest.report import build_report
from archive_ingest.harvest.store import get_watermark, record_run, set_watermark

__all__ = [
    "APPROVED_STATE",
    "Candidate",
    "HarvestPlan",
    "RunReport",
    "build_report",
    "deposit_approved",
    "get_watermark",
    "parse_source",
    "plan_harvest",
    "record_run",
    "set_watermark",
]
