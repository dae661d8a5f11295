"""Every check of one audit pass into the catalogue.

For each copy: each object's last check (and last re-hash, when the full tier read it) with
``ok`` or the first finding's reason (one transaction per copy); the copy's status ``damaged``
when anything was found, ``verified`` again when a damaged (or lost) copy is found clean; one
PREMIS ``fixity check`` event per copy per pass in the item's events (agent archive-ingest,
the detail naming the target and the tier).

A copy found in storage that the catalogue does not record on that target is *adopted* when
its item and version are in the catalogue and its receipt could be trusted: recorded with
:func:`~archive_ingest.catalogue.copies.record_copy` (``verified`` when clean, else
``damaged``) with the receipt's objects, then marked like any other.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from archive_ingest.audit.target import CopyPass, TargetPass
from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import CopyObject, record_copy, set_copy_status
from archive_ingest.catalogue.schema import StoredObjectRow
from archive_ingest.storage.premis import fixity_event

log = logging.getLogger(__name__)


def mark_checked(catalogue: Catalogue, target: str, copy: CopyPass, at: dt.datetime) -> None:
    """Each object's last check (and re-hash) in one transaction."""
    if not copy.statuses:
        return
    with catalogue.session() as session:
        rows = session.scalars(
            select(StoredObjectRow).where(
                StoredObjectRow.target == target,
                StoredObjectRow.key.in_(list(copy.statuses)),
            )
        )
        for row in rows:
            row.last_checked_at = at
            row.last_status = copy.statuses[row.key]
            if row.key in copy.hashed:
                row.last_hashed_at = at


def _adopt(catalogue: Catalogue, target: str, copy: CopyPass, at: dt.datetime) -> bool:
    """Record a copy found in storage; False when it cannot be (no such item, or no receipt
    to trust)."""
    receipt = copy.receipt.receipt if copy.receipt is not None else None
    expected = copy.expected
    if receipt is None or catalogue.get_version(expected.record_id, expected.version) is None:
        return False
    marker = receipt.receipt_object
    record_copy(
        catalogue,
        expected.record_id,
        expected.version,
        target,
        status="verified" if copy.result.ok else "damaged",
        bag_uri=receipt.bag_uri,
        receipt_key=receipt.receipt_key,
        receipt_version_id=receipt.receipt_version_id,
        receipt_sha256=marker.sha256 if marker is not None else None,
        objects=[
            CopyObject(
                path=o.path,
                key=o.key,
                version_id=o.version_id,
                size=o.size,
                sha256=o.sha256,
                sha512=o.sha512,
            )
            for o in receipt.all_objects
        ],
        detail="adopted by the audit: found in storage, not recorded before",
    )
    copy.result.notes.append("adopted: recorded in the catalogue's copies")
    log.info("adopted the copy of %s v%d on %s", expected.record_id, expected.version, target)
    return True


def record_target(catalogue: Catalogue, done: TargetPass) -> None:
    """Record one target's pass (see the module doc)."""
    target = done.report.name
    # to the microsecond (utcnow() keeps whole seconds): passes that run within one second
    # must still leave the re-hash order (least recently first) right
    at = dt.datetime.now(dt.UTC)
    for copy in done.copies:
        result = copy.result
        result.event = fixity_event(
            bag_uri=result.bag_uri,
            objects_checked=result.objects_checked,
            read_back=result.objects_rehashed > 0,
            problems=result.problems,
            context=f"fixity audit, {result.tier} tier ({result.objects_rehashed} of "
            f"{result.objects_checked} objects re-hashed)",
            target=target,
            digests=result.rehash_digests,
        )
        known = copy.recorded is not None or _adopt(catalogue, target, copy, at)
        if not known:
            continue
        mark_checked(catalogue, target, copy, at)
        recorded = copy.recorded
        if not result.ok:
            reasons = sorted({p.reason for p in result.problems})
            set_copy_status(
                catalogue,
                result.record_id,
                result.version,
                target,
                "damaged",
                detail=f"audit {at.isoformat(timespec='seconds')}: " + ", ".join(reasons),
            )
        elif recorded is not None and recorded.status in ("damaged", "lost"):
            set_copy_status(
                catalogue,
                result.record_id,
                result.version,
                target,
                "verified",
                detail=f"verified again by the audit {at.isoformat(timespec='seconds')} "
                f"({result.tier} tier)",
            )
        if catalogue.get_item(result.record_id) is not None:
            catalogue.add_events(result.record_id, result.version, [result.event])
