"""``archive-ingest status``: the whole archive on one screen, or as JSON for scripts.

Exit codes (monitoring/status_health.py says when each applies): 0 ok, 1 down (something the
archive needs does not answer or is unsafe to write to), 3 degraded (it answers, but something
waits for a person), 2 a usage error.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from archive_ingest.monitoring.status import DEFAULT_DEADLINE, gather_status
from archive_ingest.monitoring.status_view import status_screen
from archive_ingest.settings import get_settings


def status_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON object (for scripts).")
    ] = False,
    web_url: Annotated[
        str | None,
        typer.Option(
            "--web-url",
            help="Where `serve` answers (default: web_base_url, else the OAI base URL's site, "
            "else http://127.0.0.1:8000).",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(min=1, max=300, help="Seconds to wait for the slowest service at most."),
    ] = DEFAULT_DEADLINE,
) -> None:
    """Services (catalogue, storage targets, Prefect API, review web server, tools), last
    runs, queues and storage figures on one screen. Exit 0 ok, 1 something is down, 3 the
    archive answers but needs attention (failed, stuck or under-replicated items, damaged
    copies)."""
    report = gather_status(get_settings(), web_url=web_url, deadline_seconds=timeout)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        Console(soft_wrap=False).print(status_screen(report))
    raise typer.Exit(report.exit_code)
