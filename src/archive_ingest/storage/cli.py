"""Typer commands for ``archive-ingest storage up|down|status``.

Mounted by the main CLI with ``app.add_typer(storage_app, name="storage")``.

`up` and `down` act on every embedded target (the local SeaweedFS servers: two by default), all
at once; external targets are never started or stopped. `status` reports every target, probing
the external ones. Output is JSON on stdout (for scripts): ``{"copies_required": N,
"targets": [...]}``; human warnings go to stderr. Exit codes: 0 fine, 2 the command could not do
its job (bad settings, a server would not start), 3 `storage status` when a target is not
running (embedded) or does not answer (external).
"""

from __future__ import annotations

from typing import Annotated

import typer

from archive_ingest.errors import ArchiveIngestError, ConfigError
from archive_ingest.settings import Settings, get_settings
from archive_ingest.storage.embedded_set import embedded_storages, start_all, stop_all
from archive_ingest.storage.local import LocalStorage, StorageStatus
from archive_ingest.storage.target_status import (
    StorageReport,
    embedded_target_status,
    storage_report,
)
from archive_ingest.storage.targets import check_targets, copies_required

storage_app = typer.Typer(
    help="The storage targets: start/stop the embedded SeaweedFS servers, report every target.",
    no_args_is_help=True,
)


def _emit(report: StorageReport) -> None:
    typer.echo(report.model_dump_json(indent=2))


def _fail(exc: ArchiveIngestError) -> typer.Exit:
    typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)


def _embedded(settings: Settings) -> list[LocalStorage]:
    check_targets(settings)
    storages = embedded_storages(settings)
    if not storages:
        raise ConfigError(
            "no embedded storage target is configured (every target has an endpoint_url); "
            "`storage status` reports them"
        )
    return storages


def _report(
    settings: Settings, storages: list[LocalStorage], statuses: list[StorageStatus]
) -> None:
    _emit(
        StorageReport(
            copies_required=copies_required(settings),
            targets=[
                embedded_target_status(storage.settings, status)
                for storage, status in zip(storages, statuses, strict=True)
            ],
        )
    )


@storage_app.command("up")
def up_command() -> None:
    """Start every embedded server that is not running (all at once) and ensure its bucket."""
    settings = get_settings()
    try:
        storages = _embedded(settings)
        statuses = start_all(storages)
    except ArchiveIngestError as exc:
        raise _fail(exc) from exc
    _report(settings, storages, statuses)


@storage_app.command("down")
def down_command(
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait after SIGTERM before SIGKILL")
    ] = 20.0,
) -> None:
    """Stop every embedded server (no-op for those not running)."""
    settings = get_settings()
    try:
        storages = _embedded(settings)
        statuses = stop_all(storages, timeout=timeout)
    except ArchiveIngestError as exc:
        raise _fail(exc) from exc
    _report(settings, storages, statuses)


@storage_app.command("status")
def status_command() -> None:
    """Every target: name, endpoint, running, bucket, versioning, lock (never secrets)."""
    try:
        settings = get_settings()
        check_targets(settings)
        report = storage_report(settings)
    except ArchiveIngestError as exc:
        raise _fail(exc) from exc
    _emit(report)
    if not report.all_running:
        raise typer.Exit(3)
