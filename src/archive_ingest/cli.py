"""The ``archive-ingest`` command line (typer). Machine output on stdout, people's on stderr.

Exit codes: 0 every item reached deposited/needs_review/rejected (or the command succeeded),
1 an item failed (or an audit found damage, or the storage does not answer), 2 a usage error
(bad REF, bad option), 130 interrupted (Ctrl-C). ``harvest`` also has 3: items held for review
(harvest/cli.py).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from archive_ingest import __version__
from archive_ingest.errors import ArchiveIngestError, ConfigError, RefError
from archive_ingest.interrupt import interruptible
from archive_ingest.quiet_failures import quiet_expected_failures
from archive_ingest.settings import check_settings, get_settings, unknown_setting_names
from archive_ingest.storage.cli import storage_app

app = typer.Typer(
    name="archive-ingest",
    help="Archival ingest of SciELO PDFs: fetch, re-OCR, licence check, METS/PREMIS, BagIt, S3.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(storage_app, name="storage")

err = Console(stderr=True, soft_wrap=True)


def _error(message: object) -> None:
    err.print(f"[red]error:[/red] {escape(str(message))}")


def _emit(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")
    sys.stdout.flush()


def _quiet_prefect() -> None:
    """Keep Prefect's own chatter off stdout and short on stderr (set before import)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


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
) -> None:
    os.umask(0o077)  # files and folders this run creates (HOME, work, logs) are the owner's only
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if "--help" in sys.argv[1:]:
        return  # help needs no settings
    try:  # every command: bad settings are a usage error with a message, not a traceback
        check_settings()
    except ConfigError as exc:
        _error(exc)
        raise typer.Exit(2) from None
    for name in unknown_setting_names():
        err.print(f"[yellow]warning:[/yellow] {escape(name)} is not a setting (misspelt?); ignored")


@app.command()
def config() -> None:
    """Print the effective settings (JSON, secrets masked)."""
    try:
        settings = get_settings()
    except Exception as exc:
        _error(f"invalid configuration: {exc}")
        raise typer.Exit(2) from None
    _emit(settings.masked())


@app.command()
def ingest(
    refs: Annotated[list[str], typer.Argument(help="Item references (REF), see README.")],
    metadata: Annotated[
        Path | None, typer.Option("--metadata", help="Metadata file for a file: REF.")
    ] = None,
) -> None:
    """Ingest items: prints one JSON object per item on stdout."""
    from archive_ingest.ingest.resolve import parse

    settings = get_settings()
    try:
        parsed = [parse(ref, settings) for ref in refs]
    except RefError as exc:
        _error(exc)
        raise typer.Exit(2) from None
    if metadata is not None and not any(p.kind == "file" for p in parsed):
        _error("--metadata is only for file: references")
        raise typer.Exit(2)
    if metadata is not None and not metadata.is_file():
        _error(f"metadata file not found: {metadata}")
        raise typer.Exit(2)
    for item in parsed:
        if item.kind == "file" and metadata is None:
            _error(f"{item.canonical} needs --metadata FILE.json|FILE.xml (title, creators, ...)")
            raise typer.Exit(2)
        if item.kind == "file" and item.path is not None and not item.path.is_file():
            _error(f"file not found: {item.path}")
            raise typer.Exit(2)
    ensure_tools("ocr")
    ensure_embedded_storage()

    _quiet_prefect()
    from flows.ingest import ingest_item

    quiet_expected_failures()  # after Prefect set its logging up

    any_failed = False
    current = ["the run"]
    with interruptible(lambda: interrupted_line(current[0])), err.status("") as status:
        for ref, item in zip(refs, parsed, strict=True):
            current[0] = item.canonical
            status.update(f"ingesting {escape(item.canonical)} …")
            meta = str(metadata.resolve()) if (metadata and item.kind == "file") else None
            result = ingest_item(ref=ref, metadata_path=meta)
            _emit(result)
            any_failed |= result.get("state") == "failed"
            err.print(f"{escape(item.canonical)}: [bold]{result.get('state')}[/bold]")
    raise typer.Exit(1 if any_failed else 0)


def interrupted_line(what: str) -> str:
    """The one line a Ctrl-C prints (see archive_ingest.interrupt)."""
    again = "run the same command again to resume"
    return f"interrupted (Ctrl-C) during {what}: nothing is lost; {again}"


def ensure_embedded_storage() -> None:
    """Start the embedded storage when the settings use it and it is not running, then check
    that the storage answers (storage.s3.probe_endpoint, seconds at most); when it cannot
    start or does not answer, say so in one line naming the endpoint and exit 1 (a command
    that deposits cannot go on, and nothing has been started yet)."""
    from archive_ingest.storage.local import LocalStorage
    from archive_ingest.storage.s3 import probe_endpoint

    settings = get_settings()
    try:
        if settings.embedded_storage:
            storage = LocalStorage(settings)
            if not storage.status().running:
                err.print("starting the embedded storage (archive-ingest storage up) …")
                storage.up()
        probe_endpoint(settings)
    except ArchiveIngestError as exc:
        _error(f"{exc}; nothing was started")
        raise typer.Exit(1) from None


def ensure_tools(*stages: str) -> None:
    """Refuse to start, one line per missing piece and exit 1, when a stage this command runs
    lacks a program or data file it needs (it would not fail, it would silently do worse)."""
    from archive_ingest.doctor import failures, run_checks

    missing = failures(run_checks(get_settings(), stages))
    for check in missing:
        _error(f"{check.stage}: {check.name}: {check.detail}")
    if missing:
        err.print("nothing was started; `archive-ingest doctor` lists every check")
        raise typer.Exit(1)


@app.command()
def doctor() -> None:
    """Check every program and data file the configured stages need (Tesseract, each
    language's model and word list, SeaweedFS; Ghostscript and qpdf as optional): one line
    each on stdout, exit 1 when a required one is missing."""
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
    from archive_ingest.harvest.approved import deposit_approved

    settings = get_settings()
    ensure_embedded_storage()
    results = deposit_approved(settings)
    for result in results:
        _emit(result)
        err.print(f"{escape(str(result.get('id')))}: [bold]{result.get('state')}[/bold]")
    if not results:
        err.print("no approved item waits for its deposit")
    raise typer.Exit(1 if any(r.get("state") != "deposited" for r in results) else 0)


#: Entry point group of commands other installed packages add (the demo's ``demo``).
COMMANDS_GROUP = "archive_ingest.commands"


def add_installed_commands(app: typer.Typer) -> None:
    """Load every entry point of :data:`COMMANDS_GROUP` and call it with ``app``; each adds its
    commands. The library never imports those packages (archive_ingest_demo is one)."""
    for entry_point in sorted(entry_points(group=COMMANDS_GROUP), key=lambda ep: ep.name):
        entry_point.load()(app)


add_installed_commands(app)  # here, so that `demo` keeps its place in --help


@app.command()
def audit(
    sample: Annotated[
        int, typer.Option("--sample", min=0, help="Also read back N random AIPs in full.")
    ] = 0,
    read_back_all: Annotated[bool, typer.Option("--all", help="Read back every AIP.")] = False,
) -> None:
    """Fixity audit of every stored AIP: server checksums via HEAD for all, a full read-back
    for a sample (--sample N) or for all (--all). JSON summary on stdout; exit 1 on damage."""
    from archive_ingest.fixity import audit_and_record

    if sample and read_back_all:
        _error("use --sample N or --all, not both")
        raise typer.Exit(2)
    try:
        summary = audit_and_record(get_settings(), sample=sample, read_back_all=read_back_all)
    except ArchiveIngestError as exc:
        _error(exc)
        raise typer.Exit(2) from None
    _emit(summary.report())
    if summary.failed:
        damaged = sum(len(r.problems) for r in summary.failed)
        err.print(
            f"[bold red]AUDIT FAILED[/bold red]: {len(summary.failed)} of {summary.checked} "
            f"AIPs have {damaged} damaged or missing objects"
        )
    raise typer.Exit(summary.exit_code)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the archivist review UI (/review/) and the OAI-PMH endpoint (/oai)."""
    import uvicorn
    from flows.review import launch as launch_ocr_rerun  # the CLI layer wires flows in

    from archive_ingest.oai.tokens import token_key
    from archive_ingest.oai.web import serve_base_url
    from archive_ingest.review.security import session_secret
    from archive_ingest.web import create_app

    settings = get_settings()
    if settings.oai_base_url is None:  # the OAI baseURL: configured, or this very address
        own = serve_base_url(host, port)
        if own is None:
            _error(
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
        _error(exc)
        raise typer.Exit(2) from None
    shown_host = f"[{host}]" if ":" in host else host
    typer.echo(
        f"serving on http://{shown_host}:{port}: review UI at /review/, "
        f"OAI-PMH at {settings.oai_base_url} (Ctrl-C stops)",
        err=True,
    )
    # X-Forwarded-For/-Proto only from the configured proxies (never uvicorn's own default or
    # its FORWARDED_ALLOW_IPS): the client address is what the login limits count
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips=settings.web_forwarded_allow_ips,
    )


@app.command()
def reconcile(
    fix: Annotated[
        bool, typer.Option("--fix", help="Abort stale uploads; remove unlocked orphans.")
    ] = False,
) -> None:
    """Find incomplete uploads and catalogue/bucket disagreements (JSON on stdout); with
    --fix, abort multipart uploads and delete receipt-less objects that are not object-locked.
    Exit 0 when clean (or everything found was fixed), 1 when something remains."""
    from archive_ingest.reliability.reconcile import reconcile as run_reconcile

    try:
        report = run_reconcile(get_settings(), do_fix=fix)
    except ArchiveIngestError as exc:
        _error(exc)
        raise typer.Exit(2) from None
    _emit(report.model_dump(mode="json"))
    raise typer.Exit(1 if report.remaining else 0)


def _mount_optional_commands() -> None:
    """Commands contributed by feature modules (each owns its own typer app or command)."""
    from archive_ingest.harvest.cli import harvest_command
    from archive_ingest.oai.cli import oai_app
    from archive_ingest.review.cli import users_app

    app.add_typer(users_app, name="users")
    app.add_typer(oai_app, name="oai")
    app.command("harvest")(harvest_command)


_mount_optional_commands()


if __name__ == "__main__":  # pragma: no cover
    app()
