"""The ``archive-ingest`` command line (typer). Machine output on stdout, people's on stderr.

Exit codes: 0 every item reached deposited/needs_review/rejected (or the command succeeded),
1 an item failed (or an audit found damage, or the storage does not answer), 2 a usage error
(bad REF, bad option), 130 interrupted (Ctrl-C). ``harvest`` also has 3: items held for review
(harvest/cli.py).

The flow-backed commands (``ingest``, ``harvest``, ``serve``'s OCR re-runs) get their Prefect
runners from the console script's composition root, ``flows/cli.py``
(:class:`archive_ingest.cli_support.Runners`); ``src/`` never imports ``flows/``.
"""

from __future__ import annotations

import logging
import os
import sys
from importlib.metadata import entry_points
from typing import Annotated

import typer
import uvicorn
from rich.markup import escape
from uvicorn.config import LOGGING_CONFIG

from archive_ingest import __version__
from archive_ingest.alerts_cli import alerts_app
from archive_ingest.audit.cli import audit_command, verify_receipt_command
from archive_ingest.cli_support import (
    emit,
    ensure_embedded_storage,
    err,
    error,
    runners,
    start_storage_for_serve,
)
from archive_ingest.errors import ArchiveIngestError, ConfigError
from archive_ingest.harvest.cli import harvest_command
from archive_ingest.ingest_cli import copies_line, ingest_command
from archive_ingest.logs.choice import LogFormatChoice, chosen_log_format
from archive_ingest.logs.setup import configure as configure_logs
from archive_ingest.logs.setup import json_enabled
from archive_ingest.monitoring.alerts import RunInfo
from archive_ingest.monitoring.item_alerts import send_item_alerts
from archive_ingest.monitoring.status_cli import status_command
from archive_ingest.oai.cli import oai_app
from archive_ingest.oai.tokens import token_key
from archive_ingest.orchestrator.cli import prefect_app
from archive_ingest.progress import ItemProgress
from archive_ingest.replication.cli import repair_command, replicate_command
from archive_ingest.review.cli import users_app
from archive_ingest.review.security import session_secret
from archive_ingest.settings import check_settings, get_settings, unknown_setting_names
from archive_ingest.storage.cli import storage_app
from archive_ingest.storage.embedded_set import stop_all
from archive_ingest.storage.local import LocalStorage

app = typer.Typer(
    name="archive-ingest",
    help="Archival ingest of SciELO PDFs: fetch, re-OCR, licence check, METS/PREMIS, BagIt, S3.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(storage_app, name="storage")
app.add_typer(prefect_app, name="prefect")
app.add_typer(alerts_app, name="alerts")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"archive-ingest {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more on stderr.")] = False,
    log_format: Annotated[
        LogFormatChoice | None,
        typer.Option(
            "--log-format",
            help="Lines on stderr: text, or json (one object per line; setting log_format).",
        ),
    ] = None,
) -> None:
    os.umask(0o077)  # files and folders this run creates (HOME, work, logs) are the owner's only
    level = logging.INFO if verbose else logging.WARNING
    configure_logs(chosen_log_format(log_format), level=level)
    if "--help" in sys.argv[1:]:
        return  # help needs no settings
    try:  # every command: bad settings are a usage error with a message, not a traceback
        check_settings()
    except ConfigError as exc:
        error(exc)
        raise typer.Exit(2) from None
    for name in unknown_setting_names():
        err.print(f"[yellow]warning:[/yellow] {escape(name)} is not a setting (misspelt?); ignored")


@app.command()
def config() -> None:
    """Print the effective settings (JSON, secrets masked)."""
    try:
        settings = get_settings()
    except Exception as exc:
        error(f"invalid configuration: {exc}")
        raise typer.Exit(2) from None
    emit(settings.masked())


@app.command()
def doctor() -> None:
    """Check every program and data file the configured stages need (Tesseract, each
    language's model and word list, SeaweedFS; Ghostscript and qpdf as optional): one line
    each on stdout, exit 1 when a required one is missing."""
    # the OCR stack (pikepdf, pypdf, ocrmypdf: seconds): only the commands that check load it
    from archive_ingest.doctor import failures, run_checks

    checks = run_checks(get_settings())
    for check in checks:
        typer.echo(check.line())
    missing = failures(checks)
    if missing:
        err.print(f"[red]{len(missing)} of {len(checks)} checks failed[/red]")
        raise typer.Exit(1)
    err.print(f"all {len(checks)} checks passed")


@app.command("deposit-approved")
def deposit_approved_command() -> None:
    """Deposit every approved item whose deposit was postponed (storage was down); one JSON
    object per item. What the deposit-approved deployment runs every 15 minutes."""
    # the ingest's deposit stage (with the OCR stack, seconds): only this command loads it
    from archive_ingest.harvest.approved import deposit_approved

    settings = get_settings()
    ensure_embedded_storage()
    results = deposit_approved(settings)
    for result in results:
        emit(result)
        err.print(f"{escape(str(result.get('id')))}: [bold]{result.get('state')}[/bold]")
        if result.get("state") == "under_replicated":
            err.print(escape(copies_line(result.get("reasons") or [])))
    if not results:
        err.print("no approved item waits for its deposit")
    # the deployment's flow run alerts the same way (failed_items, under_replicated)
    run = RunInfo.command("deposit-approved")
    send_item_alerts(settings, results, run=run, batch="deposit-approved")
    raise typer.Exit(1 if any(r.get("state") != "deposited" for r in results) else 0)


#: Entry point group of commands other installed packages add (the demo's ``demo``).
COMMANDS_GROUP = "archive_ingest.commands"


def add_installed_commands(app: typer.Typer) -> None:
    """Load every entry point of :data:`COMMANDS_GROUP` and call it with ``app``; each adds its
    commands. The library never imports those packages (archive_ingest_demo is one)."""
    for entry_point in sorted(entry_points(group=COMMANDS_GROUP), key=lambda ep: ep.name):
        try:
            entry_point.load()(app)
        except Exception as exc:  # one broken add-on must not take every command down with it
            error(f"the installed command {entry_point.name!r} was not added: {exc}")


add_installed_commands(app)  # here, so that `demo` keeps its place in --help


app.command("audit")(audit_command)
app.command("verify-receipt")(verify_receipt_command)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the archivist review UI (/review/) and the OAI-PMH endpoint (/oai)."""
    launch_ocr_rerun = runners(ctx).ocr_rerun()  # imports Prefect (the re-run flow)
    # the web app (FastAPI, about a second to import): only `serve` loads it
    from archive_ingest.oai.web import serve_base_url
    from archive_ingest.web import create_app

    settings = get_settings()
    if settings.oai_base_url is None:  # the OAI baseURL: configured, or this very address
        own = serve_base_url(host, port)
        if own is None:
            error(
                f"--host {host} serves every interface: set ARCHIVE_INGEST_OAI_BASE_URL to the "
                "public URL of /oai (e.g. https://archive.example.org/oai)"
            )
            raise typer.Exit(2)
        settings = settings.model_copy(update={"oai_base_url": own})
    try:  # an empty or short secret would let anyone forge sessions or tokens: refuse to start
        session_secret(settings)
        token_key(settings)
        application = create_app(settings, ocr_rerun=launch_ocr_rerun)
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(2) from None
    started: list[LocalStorage] = []
    try:  # /access reads the stored copies: the embedded servers run while serve does
        started = start_storage_for_serve(settings)
    except ArchiveIngestError as exc:  # the review UI and OAI-PMH work without them
        err.print(
            f"[yellow]warning:[/yellow] {escape(str(exc))}; /access answers 503 until the "
            "storage runs (archive-ingest storage up)"
        )
    shown_host = f"[{host}]" if ":" in host else host
    typer.echo(
        f"serving on http://{shown_host}:{port}: review UI at /review/, "
        f"OAI-PMH at {settings.oai_base_url} (Ctrl-C stops)",
        err=True,
    )
    # X-Forwarded-For/-Proto only from the configured proxies (never uvicorn's own default or
    # its FORWARDED_ALLOW_IPS): the client address is what the login limits count
    try:
        uvicorn.run(
            application,
            host=host,
            port=port,
            log_level="warning",
            # JSON logs: uvicorn's loggers pass their records to the JSON handler (its own
            # configuration would print them as text lines)
            log_config=None if json_enabled() else LOGGING_CONFIG,
            proxy_headers=True,
            forwarded_allow_ips=settings.web_forwarded_allow_ips,
        )
    finally:
        if started:
            err.print("stopping the embedded storage serve started (up to 20 s) …")
            stop_all(started)


@app.command()
def reconcile(
    fix: Annotated[
        bool, typer.Option("--fix", help="Abort stale uploads; remove unlocked orphans.")
    ] = False,
) -> None:
    """Find incomplete uploads and catalogue/bucket disagreements (JSON on stdout); with
    --fix, abort multipart uploads and delete receipt-less objects that are not object-locked.
    Exit 0 when clean (or everything found was fixed), 1 when something remains."""
    # approved deposits (the ingest's stages, with the OCR stack): only this command loads them
    from archive_ingest.reliability.reconcile import reconcile as run_reconcile

    try:
        with ItemProgress("reconcile", total=0, console=err):
            report = run_reconcile(get_settings(), do_fix=fix)
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(2) from None
    emit(report.model_dump(mode="json"))
    raise typer.Exit(1 if report.remaining else 0)


# commands of the feature modules (each owns its typer app or command)
app.command("harvest")(harvest_command)
app.command("ingest")(ingest_command)
app.add_typer(users_app, name="users")
app.add_typer(oai_app, name="oai")
app.command("replicate")(replicate_command)
app.command("repair")(repair_command)
app.command("status")(status_command)


if __name__ == "__main__":  # pragma: no cover
    app()  # without the flow runners: `python -m flows.cli` is the whole command line
