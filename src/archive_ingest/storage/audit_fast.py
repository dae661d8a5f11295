"""The fast audit tier of one copy: the receipt's LATEST version, then HEAD and the listing.

No object's bytes are read here (the full tier, :mod:`.rehash`, does that) and an ETag is never
taken for a digest. For one copy of one AIP version on one target:

- **the receipt**: its latest version is read (it is small) and must be trusted: a format-2
  receipt must carry a valid Ed25519 signature of this archive's key, name this record, version
  and target, and be the version the catalogue recorded (same VersionId and SHA-256), or a
  later signed *revision* (a repair wrote it: ``revised``, and the catalogue is brought to
  it); anything else is ``receipt-tampered``. A
  format-1 receipt (older, unsigned deposits) is trusted when it is the recorded one. When the
  latest version cannot be trusted, the recorded version is read instead to go on checking the
  objects (then with the catalogue's digests).
- **each object**: its recorded version exists, is the latest and the only one at its key,
  except versions listed in the trusted receipt's ``replaces`` (a repair keeps the bad, locked
  version it wrote over); a HEAD of that version: size, the checksum attribute the server
  verified at upload equal to the recorded one, our metadata digests, and the retention still
  set (mode as recorded, retain-until not earlier than recorded).
- nothing else under the version's folder (``unexpected-object``).

A copy the catalogue does not record is checked the same way from its receipt alone; the
audit adopts it only when :func:`adoption_problem` finds nothing (a signed format-2 receipt,
trusted, naming this target).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from archive_ingest.errors import StorageError
from archive_ingest.storage.audit import _version_problems
from archive_ingest.storage.layout import RECEIPT_NAME
from archive_ingest.storage.listing import MAX_RECEIPT_BYTES, VersionEntry
from archive_ingest.storage.receipt import (
    RECEIPT_FORMAT,
    DepositReceipt,
    StoredObject,
    receipt_signature_problem,
)
from archive_ingest.storage.s3 import S3Client, is_not_found, storage_error
from archive_ingest.storage.verify import Problem, compare_head

#: HEAD requests in flight per target
HEAD_WORKERS = 16


@dataclass(frozen=True)
class ExpectedObject:
    """An object as the catalogue recorded it (without the receipt's checksum attribute)."""

    path: str
    key: str
    version_id: str | None
    size: int
    sha256: str
    sha512: str


@dataclass(frozen=True)
class ExpectedCopy:
    """What one copy must be: the catalogue's record of it, or only a receipt key (a copy
    found in storage that the catalogue does not know)."""

    record_id: str
    version: int
    target: str
    receipt_key: str
    receipt_version_id: str | None = None  # None: not recorded (use the latest)
    receipt_sha256: str | None = None
    objects: Sequence[ExpectedObject] = ()  # the catalogue's objects (receipt excluded)


@dataclass
class ReceiptCheck:
    """The copy's receipt as the fast tier found it."""

    receipt: DepositReceipt | None  # the one to check the objects against (None: none trusted)
    problems: list[Problem] = field(default_factory=list)
    parsed: DepositReceipt | None = None  # the latest version as read, trusted or not
    notes: list[str] = field(default_factory=list)
    latest_bytes: bytes | None = None
    #: the trusted receipt is a later signed revision than the one the catalogue recorded
    #: (a repair killed before it updated the catalogue): the catalogue should follow it
    revised: bool = False

    @property
    def trusted_latest(self) -> bool:
        return self.receipt is not None and not self.problems


def read_version(
    client: S3Client, bucket: str, key: str, version_id: str | None
) -> tuple[bytes, str | None]:
    """A receipt version's bytes (bounded) and its VersionId."""
    args = {"VersionId": version_id} if version_id else {}
    try:
        response = client.get_object(Bucket=bucket, Key=key, **args)
        body = response["Body"]
        try:
            data = body.read(MAX_RECEIPT_BYTES + 1)
        finally:
            body.close()
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("get_object", key, exc) from exc
    if len(data) > MAX_RECEIPT_BYTES:
        raise StorageError(f"deposit receipt {key} is implausibly large")
    found = response.get("VersionId")
    return data, (None if found in (None, "null") else str(found)) or version_id


def receipt_problem(
    data: bytes, version_id: str | None, copy: ExpectedCopy, public: Ed25519PublicKey | None
) -> tuple[DepositReceipt | None, str | None]:
    """The receipt in ``data`` and None when it is a good receipt of this copy (signature,
    identity); else (what could be parsed, what is wrong)."""
    try:
        receipt = DepositReceipt.from_stored_json(data, version_id=version_id)
    except StorageError as exc:
        return None, str(exc)
    if receipt.format == RECEIPT_FORMAT:
        if public is None:
            return receipt, "no public key to check the receipt's signature"
        problem = receipt_signature_problem(data, public)
        if problem is not None:
            return receipt, problem
    elif receipt.signature is not None or receipt.target is not None:
        return receipt, f"a {receipt.format} receipt cannot carry a signature or target"
    wrong = [
        name
        for name, have, want in (
            ("record", receipt.record_id, copy.record_id),
            ("version", receipt.version, copy.version),
            ("receipt key", receipt.receipt_key, copy.receipt_key),
        )
        if have != want
    ]
    if receipt.target is not None and receipt.target != copy.target:
        wrong.append("target")
    if wrong:
        return receipt, "the receipt names another " + ", ".join(wrong)
    return receipt, None


def _latest(entries: Sequence[VersionEntry]) -> VersionEntry | None:
    flagged = [e for e in entries if e.is_latest]
    if flagged:
        return flagged[0]
    if not entries:
        return None
    return max(entries, key=lambda e: e.last_modified or dt.datetime.min.replace(tzinfo=dt.UTC))


def check_receipt(
    client: S3Client,
    bucket: str,
    copy: ExpectedCopy,
    entries: Sequence[VersionEntry],
    public: Ed25519PublicKey | None,
) -> ReceiptCheck:
    """The receipt part of the fast tier (see the module doc)."""
    key = copy.receipt_key

    def tampered(detail: str) -> Problem:
        return Problem(key=key, reason="receipt-tampered", detail=detail)

    latest = _latest(entries)
    recorded = copy.receipt_version_id
    if latest is None:
        return ReceiptCheck(None, [Problem(key=key, reason="missing", detail="no receipt")])
    check = ReceiptCheck(None)
    if latest.delete_marker:
        check.problems.append(
            Problem(key=key, reason="delete-marker", detail="a delete marker hides the receipt")
        )
    else:
        try:
            data, version_id = read_version(client, bucket, key, latest.version_id)
        except StorageError as exc:
            check.problems.append(Problem(key=key, reason="unreadable", detail=str(exc)))
            data, version_id = b"", None
        if data:
            check.latest_bytes = data
            receipt, problem = receipt_problem(data, version_id, copy, public)
            check.parsed = receipt
            digest = hashlib.sha256(data).hexdigest()
            if problem is not None:
                check.problems.append(tampered(problem))
            elif recorded is None or version_id == recorded:
                if copy.receipt_sha256 is not None and digest != copy.receipt_sha256:
                    check.problems.append(
                        tampered("the receipt's bytes differ from the ones the catalogue recorded")
                    )
                else:
                    check.receipt = receipt
            elif receipt is not None and receipt.format == RECEIPT_FORMAT:
                # a newer version than the recorded one: only a later signed revision is fine
                base = _recorded_revision(client, bucket, copy, public)
                if receipt.revision > base:
                    check.receipt = receipt
                    check.revised = True
                    check.notes.append(
                        f"receipt revision {receipt.revision} (version {version_id}) is newer "
                        "than the one the catalogue recorded"
                    )
                else:
                    check.problems.append(
                        tampered(
                            f"version {version_id} was written on top of the recorded receipt "
                            f"(revision {receipt.revision}, not later than {base})"
                        )
                    )
            else:
                check.problems.append(
                    tampered(f"version {version_id} was written on top of the recorded receipt")
                )
            if check.receipt is not None and check.receipt.format != RECEIPT_FORMAT:
                check.notes.append(f"unsigned {check.receipt.format} receipt (older deposit)")
    if check.receipt is None and recorded is not None and recorded != latest.version_id:
        check.receipt = _recorded_receipt(client, bucket, copy, public)
    if recorded is None:
        _unrecorded_history(client, bucket, copy, entries, latest, check, public)
    return check


def adoption_problem(copy: ExpectedCopy, check: ReceiptCheck | None) -> str | None:
    """Why a copy the catalogue does not record may not be adopted by the audit (None: it
    may): only a trusted, signed format-2 receipt that names this target is enough. A format-1
    receipt (older, unsigned deposit) is left to ``replicate``, which re-hashes every object
    before it adopts a copy."""
    receipt = check.receipt if check is not None else None
    if check is None or receipt is None or not check.trusted_latest:
        return "its receipt cannot be trusted"
    if receipt.format != RECEIPT_FORMAT:
        return (
            f"unsigned {receipt.format} receipt (older deposit): replicate adopts it after "
            "re-hashing every object"
        )
    if receipt.target != copy.target:
        return f"its receipt names target {receipt.target!r}, not {copy.target!r}"
    return None


def _unrecorded_history(
    client: S3Client,
    bucket: str,
    copy: ExpectedCopy,
    entries: Sequence[VersionEntry],
    latest: VersionEntry,
    check: ReceiptCheck,
    public: Ed25519PublicKey | None,
) -> None:
    """A copy the catalogue does not record has no recorded receipt version to compare with:
    more than one version at its receipt key is tampering unless the latest is a signed
    revision (a repair's); a receipt hidden by a delete marker is still read (its newest real
    version), so its objects are checked."""
    real = [e for e in entries if not e.delete_marker]
    receipt = check.receipt
    others = [e for e in real if e is not latest]
    revised = receipt is not None and receipt.format == RECEIPT_FORMAT and receipt.revision > 1
    if receipt is not None and others and not revised:
        check.problems.append(
            Problem(
                key=copy.receipt_key,
                reason="receipt-tampered",
                detail=f"{len(others)} other version(s) at the receipt key, and the latest "
                "is no signed revision",
            )
        )
        check.receipt = None
    if latest.delete_marker and real and check.parsed is None:
        hidden = _latest(real)
        try:
            data, version_id = read_version(
                client, bucket, copy.receipt_key, hidden.version_id if hidden else None
            )
        except StorageError:
            return
        check.parsed, _ = receipt_problem(data, version_id, copy, public)


def _recorded_receipt(
    client: S3Client, bucket: str, copy: ExpectedCopy, public: Ed25519PublicKey | None
) -> DepositReceipt | None:
    """The receipt version the catalogue recorded, when it is still there and good."""
    try:
        data, version_id = read_version(client, bucket, copy.receipt_key, copy.receipt_version_id)
    except StorageError:
        return None
    receipt, problem = receipt_problem(data, version_id, copy, public)
    if problem is not None:
        return None
    if copy.receipt_sha256 is not None and hashlib.sha256(data).hexdigest() != copy.receipt_sha256:
        return None
    return receipt


def _recorded_revision(
    client: S3Client, bucket: str, copy: ExpectedCopy, public: Ed25519PublicKey | None
) -> int:
    receipt = _recorded_receipt(client, bucket, copy, public)
    return receipt.revision if receipt is not None else 1


# --- objects ----------------------------------------------------------------------------------


def expected_objects(copy: ExpectedCopy, check: ReceiptCheck) -> list[tuple[StoredObject, bool]]:
    """(object, checksum known) for every object the copy must hold, the receipt excluded: the
    trusted receipt's entries (with the server checksum recorded at upload), else the
    catalogue's (digests only), else, for a copy the catalogue does not know, the untrusted
    receipt's (already a finding; the objects are still worth checking)."""
    if check.receipt is not None:
        return [(obj, True) for obj in check.receipt.objects]
    if not copy.objects and check.parsed is not None:
        return [(obj, True) for obj in check.parsed.objects]
    return [
        (
            StoredObject(
                path=obj.path,
                key=obj.key,
                size=obj.size,
                sha256=obj.sha256,
                sha512=obj.sha512,
                version_id=obj.version_id,
                checksum_algorithm="SHA256",
                checksum="",
            ),
            False,
        )
        for obj in copy.objects
        if obj.key != copy.receipt_key
    ]


def catalogue_disagreements(copy: ExpectedCopy, receipt: DepositReceipt) -> list[Problem]:
    """The trusted receipt and the catalogue's objects must agree on version and digests."""
    stored = {obj.key: obj for obj in receipt.objects}
    problems: list[Problem] = []
    for obj in copy.objects:
        if obj.key == copy.receipt_key:
            continue
        found = stored.get(obj.key)
        if found is None or (found.version_id, found.sha256, found.size) != (
            obj.version_id,
            obj.sha256,
            obj.size,
        ):
            problems.append(
                Problem(
                    key=copy.receipt_key,
                    reason="receipt-tampered",
                    detail=f"the receipt and the catalogue disagree about {obj.key}",
                )
            )
    return problems


def retention_problems(obj: StoredObject, head: Mapping[str, object]) -> list[Problem]:
    """Retention still set: the recorded mode, retain-until not earlier than recorded."""
    if not obj.lock_mode or obj.lock_mode == "NONE":
        return []
    mode = head.get("ObjectLockMode")
    until = head.get("ObjectLockRetainUntilDate")
    if mode != obj.lock_mode:
        return [
            Problem(
                key=obj.key,
                reason="lock-missing",
                detail=f"retention mode {mode}, recorded {obj.lock_mode}",
            )
        ]
    if obj.retain_until is not None and (
        not isinstance(until, dt.datetime) or until < obj.retain_until
    ):
        return [
            Problem(
                key=obj.key,
                reason="lock-missing",
                detail=f"retained until {until}, recorded {obj.retain_until.isoformat()}",
            )
        ]
    return []


def head_object(
    client: S3Client,
    bucket: str,
    obj: StoredObject,
    entries: Sequence[VersionEntry],
    *,
    checksum_known: bool = True,
) -> list[Problem]:
    """The listing and HEAD checks of one object (see the module doc)."""
    problems = _version_problems(obj, entries)
    if any(p.reason == "missing" for p in problems):
        return problems
    args = {"VersionId": obj.version_id} if obj.version_id else {}
    try:
        head = client.head_object(Bucket=bucket, Key=obj.key, ChecksumMode="ENABLED", **args)
    except ClientError as exc:
        if is_not_found(exc):
            return [*problems, Problem(key=obj.key, reason="missing", detail="HEAD: not found")]
        return [
            *problems,
            Problem(
                key=obj.key, reason="error", detail=str(storage_error("head_object", obj.key, exc))
            ),
        ]
    except BotoCoreError as exc:
        detail = str(storage_error("head_object", obj.key, exc))
        return [*problems, Problem(key=obj.key, reason="error", detail=detail)]
    found = compare_head(obj, dict(head))
    if not checksum_known:
        found = [p for p in found if p.reason not in ("checksum-absent", "checksum-mismatch")]
    return [*problems, *found, *retention_problems(obj, head)]


def unexpected_objects(
    root: str, expected: set[str], index: Mapping[str, Sequence[VersionEntry]]
) -> list[Problem]:
    """Keys under an AIP version's folder that its receipt does not name."""
    return [
        Problem(key=key, reason="unexpected-object", detail="not in the receipt")
        for key in sorted(k for k in index if k.startswith(root) and k not in expected)
        if any(not e.delete_marker for e in index[key])
    ]


@dataclass(frozen=True)
class HeadTask:
    """One object to HEAD-check, tagged with whatever the caller needs to file the result."""

    tag: object
    obj: StoredObject
    entries: tuple[VersionEntry, ...]
    checksum_known: bool = True


def run_head_tasks(
    client: S3Client,
    bucket: str,
    tasks: Sequence[HeadTask],
    *,
    workers: int = HEAD_WORKERS,
    on_done: Callable[[HeadTask, list[Problem]], None] | None = None,
) -> list[list[Problem]]:
    """HEAD-check every task, ``workers`` in flight; results in the tasks' order."""

    def one(task: HeadTask) -> list[Problem]:
        found = head_object(
            client, bucket, task.obj, task.entries, checksum_known=task.checksum_known
        )
        if on_done is not None:
            on_done(task, found)
        return found

    if len(tasks) <= 1 or workers <= 1:
        return [one(t) for t in tasks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit-head") as pool:
        return list(pool.map(one, tasks))


def aip_root(receipt_key: str) -> str:
    return receipt_key[: -len(RECEIPT_NAME)]
