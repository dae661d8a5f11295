"""Harvest and batch flows.

- ``harvest_scielo_books`` / ``harvest_scielo_articles``: list → select (watermark in the
  catalogue) → ``ingest_item`` per selected item with bounded concurrency → run report
  (Prefect table + markdown artifacts) → watermark stored only if the run completed.
- ``ingest_batch``: the same batch runner over explicit REFs.
- ``deposit_approved_flow``: deposit items an archivist approved (see harvest.approved).

Items run either in this process (threads, ``concurrency`` at a time, each a subflow run of
``ingest-item``) or, with ``via_deployment="ingest-item/ingest-item"``, as flow runs of that
deployment picked up by any worker of its pool (scale-out); the catalogue, not Prefect
results, is read back for the report, so nothing big travels through Prefect.
"""

from __future__ import annotations

import contextvars
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext, get_run_context
from prefect.deployments import run_deployment

from archive_ingest.catalogue import Catalogue
from archive_ingest.harvest import approved as approved_mod
from archive_ingest.harvest.model import HarvestPlan, RunReport, Source, parse_since, parse_source
from archive_ingest.harvest.notify import notify
from archive_ingest.harvest.plan import plan_harvest
from archive_ingest.harvest.report import COLUMNS, build_report, ocr_facts, row_for
from archive_ingest.harvest.store import record_run, set_watermark
from archive_ingest.ingest.resolve import books_hosts
from archive_ingest.ingest.runner import item_result
from archive_ingest.models import State, utcnow
from archive_ingest.refs import parse_ref
from archive_ingest.settings import Settings, get_settings
from flows.ingest import ingest_item_here
from flows.prefect_sync import sync
from flows.reporting import report_batch
from flows.run_logs import with_run_logs

log = logging.getLogger(__name__)


# --- running a batch -------------------------------------------------------------------------
def _ingest_local(ref: str) -> dict[str, Any]:
    try:
        return ingest_item_here(ref)
    except BaseException as exc:  # ingest_item records failures itself; this is a last guard
        return {"id": None, "source": ref, "state": State.FAILED.value, "reasons": [str(exc)]}


def _ingest_deployed(deployment: str, ref: str, settings: Settings) -> dict[str, Any]:
    try:
        run = sync(run_deployment(deployment, parameters={"ref": ref}, timeout=None))
        final = run.state.name if run.state else "unknown"
    except Exception as exc:
        final = f"not started: {type(exc).__name__}: {exc}"
    record_id = parse_ref(ref, books_hosts(settings)).record_id
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        item = catalogue.get_item(record_id) if record_id else None
        if item is None:
            return {"id": record_id, "source": ref, "state": "failed", "reasons": [final]}
        return {
            **item_result(item).model_dump(mode="json"),
            "flow_run": str(run.id) if final and not final.startswith("not") else None,
        }
    finally:
        catalogue.close()


def run_batch(
    refs: list[str],
    *,
    concurrency: int,
    settings: Settings,
    via_deployment: str | None = None,
) -> list[dict[str, Any]]:
    """Every REF attempted, ``concurrency`` at a time; results in REF order, never raises."""
    if not refs:
        return []

    def one(ref: str) -> dict[str, Any]:
        if via_deployment:
            return _ingest_deployed(via_deployment, ref, settings)
        return _ingest_local(ref)

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        # each thread gets a copy of this flow run's context, so items are its subflow runs
        futures = [pool.submit(contextvars.copy_context().run, one, ref) for ref in refs]
        return [f.result() for f in futures]


def report_rows(settings: Settings, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        rows = []
        for result in results:
            extra: dict[str, Any] = {}
            if result.get("id") and result.get("version"):
                version = catalogue.get_version(result["id"], int(result["version"]))
                extra = ocr_facts(version.summary or {}) if version else {}
            rows.append(row_for(result, extra))
        return rows
    finally:
        catalogue.close()


def publish(report: RunReport, key: str) -> None:
    """The run report as Prefect artifacts (table + markdown summary)."""
    table = [{c: _cell(row.get(c)) for c in COLUMNS} for row in report.rows]
    create_table_artifact(
        table=table, key=_artifact_key(key, "items"), description=f"Items of {key}"
    )
    create_markdown_artifact(markdown=report.markdown(), key=_artifact_key(key, "summary"))


def _artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    text = "-".join(parts).lower()
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in text).strip("-")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return str(value)


def _run_id() -> str | None:
    try:
        ctx = get_run_context()
        flow_run = ctx.flow_run if isinstance(ctx, FlowRunContext) else None
        return str(flow_run.id) if flow_run else None
    except Exception:
        return None


# --- harvest ---------------------------------------------------------------------------------
def run_harvest(
    source: Source,
    *,
    since: str | None,
    limit: int | None,
    dry_run: bool,
    concurrency: int | None,
    via_deployment: str | None,
) -> dict[str, Any]:
    settings = get_settings()
    logger = get_run_logger()
    started = utcnow()
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        plan: HarvestPlan = plan_harvest(
            settings, catalogue, source, since=parse_since(since), limit=limit
        )
        if dry_run:
            record_run(
                catalogue,
                source=source.key,
                started_at=started,
                status="dry-run",
                watermark_before=plan.since,
                watermark_after=None,
                counts={"would_ingest": len(plan.selected)},
                problems=[*plan.problems, *(f"note: {n}" for n in plan.notes)],
            )
            out = plan.to_json()
            create_markdown_artifact(
                markdown=_plan_markdown(plan), key=_artifact_key("harvest", source.key, "dry-run")
            )
            return {"dry_run": True, **out}
        refs = [c.ref for c in plan.selected]
        logger.info("harvest %s: %d item(s) selected", source.key, len(refs))
        results = run_batch(
            refs,
            concurrency=concurrency or settings.harvest_concurrency,
            settings=settings,
            via_deployment=via_deployment,
        )
        # the batch always completes (failures are per-item results); the watermark moves only
        # when the listing worked and no --limit left selected items behind
        watermark = plan.next_watermark
        store = watermark is not None and not plan.truncated and since is None
        if watermark is not None and store:
            set_watermark(catalogue, source.key, watermark)
        report = build_report(
            source.key,
            report_rows(settings, results),
            problems=plan.problems,
            notes=plan.notes,
            watermark_before=plan.since,
            watermark_after=plan.next_watermark,
            watermark_stored=store,
        )
        record_run(
            catalogue,
            source=source.key,
            started_at=started,
            status="completed" if plan.next_watermark is not None else "failed",
            watermark_before=plan.since,
            watermark_after=plan.next_watermark if store else None,
            counts=report.counts,
            problems=[*report.problems, *(f"note: {n}" for n in report.notes)],
        )
    finally:
        catalogue.close()
    publish(report, f"harvest-{source.key}")
    notify(settings, report, run_id=_run_id())
    report_batch(settings, results, f"harvest {source.key}")
    logger.info("%s", report.markdown())
    return report.to_json()


def _plan_markdown(plan: HarvestPlan) -> str:
    data = plan.to_json()
    lines = [f"# Dry run of `{plan.source}`", "", f"{len(data['would_ingest'])} item(s):", ""]
    lines += [f"- `{c['ref']}` ({c['reason']})" for c in data["would_ingest"]]
    if plan.problems:
        lines += ["", "## Problems", "", *(f"- {p}" for p in plan.problems)]
    if plan.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in plan.notes)]
    return "\n".join(lines) + "\n"


@flow(name="harvest-scielo-books", log_prints=False)
@with_run_logs
def harvest_scielo_books(
    since: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    concurrency: int | None = None,
    via_deployment: str | None = None,
) -> dict[str, Any]:
    """Harvest SciELO Books: chapters of books new or changed since the last successful run."""
    return run_harvest(
        parse_source("scielo-books"),
        since=since,
        limit=limit,
        dry_run=dry_run,
        concurrency=concurrency,
        via_deployment=via_deployment,
    )


@flow(name="harvest-scielo-articles", log_prints=False)
@with_run_logs
def harvest_scielo_articles(
    collection: str,
    since: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    concurrency: int | None = None,
    via_deployment: str | None = None,
) -> dict[str, Any]:
    """Harvest a SciELO collection's articles processed since a date (or the watermark)."""
    return run_harvest(
        parse_source(f"scielo-articles:{collection}"),
        since=since,
        limit=limit,
        dry_run=dry_run,
        concurrency=concurrency,
        via_deployment=via_deployment,
    )


@flow(name="ingest-batch", log_prints=False)
@with_run_logs
def ingest_batch(
    refs: list[str], concurrency: int | None = None, via_deployment: str | None = None
) -> dict[str, Any]:
    """Ingest explicit REFs, ``concurrency`` at a time; never stops at a failure."""
    settings = get_settings()
    results = run_batch(
        refs,
        concurrency=concurrency or settings.harvest_concurrency,
        settings=settings,
        via_deployment=via_deployment,
    )
    report = build_report("batch", report_rows(settings, results))
    publish(report, "ingest-batch")
    notify(settings, report, run_id=_run_id())
    report_batch(settings, results, "ingest-batch")
    return report.to_json()


@flow(name="deposit-approved", log_prints=False)
@with_run_logs
def deposit_approved_flow() -> dict[str, Any]:
    """Deposit every record an archivist approved (state ``approved``)."""
    settings = get_settings()
    results = approved_mod.deposit_approved(settings)
    report = build_report("deposit-approved", report_rows(settings, results))
    if results:
        publish(report, "deposit-approved")
        report_batch(settings, results, "deposit-approved")
    notify(settings, report, run_id=_run_id())
    return report.to_json()


__all__ = [
    "deposit_approved_flow",
    "harvest_scielo_articles",
    "harvest_scielo_books",
    "ingest_batch",
    "run_batch",
]
