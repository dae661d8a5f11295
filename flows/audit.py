"""``fixity_audit``: the scheduled audit of every copy on every target (see
archive_ingest.fixity). The deployment runs the fast pass and the budgeted full re-hash; a run
that finds anything (or a target that does not answer) records it first, then raises, so the
flow run ends Failed and a schedule's automations alert."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from archive_ingest.audit.notice import send_unreachable_alert
from archive_ingest.errors import StorageUnreachableError
from archive_ingest.fixity import audit_and_record
from archive_ingest.settings import get_settings
from flows.reporting import report_audit, run_info
from flows.run_logs import with_run_logs


class AuditFailed(RuntimeError):
    """Raised after recording, so the flow run ends Failed and automations can alert."""


@flow(name="fixity-audit", log_prints=False)
@with_run_logs
def fixity_audit(
    full: bool = True,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
    targets: list[str] | None = None,
    sample: int = 0,
    read_back_all: bool = False,
) -> dict[str, Any]:
    settings = get_settings()
    try:
        report = audit_and_record(
            settings,
            targets=targets or (),
            full=full,
            max_bytes=max_bytes,
            max_seconds=max_seconds,
            sample=sample,
            read_back_all=read_back_all,
        )
    except StorageUnreachableError as exc:
        send_unreachable_alert(settings, exc, run=run_info())
        raise
    logger = get_run_logger()
    for target in report.targets:
        logger.info(
            "target %s: %d copies, %d objects checked, %d objects (%d bytes) re-hashed, "
            "findings %s",
            target.name,
            len(target.copies),
            target.objects_checked,
            target.objects_rehashed,
            target.bytes_rehashed,
            dict(target.findings) or "none",
        )
    report_audit(settings, report)  # artifact, audit_finding alert, stuck_state check
    if report.exit_code:
        what = [f"{c.bag_uri} on {c.target}" for c in report.failed]
        what += [f"target {t.name} does not answer" for t in report.unreachable]
        raise AuditFailed(
            f"{len(report.failed)} of {report.checked} copies damaged or missing"
            + (f", {len(report.unreachable)} targets not audited" if report.unreachable else "")
            + ": "
            + ", ".join(what)
        )
    return report.report()
