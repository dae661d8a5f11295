"""Offline check of one deposit receipt (``archive-ingest verify-receipt``): no storage, no
catalogue, only the receipt's bytes and a public key.

Checks, in order: the bytes are JSON, an object, one of the receipt formats this archive
writes, with the fields of a receipt; a format-2 receipt is signed with Ed25519 by the key
given, over its content as it is now. A format-1 receipt (from before signing) cannot be
checked: it is reported as unsigned, which is a failure of the check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from archive_ingest.errors import StorageError
from archive_ingest.storage.receipt import RECEIPT_FORMAT, DepositReceipt, receipt_signature_problem
from archive_ingest.storage.signing import key_id


@dataclass
class ReceiptVerdict:
    """What the check found: the receipt (when it could be read) and what is wrong."""

    receipt: DepositReceipt | None
    problems: list[str] = field(default_factory=list)
    key_id: str = ""

    @property
    def ok(self) -> bool:
        return self.receipt is not None and not self.problems

    def summary(self) -> dict[str, object]:
        """The JSON the command prints."""
        receipt = self.receipt
        return {
            "ok": self.ok,
            "format": receipt.format if receipt else None,
            "target": receipt.target if receipt else None,
            "record_id": receipt.record_id if receipt else None,
            "version": receipt.version if receipt else None,
            "revision": receipt.revision if receipt else None,
            "bag_uri": receipt.bag_uri if receipt else None,
            "objects": len(receipt.objects) if receipt else None,
            "total_bytes": receipt.total_bytes if receipt else None,
            "signature": (
                f"signature ok (key {self.key_id})"
                if self.ok
                else "; ".join(self.problems) or "not checked"
            ),
            "problems": self.problems,
        }


def verify_receipt_bytes(data: bytes, public: Ed25519PublicKey) -> ReceiptVerdict:
    """Check one receipt's bytes against ``public`` (see the module doc)."""
    try:
        receipt = DepositReceipt.from_stored_json(data)
    except StorageError as exc:
        return ReceiptVerdict(None, [str(exc)])
    verdict = ReceiptVerdict(receipt, key_id=key_id(public))
    if receipt.format != RECEIPT_FORMAT:
        verdict.problems.append(
            f"the receipt is {receipt.format}, from before receipts were signed: "
            "it cannot be checked offline"
        )
        return verdict
    problem = receipt_signature_problem(data, public)
    if problem is not None:
        verdict.problems.append(problem)
    return verdict
