"""What is wrong with one copy on one target, found by reading it in full (nothing is written).

The catalogue says what the copy must hold: every object's key, recorded S3 version and
digests, and the receipt's recorded version and SHA-256. Against that, for each object: the
recorded version must exist (else ``missing``), be the latest at its key (else
``delete-marker`` or ``replaced``) and pass HEAD checks and a full read-back hashed with
SHA-256 and SHA-512 (else the check's reason: ``content-mismatch``, ``unreadable``, ...).
The receipt's recorded version must still be there, hash to the recorded SHA-256 and carry a
valid signature of this archive's key, and no version may have been written on top of it
(``receipt-tampered``). Versions a repair already wrote over are listed in the receipt's
``replaces`` and are not findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from archive_ingest.catalogue.copies import CopyInfo, ObjectInfo
from archive_ingest.errors import StorageError
from archive_ingest.replication.sources import recorded_receipt
from archive_ingest.settings import Settings
from archive_ingest.storage.layout import RECEIPT_NAME, AipLayout
from archive_ingest.storage.listing import VersionEntry, version_index
from archive_ingest.storage.receipt import DepositReceipt, StoredObject
from archive_ingest.storage.s3 import S3Client, make_client, probe_endpoint
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.verify import check_object


class Finding(BaseModel):
    """One object (or the receipt) of the copy that is not as recorded."""

    key: str
    path: str
    reason: str
    detail: str = ""
    bad_version: str | None = None  # the version that is wrong (kept; listed in replaces)


class Diagnosis(BaseModel):
    """One copy, read in full."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    record_id: str
    version: int
    target: str
    bag_uri: str
    receipt_key: str
    receipt: DepositReceipt | None = None  # the copy's own receipt, when it can be trusted
    receipt_finding: Finding | None = None
    #: receipt versions written on top of the recorded one (tampering), to list in replaces
    receipt_intruders: list[VersionEntry] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    index: dict[str, list[VersionEntry]] = Field(default_factory=dict)
    objects: list[ObjectInfo] = Field(default_factory=list)  # without the receipt

    @property
    def clean(self) -> bool:
        return not self.findings and self.receipt_finding is None


def _sort_time(entry: VersionEntry) -> dt.datetime:
    return entry.last_modified or dt.datetime.min.replace(tzinfo=dt.UTC)


def _receipt_check(
    diagnosis: Diagnosis, client: S3Client, view: Settings, copy: CopyInfo, signer: ReceiptSigner
) -> None:
    key = diagnosis.receipt_key
    entries = diagnosis.index.get(key, [])
    recorded = next(
        (e for e in entries if e.version_id == copy.receipt_version_id and not e.delete_marker),
        None,
    )
    try:
        receipt, _ = recorded_receipt(client, view, copy, signer.public)
        diagnosis.receipt = receipt
    except StorageError as exc:  # gone, other bytes, bad signature, or unreadable
        reason = "receipt-missing" if recorded is None else "receipt-corrupt"
        diagnosis.receipt_finding = Finding(
            key=key,
            path=RECEIPT_NAME,
            reason=reason,
            detail=str(exc),
            bad_version=copy.receipt_version_id if recorded is not None else None,
        )
    replaced = {r.version_id for r in diagnosis.receipt.replaces} if diagnosis.receipt else set()
    if recorded is not None:
        newer = [e for e in entries if e is not recorded and _sort_time(e) >= _sort_time(recorded)]
    else:
        newer = [e for e in entries if e.version_id != copy.receipt_version_id]
    diagnosis.receipt_intruders = [e for e in newer if e.version_id not in replaced]
    if diagnosis.receipt_intruders and diagnosis.receipt_finding is None:
        shown = ", ".join(str(e.version_id) for e in diagnosis.receipt_intruders)
        diagnosis.receipt_finding = Finding(
            key=key,
            path=RECEIPT_NAME,
            reason="receipt-tampered",
            detail=f"version(s) {shown} written on top of the recorded receipt",
            bad_version=diagnosis.receipt_intruders[-1].version_id,
        )


def _expected_object(
    obj: ObjectInfo, receipt: DepositReceipt | None, head_checksum: tuple[str, str] | None
) -> StoredObject:
    """What ``obj`` must be: the receipt's entry when the receipt is trusted, else the
    catalogue's digests with the server's own checksum attribute (then not compared)."""
    if receipt is not None:
        for stored in receipt.objects:
            if stored.key == obj.key and stored.version_id == obj.version_id:
                return stored
    algorithm, checksum = head_checksum or ("SHA256", "")
    return StoredObject(
        path=obj.path,
        key=obj.key,
        size=obj.size,
        sha256=obj.sha256,
        sha512=obj.sha512,
        version_id=obj.version_id,
        checksum_algorithm="CRC32" if algorithm == "CRC32" else "SHA256",
        checksum=checksum,
    )


def _head_checksum(client: S3Client, bucket: str, obj: ObjectInfo) -> tuple[str, str] | None:
    args = {"VersionId": obj.version_id} if obj.version_id else {}
    try:
        head = client.head_object(Bucket=bucket, Key=obj.key, ChecksumMode="ENABLED", **args)
    except Exception:  # the read-back that follows reports what is wrong
        return None
    for algorithm in ("SHA256", "CRC32"):
        value = head.get(f"Checksum{algorithm}")
        if value:
            return algorithm, str(value)
    return None


def _object_findings(
    client: S3Client,
    bucket: str,
    obj: ObjectInfo,
    entries: Sequence[VersionEntry],
    receipt: DepositReceipt | None,
) -> list[Finding]:
    ours = next(
        (e for e in entries if e.version_id == obj.version_id and not e.delete_marker), None
    )
    if obj.version_id is not None and ours is None:
        return [
            Finding(
                key=obj.key,
                path=obj.path,
                reason="missing",
                detail=f"version {obj.version_id} is gone",
            )
        ]
    latest = next((e for e in entries if e.is_latest), None)
    if latest is not None and latest.delete_marker:
        return [
            Finding(
                key=obj.key,
                path=obj.path,
                reason="delete-marker",
                detail="a delete marker hides the recorded version",
                bad_version=latest.version_id,
            )
        ]
    if latest is not None and obj.version_id is not None and latest.version_id != obj.version_id:
        return [
            Finding(
                key=obj.key,
                path=obj.path,
                reason="replaced",
                detail=f"version {latest.version_id} was written on top of the recorded one",
                bad_version=latest.version_id,
            )
        ]
    expected = _expected_object(
        obj, receipt, None if receipt is not None else _head_checksum(client, bucket, obj)
    )
    try:
        problems = check_object(client, bucket, expected, read_back=True)
    except StorageError as exc:
        return [
            Finding(
                key=obj.key,
                path=obj.path,
                reason="unreadable",
                detail=str(exc),
                bad_version=obj.version_id,
            )
        ]
    if expected.checksum == "":
        problems = [p for p in problems if p.reason != "checksum-mismatch"]
    if not problems:
        return []
    first = problems[0]
    return [
        Finding(
            key=obj.key,
            path=obj.path,
            reason=first.reason,
            detail="; ".join(f"{p.reason}: {p.detail}" for p in problems),
            bad_version=obj.version_id,
        )
    ]


def diagnose(
    view: Settings, copy: CopyInfo, objects: Sequence[ObjectInfo], signer: ReceiptSigner
) -> Diagnosis:
    """Read the copy ``copy`` on the target ``view`` in full; see the module doc. Raises
    StorageError when the target cannot be read at all (it does not answer)."""
    probe_endpoint(view)
    client = make_client(view)
    layout = AipLayout(view.s3_prefix, copy.record_id, copy.version)
    receipt_key = copy.receipt_key or layout.receipt_key
    diagnosis = Diagnosis(
        record_id=copy.record_id,
        version=copy.version,
        target=copy.target,
        bag_uri=copy.bag_uri or layout.uri(view.s3_bucket),
        receipt_key=receipt_key,
        objects=[o for o in objects if o.key != receipt_key],
    )
    diagnosis.index = version_index(client, view.s3_bucket, layout.root)
    _receipt_check(diagnosis, client, view, copy, signer)
    replaced = (
        {(r.key, r.version_id) for r in diagnosis.receipt.replaces} if diagnosis.receipt else set()
    )
    for obj in diagnosis.objects:
        entries = [
            e for e in diagnosis.index.get(obj.key, []) if (obj.key, e.version_id) not in replaced
        ]
        diagnosis.findings += _object_findings(
            client, view.s3_bucket, obj, entries, diagnosis.receipt
        )
    return diagnosis
