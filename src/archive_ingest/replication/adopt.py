"""Adopt the copies of items deposited before the catalogue recorded copies.

Such a version has a ``bag_uri`` and the state ``deposited`` but no copies row. For every
configured target whose bucket and prefix give that ``bag_uri``, the receipt there is read and
trusted only after checks: it is this AIP version's and signed by this archive's key (an
unsigned format-1 receipt of an older deposit is accepted with a note), and every object it
names passes a full audit (recorded version on top and alone, HEAD checksums, every byte
re-read and hashed). Only then is the copy recorded as verified; anything else is reported
and nothing is recorded.
"""

from __future__ import annotations

from functools import partial

from pydantic import BaseModel, Field

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import copies_of, record_receipt_copy
from archive_ingest.errors import StorageError
from archive_ingest.models import State, utcnow
from archive_ingest.replication.sources import read_checked_receipt
from archive_ingest.settings import Settings
from archive_ingest.storage.audit import audit_aip
from archive_ingest.storage.layout import AipLayout
from archive_ingest.storage.s3 import make_client
from archive_ingest.storage.signing import ReceiptSigner

ALL_ITEMS = 1_000_000_000


class Adoption(BaseModel):
    """One version's copy found on a target (adopted) or not trusted (why)."""

    record_id: str
    version: int
    target: str
    adopted: bool
    detail: str = ""
    notes: list[str] = Field(default_factory=list)


def unrecorded_versions(catalogue: Catalogue) -> list[tuple[str, int, str]]:
    """(record id, version, bag_uri) of deposited versions without any copies row."""
    found: list[tuple[str, int, str]] = []
    for item in catalogue.list_items(state=State.DEPOSITED.value, limit=ALL_ITEMS):
        for row in catalogue.versions(item.id):
            if row.state != State.DEPOSITED.value or not row.bag_uri:
                continue
            if not copies_of(catalogue, item.id, row.version):
                found.append((item.id, row.version, row.bag_uri))
    return sorted(found)


def adopt_version(
    catalogue: Catalogue,
    views: list[Settings],
    signer: ReceiptSigner,
    record_id: str,
    version: int,
    bag_uri: str,
    *,
    dry_run: bool = False,
) -> list[Adoption]:
    """Check (and unless ``dry_run`` record) the copy on every target the ``bag_uri`` fits."""
    results: list[Adoption] = []
    for view in views:
        target = view.storage_target_name
        layout = AipLayout(view.s3_prefix, record_id, version)
        if layout.uri(view.s3_bucket) != bag_uri.rstrip("/") + "/":
            continue
        adoption = partial(Adoption, record_id=record_id, version=version, target=target)
        client = make_client(view)
        try:
            receipt, notes = read_checked_receipt(
                client,
                view.s3_bucket,
                layout.receipt_key,
                None,
                public=signer.public,
                record_id=record_id,
                version=version,
                target=target,
            )
        except StorageError as exc:
            results.append(adoption(adopted=False, detail=str(exc)))
            continue
        if dry_run:
            results.append(
                adoption(adopted=False, detail="would be verified and adopted", notes=notes)
            )
            continue
        audit = audit_aip(client, view.s3_bucket, receipt, read_back=True)
        if not audit.ok:
            shown = "; ".join(f"{p.key}: {p.reason}" for p in audit.problems[:5])
            results.append(adoption(adopted=False, detail=f"does not verify: {shown}", notes=notes))
            continue
        record_receipt_copy(
            catalogue,
            record_id,
            version,
            target,
            receipt,
            status="verified",
            detail="adopted: deposited before copies were recorded; verified in full",
            verified_at=utcnow(),
        )
        catalogue.add_events(record_id, version, [audit.event])
        results.append(adoption(adopted=True, notes=notes))
    return results
