"""``ingest_item``: one item from its REF to a deposited (or held) AIP.

Thin on purpose: every stage is a function in ``archive_ingest.pipeline``; this module only
strings them together as Prefect tasks, adds retries where a retry can help (network stages)
and turns any failure into a recorded outcome, so a batch never stops at one bad item.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from prefect import flow, get_client, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectNotFound

from archive_ingest import pipeline
from archive_ingest.errors import ArchiveIngestError, StorageUnreachableError
from archive_ingest.pipeline import Handle, Services
from archive_ingest.settings import get_settings

log = logging.getLogger(__name__)


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


@task(
    name="resolve",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_transient,
)
def resolve_task(svc: Services, ref: str, metadata_path: str | None) -> Handle:
    return pipeline.resolve(svc, ref, metadata_path)


@task(
    name="fetch",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_transient,
)
def fetch_task(svc: Services, handle: Handle) -> Handle:
    return pipeline.fetch(svc, handle)


@task(name="inspect", cache_policy=NO_CACHE)
def inspect_task(svc: Services, handle: Handle) -> Handle:
    return pipeline.inspect(svc, handle)


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


@task(name="ocr", cache_policy=NO_CACHE)
def ocr_task(svc: Services, handle: Handle) -> Handle:
    with _ocr_slot():
        return pipeline.ocr(svc, handle)


@task(name="licence", cache_policy=NO_CACHE)
def licence_task(svc: Services, handle: Handle) -> Handle:
    return pipeline.licence(svc, handle)


@task(name="describe", cache_policy=NO_CACHE)
def describe_task(svc: Services, handle: Handle) -> Handle:
    return pipeline.describe(svc, handle)


@task(name="package", cache_policy=NO_CACHE)
def package_task(svc: Services, handle: Handle) -> Handle:
    return pipeline.package(svc, handle)


@task(
    name="deposit",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[5, 30, 120],
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_transient,
)
def deposit_task(svc: Services, handle: Handle) -> Handle:
    return pipeline.deposit_or_hold(svc, handle)


@flow(name="ingest-item", log_prints=False, validate_parameters=True)
def ingest_item(ref: str, metadata_path: str | None = None) -> dict[str, Any]:
    """Ingest one item; returns the JSON-able result `archive-ingest ingest` prints."""
    svc = Services.open(get_settings())
    handle: Handle | None = None
    try:
        handle = resolve_task(svc, ref, metadata_path)
        handle = fetch_task(svc, handle)
        if not handle.unchanged:
            for stage in (
                inspect_task,
                ocr_task,
                licence_task,
                describe_task,
                package_task,
                deposit_task,
            ):
                handle = stage(svc, handle)
        return pipeline.result_for(svc, handle).model_dump(mode="json")
    except Exception as exc:
        record_id = handle.record_id if handle else None
        version = handle.version if handle else None
        source = handle.source if handle else ref
        log.debug("ingest of %s failed", ref, exc_info=True)
        return pipeline.fail(svc, source, record_id, version, exc).model_dump(mode="json")
    finally:
        svc.close()
