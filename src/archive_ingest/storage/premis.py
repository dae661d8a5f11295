"""PREMIS events for storage: the deposit ("replication") and each fixity check (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import boto3
import botocore

from archive_ingest import __version__
from archive_ingest.models import Event
from archive_ingest.storage.receipt import DepositReceipt
from archive_ingest.storage.verify import Problem


def software() -> dict[str, str]:
    return {
        "archive-ingest": __version__,
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
    }


def agent_id() -> str:
    return " ".join(f"{name}/{version}" for name, version in software().items())


def deposit_event(receipt: DepositReceipt) -> Event:
    """The copy of the bag into preservation storage (PREMIS event type "replication")."""
    resumed = sum(1 for obj in receipt.objects if obj.resumed)
    on = f" on storage target {receipt.target}" if receipt.target else ""
    if receipt.reused:
        detail = (
            f"AIP {receipt.bag_uri}{on} was already deposited and complete; nothing was written"
        )
    else:
        retention = (
            f"retention {receipt.lock_mode} until {receipt.retain_until.isoformat()}"
            if receipt.lock_mode and receipt.retain_until
            else "no object lock retention"
        )
        detail = (
            f"Deposited {len(receipt.objects)} objects ({receipt.total_bytes} bytes) to "
            f"{receipt.bag_uri}{on} with write-once conditional PUTs and server-verified "
            f"checksums; {retention}; receipt written last"
        )
    return Event(
        event_type="replication",
        outcome="success",
        detail=detail,
        outcome_detail={
            "bag_uri": receipt.bag_uri,
            "target": receipt.target,
            "objects": len(receipt.objects),
            "bytes": receipt.total_bytes,
            "resumed_objects": resumed,
            "reused": receipt.reused,
            "receipt_key": receipt.receipt_key,
            "receipt_version_id": receipt.receipt_version_id,
            "version_ids": receipt.version_ids,
            "lock_mode": receipt.lock_mode,
            "retain_until": receipt.retain_until.isoformat() if receipt.retain_until else None,
            "notes": list(receipt.notes),
        },
        agent_id=agent_id(),
        object_roles=["aip"],
    )


def fixity_event(
    *,
    bag_uri: str,
    objects_checked: int,
    read_back: bool,
    problems: Sequence[Problem],
    context: str = "deposit verification",
    target: str | None = None,
    digests: str = "SHA-256, SHA-512",
) -> Event:
    """One PREMIS "fixity check" of one AIP version (on storage ``target`` when named);
    ``digests`` names what the read-back hashed."""
    how = "server checksums (HEAD) and our metadata digests"
    if read_back:
        how += f", and every byte re-read and hashed ({digests})"
    outcome: Literal["success", "failure"] = "failure" if problems else "success"
    return Event(
        event_type="fixity check",
        outcome=outcome,
        detail=f"{context}: compared {objects_checked} stored objects of {bag_uri}"
        + (f" on storage target {target}" if target else "")
        + f" with the manifest digests: {how}",
        outcome_detail={
            "bag_uri": bag_uri,
            "target": target,
            "objects_checked": objects_checked,
            "read_back": read_back,
            "problems": [p.model_dump() for p in problems],
        },
        agent_id=agent_id(),
        object_roles=["aip"],
    )
