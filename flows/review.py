"""``rerun-ocr``: the OCR re-run an archivist asks for in the review UI, as a Prefect flow run.

The review UI opens ``v<N+1>`` itself (``actions.start_ocr_rerun``: the decision event, the
payload carried over, the chosen languages in the inspect checkpoint) and hands the version
to :func:`launch`, which ``archive-ingest serve`` injects into the web app (``src/`` never
imports ``flows/``). The flow then runs the ingest's own tasks on that version: ``ocr``
(with the global OCR concurrency limit and the per-machine lock files), ``describe``,
``package``, and a ``finish`` task with the deposit's retries: deposited if the item was,
otherwise held for review. Stages are checkpointed per version, so a retried or re-run flow
run resumes where the last one stopped.

:func:`launch` creates a flow run of the deployment ``rerun-ocr/rerun-ocr`` when one is
registered (``python -m flows.deployments deploy`` or ``serve``): a worker runs it. Without
one it runs the same flow in a thread of the calling process, still a flow run on the
Prefect API (PREFECT_API_URL, or Prefect's temporary server as for ``archive-ingest ingest``).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from typing import Any

from prefect import flow, get_client, task
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.ingest.runner import fail, result_for
from archive_ingest.ingest.services import Handle, Services
from archive_ingest.review.actions import OcrRerun, finish_new_version
from archive_ingest.settings import get_settings
from flows.ingest import describe_task, ocr_task, package_task, retry_if_transient
from flows.prefect_sync import sync
from flows.run_logs import with_run_logs

log = logging.getLogger(__name__)

FLOW = "rerun-ocr"
DEPLOYMENT = f"{FLOW}/rerun-ocr"


@task(
    name="finish",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[5, 30, 120],
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_transient,
)
def finish_task(svc: Services, handle: Handle, deposit: bool) -> Handle:
    finish_new_version(svc, handle, deposit)
    return handle


@flow(name=FLOW, log_prints=False, validate_parameters=True)
@with_run_logs
def rerun_ocr(record_id: str, version: int, deposit: bool) -> dict[str, Any]:
    """Finish the version the review UI opened for an OCR re-run; returns the item's result.
    A failure ends the item ``failed`` with its reason (as in ``ingest-item``)."""
    svc = Services.open(get_settings())
    item = svc.catalogue.get_item(record_id)
    if item is None or item.current_version != version:
        svc.close()  # superseded: the item is someone else's now, left as it is (run Failed)
        raise ArchiveIngestError(
            f"{record_id} v{version} is not the item's current version: nothing to re-run"
        )
    source = item.source
    try:
        handle = Handle(record_id=record_id, source=source, version=version)
        if item.deposited_version == version:  # a re-run of a finished run: nothing left
            return result_for(svc, handle).model_dump(mode="json")
        for stage in (ocr_task, describe_task, package_task):
            handle = stage(svc, handle)
        handle = finish_task(svc, handle, deposit)
        return result_for(svc, handle).model_dump(mode="json")
    except Exception as exc:
        log.debug("OCR re-run of %s v%s failed", record_id, version, exc_info=True)
        return fail(svc, source, record_id, version, exc).model_dump(mode="json")
    finally:
        svc.close()


def _deployment_registered(name: str) -> bool:
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(name)
        except ObjectNotFound:
            return False
    return True


def _run_here(rerun: OcrRerun) -> None:
    try:
        rerun_ocr.with_options(flow_run_name=f"rerun-ocr-{rerun.record_id}-v{rerun.version}")(
            record_id=rerun.record_id, version=rerun.version, deposit=rerun.deposit
        )
    except BaseException as exc:  # not even a flow run: the item must not stay in progress
        log.warning("OCR re-run of %s could not run: %s", rerun.record_id, type(exc).__name__)
        svc = Services.open(get_settings())
        try:
            item = svc.catalogue.get_item(rerun.record_id)
            if item is not None and item.current_version == rerun.version:
                fail(svc, item.source, rerun.record_id, rerun.version, exc)
        finally:
            svc.close()


def launch(rerun: OcrRerun) -> str:
    """Start the flow run for ``rerun`` and return at once (the review UI's launcher)."""
    parameters = {"record_id": rerun.record_id, "version": rerun.version, "deposit": rerun.deposit}
    if _deployment_registered(DEPLOYMENT):
        run = sync(run_deployment(DEPLOYMENT, parameters=parameters, timeout=0))
        return f"Prefect flow run {run.name} of {DEPLOYMENT}"
    # in a copy of this context, so the caller's Prefect settings (API URL, profile) apply;
    # not a daemon: `serve` stopped by Ctrl-C exits once the run has ended (at most one OCR
    # run); SIGTERM ends the process at once, the run with it (docs/REVIEW.md, Known limits)
    thread = threading.Thread(
        target=contextvars.copy_context().run,
        args=(_run_here, rerun),
        name=f"rerun-ocr-{rerun.record_id}",
        daemon=False,
    )
    thread.start()
    return f"Prefect flow run rerun-ocr-{rerun.record_id}-v{rerun.version} in the web process"
