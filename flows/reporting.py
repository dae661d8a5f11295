"""What the flows tell Prefect and people about a run: its identity for alerts
(:func:`run_info`) and its Markdown artifact (:func:`publish_markdown`). The texts and the
alerts themselves are built in ``archive_ingest.monitoring``; this module only asks Prefect's
run context and calls its artifact API.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext

from archive_ingest.audit.notice import audit_markdown, send_audit_alert
from archive_ingest.audit.report import AuditReport
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.monitoring.alerts import RunInfo
from archive_ingest.monitoring.artifacts import artifact_key, items_markdown
from archive_ingest.monitoring.item_alerts import send_item_alerts
from archive_ingest.monitoring.stuck import check_stuck
from archive_ingest.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _context() -> FlowRunContext | None:
    ctx = FlowRunContext.get()
    return ctx if ctx is not None and ctx.flow_run is not None else None


def run_info() -> RunInfo:
    """The current flow run (id, name, flow), or an empty RunInfo outside a flow run."""
    ctx = _context()
    if ctx is None or ctx.flow_run is None:
        return RunInfo()
    return RunInfo(
        id=str(ctx.flow_run.id),
        name=ctx.flow_run.name,
        flow=ctx.flow.name if ctx.flow is not None else None,
    )


def standalone_deployment_run() -> bool:
    """A flow run of a deployment that no other flow run started (a scheduled run, one
    started from the UI or the API): it alerts on its own, a batch's item runs leave that
    to the batch."""
    ctx = _context()
    run = ctx.flow_run if ctx is not None else None
    return run is not None and run.deployment_id is not None and run.parent_task_run_id is None


def publish_markdown(markdown: str, *parts: str) -> bool:
    """The Markdown artifact of the current flow run, keyed ``artifact_key(flow name,
    *parts)``; nothing outside a flow run. Never fails the run (the outcome is recorded in
    the catalogue already): a failure is logged and False returned."""
    ctx = _context()
    if ctx is None:
        return False
    try:
        create_markdown_artifact(
            markdown=markdown,
            key=artifact_key(ctx.flow.name if ctx.flow is not None else "run", *parts),
            description=f"{ctx.flow.name if ctx.flow is not None else 'run'}: items and outcomes",
        )
    except Exception as exc:
        log.warning("the run's artifact was not created: %s", type(exc).__name__)
        return False
    return True


def report_item(result: Mapping[str, Any]) -> None:
    """An ``ingest-item`` run's artifact (its one row); its alerts only when it is a
    standalone deployment run (the ``ingest`` command, a harvest or a batch alert for their
    items)."""
    settings = get_settings()
    title = f"ingest-item {result.get('id') or result.get('source')}"
    publish_markdown(items_markdown(settings, title, [result]), "outcomes")
    if standalone_deployment_run():
        send_item_alerts(settings, [result], run=run_info(), batch="an ingest-item run")


def report_batch(settings: Settings, results: Sequence[Mapping[str, Any]], batch: str) -> None:
    """A batch's (a harvest's) artifact and its failed_items / under_replicated alerts."""
    publish_markdown(items_markdown(settings, batch, results), "outcomes")
    send_item_alerts(settings, results, run=run_info(), batch=batch)


def report_audit(settings: Settings, report: AuditReport) -> None:
    """The audit flow run's artifact, its audit_finding alert, then the stuck_state check."""
    publish_markdown(audit_markdown(report), "outcomes")
    send_audit_alert(settings, report, run=run_info())
    try:
        check_stuck(settings, run=run_info())
    except ArchiveIngestError as exc:
        log.warning("the stuck-items check did not run: %s", exc)
