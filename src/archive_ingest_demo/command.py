"""The ``demo`` command, added to ``archive-ingest`` through the ``archive_ingest.commands``
entry point group (pyproject.toml), which ``archive_ingest.cli`` loads."""

from __future__ import annotations

import atexit
from typing import Annotated

import typer

from archive_ingest.cli_support import emit, ensure_tools, err, error, runners, use_prefect_api
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.orchestrator.local_api import LocalPrefectApi
from archive_ingest.settings import get_settings


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app`` (the entry point ``archive_ingest.cli`` calls)."""
    app.command()(demo)


def demo(
    ctx: typer.Context,
    keep_running: Annotated[
        bool,
        typer.Option(
            help="Leave the storage (and the local Prefect API the demo started) running "
            "afterwards."
        ),
    ] = True,
) -> None:
    """Ingest a generated SciELO-like book from a local sample server, end to end."""
    # heavy (storage, the sample server, the review accounts): loaded only when the demo runs
    from archive_ingest_demo.run import run_demo

    ensure_tools("ocr")
    api = use_prefect_api()  # before the ingest runner imports Prefect, as every runner does
    if api is not None and api.started and not keep_running:
        # at exit, after Prefect's own exit hooks (threading's, which run first) have sent the
        # logs and events still queued to the API
        atexit.register(LocalPrefectApi(get_settings()).down)
    try:
        code = run_demo(
            get_settings(),
            keep_running=keep_running,
            out=err,
            emit=emit,
            load_ingest=runners(ctx).ingest,
        )
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(1) from None
    raise typer.Exit(code)
