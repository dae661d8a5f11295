"""Copy one AIP version from a verified copy on one target to another target, verified like a
deposit.

The bag is rebuilt on local disk from the source: the source's receipt (the version the
catalogue recorded) must be this archive's, unedited (Ed25519 signature; an unsigned format-1
receipt of an older deposit is accepted and noted), and every object version it names is
hashed (SHA-256, SHA-512) while it streams into a work folder under ``HOME/work/<id>/tmp`` and
compared with the receipt. The bag then goes through
:func:`~archive_ingest.storage.deposit.deposit_bag` to the destination, so the copy gets the
deposit's guarantees: conditional writes, server checksums, verification, a receipt signed
and naming its target, written last; objects a killed earlier run already stored are
accepted when their bytes are right. One AIP on disk at a time per worker; the work folder
is removed afterwards (a killed run's is swept by the next).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import CopyInfo, record_receipt_copy
from archive_ingest.models import Digests, utcnow
from archive_ingest.replication.events import replication_event
from archive_ingest.replication.sources import (
    SourceProblem,
    checked_receipt,
    fetch_verified,
    read_receipt_bytes,
    recorded_receipt,
)
from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_to_target
from archive_ingest.storage.layout import check_relpath
from archive_ingest.storage.receipt import DepositReceipt
from archive_ingest.storage.s3 import make_client, probe_endpoint
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.workspace import ItemWorkspace, sweep_work_folders, work_folder


@dataclass
class Transfer:
    """One AIP version copied to one target."""

    record_id: str
    version: int
    source_target: str
    source_bag_uri: str
    receipt: DepositReceipt  # the destination's
    notes: list[str] = field(default_factory=list)


def rebuild_bag(
    view: Settings,
    receipt: DepositReceipt,
    bag_dir: Path,
    on_bytes: Callable[[int], None] | None = None,
) -> dict[str, Digests]:
    """Every object of ``receipt`` from the source target into ``bag_dir``, each verified
    against the receipt's digests; returns the bag's manifest."""
    client = make_client(view)
    manifest: dict[str, Digests] = {}
    for obj in receipt.objects:
        relpath = check_relpath(obj.path)
        fetch_verified(
            client,
            view.s3_bucket,
            obj.key,
            obj.version_id,
            size=obj.size,
            sha256=obj.sha256,
            sha512=obj.sha512,
            dest=bag_dir / relpath,
            on_bytes=on_bytes,
        )
        manifest[relpath] = Digests(size=obj.size, sha256=obj.sha256, sha512=obj.sha512)
    return manifest


def transfer_version(
    settings: Settings,
    *,
    source: Settings,
    source_copy: CopyInfo,
    dest: Settings,
    signer: ReceiptSigner,
    on_bytes: Callable[[int], None] | None = None,
) -> Transfer:
    """Copy ``source_copy`` (on the target ``source`` views) to the target ``dest`` views.

    Raises :class:`SourceProblem` when the source is not a good copy, StorageError when the
    destination fails (nothing is then recorded)."""
    record_id, version = source_copy.record_id, source_copy.version
    receipt, notes = recorded_receipt(make_client(source), source, source_copy, signer.public)
    probe_endpoint(dest)
    workspace = ItemWorkspace(settings.home, record_id)
    sweep_work_folders(workspace.tmp)  # what a killed run left
    with work_folder(workspace.tmp, f"replicate-v{version}-") as work:
        bag_dir = work / "bag"
        manifest = rebuild_bag(source, receipt, bag_dir, on_bytes)
        stored = deposit_to_target(
            dest,
            record_id=record_id,
            version=version,
            bag_dir=bag_dir,
            manifest=manifest,
            signer=signer,
        )
    if stored.reused:  # a receipt was already there (a killed run's): it must be ours
        data, version_id = read_receipt_bytes(
            make_client(dest), dest.s3_bucket, stored.receipt_key, stored.receipt_version_id
        )
        try:
            checked_receipt(
                data,
                version_id,
                public=signer.public,
                record_id=record_id,
                version=version,
                target=dest.storage_target_name,
            )
        except SourceProblem as exc:
            raise SourceProblem(
                f"target {dest.storage_target_name} already holds a receipt for "
                f"{record_id} v{version} that cannot be trusted: {exc}; run `archive-ingest "
                "repair`"
            ) from None
    return Transfer(
        record_id=record_id,
        version=version,
        source_target=source.storage_target_name,
        source_bag_uri=receipt.bag_uri,
        receipt=stored,
        notes=notes,
    )


def record_transfer(catalogue: Catalogue, transfer: Transfer) -> None:
    """The copy (verified, with its objects) and its PREMIS events. The replication event is
    added once per destination receipt, so a run killed between the two writes and run again
    records neither twice."""
    receipt = transfer.receipt
    target = receipt.target or "?"
    already = any(
        ev.event_type == "replication"
        and ev.outcome_detail.get("action") == "replicate"
        and ev.outcome_detail.get("target") == target
        and ev.outcome_detail.get("receipt_version_id") == receipt.receipt_version_id
        for ev in catalogue.events(transfer.record_id, transfer.version)
    )
    if not already:
        event = replication_event(
            receipt,
            source_target=transfer.source_target,
            source_bag_uri=transfer.source_bag_uri,
            notes=transfer.notes,
        )
        fixity = [ev for ev in receipt.events if ev.event_type == "fixity check"]
        catalogue.add_events(transfer.record_id, transfer.version, [event, *fixity])
    record_receipt_copy(
        catalogue,
        transfer.record_id,
        transfer.version,
        target,
        receipt,
        status="verified",
        detail=f"replicated from {transfer.source_target}",
        verified_at=utcnow(),
    )
