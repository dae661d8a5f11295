"""The deposit receipt and the retention policy (pure data, no I/O).

The receipt is the commit marker of one AIP version: it is written last, once, and names every
object of the version with its size, digests, server checksum and VersionId. A reader (or the
audit) trusts an AIP version only through its receipt.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archive_ingest.errors import StorageError
from archive_ingest.models import Digests, Event
from archive_ingest.settings import Settings
from archive_ingest.storage.signing import Signature, signature_problem

RECEIPT_FORMAT = "archive-ingest/deposit-receipt/2"
#: /1: one copy, unsigned (older deposits); /2: names its target and is signed (Ed25519)
READABLE_FORMATS = frozenset({"archive-ingest/deposit-receipt/1", RECEIPT_FORMAT})
LockMode = Literal["COMPLIANCE", "GOVERNANCE", "NONE"]


class LockPolicy(BaseModel):
    """Object Lock retention put on every preservation object (when the bucket has lock)."""

    model_config = ConfigDict(frozen=True)

    mode: LockMode = "GOVERNANCE"
    days: int = Field(default=3650, ge=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> LockPolicy:
        return cls(mode=settings.s3_object_lock_mode, days=settings.s3_object_lock_days)

    @property
    def enabled(self) -> bool:
        return self.mode != "NONE"

    def retain_until(self, now: dt.datetime) -> dt.datetime | None:
        """Whole seconds, UTC: S3 stores retention dates with second precision."""
        if not self.enabled:
            return None
        return (now.astimezone(UTC) + dt.timedelta(days=self.days)).replace(microsecond=0)

    def put_args(self, now: dt.datetime) -> dict[str, Any]:
        until = self.retain_until(now)
        if until is None:
            return {}
        return {"ObjectLockMode": self.mode, "ObjectLockRetainUntilDate": until}


class StoredObject(BaseModel):
    """One bag file as stored: where, which version, and how the server checks it."""

    model_config = ConfigDict(frozen=True)

    path: str  # relative to the bag root
    key: str
    size: int
    sha256: str
    sha512: str
    version_id: str | None
    checksum_algorithm: Literal["SHA256", "CRC32"]
    checksum: str  # base64 full-object checksum as the server reports it
    multipart: bool = False
    parts: int = 1
    lock_mode: str | None = None
    retain_until: dt.datetime | None = None
    resumed: bool = False  # already stored by an earlier, interrupted run


_RUNTIME_FIELDS = frozenset({"receipt_object", "reused", "events", "stored_json"})


def receipt_stored_object(key: str, data: bytes, version_id: str | None) -> StoredObject:
    """The receipt's own bytes as a stored object, so that it is checked like every other."""
    sha256 = hashlib.sha256(data)
    return StoredObject(
        path=key.rsplit("/", 1)[-1],
        key=key,
        size=len(data),
        sha256=sha256.hexdigest(),
        sha512=hashlib.sha512(data).hexdigest(),
        version_id=version_id,
        checksum_algorithm="SHA256",
        checksum=base64.b64encode(sha256.digest()).decode("ascii"),
    )


class ReplacedVersion(BaseModel):
    """An S3 version at one of the receipt's keys that is *not* the AIP's: a damaged, foreign
    or tampered version that a repair wrote over (kept, since it may be locked)."""

    model_config = ConfigDict(frozen=True)

    key: str
    version_id: str | None
    reason: str
    repaired_at: dt.datetime
    source_target: str | None = None  # where the good copy came from


class DepositReceipt(BaseModel):
    """What was deposited. The stored JSON is this model minus the run-time fields."""

    format: str = RECEIPT_FORMAT
    record_id: str
    version: int
    bucket: str
    prefix: str
    bag_uri: str
    receipt_key: str
    objects: list[StoredObject]
    payload_oxum: str
    total_bytes: int
    versioning: bool
    object_lock: bool
    lock_mode: str | None = None
    retain_until: dt.datetime | None = None  # the earliest of the objects'
    verification: Literal["head", "read-back"] = "head"
    started_at: dt.datetime
    completed_at: dt.datetime
    software: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    target: str | None = None  # the storage target this copy is on (/2)
    #: 1 = as deposited; each repair of this copy writes the receipt again, one higher
    revision: int = 1
    replaces: list[ReplacedVersion] = Field(default_factory=list)
    signature: Signature | None = None  # over every other stored field (/2)

    # run-time only (not in the stored JSON)
    receipt_object: StoredObject | None = None  # the receipt as stored (bytes, VersionId)
    reused: bool = False  # True: this call found the AIP complete and wrote nothing
    events: list[Event] = Field(default_factory=list)
    stored_json: bytes | None = None  # the bytes it was read from (what its signature covers)

    @property
    def receipt_version_id(self) -> str | None:
        return self.receipt_object.version_id if self.receipt_object else None

    @property
    def all_objects(self) -> list[StoredObject]:
        """The bag's objects and, when known, the receipt itself."""
        return [*self.objects, *([self.receipt_object] if self.receipt_object else [])]

    @property
    def version_ids(self) -> dict[str, str | None]:
        """Key -> VersionId, the receipt included (what the catalogue records)."""
        ids: dict[str, str | None] = {obj.key: obj.version_id for obj in self.objects}
        ids[self.receipt_key] = self.receipt_version_id
        return ids

    def stored_document(self) -> dict[str, Any]:
        """The stored fields as JSON values (what is written, and what is signed)."""
        data = self.model_dump(mode="json", exclude=set(_RUNTIME_FIELDS))
        if data.get("signature") is None:
            data.pop("signature", None)
        return data

    def to_stored_json(self) -> bytes:
        data = self.stored_document()
        return (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()

    @classmethod
    def from_stored_json(cls, data: bytes, *, version_id: str | None = None) -> DepositReceipt:
        try:
            raw = json.loads(data)
            if not isinstance(raw, dict) or raw.get("format") not in READABLE_FORMATS:
                raise ValueError("not an archive-ingest deposit receipt")
            for name in _RUNTIME_FIELDS:
                raw.pop(name, None)
            receipt = cls.model_validate(raw)
        except (ValueError, ValidationError) as exc:
            raise StorageError(f"unreadable deposit receipt: {str(exc).splitlines()[0]}") from None
        marker = receipt_stored_object(receipt.receipt_key, data, version_id)
        return receipt.model_copy(update={"receipt_object": marker, "stored_json": data})

    def matches(self, manifest: Mapping[str, Digests]) -> bool:
        """Whether this receipt stores exactly these files with these digests."""
        stored = {obj.path: (obj.size, obj.sha256, obj.sha512) for obj in self.objects}
        wanted = {path: (d.size, d.sha256, d.sha512) for path, d in manifest.items()}
        return stored == wanted


def payload_oxum(manifest: Mapping[str, Digests]) -> str:
    """BagIt Payload-Oxum (``<octets>.<files>``) of the payload (``data/``) files."""
    payload = [d.size for path, d in manifest.items() if path.startswith("data/")]
    return f"{sum(payload)}.{len(payload)}"


def receipt_signature_problem(data: bytes, public: Ed25519PublicKey) -> str | None:
    """None when the stored receipt ``data`` is signed by ``public`` and unedited since; else
    what is wrong. A format-1 receipt (from before signing) is reported as unsigned."""
    try:
        raw = json.loads(data)
    except ValueError:
        return "the receipt is not JSON"
    if not isinstance(raw, dict):
        return "the receipt is not a JSON object"
    return signature_problem(raw, public)
