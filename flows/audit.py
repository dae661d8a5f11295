"""``fixity_audit``: the scheduled re-check of every stored AIP (see archive_ingest.fixity)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from archive_ingest.fixity import audit_and_record
from archive_ingest.settings import get_settings


class AuditFailed(RuntimeError):
    """Raised after recording, so the flow run ends Failed and automations can alert."""


@flow(name="fixity-audit", log_prints=False)
def fixity_audit(sample: int = 0, read_back_all: bool = False) -> dict[str, Any]:
    summary = audit_and_record(get_settings(), sample=sample, read_back_all=read_back_all)
    report = summary.report()
    logger = get_run_logger()
    logger.info(
        "audited %d AIPs: %d ok, %d failed", summary.checked, summary.ok, len(summary.failed)
    )
    if summary.failed:
        raise AuditFailed(
            f"{len(summary.failed)} of {summary.checked} AIPs damaged or missing: "
            + ", ".join(r.bag_uri for r in summary.failed)
        )
    return report
