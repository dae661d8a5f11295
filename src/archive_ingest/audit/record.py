"""Every check of one audit pass into the catalogue.

For each copy: each object's last check (and last re-hash, when the full tier read it) with
``ok`` or the first finding's reason (one transaction per copy); the copy's status ``damaged``
when anything was found, ``verified`` again when a damaged (or lost) copy is found clean; one
PREMIS ``fixity check`` event per copy per pass in the item's events (agent archive-ingest,
the detail naming the target and the tier).

A copy found in storage that the catalogue does not record on that target is *adopted* only
when its item and version are in the catalogue, the catalogue has no copies row at all for that
target and version (a ``failed`` row stays failed: ``replicate`` or ``repair`` deal with it),
and its receipt is a signed format-2 receipt that verifies and names this target
(:func:`~archive_ingest.storage.audit_fast.adoption_problem`): recorded with
:func:`~archive_ingest.catalogue.copies.record_copy` (``verified`` when clean, else
``damaged``) with the receipt's objects, then marked like any other. Any other such copy is
*unadopted*: a note in the report (not a finding); a format-1 receipt (older deposit) is left to
``replicate``'s adoption, which re-hashes every object first.

A recorded copy whose receipt has a later signed revision than the recorded one (a repair
killed after writing the revision, before updating the catalogue) is recorded anew from that
revision: its receipt version and SHA-256 and its objects' versions, so the catalogue follows
the receipt.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from archive_ingest.audit.target import CopyPass, TargetPass
from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import copies_of, record_receipt_copy, set_copy_status
from archive_ingest.catalogue.schema import StoredObjectRow
from archive_ingest.storage.audit_fast import adoption_problem
from archive_ingest.storage.premis import fixity_event
from archive_ingest.storage.receipt import DepositReceipt

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


def _record_receipt(
    catalogue: Catalogue, target: str, copy: CopyPass, receipt: DepositReceipt, detail: str
) -> None:
    record_receipt_copy(
        catalogue,
        copy.expected.record_id,
        copy.expected.version,
        target,
        receipt,
        status="verified" if copy.result.ok else "damaged",
        detail=detail,
    )


def _adopt(catalogue: Catalogue, target: str, copy: CopyPass, at: dt.datetime) -> bool:
    """Record a copy found in storage (see the module doc); False when it is not adopted
    (then ``unadopted`` says why, unless its item is not in the catalogue at all)."""
    expected = copy.expected
    if catalogue.get_version(expected.record_id, expected.version) is None:
        return False
    rows = [
        c for c in copies_of(catalogue, expected.record_id, expected.version) if c.target == target
    ]
    why = (
        f"the catalogue records this copy as {rows[0].status}; replicate or repair deals with it"
        if rows
        else adoption_problem(expected, copy.receipt)
    )
    receipt = copy.receipt.receipt if copy.receipt is not None else None
    if why is not None or receipt is None:
        copy.result.unadopted = why or "no receipt to trust"
        copy.result.notes.append(f"unadopted: {copy.result.unadopted}")
        return False
    _record_receipt(
        catalogue,
        target,
        copy,
        receipt,
        "adopted by the audit: found in storage, not recorded before",
    )
    copy.result.notes.append("adopted: recorded in the catalogue's copies")
    log.info("adopted the copy of %s v%d on %s", expected.record_id, expected.version, target)
    return True


def _follow_revision(catalogue: Catalogue, target: str, copy: CopyPass) -> None:
    """Record the later signed receipt revision the fast tier trusted (see the module doc)."""
    check = copy.receipt
    if copy.recorded is None or check is None or not check.revised or check.receipt is None:
        return
    receipt = check.receipt
    _record_receipt(
        catalogue,
        target,
        copy,
        receipt,
        f"the audit found receipt revision {receipt.revision} (version "
        f"{receipt.receipt_version_id}), later than the recorded one, and recorded it",
    )
    copy.result.notes.append(f"recorded receipt revision {receipt.revision}")
    log.info(
        "recorded receipt revision %d of %s v%d on %s",
        receipt.revision,
        copy.expected.record_id,
        copy.expected.version,
        target,
    )


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
        _follow_revision(catalogue, target, copy)
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
