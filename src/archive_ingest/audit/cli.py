"""The ``audit`` and ``verify-receipt`` commands (registered by archive_ingest/cli.py).

``audit``: the fast tier on every copy of every target (or ``--target`` ones), with ``--full``
the budgeted re-hash; JSON report on stdout, one table per pass on stderr; exit 1 on any
finding (a target that does not answer is one), 2 on a usage error or when no target answers.

``verify-receipt``: one receipt checked offline against a public key (HOME's by default).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from archive_ingest.audit.notice import send_audit_alert, send_unreachable_alert
from archive_ingest.audit.report import table
from archive_ingest.audit.run import audit_targets
from archive_ingest.audit.target import AuditOptions
from archive_ingest.cli_support import emit, err, error
from archive_ingest.errors import ArchiveIngestError, ConfigError, StorageUnreachableError
from archive_ingest.monitoring.alerts import RunInfo
from archive_ingest.progress import ItemProgress
from archive_ingest.settings import get_settings
from archive_ingest.storage.receipt_check import verify_receipt_bytes
from archive_ingest.storage.signing import (
    archive_public_key,
    load_public_key,
    public_key_path,
)

#: more than any receipt: a receipt names every file of a bag, a few hundred bytes each
MAX_RECEIPT_INPUT = 64 * 1024 * 1024


def audit_command(
    target: Annotated[
        list[str] | None,
        typer.Option("--target", help="Audit only this target (repeatable); default: all."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Also re-hash stored bytes, least-recently re-hashed first, within the budget.",
        ),
    ] = False,
    max_bytes: Annotated[
        int | None,
        typer.Option(
            "--max-bytes",
            min=1,
            help="Re-hash budget per target in bytes (default: enough to cover every byte "
            "within audit_rehash_cycle_days at one pass every audit_interval_hours).",
        ),
    ] = None,
    max_seconds: Annotated[
        float | None,
        typer.Option("--max-seconds", min=0.001, help="Re-hash budget per target in seconds."),
    ] = None,
    sample: Annotated[
        int,
        typer.Option("--sample", min=0, help="Also re-hash N random copies per target in full."),
    ] = 0,
    read_back_all: Annotated[
        bool, typer.Option("--all", help="Re-hash every stored object (no byte budget).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Only the JSON report (no table on stderr).")
    ] = False,
) -> None:
    """Fixity audit of every copy on every storage target: a fast pass (listing and HEAD:
    existence, version on top, size, checksum attribute, retention, signed receipt) and,
    with --full, a budgeted re-hash of the stored bytes. JSON on stdout; exit 1 on findings."""
    if sample and read_back_all:
        error("use --sample N or --all, not both")
        raise typer.Exit(2)
    try:
        options = AuditOptions(
            full=full or max_bytes is not None or max_seconds is not None,
            max_bytes=max_bytes,
            max_seconds=max_seconds,
            sample=sample,
            read_back_all=read_back_all,
        )
        with ItemProgress("audit: copies", total=0, console=err):  # a terminal's only
            report = audit_targets(get_settings(), options, targets=target or ())
    except ArchiveIngestError as exc:
        error(exc)
        if isinstance(exc, StorageUnreachableError):  # nothing audited: that is an alert too
            send_unreachable_alert(get_settings(), exc, run=RunInfo.command("audit"))
        raise typer.Exit(2) from None
    emit(report.report())
    send_audit_alert(get_settings(), report, run=RunInfo.command("audit"))  # findings only
    if not as_json:
        err.print(table(report))
    for unreachable in report.unreachable:
        err.print(
            f"[bold red]target {escape(unreachable.name)} was not audited[/bold red]: "
            f"{escape(str(unreachable.error))}"
        )
    if report.failed:
        damaged = sum(len(c.problems) for c in report.failed)
        err.print(
            f"[bold red]AUDIT FAILED[/bold red]: {len(report.failed)} of {report.checked} "
            f"copies have {damaged} findings"
        )
    raise typer.Exit(report.exit_code)


def verify_receipt_command(
    path: Annotated[str, typer.Argument(help="The receipt file, or - for standard input.")],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="PEM public key (default: this archive's public key file, else derived from "
            "its private key).",
        ),
    ] = None,
) -> None:
    """Check a deposit receipt offline: its shape, format and Ed25519 signature. Prints the
    target, record, version and objects; exit 0 when the signature is good, 1 otherwise."""
    try:
        if public_key is not None:
            public = load_public_key(public_key)
        else:  # the archive's: its public key file, else derived from its private key
            settings = get_settings()
            found = archive_public_key(settings)
            if found is None:
                raise ConfigError(
                    f"no public key: {public_key_path(settings)} does not exist (nor the "
                    "receipt signing key); pass --public-key"
                )
            public = found
        if path == "-":
            data = sys.stdin.buffer.read(MAX_RECEIPT_INPUT + 1)
        else:
            with Path(path).open("rb") as fh:
                data = fh.read(MAX_RECEIPT_INPUT + 1)
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(2) from None
    except OSError as exc:
        error(f"cannot read {path}: {exc.strerror or exc}")
        raise typer.Exit(2) from None
    if len(data) > MAX_RECEIPT_INPUT:
        error(f"{path} is too large to be a deposit receipt")
        raise typer.Exit(1)
    verdict = verify_receipt_bytes(data, public)
    summary = verdict.summary()
    emit(summary)
    receipt = verdict.receipt
    if receipt is not None:
        err.print(
            f"target {escape(str(receipt.target or '-'))}, record {escape(receipt.record_id)}, "
            f"version {receipt.version}, revision {receipt.revision}, "
            f"{len(receipt.objects)} objects"
        )
    if verdict.ok:
        err.print(f"[green]{escape(str(summary['signature']))}[/green]")
        raise typer.Exit(0)
    for problem in verdict.problems:
        err.print(f"[bold red]{escape(problem)}[/bold red]")
    raise typer.Exit(1)
