"""The ``demo`` command, added to ``archive-ingest`` through the ``archive_ingest.commands``
entry point group (pyproject.toml), which ``archive_ingest.cli`` loads."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from archive_ingest.cli_support import runners
from archive_ingest.doctor import failures, run_checks
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.settings import get_settings

err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app`` (the entry point ``archive_ingest.cli`` calls)."""
    app.command()(demo)


def demo(
    ctx: typer.Context,
    keep_running: Annotated[
        bool, typer.Option(help="Leave the storage running afterwards.")
    ] = True,
) -> None:
    """Ingest a generated SciELO-like book from a local sample server, end to end."""
    # heavy (storage, the sample server, Prefect's flow): loaded only when the demo runs
    from archive_ingest_demo.run import run_demo

    _ensure_ocr_tools()
    try:
        code = run_demo(
            get_settings(),
            keep_running=keep_running,
            out=err,
            emit=_emit,
            load_ingest=runners(ctx).ingest,
        )
    except ArchiveIngestError as exc:
        _error(exc)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def _ensure_ocr_tools() -> None:
    """Refuse to start, as ``ingest`` does, when the OCR stage lacks a program or data file."""
    missing = failures(run_checks(get_settings(), ["ocr"]))
    for check in missing:
        _error(f"{check.stage}: {check.name}: {check.detail}")
    if missing:
        err.print("nothing was started; `archive-ingest doctor` lists every check")
        raise typer.Exit(1)


def _error(message: object) -> None:
    err.print(f"[red]error:[/red] {escape(str(message))}")


def _emit(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")
    sys.stdout.flush()
