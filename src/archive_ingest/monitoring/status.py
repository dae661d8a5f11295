"""`archive-ingest status`: the services, the last runs, the queues and the storage targets,
gathered into one :class:`StatusReport` (the ``--json`` output; ``status_view.py`` draws it).

Everything is asked at once with one deadline (:func:`archive_ingest.monitoring.probes.at_once`):
the catalogue (reached, then the archive figures of :mod:`archive_ingest.monitoring.figures`
and two queries of its own, :mod:`archive_ingest.monitoring.status_queries`), every storage
target (:func:`archive_ingest.storage.target_status.target_status`: a few short requests, no
listing), the Prefect API, the review web server and the tools. Nothing is started, created,
migrated or listed. No secret is in the report: database and endpoint URLs are masked, keys
and credentials are never read into it.

Health and exit code: status_health.py (0 ok, 1 down, 3 degraded).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import State
from archive_ingest.monitoring.figures import ArchiveFigures, archive_figures
from archive_ingest.monitoring.probes import (
    CatalogueService,
    PrefectService,
    ProbeTimeout,
    ToolCheck,
    WebService,
    at_once,
    catalogue_service,
    prefect_service,
    serve_url,
    tool_checks,
    web_service,
)
from archive_ingest.monitoring.status_health import judged
from archive_ingest.monitoring.status_model import (
    LastRun,
    Queues,
    Services,
    StatusReport,
    TargetReport,
)
from archive_ingest.monitoring.status_queries import LastIngest, Stuck, last_ingest, stuck_items
from archive_ingest.settings import Settings, mask_url
from archive_ingest.storage.s3 import endpoint_label
from archive_ingest.storage.target_status import TargetStatus, target_status
from archive_ingest.storage.targets import copies_required, target_views

M = TypeVar("M", bound=BaseModel)

#: seconds the whole gathering may take (every probe runs at once; storage probes have their
#: own shorter timeouts, storage/target_status.py)
DEFAULT_DEADLINE = 12.0

#: the jobs of the "last runs" table, in its order (ingest, then the whole-archive jobs)
JOBS = ("ingest", "harvest", "audit", "replicate", "repair")


class _CatalogueFacts(BaseModel):
    service: CatalogueService
    figures: ArchiveFigures | None = None
    stuck: Stuck | None = None
    last_ingest: LastIngest | None = None


def gather_status(
    settings: Settings,
    *,
    web_url: str | None = None,
    now: dt.datetime | None = None,
    deadline_seconds: float = DEFAULT_DEADLINE,
) -> StatusReport:
    """Ask everything at once and wait at most ``deadline_seconds``; ``web_url``: where
    `serve` is expected (default :func:`~archive_ingest.monitoring.probes.serve_url`)."""
    now = now or dt.datetime.now(dt.UTC)
    views = target_views(settings)
    probes = {
        "catalogue": lambda: _catalogue_facts(settings, now),
        "prefect": lambda: prefect_service(settings),
        "web": lambda: web_service(serve_url(settings, web_url)),
        "tools": lambda: tool_checks(settings),
        **{f"target-{i}": _target_probe(view) for i, view in enumerate(views)},
    }
    results: dict[str, object] = dict(at_once(probes, deadline=time.monotonic() + deadline_seconds))
    facts = results["catalogue"]
    if not isinstance(facts, _CatalogueFacts):
        facts = _CatalogueFacts(
            service=CatalogueService(
                database=mask_url(settings.effective_database_url),
                dialect="",
                up=False,
                detail=_failure(facts, deadline_seconds),
            )
        )
    targets = [
        _target_report(view, results[f"target-{i}"], deadline_seconds)
        for i, view in enumerate(views)
    ]
    services = Services(
        catalogue=facts.service,
        prefect=_or_none(results["prefect"], PrefectService),
        web=_or_none(results["web"], WebService),
        tools=_tools(results["tools"]),
    )
    report = StatusReport(
        generated_at=now,
        health="ok",
        exit_code=0,
        services=services,
        copies_required=copies_required(settings),
        targets=targets,
    )
    if facts.figures is not None or (facts.service.up and not facts.service.exists):
        _add_catalogue(report, facts, settings, now)
    return judged(report)


def _target_probe(view: Settings) -> Callable[[], TargetStatus]:
    return lambda: target_status(view)


def _catalogue_facts(settings: Settings, now: dt.datetime) -> _CatalogueFacts:
    service, catalogue = catalogue_service(settings)
    if catalogue is None:
        return _CatalogueFacts(service=service)
    try:
        return _read(catalogue, service, settings, now)
    finally:
        catalogue.close()


def _read(
    catalogue: Catalogue, service: CatalogueService, settings: Settings, now: dt.datetime
) -> _CatalogueFacts:
    before = now - dt.timedelta(seconds=settings.stalled_after_seconds)
    return _CatalogueFacts(
        service=service,
        figures=archive_figures(catalogue, now),
        stuck=stuck_items(catalogue, before),
        last_ingest=last_ingest(catalogue),
    )


def _failure(outcome: object, deadline_seconds: float) -> str:
    """One line for a probe that did not give its result (never the exception's text: a
    driver's message may quote a URL or a host's answer)."""
    if isinstance(outcome, ProbeTimeout):
        return f"no answer within {deadline_seconds:.0f} s"
    return f"the check failed ({type(outcome).__name__})"


def _or_none(outcome: object, kind: type[M]) -> M | None:
    return outcome if isinstance(outcome, kind) else None


def _tools(outcome: object) -> list[ToolCheck]:
    if isinstance(outcome, list):
        return [check for check in outcome if isinstance(check, ToolCheck)]
    return []


def _target_report(view: Settings, outcome: object, deadline_seconds: float) -> TargetReport:
    if not isinstance(outcome, TargetStatus):
        return TargetReport(
            name=view.storage_target_name,
            embedded=view.s3_endpoint_url is None,
            endpoint=endpoint_label(view),
            bucket=view.s3_bucket,
            detail=_failure(outcome, deadline_seconds),
        )
    up = bool(outcome.s3_answering)
    return TargetReport(
        name=outcome.name,
        embedded=outcome.embedded,
        endpoint=outcome.endpoint,
        bucket=outcome.bucket,
        up=up,
        on_demand=outcome.embedded and not outcome.running,
        bucket_exists=outcome.bucket_exists,
        versioning=outcome.versioning,
        object_lock=outcome.object_lock,
        default_retention=outcome.default_retention,
        detail=outcome.detail or ("answering" if up else "not answering"),
    )


def _add_catalogue(
    report: StatusReport, facts: _CatalogueFacts, settings: Settings, now: dt.datetime
) -> None:
    """The catalogue's figures into the report (zeros when there is no catalogue yet: a
    catalogue that answers with a schema not this code's has none, see :func:`gather_status`)."""
    figures = facts.figures or ArchiveFigures(generated_at=now)
    report.figures_read = True
    by_state = figures.items_by_state
    report.items = {state.value: by_state.get(state.value, 0) for state in State}
    report.items.update({k: v for k, v in by_state.items() if k not in report.items})
    stuck = facts.stuck or Stuck(count=0, oldest_update=None)
    report.queues = Queues(
        review=figures.review_queue,
        review_oldest_age_seconds=figures.review_queue_oldest_age_seconds,
        failed=by_state.get(State.FAILED.value, 0),
        under_replicated=by_state.get(State.UNDER_REPLICATED.value, 0),
        approved=by_state.get(State.APPROVED.value, 0),
        stuck=stuck.count,
        stuck_oldest_age_seconds=_age(now, stuck.oldest_update),
        stuck_after_hours=round(settings.stalled_after_seconds / 3600, 2),
    )
    report.last_runs = [_last_run(figures, facts.last_ingest, job, now) for job in JOBS]
    by_name = {target.name: target for target in report.targets}
    for copy in figures.copies:
        _target_named(report, by_name, copy.target).copies[copy.status] = copy.copies
    for totals in figures.targets:
        target = _target_named(report, by_name, totals.target)
        target.objects, target.bytes = totals.objects, totals.bytes
    for finding in figures.findings:
        _target_named(report, by_name, finding.target).findings[finding.kind] = finding.objects


def _target_named(
    report: StatusReport, by_name: dict[str, TargetReport], name: str
) -> TargetReport:
    """The report's target ``name``; one the settings no longer name is added (configured
    false): the catalogue still records copies there."""
    if name not in by_name:
        by_name[name] = TargetReport(name=name, configured=False, detail="not configured")
        report.targets.append(by_name[name])
    return by_name[name]


def _last_run(
    figures: ArchiveFigures, ingest: LastIngest | None, job: str, now: dt.datetime
) -> LastRun:
    times = figures.job(job)
    if job == "ingest":
        at = ingest.at if ingest else None
        outcome = ingest.state if ingest else None
    else:
        at = times.last_run
        outcome = None if at is None else ("success" if at == times.last_success else "failure")
    return LastRun(
        job=job,
        at=at,
        age_seconds=_age(now, at),
        outcome=outcome,
        last_success=times.last_success,
    )


def _age(now: dt.datetime, at: dt.datetime | None) -> float | None:
    return None if at is None else round(max(0.0, (now - at).total_seconds()), 3)
