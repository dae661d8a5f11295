"""Typer commands for ``archive-ingest storage up|down|status``.

Mounted by the main CLI with ``app.add_typer(storage_app, name="storage")``.

Output is JSON on stdout (for scripts); human warnings go to stderr. Exit codes: 0 fine,
1 audit found damaged/missing objects, 2 the command could not do its job (bad settings,
storage unreachable), 3 `storage status` when the server is not running.
"""

from __future__ import annotations

from typing import Annotated

import typer

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.settings import get_settings
from archive_ingest.storage.local import LocalStorage, StorageStatus

storage_app = typer.Typer(
    help="The embedded SeaweedFS storage (used when ARCHIVE_INGEST_S3_ENDPOINT_URL is unset).",
    no_args_is_help=True,
)


def _emit(status: StorageStatus) -> None:
    typer.echo(status.model_dump_json(indent=2))


def _fail(exc: ArchiveIngestError) -> typer.Exit:
    typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)


@storage_app.command("up")
def up_command() -> None:
    """Start the local S3 server (no-op when it is running) and ensure the bucket."""
    try:
        _emit(LocalStorage(get_settings()).up())
    except ArchiveIngestError as exc:
        raise _fail(exc) from exc


@storage_app.command("down")
def down_command(
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait after SIGTERM before SIGKILL")
    ] = 20.0,
) -> None:
    """Stop the local S3 server (no-op when it is not running)."""
    try:
        _emit(LocalStorage(get_settings()).down(timeout=timeout))
    except ArchiveIngestError as exc:
        raise _fail(exc) from exc


@storage_app.command("status")
def status_command() -> None:
    """Report running/pid/endpoint/bucket/versioning/lock (never secrets)."""
    try:
        status = LocalStorage(get_settings()).status()
    except ArchiveIngestError as exc:
        raise _fail(exc) from exc
    _emit(status)
    if not status.running:
        raise typer.Exit(3)
