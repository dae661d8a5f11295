"""Judging a :class:`~archive_ingest.monitoring.status_model.StatusReport`: its problems, its
health and the command's exit code:

- ``ok`` (0): everything that must answer answers, and the catalogue shows nothing to act on;
- ``down`` (1): something the archive needs does not answer or is not safe to write to: the
  catalogue; a storage target (an external one, or a running embedded server) that does not
  answer, lacks its bucket, versioning or Object Lock; fewer answering targets than
  ``copies_required`` (embedded servers that are stopped count as available: every command
  that writes starts them); an operator's Prefect API (PREFECT_API_URL); a required tool;
- ``degraded`` (3): everything answers, but something waits for a person: failed,
  under-replicated or stuck items, copies that are not verified, audit findings, a
  whole-archive job (harvest, audit, replicate, repair) whose last run failed, a Prefect flow
  whose newest finished run failed or crashed, a catalogue whose schema is not the code's.

The review queue is the normal work of archivists and never makes the status unhealthy; the
local Prefect API and the review web server are reported but optional (the first starts on
demand, the second only serves people).
"""

from __future__ import annotations

from archive_ingest.monitoring.status_model import (
    EXIT_CODES,
    Health,
    Problem,
    Queues,
    StatusReport,
    TargetReport,
)


def judged(report: StatusReport) -> StatusReport:
    """The report with its problems, health and exit code."""
    problems = [Problem(severity="down", what=w) for w in _down(report)]
    problems += [Problem(severity="degraded", what=w) for w in _degraded(report)]
    health: Health = (
        "down" if any(p.severity == "down" for p in problems) else "degraded" if problems else "ok"
    )
    return report.model_copy(
        update={"problems": problems, "health": health, "exit_code": EXIT_CODES[health]}
    )


def _down(report: StatusReport) -> list[str]:
    out: list[str] = []
    services = report.services
    if not services.catalogue.up:
        out.append(f"the catalogue ({services.catalogue.database}) does not answer")
    configured = [t for t in report.targets if t.configured]
    for target in configured:
        if target.on_demand:
            continue
        if not target.up:
            out.append(f"storage target {target.name} ({target.endpoint}) does not answer")
        elif not target.safe:
            out.append(f"storage target {target.name}: {_unsafe(target)}")
    available = sum(1 for t in configured if t.on_demand or t.safe)
    if available < report.copies_required:
        out.append(
            f"{available} of {len(configured)} storage targets can take a copy; "
            f"copies_required is {report.copies_required}"
        )
    prefect = services.prefect
    if prefect is not None and prefect.mode == "external" and not prefect.up:
        out.append(f"the Prefect API at {prefect.url} does not answer")
    for tool in services.tools:
        if tool.required and not tool.found:
            out.append(f"{tool.name} ({tool.stage}) is not installed")
    return out


def _unsafe(target: TargetReport) -> str:
    if not target.bucket_exists:
        return f"bucket {target.bucket} is missing or not readable ({target.detail})"
    missing = [
        n
        for n, ok in (("versioning", target.versioning), ("Object Lock", target.object_lock))
        if not ok
    ]
    return f"bucket {target.bucket} has no {' and no '.join(missing)}"


def _degraded(report: StatusReport) -> list[str]:
    out: list[str] = []
    catalogue = report.services.catalogue
    if catalogue.up and catalogue.exists and not catalogue.schema_current:
        out.append(f"the catalogue's schema is not this code's: {catalogue.detail}")
    for run in report.last_runs:
        if run.job != "ingest" and run.outcome == "failure":
            out.append(
                f"the last {run.job} run failed"
                + (f" ({run.at:%Y-%m-%d %H:%M} UTC)" if run.at else "")
            )
    prefect = report.services.prefect
    for flow_run in prefect.flow_runs if prefect else []:
        if flow_run.failed:
            ended = f" ({flow_run.ended_at:%Y-%m-%d %H:%M} UTC)" if flow_run.ended_at else ""
            out.append(f"the last run of flow {flow_run.flow} ended {flow_run.state}{ended}")
    queues = report.queues or Queues()  # not read: the catalogue's problem is said above
    for count, what in (
        (queues.failed, "failed (see the review queue's failures)"),
        (queues.under_replicated, "under-replicated (run `archive-ingest replicate`)"),
        (queues.stuck, f"stuck for more than {queues.stuck_after_hours:g} h (see `reconcile`)"),
    ):
        if count:
            out.append(f"{count} item{'s' if count != 1 else ''} {what}")
    for target in report.targets:
        bad = {s: n for s, n in target.copies.items() if s != "verified" and n}
        if bad:
            listed = ", ".join(f"{n} {s}" for s, n in sorted(bad.items()))
            out.append(f"storage target {target.name}: copies {listed}")
        if target.findings:
            found = sum(target.findings.values())
            out.append(f"storage target {target.name}: the audit found {found} damaged objects")
    return out
