"""Every embedded storage target at once: start them together, stop them together.

With nothing configured the archive keeps its copies on ``embedded_copies`` local SeaweedFS
servers (storage/targets.py), each a :class:`~archive_ingest.storage.local.LocalStorage` of its
own target view: own folder, process, ports, credentials and bucket. A start costs seconds,
most of them waiting for the server (``weed server`` starts its master, volume server, filer
and S3 gateway one after the other), so :func:`start_all` spawns every process first, from
the calling thread, and then waits for all of them at once, one thread each.

Why spawn from the calling thread: a test fixture's servers get the parent-death signal, which
Linux sends when the *thread* that forked the child exits, so a worker thread must never spawn.
The waiting threads are daemons: an interrupted command (Ctrl-C) returns at once and leaves
the servers running, as one interrupted `storage up` always did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from archive_ingest.errors import ArchiveIngestError, StorageError
from archive_ingest.settings import Settings
from archive_ingest.storage.local import LocalStorage, StartingServer, StorageStatus
from archive_ingest.storage.targets import resolve_targets, target_settings

T = TypeVar("T")
R = TypeVar("R")


def embedded_storages(
    settings: Settings,
    *,
    start_timeout: float = 90.0,
    stop_timeout: float = 20.0,
    die_with_parent: bool = False,
) -> list[LocalStorage]:
    """One :class:`LocalStorage` per embedded target (endpoint_url unset), in target order."""
    return [
        LocalStorage(
            target_settings(settings, target),
            start_timeout=start_timeout,
            stop_timeout=stop_timeout,
            die_with_parent=die_with_parent,
        )
        for target in resolve_targets(settings)
        if target.embedded
    ]


def _name(storage: LocalStorage) -> str:
    return storage.settings.storage_target_name


def each_at_once(action: Callable[[T], R], items: Sequence[T]) -> list[R | BaseException]:
    """``action(item)`` for every item, one daemon thread each (the first in this thread);
    each result or the exception it raised, in order."""
    results: dict[int, R | BaseException] = {}

    def run(index: int) -> None:
        try:
            results[index] = action(items[index])
        except BaseException as exc:  # handed back to the caller, which raises it
            results[index] = exc

    threads = [
        threading.Thread(target=run, args=(i,), name=f"storage-{i}", daemon=True)
        for i in range(1, len(items))
    ]
    for thread in threads:
        thread.start()
    if items:
        run(0)
    for thread in threads:
        thread.join()
    return [results[index] for index in range(len(items))]


def _raise_if_failed(
    verb: str, storages: Sequence[LocalStorage], outcomes: Sequence[object]
) -> None:
    failures = [
        (storage, outcome)
        for storage, outcome in zip(storages, outcomes, strict=True)
        if isinstance(outcome, BaseException)
    ]
    for _, outcome in failures:
        if not isinstance(outcome, Exception):  # KeyboardInterrupt, SystemExit: as they are
            raise outcome
    if failures:
        raise StorageError(
            f"could not {verb} the embedded storage: "
            + "; ".join(f"{_name(storage)}: {exc}" for storage, exc in failures)
        )


def start_all(storages: Sequence[LocalStorage]) -> list[StorageStatus]:
    """Start every server that is not running, all at once; their statuses, in order.

    All or nothing: when one cannot start, the servers this call started are stopped again
    (those that were running already are left alone) and one :class:`StorageError` names
    each target that failed and why."""
    starting: list[StartingServer] = []
    try:
        for storage in storages:
            starting.append(storage.start())  # spawns, from this thread
    except ArchiveIngestError as exc:
        for started in starting:
            started.abort()
        raise StorageError(
            f"could not start the embedded storage: {_name(storages[len(starting)])}: {exc}"
        ) from exc
    except BaseException:
        for started in starting:
            started.abort()
        raise
    outcomes = each_at_once(StartingServer.finish, starting)
    if any(isinstance(outcome, BaseException) for outcome in outcomes):
        for started, outcome in zip(starting, outcomes, strict=True):
            if started.spawned and not isinstance(outcome, BaseException):
                started.storage.down(timeout=2.0)
        _raise_if_failed("start", storages, outcomes)
    return [outcome for outcome in outcomes if isinstance(outcome, StorageStatus)]


def stop_all(
    storages: Sequence[LocalStorage], *, timeout: float | None = None
) -> list[StorageStatus]:
    """Stop every server, all at once (each may take ``timeout`` s before its SIGKILL)."""
    outcomes = each_at_once(lambda storage: storage.down(timeout=timeout), storages)
    _raise_if_failed("stop", storages, outcomes)
    return [outcome for outcome in outcomes if isinstance(outcome, StorageStatus)]
