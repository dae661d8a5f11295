"""``ingest_item``: one item from its REF to a deposited (or held) AIP.

Thin on purpose: every stage is a module of ``archive_ingest.ingest`` listed in its registry
(``ingest/registry.py``), run by ``ingest/runner.py``. This module only makes one Prefect
task per registered stage (the stage's name, its retry policy), holds a slot of the global
OCR limit around the stage that asks for it, and turns any failure into a recorded outcome,
so a batch never stops at one bad item.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, ParamSpec, TypeVar

from prefect import Task, flow, get_client, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY
from prefect.settings import Settings as PrefectSettings

from archive_ingest.catalogue.runs import count_item_run
from archive_ingest.errors import ArchiveIngestError, StorageUnreachableError
from archive_ingest.ingest import describe, ocr, package, registry, resolve
from archive_ingest.ingest.runner import fail, result_for, run_stage
from archive_ingest.ingest.services import Handle, Services
from archive_ingest.ingest.stage import RetryPolicy, Stage
from archive_ingest.logs import context as log_context
from archive_ingest.settings import get_settings
from flows.reporting import report_item
from flows.run_logs import with_run_logs

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

#: the jitter of every retried stage
RETRY_JITTER = 0.5


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only what a retry can fix: network trouble, 5xx, storage hiccups. Not a storage
    that does not answer at all: the probe already gave it its seconds, and waiting minutes
    here would only hold the run; the item ends failed (transient) and the next run resumes
    it at the deposit."""
    try:
        state.result()
    except StorageUnreachableError:
        return False
    except ArchiveIngestError as exc:
        return bool(exc.transient)
    except Exception:
        return False
    return False


def as_task(fn: Callable[P, R], name: str, policy: RetryPolicy) -> Task[P, R]:
    """``fn`` as the Prefect task ``name`` with the retries of ``policy`` (none when 0)."""
    if not policy.retries:
        return task(name=name, cache_policy=NO_CACHE)(fn)
    return task(
        name=name,
        cache_policy=NO_CACHE,
        retries=policy.retries,
        retry_delay_seconds=[float(delay) for delay in policy.retry_delays],
        retry_jitter_factor=RETRY_JITTER,
        retry_condition_fn=retry_if_transient,
    )(fn)


def _resolve(svc: Services, ref: str, metadata_path: str | None) -> Handle:
    started = time.perf_counter()
    with log_context.bound(ref=ref, stage=resolve.NAME):
        handle = resolve.resolve(svc, ref, metadata_path)
    seconds = {resolve.NAME: round(time.perf_counter() - started, 4)}
    return handle.model_copy(update={"seconds": seconds})


resolve_task = as_task(_resolve, resolve.NAME, resolve.RETRY)


#: cluster-wide cap on OCR runs (`prefect gcl create archive-ingest-ocr --limit N`);
#: the per-machine cap is ``ocr_max_concurrent`` (lock files), which always applies
OCR_CONCURRENCY_LIMIT = "archive-ingest-ocr"


_LIMIT_CHECK_SECONDS = 60.0
_limit_seen: dict[str, tuple[float, bool]] = {}


def _global_limit_exists(name: str) -> bool:
    """Whether the Prefect server has the global concurrency limit ``name`` (cached 60 s).

    Asking first matters: inside a task, ``concurrency(..., strict=False)`` on a limit that
    does not exist cost ~2 s per item (measured with bench/bench_pipeline.py), while this
    lookup is one GET of a few milliseconds, made at most once a minute per process."""
    now = time.monotonic()
    seen = _limit_seen.get(name)
    if seen is not None and now - seen[0] < _LIMIT_CHECK_SECONDS:
        return seen[1]
    try:
        with get_client(sync_client=True) as client:
            client.read_global_concurrency_limit_by_name(name)
        exists = True
    except ObjectNotFound:
        exists = False
    except Exception as exc:  # no API reachable: the lock files still apply
        log.debug("global OCR limit %s not checked: %s", name, type(exc).__name__)
        exists = False
    _limit_seen[name] = (now, exists)
    return exists


@contextmanager
def _ocr_slot() -> Iterator[None]:
    """Hold a slot of the global OCR limit if the server has one; else run on (fallback)."""
    stack = ExitStack()
    if _global_limit_exists(OCR_CONCURRENCY_LIMIT):
        try:
            stack.enter_context(concurrency(OCR_CONCURRENCY_LIMIT, occupy=1, strict=False))
        except Exception as exc:  # the limit vanished or the API failed: lock files apply
            log.debug("no global OCR concurrency limit: %s", type(exc).__name__)
    with stack:
        yield


def stage_task(stage: Stage) -> Task[[Services, Handle], Handle]:
    """The Prefect task of a registered stage: its name, its retries, the OCR slot if asked."""

    def run(svc: Services, handle: Handle) -> Handle:
        if stage.ocr_slot:
            with _ocr_slot():
                return run_stage(stage, svc, handle)
        return run_stage(stage, svc, handle)

    run.__name__ = run.__qualname__ = f"{stage.name}_task"
    return as_task(run, stage.name, stage.retry)


#: one task per registered stage, in the registry's order
STAGE_TASKS: dict[str, Task[[Services, Handle], Handle]] = {
    stage.name: stage_task(stage) for stage in registry.STAGES
}
#: the tasks the ``rerun-ocr`` flow (flows/review.py) runs on an archivist's new version
ocr_task = STAGE_TASKS[ocr.STAGE.name]
describe_task = STAGE_TASKS[describe.STAGE.name]
package_task = STAGE_TASKS[package.STAGE.name]


def task_for(stage: Stage) -> Task[[Services, Handle], Handle]:
    """The stage's task: built at import for the registry's stages, on demand for one a tool or
    test registered afterwards."""
    found = STAGE_TASKS.get(stage.name)
    if found is None:
        found = STAGE_TASKS[stage.name] = stage_task(stage)
    return found


@flow(name="ingest-item", log_prints=False, validate_parameters=True)
@with_run_logs
def ingest_item(ref: str, metadata_path: str | None = None) -> dict[str, Any]:
    """Ingest one item; returns the JSON-able result `archive-ingest ingest` prints."""
    svc = Services.open(get_settings())
    handle: Handle | None = None
    try:
        handle = resolve_task(svc, ref, metadata_path)
        for stage in registry.STAGES:
            if handle.unchanged:  # fetch found nothing new: no later stage runs
                break
            handle = task_for(stage)(svc, handle)
        result = result_for(svc, handle).model_dump(mode="json")
    except Exception as exc:
        record_id = handle.record_id if handle else None
        version = handle.version if handle else None
        source = handle.source if handle else ref
        log.debug("ingest of %s failed", ref, exc_info=True)
        if handle is not None:  # the stages that ran before the failure
            count_item_run(
                svc.catalogue, handle.seconds, record_id=handle.record_id, version=handle.version
            )
        result = fail(svc, source, record_id, version, exc).model_dump(mode="json")
    finally:
        svc.close()
    report_item(result)  # the run's artifact; alerts when a deployment run stands alone
    return result


#: each Prefect settings object seen (by id, kept alive) and its heartbeat-free copy
_WITHOUT_HEARTBEAT: dict[int, tuple[PrefectSettings, PrefectSettings]] = {}


def _without_heartbeat() -> PrefectSettings:
    """The current Prefect settings with no flow-run heartbeat, made once per settings object:
    Prefect's ``temporary_settings`` rebuilds them from the environment on every call (0.3 s
    per item). Keyed by the current settings, so a caller inside another settings context
    (another API URL) gets its own."""
    current = get_settings_context().settings
    found = _WITHOUT_HEARTBEAT.get(id(current))
    if found is None or found[0] is not current:
        derived = current.copy_with_update(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
        found = _WITHOUT_HEARTBEAT[id(current)] = (current, derived)
    return found[1]


def ingest_item_here(ref: str, metadata_path: str | None = None) -> dict[str, Any]:
    """``ingest_item`` as a command runs it, in its own process: without the flow run's
    heartbeat thread. The heartbeat only tells a server that a run started by a worker is
    alive; in a command the run ends with the call, and Prefect 3.8's engine joins that
    thread at the end of every run while it sleeps in 1 s steps: 0.5 s per item on average,
    up to 1 s (measured, docs/PERFORMANCE.md). Deployment runs keep it. The result also
    gives ``run_seconds``, the run's time as this caller waited for it."""
    started = time.perf_counter()
    context = get_settings_context()
    with SettingsContext(profile=context.profile, settings=_without_heartbeat()):
        result = ingest_item(ref=ref, metadata_path=metadata_path)
    # the whole flow run as its caller waited for it: minus the stages' seconds, what the
    # orchestration around them cost (docs/PERFORMANCE.md)
    result["run_seconds"] = round(time.perf_counter() - started, 4)
    return result
