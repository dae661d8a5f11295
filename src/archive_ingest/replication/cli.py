"""The `replicate` and `repair` commands: JSON report on stdout, people's lines on stderr.

Exit codes: 0 every copy ended verified (or there was nothing to do), 1 something failed or
an object is lost, 2 a bad option or configuration. The work itself is in replicate.py and
repair.py, loaded only when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from archive_ingest.catalogue import Catalogue
from archive_ingest.cli_support import emit, ensure_embedded_storage, err, error
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.monitoring.alerts import RunInfo
from archive_ingest.monitoring.item_alerts import send_under_replicated
from archive_ingest.settings import Settings, get_settings
from archive_ingest.storage.targets import resolve_targets

TargetOption = Annotated[
    str | None, typer.Option("--target", help="Only this storage target (by name).")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="List what would be done (JSON); write nothing.")
]


def _start_embedded(settings: Settings) -> None:
    if any(target.embedded for target in resolve_targets(settings)):
        ensure_embedded_storage()


def replicate_command(
    target: TargetOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            max=64,
            help="AIPs copied at once (default: the replicate_concurrency setting).",
        ),
    ] = None,
    dry_run: DryRunOption = False,
) -> None:
    """Copy every AIP version a storage target lacks from a verified copy on another (a
    target added later, a deposit that missed one): resumable, idempotent, verified like a
    deposit. JSON summary on stdout; exit 1 if anything failed."""
    from archive_ingest.replication.replicate import AfterDepositHooks, replicate

    settings = get_settings()
    _start_embedded(settings)
    catalogue = Catalogue.open(settings.effective_database_url)
    hooks = AfterDepositHooks(settings)
    try:
        report = replicate(
            settings,
            catalogue,
            target=target,
            concurrency=concurrency,
            dry_run=dry_run,
            on_deposited=hooks,
        )
        if not dry_run:  # items still on fewer targets than required: under_replicated alert
            send_under_replicated(settings, catalogue, run=RunInfo.command("replicate"))
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(2) from None
    finally:
        hooks.close()
        catalogue.close()
    emit(report.summary())
    failures = report.failures
    if failures:
        for line in failures:
            err.print(f"[red]failed:[/red] {escape(line)}")
    elif not report.planned and not report.adopted and not report.left_for_repair:
        err.print(
            "nothing to do: the catalogue records a verified copy of every AIP on every target "
            "(replicate trusts the catalogue; `archive-ingest audit --target NAME` checks what "
            "a target holds)"
        )
    else:
        what = "would copy" if dry_run else "copied"
        err.print(f"{what} {sum(len(t.targets) for t in report.planned)} AIP copies")
    if report.left_for_repair:
        err.print(
            f"{len(report.left_for_repair)} damaged or lost copies left for `archive-ingest "
            "repair` (listed in left_for_repair)"
        )
    raise typer.Exit(report.exit_code)


def repair_command(
    target: TargetOption = None,
    dry_run: DryRunOption = False,
    check_all: Annotated[
        bool,
        typer.Option("--check-all", help="Read every copy in full, not only those marked damaged."),
    ] = False,
) -> None:
    """Restore damaged copies from a copy that passes full verification on another target:
    a new S3 version (nothing deleted), re-verified, the receipt written again as a signed
    revision. JSON report on stdout; exit 0 when every copy ended verified, 1 when an
    object is lost (bad on every target) or a repair failed."""
    from archive_ingest.replication.repair import repair

    settings = get_settings()
    _start_embedded(settings)
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        report = repair(settings, catalogue, target=target, dry_run=dry_run, check_all=check_all)
    except ArchiveIngestError as exc:
        error(exc)
        raise typer.Exit(2) from None
    finally:
        catalogue.close()
    emit(report.summary())
    for copy in report.lost:
        err.print(
            f"[bold red]LOST[/bold red] [bold red]{escape(copy.record_id)} v{copy.version} on "
            f"{escape(copy.target)}: {escape(', '.join(copy.lost))}: no target holds a good "
            "copy[/bold red]"
        )
    for copy in report.failed:
        err.print(
            f"[red]failed:[/red] {escape(copy.record_id)} v{copy.version} on "
            f"{escape(copy.target)}: {escape(copy.detail)}"
        )
    done = [c for c in report.copies if c.status in ("repaired", "planned")]
    verb = "would repair" if dry_run else "repaired"
    err.print(f"checked {report.checked} copies; {verb} {len(done)}")
    raise typer.Exit(report.exit_code)
