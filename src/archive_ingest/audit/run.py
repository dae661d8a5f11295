"""Every target's audit pass, recorded: what ``archive-ingest audit`` and the flow run.

The run itself is recorded too (``job_runs``, catalogue/runs.py): a success when every
target answered (findings or not: they are counted in the stored objects), else a failure.

Targets are audited one after the other (each pass already runs its HEADs in parallel); a
target that does not answer is a finding for that target and the others are still audited.
When *no* target answers nothing could be audited at all: that is one
:class:`~archive_ingest.errors.StorageUnreachableError` naming them (the command's usage-level
error, exit 2), not a report.

The archive's public key checks the receipts' signatures: the public key file, else derived
from the private key. With neither, a pass that meets a signed receipt stops with one
:class:`~archive_ingest.errors.ConfigError` (exit 2) before anything is recorded, rather than
a tampered finding per receipt; an archive that never signed a receipt is still audited.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from archive_ingest.audit.record import record_target
from archive_ingest.audit.report import AuditReport
from archive_ingest.audit.target import AuditOptions, TargetPass, audit_target
from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.runs import record_job_run
from archive_ingest.errors import ConfigError, StorageUnreachableError
from archive_ingest.models import utcnow
from archive_ingest.settings import Settings
from archive_ingest.storage.receipt import RECEIPT_FORMAT
from archive_ingest.storage.signing import archive_public_key, public_key_path
from archive_ingest.storage.targets import target_views


def _signed_receipts(done: TargetPass) -> bool:
    """Whether the pass met a signed (format /2) receipt."""
    parsed = [c.receipt.parsed for c in done.copies if c.receipt is not None]
    return any(p is not None and p.format == RECEIPT_FORMAT for p in parsed)


def audit_targets(
    settings: Settings, options: AuditOptions, *, targets: Sequence[str] = ()
) -> AuditReport:
    """Audit every target (or those named) and record every check in the catalogue."""
    views = target_views(settings)
    names = [v.storage_target_name for v in views]
    unknown = [t for t in targets if t not in names]
    if unknown:
        raise ConfigError(
            f"no storage target named {', '.join(unknown)} (targets: {', '.join(names)})"
        )
    if targets:
        views = [v for v in views if v.storage_target_name in targets]
    public = archive_public_key(settings)  # the .pub, else derived from the private key
    started = utcnow()
    report = AuditReport(targets=[], full=options.full or options.read_back_all)
    try:
        catalogue = Catalogue.open(settings.effective_database_url)
    except SQLAlchemyError as exc:  # its text may carry the URL: only the kind of failure
        cause = type(getattr(exc, "orig", None) or exc).__name__
        raise ConfigError(f"cannot open the catalogue database ({cause})") from None
    try:
        for view in views:
            done = audit_target(settings, view, catalogue, options, public)
            if public is None and _signed_receipts(done):
                raise ConfigError(
                    f"no public key to check signed receipts: neither {public_key_path(settings)} "
                    "nor the receipt signing key exists; restore the key (or its public key) "
                    "from backup"
                )
            report.targets.append(done.report)
            if done.report.reachable:
                record_target(catalogue, done)
        unreachable = [t.name for t in report.unreachable]
        record_job_run(
            catalogue,
            "audit",
            started_at=started,
            outcome="failure" if unreachable else "success",
            summary={
                "targets": len(report.targets),
                "copies": report.checked,
                "copies_with_findings": len(report.failed),
                "unreachable": unreachable,
            },
        )
    finally:
        catalogue.close()
    if report.targets and all(not t.reachable for t in report.targets):
        raise StorageUnreachableError("; ".join(str(t.error) for t in report.targets))
    report.started_at, report.finished_at = started, utcnow()
    return report
