"""A generated bag deposited on every configured target as version 1 of a new item, with the
catalogue's item, version and copies recorded (audit, alert and signing-key tests)."""

from __future__ import annotations

from archive_ingest.catalogue import Catalogue
from archive_ingest.ingest.copies import CopyOutcome, deposit_to_targets, record_copies
from archive_ingest.settings import Settings
from tests.support.plugins.storage import BagMaker


def deposit_generated(
    settings: Settings, storage_bag: BagMaker, record_id: str, payload: dict[str, bytes]
) -> list[CopyOutcome]:
    """Deposit a bag of ``payload`` as ``record_id`` v1 on every target; each copy verified."""
    bag, manifest = storage_bag(payload, name=record_id)
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        catalogue.ensure_item(record_id, source=f"test:{record_id}", source_kind="chapter")
        catalogue.new_version(record_id, original_sha256=None, work_dir=None)
        outcomes = deposit_to_targets(
            settings, record_id=record_id, version=1, bag_dir=bag, manifest=manifest
        )
        assert all(o.verified for o in outcomes), [o.reason for o in outcomes]
        record_copies(catalogue, record_id, 1, outcomes)
    finally:
        catalogue.close()
    return outcomes
