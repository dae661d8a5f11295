"""Every target's audit pass, recorded: what ``archive-ingest audit`` and the flow run.

Targets are audited one after the other (each pass already runs its HEADs in parallel); a
target that does not answer is a finding for that target and the others are still audited.
When *no* target answers nothing could be audited at all: that is one
:class:`~archive_ingest.errors.StorageUnreachableError` naming them (the command's usage-level
error, exit 2), not a report.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from archive_ingest.audit.record import record_target
from archive_ingest.audit.report import AuditReport
from archive_ingest.audit.target import AuditOptions, audit_target
from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import ConfigError, StorageUnreachableError
from archive_ingest.models import utcnow
from archive_ingest.settings import Settings
from archive_ingest.storage.signing import load_public_key, public_key_path
from archive_ingest.storage.targets import target_views


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
    key_path = public_key_path(settings)
    public = load_public_key(key_path) if key_path.exists() else None
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
            report.targets.append(done.report)
            if done.report.reachable:
                record_target(catalogue, done)
    finally:
        catalogue.close()
    if report.targets and all(not t.reachable for t in report.targets):
        raise StorageUnreachableError("; ".join(str(t.error) for t in report.targets))
    report.started_at, report.finished_at = started, utcnow()
    return report
