"""The Prefect deployments of archive-ingest, in Python rather than prefect.yaml.

Why Python: one source of truth with the flows themselves (names, parameters and schedules are
checked by import, ruff and the tests), and the same specs serve both ways of running:

- ``python -m flows.deployments deploy --pool archive-ingest [--source DIR]``: register the
  deployments on a *process* work pool; then start workers anywhere the project is installed:
  ``prefect worker start --pool archive-ingest --type process`` (scale-out: N workers).
- ``python -m flows.deployments serve``: one long-lived process that runs them all itself
  (``prefect.serve``), for a single machine without a work pool.

Deployments (names are ``FLOW/DEPLOYMENT``):
  harvest-scielo-books/scheduled   cron (daily 02:30 UTC): harvest SciELO Books
  ingest-item/ingest-item          no schedule: one REF per run (parameter ``ref``); batches
                                   and harvests fan out to it with ``via_deployment``
  fixity-audit/scheduled           interval (audit_interval_hours, default 24 h): the fast pass
                                   of every copy on every target and the budgeted re-hash
  deposit-approved/every-15-min    interval: deposit records approved by an archivist
  rerun-ocr/rerun-ocr              no schedule: an OCR re-run asked for in the review UI
                                   (flows/review.py; the web app creates its flow runs)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import Flow, flow, serve
from prefect.deployments.runner import RunnerDeployment
from prefect.flows import load_flow_from_entrypoint

from archive_ingest.settings import get_settings
from flows.prefect_sync import sync

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Spec:
    entrypoint: str  # path:function, relative to the project root
    name: str
    cron: str | None = None
    interval: dt.timedelta | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    concurrency_limit: int | None = None


def specs(
    *,
    harvest_cron: str = "30 2 * * *",
    harvest_interval: dt.timedelta | None = None,
    audit_interval: dt.timedelta | None = None,
    approved_interval: dt.timedelta = dt.timedelta(minutes=15),
) -> list[Spec]:
    """The deployments; ``harvest_interval`` replaces the harvest cron (tests, demos).
    ``audit_interval`` defaults to the settings' ``audit_interval_hours``: the re-hash budget
    of each run assumes exactly that schedule (archive_ingest.storage.rehash)."""
    if audit_interval is None:
        audit_interval = dt.timedelta(hours=get_settings().audit_interval_hours)
    return [
        Spec(
            "flows/harvest.py:harvest_scielo_books",
            "scheduled",
            cron=None if harvest_interval else harvest_cron,
            interval=harvest_interval,
            description="Harvest new and changed SciELO Books chapters",
            concurrency_limit=1,  # never two harvests of one source at once
        ),
        Spec("flows/ingest.py:ingest_item", "ingest-item", description="Ingest one REF"),
        Spec(
            "flows/audit.py:fixity_audit",
            "scheduled",
            interval=audit_interval,
            parameters={"full": True},
            description="Fixity audit of every copy on every target: fast pass and the "
            "budgeted re-hash (every byte within audit_rehash_cycle_days)",
            concurrency_limit=1,  # two passes at once would re-hash the same objects
        ),
        Spec(
            "flows/harvest.py:deposit_approved_flow",
            "every-15-min",
            interval=approved_interval,
            description="Deposit records approved by an archivist",
            concurrency_limit=1,
        ),
        Spec(
            "flows/review.py:rerun_ocr",
            "rerun-ocr",
            description="Finish a version an archivist opened for an OCR re-run",
        ),
    ]


def _schedule_kwargs(spec: Spec) -> dict[str, Any]:
    if spec.cron:
        return {"cron": spec.cron}
    if spec.interval:
        return {"interval": spec.interval}
    return {}


def deploy(pool: str, source: Path = REPO, only: list[str] | None = None, **kw: Any) -> list[str]:
    """Register the deployments on a process work pool; returns their ids."""
    ids = []
    for spec in specs(**kw):
        if only and spec.name not in only:
            continue
        remote = sync(flow.from_source(source=str(source), entrypoint=spec.entrypoint))
        deployment = sync(
            remote.to_deployment(
                name=spec.name,
                work_pool_name=pool,
                parameters=spec.parameters,
                description=spec.description,
                concurrency_limit=spec.concurrency_limit,
                **_schedule_kwargs(spec),
            )
        )
        # RunnerDeployment.apply, not Flow.deploy: the latter's "active workers" probe sends
        # limit=None, which the pinned Prefect server (3.8.8) rejects with 422
        ids.append(str(sync(deployment.apply(work_pool_name=pool))))
    return ids


def serve_all(only: list[str] | None = None, **kw: Any) -> None:
    """Run every deployment from this process (``prefect.serve``); blocks."""
    deployments: list[RunnerDeployment] = []
    for spec in specs(**kw):
        if only and spec.name not in only:
            continue
        loaded: Flow[..., Any] = load_flow_from_entrypoint(str(REPO / spec.entrypoint))
        deployments.append(
            sync(
                loaded.to_deployment(
                    name=spec.name,
                    parameters=spec.parameters,
                    description=spec.description,
                    concurrency_limit=spec.concurrency_limit,
                    **_schedule_kwargs(spec),
                )
            )
        )
    serve(*deployments, print_starting_message=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.deployments")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("deploy", "serve"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--only", action="append", help="deployment name (repeatable)")
        cmd.add_argument("--harvest-interval", type=float, help="seconds; replaces the cron")
        cmd.add_argument("--harvest-cron", default="30 2 * * *")
        if name == "deploy":
            cmd.add_argument("--pool", required=True)
            cmd.add_argument("--source", type=Path, default=REPO)
    args = parser.parse_args(argv)
    kw: dict[str, Any] = {"harvest_cron": args.harvest_cron}
    if args.harvest_interval:
        kw["harvest_interval"] = dt.timedelta(seconds=args.harvest_interval)
    if args.command == "deploy":
        for dep_id in deploy(args.pool, args.source, args.only, **kw):
            print(dep_id)
    else:
        serve_all(args.only, **kw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
