"""What an audit pass tells people beyond its report: the ``audit_finding`` alert (findings by
kind and target) and the Markdown of the audit flow run's Prefect artifact.

Both the ``audit`` command and the scheduled ``fixity-audit`` flow call these after the pass
is recorded; a pass with no finding raises no alert.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from archive_ingest.audit.report import AuditReport
from archive_ingest.monitoring.alerts import Alert, RunInfo, make_alert, send_alert
from archive_ingest.monitoring.artifacts import findings_markdown
from archive_ingest.settings import Settings, mask_url

COLUMNS = ("target", "item", "version", "kind", "key", "detail")


def finding_rows(report: AuditReport) -> list[dict[str, Any]]:
    """One row per problem of a failed copy, and one per target that did not answer."""
    rows: list[dict[str, Any]] = [
        {
            "target": copy.target,
            "item": copy.record_id,
            "version": copy.version,
            "kind": problem.reason,
            "key": problem.key,
            "detail": problem.detail,
        }
        for copy in report.failed
        for problem in copy.problems
    ]
    rows += [
        {
            "target": target.name,
            "item": "",
            "version": "",
            "kind": "unreachable",
            "key": "",
            "detail": mask_url(str(target.error or "does not answer")),
        }
        for target in report.unreachable
    ]
    return rows


def findings_by_kind_and_target(report: AuditReport) -> dict[str, int]:
    """``{"TARGET:KIND": n}`` over every target of the pass."""
    counts: Counter[str] = Counter()
    for target in report.targets:
        for kind, n in target.findings.items():
            counts[f"{target.name}:{kind}"] += n
    return dict(sorted(counts.items()))


def _summary(report: AuditReport) -> str:
    parts = []
    if report.failed:
        parts.append(f"{len(report.failed)} of {report.checked} copies damaged or missing")
    if report.unreachable:
        names = ", ".join(t.name for t in report.unreachable)
        parts.append(f"{len(report.unreachable)} target(s) not audited ({names})")
    found = ", ".join(f"{k} {n}" for k, n in findings_by_kind_and_target(report).items())
    return "audit: " + "; ".join(parts) + (f"; findings {found}" if found else "")


def audit_alert(settings: Settings, report: AuditReport, *, run: RunInfo) -> Alert | None:
    """The ``audit_finding`` alert of a pass, or None when it found nothing."""
    if not report.exit_code:
        return None
    rows = finding_rows(report)
    return make_alert(
        settings,
        "audit_finding",
        _summary(report),
        run=run,
        items=[str(row["item"]) for row in rows if row["item"]],
        counts=findings_by_kind_and_target(report),
        details=[{k: str(v) for k, v in row.items() if v != ""} for row in rows],
    )


def send_audit_alert(settings: Settings, report: AuditReport, *, run: RunInfo) -> bool:
    """Send the pass's alert if it found anything; True when delivered. Never raises."""
    if settings.alert_webhook_url is None:
        return False
    return send_alert(settings, audit_alert(settings, report, run=run))


def audit_markdown(report: AuditReport) -> str:
    """The audit flow run's artifact: the outcome per target, then one row per finding."""
    per_target = "; ".join(
        f"{t.name}: "
        + (
            "does not answer"
            if not t.reachable
            else f"{sum(1 for c in t.copies if c.ok)}/{len(t.copies)} copies ok, "
            f"{t.objects_checked} objects checked, {t.objects_rehashed} re-hashed"
        )
        for t in report.targets
    )
    verdict = _summary(report) if report.exit_code else "audit: no finding"
    return findings_markdown(
        "Fixity audit", f"{verdict}. {per_target}", finding_rows(report), COLUMNS
    )


def send_unreachable_alert(settings: Settings, error: Exception, *, run: RunInfo) -> bool:
    """The ``audit_finding`` alert of a pass that audited nothing: no target answered."""
    if settings.alert_webhook_url is None:
        return False
    alert = make_alert(
        settings,
        "audit_finding",
        "audit: no storage target answers, nothing was audited",
        run=run,
        counts={"unreachable": 1},
        details=[{"kind": "unreachable", "detail": mask_url(str(error))}],
    )
    return send_alert(settings, alert)
