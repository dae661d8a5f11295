"""Deposit one bag to every storage target at once, and record each copy in the catalogue.

:func:`deposit_to_targets` runs :func:`~archive_ingest.storage.deposit.deposit_bag` against
every configured target (storage/targets.py) in parallel, one worker thread per target, each
with its own client and its own view of the settings. Every copy is checked exactly as a
single deposit is (write-once PUTs, server checksums, HEAD verification, signed receipt
last); a target that does not answer, or fails, is a *failed copy*, not a failed deposit:
the caller decides from the verified copies whether the version is ``deposited`` or
``under_replicated``. :func:`record_copies` writes the outcome into the catalogue's copies
tables (catalogue/copies.py), which ``reconcile``, ``replicate`` and the audit read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import record_copy, record_receipt_copy
from archive_ingest.errors import (
    ArchiveIngestError,
    CopyDamagedError,
    PackageError,
    StorageError,
    StorageUnreachableError,
)
from archive_ingest.models import Digests, utcnow
from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_to_target
from archive_ingest.storage.receipt import DepositReceipt
from archive_ingest.storage.s3 import probe_endpoint
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.targets import check_targets, target_views

#: the prefix of an item's reasons about its copies (the review queue files them under it)
COPIES_REASON = "copies: "


@dataclass(frozen=True)
class CopyOutcome:
    """One target's copy of one AIP version: the verified receipt, or why there is none."""

    target: str
    receipt: DepositReceipt | None = None
    error: BaseException | None = None

    @property
    def verified(self) -> bool:
        return self.receipt is not None

    @property
    def reason(self) -> str:
        return "" if self.error is None else str(self.error)


def _deposit_one(
    view: Settings,
    signer: ReceiptSigner,
    record_id: str,
    version: int,
    bag_dir: Path,
    manifest: Mapping[str, Digests],
) -> CopyOutcome:
    """One target's deposit (runs in a worker thread). Storage trouble is the copy's outcome;
    a bag that does not match its manifest is everybody's problem and propagates."""
    target = view.storage_target_name
    try:
        probe_endpoint(view)  # a target that does not answer fails here within seconds
        receipt = deposit_to_target(
            view,
            record_id=record_id,
            version=version,
            bag_dir=bag_dir,
            manifest=manifest,
            signer=signer,
        )
    except PackageError:
        raise
    except (ArchiveIngestError, BotoCoreError, ClientError, OSError) as exc:
        return CopyOutcome(target=target, error=exc)
    return CopyOutcome(target=target, receipt=receipt)


def deposit_to_targets(
    settings: Settings,
    *,
    record_id: str,
    version: int,
    bag_dir: Path,
    manifest: Mapping[str, Digests],
) -> list[CopyOutcome]:
    """Deposit the bag to every configured target in parallel; one outcome per target, in
    the targets' order. The targets are checked first (``check_targets``: one ConfigError
    naming every problem). Raises only for a bad configuration or a bag that does not match
    its manifest."""
    check_targets(settings)
    views = target_views(settings)
    signer = ReceiptSigner.for_settings(settings)  # once, here: the key may be created now
    with ThreadPoolExecutor(max_workers=len(views), thread_name_prefix="deposit") as pool:
        futures = [  # each in a copy of this context: the log lines name the item and stage
            pool.submit(
                copy_context().run,
                _deposit_one,
                view,
                signer,
                record_id,
                version,
                bag_dir,
                manifest,
            )
            for view in views
        ]
        return [future.result() for future in futures]


def record_copies(
    catalogue: Catalogue,
    record_id: str,
    version: int,
    outcomes: Sequence[CopyOutcome],
    *,
    skip: Sequence[str] = (),
) -> None:
    """Record each copy (verified with its receipt and objects; damaged when a stored copy
    was found that is not the AIP; failed with the reason);
    targets in ``skip`` (already recorded as verified, found unchanged) are left as they are."""
    now = utcnow()
    for outcome in outcomes:
        if outcome.target in skip:
            continue
        receipt = outcome.receipt
        if receipt is None:
            # a copy that is there but not the AIP is damaged (repair's work), else failed
            damaged = isinstance(outcome.error, CopyDamagedError)
            record_copy(
                catalogue,
                record_id,
                version,
                outcome.target,
                status="damaged" if damaged else "failed",
                detail=outcome.reason,
            )
            continue
        record_receipt_copy(
            catalogue,
            record_id,
            version,
            outcome.target,
            receipt,
            status="verified",
            verified_at=now,
        )


def no_copy_error(outcomes: Sequence[CopyOutcome]) -> BaseException:
    """What to raise when no target holds a verified copy: the one error of a single target
    as it is (its type and message), else one error naming every target's reason:
    StorageUnreachableError when no target answered, else a StorageError, transient when
    every reason was."""
    errors = [o.error for o in outcomes if o.error is not None]
    if len(outcomes) == 1 and errors:
        return errors[0]
    message = "no storage target holds a verified copy: " + "; ".join(
        f"{o.target}: {o.reason or 'no copy'}" for o in outcomes
    )
    if errors and all(isinstance(e, StorageUnreachableError) for e in errors):
        return StorageUnreachableError(message)  # the flow does not wait for them to return
    transient = bool(errors) and all(getattr(e, "transient", False) for e in errors)
    return StorageError(message, transient=transient)


def replication_line(verified: int, total: int) -> str:
    """The line ``ingest`` prints for an under-replicated item."""
    return f"stored on {verified} of {total} targets; run `archive-ingest replicate` or re-run"


def missing_reasons(outcomes: Sequence[CopyOutcome], holders: Collection[str]) -> list[str]:
    """The item's reasons when a target has no copy: the count, then one per missing target
    (``holders``: the targets holding a copy, verified now or recorded as verified before)."""
    return [
        COPIES_REASON + replication_line(len(holders), len(outcomes)),
        *(
            f"{COPIES_REASON}no copy on {o.target}: {o.reason}"
            for o in outcomes
            if o.target not in holders
        ),
    ]


__all__ = [
    "COPIES_REASON",
    "CopyOutcome",
    "deposit_to_targets",
    "missing_reasons",
    "no_copy_error",
    "record_copies",
    "replication_line",
]
