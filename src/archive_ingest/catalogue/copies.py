"""The catalogue's record of copies: which version is stored on which target, and each stored
object's last check (fast tier) and last re-hash (full tier).

A copy is ``verified`` when its deposit (or replication, or repair) verified every object and
its receipt; ``failed`` when a deposit to its target did not finish (the target was down);
``damaged`` when an audit found a problem that repair has not fixed yet; ``lost`` when no good
copy was left to repair it from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from archive_ingest.catalogue.rows import aware
from archive_ingest.catalogue.schema import Copy, Item, StoredObjectRow
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.models import utcnow

CopyStatus = Literal["verified", "failed", "damaged", "lost"]


class CopyObject(BaseModel):
    """One object of one copy, as the catalogue keeps it."""

    model_config = ConfigDict(frozen=True)

    path: str
    key: str
    version_id: str | None
    size: int
    sha256: str
    sha512: str


class StoredObjectFacts(Protocol):
    """What the catalogue keeps of a stored object (a receipt's objects have it)."""

    @property
    def path(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def version_id(self) -> str | None: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def sha512(self) -> str: ...


class ReceiptFacts(Protocol):
    """What the catalogue keeps of a copy's deposit receipt (a DepositReceipt has it)."""

    @property
    def bag_uri(self) -> str: ...
    @property
    def receipt_key(self) -> str: ...
    @property
    def receipt_version_id(self) -> str | None: ...
    @property
    def receipt_object(self) -> StoredObjectFacts | None: ...
    @property
    def all_objects(self) -> Sequence[StoredObjectFacts]: ...


def copy_object(stored: StoredObjectFacts) -> CopyObject:
    """A stored object as the catalogue keeps it."""
    return CopyObject(
        path=stored.path,
        key=stored.key,
        version_id=stored.version_id,
        size=stored.size,
        sha256=stored.sha256,
        sha512=stored.sha512,
    )


def copy_objects(receipt: ReceiptFacts) -> list[CopyObject]:
    """Every stored object of a copy, the receipt itself included, as the catalogue keeps it."""
    return [copy_object(stored) for stored in receipt.all_objects]


class CopyInfo(BaseModel):
    """A copies row as plain data."""

    record_id: str
    version: int
    target: str
    status: str
    bag_uri: str | None
    receipt_key: str | None
    receipt_version_id: str | None
    receipt_sha256: str | None
    detail: str
    deposited_at: dt.datetime | None
    updated_at: dt.datetime
    objects: int = 0  # the copy's stored objects (the receipt included) and their bytes
    bytes: int = 0


class ObjectInfo(BaseModel):
    """A stored_objects row as plain data."""

    record_id: str
    version: int
    target: str
    path: str
    key: str
    version_id: str | None
    size: int
    sha256: str
    sha512: str
    last_checked_at: dt.datetime | None
    last_hashed_at: dt.datetime | None
    last_status: str | None


def _copy_info(row: Copy) -> CopyInfo:
    return CopyInfo(
        record_id=row.item_id,
        version=row.version,
        target=row.target,
        status=row.status,
        bag_uri=row.bag_uri,
        receipt_key=row.receipt_key,
        receipt_version_id=row.receipt_version_id,
        receipt_sha256=row.receipt_sha256,
        detail=row.detail or "",
        deposited_at=aware(row.deposited_at) if row.deposited_at else None,
        updated_at=aware(row.updated_at),
        objects=row.objects or 0,
        bytes=row.bytes or 0,
    )


def _object_info(row: StoredObjectRow) -> ObjectInfo:
    return ObjectInfo(
        record_id=row.item_id,
        version=row.version,
        target=row.target,
        path=row.path,
        key=row.key,
        version_id=row.version_id,
        size=row.size,
        sha256=row.sha256,
        sha512=row.sha512,
        last_checked_at=aware(row.last_checked_at) if row.last_checked_at else None,
        last_hashed_at=aware(row.last_hashed_at) if row.last_hashed_at else None,
        last_status=row.last_status,
    )


def record_copy(
    catalogue: Catalogue,
    record_id: str,
    version: int,
    target: str,
    *,
    status: CopyStatus,
    bag_uri: str | None = None,
    receipt_key: str | None = None,
    receipt_version_id: str | None = None,
    receipt_sha256: str | None = None,
    objects: Iterable[CopyObject] = (),
    detail: str = "",
    verified_at: dt.datetime | None = None,
) -> None:
    """Insert or update the copy of ``record_id`` v``version`` on ``target`` and its objects
    (in one transaction). ``verified_at`` marks the objects as just checked and re-hashed.
    With ``objects``, the copy's totals (``objects``, ``bytes``) are counted anew from its
    stored objects in the same transaction."""
    now = utcnow()
    with catalogue.session() as session:
        row = session.scalars(
            select(Copy).where(
                Copy.item_id == record_id, Copy.version == version, Copy.target == target
            )
        ).one_or_none()
        if row is None:
            row = Copy(item_id=record_id, version=version, target=target, objects=0, bytes=0)
            session.add(row)
        row.status = status
        row.detail = detail
        row.updated_at = now
        if bag_uri is not None:
            row.bag_uri = bag_uri
        if receipt_key is not None:
            row.receipt_key = receipt_key
            row.receipt_version_id = receipt_version_id
            row.receipt_sha256 = receipt_sha256
        if status == "verified" and row.deposited_at is None:
            row.deposited_at = now
        for obj in objects:
            stored = session.scalars(
                select(StoredObjectRow).where(
                    StoredObjectRow.target == target, StoredObjectRow.key == obj.key
                )
            ).one_or_none()
            if stored is None:
                stored = StoredObjectRow(target=target, key=obj.key)
                session.add(stored)
            stored.item_id = record_id
            stored.version = version
            stored.path = obj.path
            stored.version_id = obj.version_id
            stored.size = obj.size
            stored.sha256 = obj.sha256
            stored.sha512 = obj.sha512
            if verified_at is not None:
                stored.last_checked_at = verified_at
                stored.last_hashed_at = verified_at
                stored.last_status = "ok"
        if objects:
            session.flush()
            count, total = session.execute(
                select(func.count(StoredObjectRow.id), func.sum(StoredObjectRow.size)).where(
                    StoredObjectRow.item_id == record_id,
                    StoredObjectRow.version == version,
                    StoredObjectRow.target == target,
                )
            ).one()
            row.objects, row.bytes = int(count), int(total or 0)


def record_receipt_copy(
    catalogue: Catalogue,
    record_id: str,
    version: int,
    target: str,
    receipt: ReceiptFacts,
    *,
    status: CopyStatus,
    detail: str = "",
    verified_at: dt.datetime | None = None,
) -> None:
    """:func:`record_copy` of a copy with its receipt: the bag URI, the receipt's key,
    version and SHA-256, and every object the receipt names (the receipt included)."""
    marker = receipt.receipt_object
    record_copy(
        catalogue,
        record_id,
        version,
        target,
        status=status,
        bag_uri=receipt.bag_uri,
        receipt_key=receipt.receipt_key,
        receipt_version_id=receipt.receipt_version_id,
        receipt_sha256=marker.sha256 if marker is not None else None,
        objects=copy_objects(receipt),
        detail=detail,
        verified_at=verified_at,
    )


def set_copy_status(
    catalogue: Catalogue,
    record_id: str,
    version: int,
    target: str,
    status: CopyStatus,
    detail: str = "",
) -> None:
    record_copy(catalogue, record_id, version, target, status=status, detail=detail)


def copies_of(catalogue: Catalogue, record_id: str, version: int | None = None) -> list[CopyInfo]:
    with catalogue.session() as session:
        query = select(Copy).where(Copy.item_id == record_id)
        if version is not None:
            query = query.where(Copy.version == version)
        return [_copy_info(r) for r in session.scalars(query.order_by(Copy.version, Copy.target))]


def verified_targets(catalogue: Catalogue, record_id: str, version: int) -> list[str]:
    return [c.target for c in copies_of(catalogue, record_id, version) if c.status == "verified"]


def all_copies(catalogue: Catalogue, target: str | None = None) -> list[CopyInfo]:
    with catalogue.session() as session:
        query = select(Copy)
        if target is not None:
            query = query.where(Copy.target == target)
        return [
            _copy_info(r)
            for r in session.scalars(query.order_by(Copy.item_id, Copy.version, Copy.target))
        ]


def objects_of_copy(
    catalogue: Catalogue, record_id: str, version: int, target: str
) -> list[ObjectInfo]:
    with catalogue.session() as session:
        rows = session.scalars(
            select(StoredObjectRow)
            .where(
                StoredObjectRow.item_id == record_id,
                StoredObjectRow.version == version,
                StoredObjectRow.target == target,
            )
            .order_by(StoredObjectRow.key)
        )
        return [_object_info(r) for r in rows]


def objects_least_recently_hashed(
    catalogue: Catalogue, target: str, *, batch: int = 500
) -> Iterator[ObjectInfo]:
    """Every object on ``target``, never-hashed first, then oldest re-hash first (DSpace's
    checksum checker order). Read in batches so a huge archive is never held in memory."""
    offset = 0
    while True:
        with catalogue.session() as session:
            rows = list(
                session.scalars(
                    select(StoredObjectRow)
                    .where(StoredObjectRow.target == target)
                    .order_by(
                        StoredObjectRow.last_hashed_at.is_not(None),
                        StoredObjectRow.last_hashed_at,
                        StoredObjectRow.id,
                    )
                    .offset(offset)
                    .limit(batch)
                )
            )
            infos = [_object_info(r) for r in rows]
        yield from infos
        if len(rows) < batch:
            return
        offset += batch


def mark_object_checked(
    catalogue: Catalogue,
    target: str,
    key: str,
    *,
    status: str,
    hashed: bool,
    at: dt.datetime | None = None,
    version_id: str | None = None,
) -> None:
    """Record one check of one object (``hashed``: a full re-hash, else a HEAD/listing check);
    ``version_id``: the object now lives at this S3 version (after a repair)."""
    at = at or utcnow()
    with catalogue.session() as session:
        row = session.scalars(
            select(StoredObjectRow).where(
                StoredObjectRow.target == target, StoredObjectRow.key == key
            )
        ).one_or_none()
        if row is None:
            return
        row.last_checked_at = at
        row.last_status = status
        if hashed:
            row.last_hashed_at = at
        if version_id is not None:
            row.version_id = version_id


def target_totals(catalogue: Catalogue) -> dict[str, tuple[int, int]]:
    """target -> (objects, bytes) the catalogue knows stored there."""
    with catalogue.session() as session:
        rows = session.execute(
            select(
                StoredObjectRow.target,
                func.count(StoredObjectRow.id),
                func.sum(StoredObjectRow.size),
            ).group_by(StoredObjectRow.target)
        )
        return {target: (int(count), int(total or 0)) for target, count, total in rows}


def missing_copies(
    catalogue: Catalogue, targets: Sequence[str]
) -> list[tuple[str, int, list[str]]]:
    """(record id, version, targets without a verified copy) for every version that has at
    least one verified copy: what ``replicate`` has to do."""
    wanted = list(targets)
    with catalogue.session() as session:
        rows = session.execute(
            select(Copy.item_id, Copy.version, Copy.target, Copy.status)
            .join(Item, Item.id == Copy.item_id)
            .order_by(Copy.item_id, Copy.version)
        ).all()
    verified: dict[tuple[str, int], set[str]] = {}
    for item_id, version, target, status in rows:
        entry = verified.setdefault((item_id, version), set())
        if status == "verified":
            entry.add(target)
    return [
        (record_id, version, [t for t in wanted if t not in have])
        for (record_id, version), have in verified.items()
        if have and any(t not in have for t in wanted)
    ]
