"""``archive-ingest alerts check``: the scheduled ``stuck_state`` check (monitoring/stuck.py).

JSON on stdout (the threshold, the stuck items, whether the alert was delivered), one line on
stderr; exit 0 when nothing is stuck, 1 when items are stuck (alerted when a webhook is set),
2 on a configuration error. Cron, a systemd timer or a Prefect deployment can run it; the
scheduled audit flow runs the same check at its end.
"""

from __future__ import annotations

import typer

from archive_ingest.cli_support import emit, err, error
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.monitoring.alerts import RunInfo
from archive_ingest.monitoring.stuck import check_stuck
from archive_ingest.settings import get_settings

alerts_app = typer.Typer(
    help="Alerts to the alert webhook (alert_webhook_url): scheduled checks.",
    no_args_is_help=True,
)


@alerts_app.command("check")
def check_command() -> None:
    """Alert on items left in a non-terminal state longer than stalled_after_hours (a
    stuck_state alert). JSON on stdout; exit 1 when items are stuck."""
    try:
        report = check_stuck(get_settings(), run=RunInfo.command("alerts check"))
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(2) from None
    emit(report)
    stuck = len(report["stuck"])
    if not stuck:
        err.print(f"nothing stuck (threshold {report['threshold_hours']} h)")
        raise typer.Exit(0)
    told = (
        "alert delivered"
        if report["alert_delivered"]
        else "alert NOT delivered"
        if report["alert_webhook"]
        else "no alert_webhook_url set"
    )
    err.print(f"[bold red]{stuck} item(s) stuck[/bold red] ({told})")
    raise typer.Exit(1)
