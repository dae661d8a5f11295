"""What every ``archive-ingest`` command module shares: the two output streams, the checks a
command runs before it starts anything, and the flow-backed runners it is given.

The runners are Prefect flows, which live in ``flows/``; ``src/`` never imports ``flows/``.
The console script's composition root (``flows/cli.py``) passes a :class:`Runners` to the
typer app as the click context object, and a command that runs a flow asks for it with
:func:`runners`. Each runner is a loader: Prefect reads its ``PREFECT_*`` settings when it is
imported, so every loader :func:`runners` hands out first calls :func:`use_prefect_api`,
which sets them (and starts the local Prefect API when no PREFECT_API_URL is given).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from archive_ingest.errors import ArchiveIngestError, StorageUnreachableError
from archive_ingest.logs.setup import adopt_stream_handlers
from archive_ingest.orchestrator.local_api import HOST, ApiStatus, LocalPrefectApi
from archive_ingest.settings import Settings, get_settings
from archive_ingest.storage.embedded_set import (
    each_at_once,
    embedded_storages,
    start_all,
    stop_all,
)
from archive_ingest.storage.local import LocalStorage
from archive_ingest.storage.s3 import probe_endpoint
from archive_ingest.storage.targets import check_targets, copies_required, target_views

if TYPE_CHECKING:  # a type only; the review actions load the ingest's stages (seconds)
    from archive_ingest.review.actions import OcrRerunLauncher

err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def error(message: object) -> None:
    """One ``error:`` line on stderr."""
    err.print(f"[red]error:[/red] {escape(str(message))}")


def emit(obj: object) -> None:
    """One JSON object on stdout (machine output), flushed at once."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")
    sys.stdout.flush()


def quiet_prefect() -> None:
    """Keep Prefect's own chatter off stdout and short on stderr (set before import)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def begin_prefect_api(pool: Executor) -> Future[ApiStatus] | None:
    """:func:`use_prefect_api` with the wait for the server on ``pool``: PREFECT_API_URL and
    its credential are set in this process's environment at once, so Prefect can be imported
    while the local API starts (it takes seconds: docs/PERFORMANCE.md). None when no local
    API is used (PREFECT_API_URL set, or ``local_prefect_api`` off); otherwise the future
    ends the command (exit 1, one line) when the server cannot start."""
    quiet_prefect()
    if os.environ.get("PREFECT_API_URL") or not get_settings().local_prefect_api:
        return None
    api = LocalPrefectApi(get_settings())
    try:
        client_env = api.prepared_client_env()
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(1) from None
    os.environ.update(client_env)  # before any thread of this call reads the environment
    _bypass_proxies_for_loopback()
    return pool.submit(_local_api_up, api)


def _local_api_up(api: LocalPrefectApi) -> ApiStatus:
    try:
        return api.up(announce=_announce_api_start)
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(1) from None


def _announce_api_start() -> None:
    err.print("starting the local Prefect API (archive-ingest prefect up) …")


def use_prefect_api() -> ApiStatus | None:
    """Point Prefect at its API before it is imported: :func:`quiet_prefect`, and when neither
    PREFECT_API_URL is set (an operator's server) nor ``local_prefect_api`` is off, the local
    Prefect API (orchestrator/local_api.py): started if it does not run (one stderr line),
    then PREFECT_API_URL and PREFECT_API_AUTH_STRING set in this process's environment.
    Its status (``started``: this call started it), or None when it is not used. Idempotent:
    a second call finds PREFECT_API_URL set. Exit 1 with one error line when it cannot start."""
    quiet_prefect()
    if os.environ.get("PREFECT_API_URL") or not get_settings().local_prefect_api:
        return None
    api = LocalPrefectApi(get_settings())
    try:
        status = api.up(announce=_announce_api_start)
        os.environ.update(api.client_env())
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(1) from None
    _bypass_proxies_for_loopback()
    return status


def _bypass_proxies_for_loopback() -> None:
    """A configured HTTP proxy must not see the local API's requests (nor its credential)."""
    proxies = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
    if not any(os.environ.get(name) for name in proxies):
        return
    for name in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in os.environ.get(name, "").split(",") if h.strip()]
        if HOST not in hosts:
            os.environ[name] = ",".join([*hosts, HOST])


def start_stopped_storage(settings: Settings) -> None:
    """Start every embedded storage server of ``settings`` that is not running, all at once
    (raises :class:`ArchiveIngestError` when one cannot start)."""
    stopped = [s for s in embedded_storages(settings) if not s.is_running()]
    if stopped:
        err.print(
            f"starting the embedded storage (archive-ingest storage up: "
            f"{len(stopped)} local server{'s' if len(stopped) > 1 else ''}) …"
        )
        start_all(stopped)


def start_storage_for_serve(settings: Settings) -> list[LocalStorage]:
    """``serve``: start the embedded servers that hold stored data (a HOME that has deposited
    before) and are stopped, so that ``/access`` can read the copies; returns them, for
    ``serve`` to stop when it ends. They are started from this (the main) thread, one after
    the other, with ``die_with_parent``: should ``serve`` be killed, they die with it. Servers
    already running are left alone."""
    stopped = [
        s
        for s in embedded_storages(settings, die_with_parent=True)
        if not s.is_running() and s.data_dir.is_dir()
    ]
    if stopped:
        err.print(
            f"starting the embedded storage for /access ({len(stopped)} local "
            f"server{'s' if len(stopped) > 1 else ''}; they stop with serve) …"
        )
    started: list[LocalStorage] = []
    try:
        for storage in stopped:
            storage.up()
            started.append(storage)
    except ArchiveIngestError:
        stop_all(started)
        raise
    return started


def ensure_embedded_storage() -> None:
    """Start every embedded storage server that is not running (all at once), then check that
    the targets answer (storage.s3.probe_endpoint, seconds at most each). When a server cannot
    start, or fewer targets answer than ``copies_required``, say so in one line naming the
    endpoints and exit 1 (a command that deposits cannot go on, and nothing has been started
    yet); a target that does not answer while enough others do is a warning: its copy is
    missed and made later (the deposit records it)."""
    settings = get_settings()
    try:
        check_targets(settings)
        start_stopped_storage(settings)
        outcomes = each_at_once(probe_endpoint, target_views(settings))
        unreachable = [o for o in outcomes if isinstance(o, BaseException)]
        for outcome in unreachable:
            if not isinstance(outcome, ArchiveIngestError):
                raise outcome
        needed = copies_required(settings)
        if len(outcomes) - len(unreachable) < needed:
            of = f" (copies_required is {needed})" if len(outcomes) > 1 else ""
            raise StorageUnreachableError("; ".join(str(exc) for exc in unreachable) + of)
        for problem in unreachable:
            err.print(f"[yellow]warning:[/yellow] {escape(str(problem))}")
    except ArchiveIngestError as exc:
        error(f"{exc}; nothing was started")
        raise typer.Exit(1) from None


def ensure_tools(*stages: str) -> None:
    """Refuse to start, one line per missing piece and exit 1, when a stage this command runs
    lacks a program or data file it needs (it would not fail, it would silently do worse)."""
    # the OCR stack (pikepdf, pypdf, ocrmypdf: seconds): only the commands that check load it
    from archive_ingest.doctor import failures, run_checks

    missing = failures(run_checks(get_settings(), stages))
    for check in missing:
        error(f"{check.stage}: {check.name}: {check.detail}")
    if missing:
        err.print("nothing was started; `archive-ingest doctor` lists every check")
        raise typer.Exit(1)


class IngestItem(Protocol):
    """Ingest one REF as a flow run; returns the item's JSON summary (``state``, ...)."""

    def __call__(self, *, ref: str, metadata_path: str | None = None) -> dict[str, Any]: ...


class Harvest(Protocol):
    """Harvest a source (``scielo-books``, or ``scielo-articles`` and its ``collection``) as
    a flow run; returns the dry-run plan or the run report."""

    def __call__(
        self,
        kind: str,
        collection: str | None,
        *,
        since: str | None,
        limit: int | None,
        dry_run: bool,
        concurrency: int | None,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Runners:
    """The flow-backed runners the composition root injects; each field loads its runner
    (importing Prefect), so only the command that runs a flow pays for it."""

    ingest: Callable[[], IngestItem]
    harvest: Callable[[], Harvest]
    ocr_rerun: Callable[[], OcrRerunLauncher]


def runners(ctx: typer.Context) -> Runners:
    """The runners given to the app (``app(obj=Runners(...))``), each loading its flow after
    :func:`use_prefect_api`; exit 2 when there are none (the app was started without its
    composition root, e.g. ``python -m archive_ingest.cli``)."""
    found = ctx.find_object(Runners)
    if found is None:
        error(
            "this command runs Prefect flows: start it as `archive-ingest` (flows/cli.py);"
            " an older install may need scripts/setup.sh again"
        )
        raise typer.Exit(2)
    return Runners(
        ingest=_after_prefect_set_up(found.ingest),
        harvest=_after_prefect_set_up(found.harvest),
        ocr_rerun=_after_prefect_set_up(found.ocr_rerun),
    )


def _after_prefect_set_up(load: Callable[[], T]) -> Callable[[], T]:
    """``load``, run after :func:`use_prefect_api`: no command can import Prefect first.
    Prefect sets its logging up when imported: in JSON mode its console handlers are then
    taken over (logs/setup.py), so its lines come as JSON too, and once."""

    def loader() -> T:
        use_prefect_api()
        loaded = load()
        adopt_stream_handlers()
        return loaded

    return loader
