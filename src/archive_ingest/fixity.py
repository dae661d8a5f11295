"""Fixity audit of stored AIPs, with a PREMIS fixity-check event per AIP in the catalogue.

The checking itself is :mod:`archive_ingest.storage.audit` (server checksums via HEAD for every
object, full read-back for a sample); this module adds the catalogue side, so the CLI command and
the scheduled Prefect flow record the same events.
"""

from __future__ import annotations

from archive_ingest.catalogue import Catalogue
from archive_ingest.settings import Settings
from archive_ingest.storage.audit import AuditSummary, run_audit


def audit_and_record(
    settings: Settings, *, sample: int | None = None, read_back_all: bool = False
) -> AuditSummary:
    summary = run_audit(settings, sample=sample, read_back_all=read_back_all)
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        for result in summary.results:
            if catalogue.get_item(result.record_id) is not None:
                catalogue.add_events(result.record_id, result.version, [result.event])
    finally:
        catalogue.close()
    return summary
