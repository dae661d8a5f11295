"""Typer commands for ``archive-ingest prefect up|down|status``: the local Prefect API.

Mounted by the main CLI with ``app.add_typer(prefect_app, name="prefect")``. A command that
runs a flow starts the local API itself when it needs it (cli_support.use_prefect_api); these
commands start it ahead, stop it, and report it. Output is one JSON object on stdout (for
scripts, never the credential); warnings go to stderr. Exit codes: 0 fine, 2 the command could
not do its job (a port in use, a server that would not start), 3 `prefect status` when the
local API is not running.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.orchestrator.local_api import ApiStatus, LocalPrefectApi
from archive_ingest.settings import get_settings

prefect_app = typer.Typer(
    help="The local Prefect API (used when PREFECT_API_URL is not set): start, stop, report.",
    no_args_is_help=True,
)


def _emit(status: ApiStatus) -> None:
    typer.echo(status.model_dump_json(indent=2))


def _fail(exc: ArchiveIngestError) -> typer.Exit:
    typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)


def _warn_if_unused() -> None:
    if os.environ.get("PREFECT_API_URL"):
        typer.secho(
            "warning: PREFECT_API_URL is set: commands run their flows on that server, not on "
            "the local Prefect API",
            err=True,
            fg=typer.colors.YELLOW,
        )
    elif not get_settings().local_prefect_api:
        typer.secho(
            "warning: local_prefect_api is off: commands do not use the local Prefect API",
            err=True,
            fg=typer.colors.YELLOW,
        )


@prefect_app.command("up")
def up_command() -> None:
    """Start the local Prefect API unless it runs (127.0.0.1:prefect_api_port)."""
    _warn_if_unused()
    try:
        status = LocalPrefectApi(get_settings()).up()
    except ArchiveIngestError as exc:
        raise _fail(exc) from exc
    _emit(status)


@prefect_app.command("down")
def down_command(
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait after SIGTERM before SIGKILL")
    ] = 20.0,
) -> None:
    """Stop the local Prefect API (no-op when it is not running)."""
    try:
        status = LocalPrefectApi(get_settings()).down(timeout=timeout)
    except ArchiveIngestError as exc:
        raise _fail(exc) from exc
    _emit(status)


@prefect_app.command("status")
def status_command() -> None:
    """Whether the local Prefect API runs and answers: pid, URL, files (never the credential)."""
    status = LocalPrefectApi(get_settings()).status()
    _emit(status)
    if not status.running:
        raise typer.Exit(3)
