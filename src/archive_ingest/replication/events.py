"""PREMIS events of replication and repair (pure): each names both targets, the one the good
bytes came from and the one they went to."""

from __future__ import annotations

from collections.abc import Sequence

from archive_ingest.models import Event
from archive_ingest.storage.premis import agent_id
from archive_ingest.storage.receipt import DepositReceipt


def replication_event(
    receipt: DepositReceipt, *, source_target: str, source_bag_uri: str, notes: Sequence[str]
) -> Event:
    """A copy of an AIP version made from another target's verified copy."""
    target = receipt.target or "?"
    how = (
        "the target already held a complete, verified copy; nothing was written"
        if receipt.reused
        else f"{len(receipt.objects)} objects ({receipt.total_bytes} bytes) written with "
        "write-once conditional PUTs and server-verified checksums, verified, signed receipt "
        "written last"
    )
    return Event(
        event_type="replication",
        outcome="success",
        detail=f"Replicated {receipt.bag_uri} to target {target} from target {source_target} "
        f"({source_bag_uri}), every object re-hashed against the source's signed receipt: {how}",
        outcome_detail={
            "action": "replicate",
            "source_target": source_target,
            "source_bag_uri": source_bag_uri,
            "target": target,
            "bag_uri": receipt.bag_uri,
            "objects": len(receipt.objects),
            "bytes": receipt.total_bytes,
            "reused": receipt.reused,
            "receipt_key": receipt.receipt_key,
            "receipt_version_id": receipt.receipt_version_id,
            "version_ids": receipt.version_ids,
            "notes": list(notes),
        },
        agent_id=agent_id(),
        object_roles=["aip"],
    )


def repair_event(
    *,
    target: str,
    source_target: str,
    bag_uri: str,
    key: str,
    reason: str,
    bad_version: str | None,
    new_version: str | None,
) -> Event:
    """One object (or receipt) of a damaged copy restored from a good one as a new version."""
    return Event(
        event_type="replication",
        outcome="success",
        detail=f"Repair of {key} on target {target} ({reason}): the good bytes, verified in "
        f"full on target {source_target}, written as a new version {new_version} and "
        "re-verified; the bad version is kept and listed in the receipt's replaces",
        outcome_detail={
            "action": "repair",
            "target": target,
            "source_target": source_target,
            "bag_uri": bag_uri,
            "key": key,
            "reason": reason,
            "bad_version": bad_version,
            "new_version": new_version,
        },
        agent_id=agent_id(),
        object_roles=["aip"],
    )


def lost_event(*, target: str, bag_uri: str, keys: Sequence[str], detail: str) -> Event:
    """No target holds a good copy of these objects: nothing could be repaired."""
    return Event(
        event_type="replication",
        outcome="failure",
        detail=f"Repair impossible on target {target}: no target holds a copy of "
        f"{', '.join(keys)} that passes verification ({detail})",
        outcome_detail={
            "action": "repair",
            "target": target,
            "bag_uri": bag_uri,
            "lost": list(keys),
        },
        agent_id=agent_id(),
        object_roles=["aip"],
    )
