"""The OAI query layer: what the provider reads (SQLAlchemy; SQLite and PostgreSQL).

Lists use keyset pagination on ``(datestamp, record_id)`` — never an offset — so a page costs
the same at record 99,900 as at record 0, and rows inserted or re-stamped mid-harvest land
after the cursor (or after the harvest's frozen ``until``) instead of shifting pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from archive_ingest.oai.tables import OaiRecord, OaiRecordSet, OaiSet


@dataclass(frozen=True)
class Query:
    prefix: str
    set_spec: str | None
    from_: int | None
    until: int | None


@dataclass(frozen=True)
class Row:
    record_id: str
    datestamp: int
    deleted: bool
    payload: bytes | None
    version: int = 0
    access_copy: bool = False


#: metadataPrefix -> the column holding its payload
def payload_column(prefix: str) -> InstrumentedAttribute[Any]:
    if prefix == "mets":
        return OaiRecord.mets_xml
    if prefix == "oai_openaire":
        return OaiRecord.openaire_xml
    return OaiRecord.dc_xml


def earliest_datestamp(session: Session) -> int | None:
    return session.scalar(select(func.min(OaiRecord.datestamp)))


def any_record_id(session: Session) -> str | None:
    return session.scalar(select(OaiRecord.record_id).order_by(OaiRecord.record_id).limit(1))


def get_record(session: Session, record_id: str) -> OaiRecord | None:
    return session.get(OaiRecord, record_id)


def sets_of(session: Session, record_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {rid: [] for rid in record_ids}
    if not record_ids:
        return out
    rows = session.execute(
        select(OaiRecordSet.record_id, OaiRecordSet.set_spec)
        .where(OaiRecordSet.record_id.in_(record_ids))
        .order_by(OaiRecordSet.record_id, OaiRecordSet.set_spec)
    )
    for rid, spec in rows:
        out[rid].append(spec)
    return out


#: what a list selects: columns of the tables, or SQL functions of them
_Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def _filters(
    query: Query,
) -> tuple[list[ColumnElement[bool]], InstrumentedAttribute[int], InstrumentedAttribute[str]]:
    if query.set_spec is not None:
        stamp, rid = OaiRecordSet.datestamp, OaiRecordSet.record_id
        where: list[ColumnElement[bool]] = [OaiRecordSet.set_spec == query.set_spec]
    else:
        stamp, rid = OaiRecord.datestamp, OaiRecord.record_id
        where = []
    if query.prefix in ("mets", "oai_openaire"):
        where.append(payload_column(query.prefix).is_not(None))
    if query.from_ is not None:
        where.append(stamp >= query.from_)
    if query.until is not None:
        where.append(stamp <= query.until)
    return where, stamp, rid


def _base(query: Query, *columns: _Column) -> Select[Any]:
    stmt = select(*columns)
    if query.set_spec is not None:
        stmt = stmt.select_from(OaiRecordSet).join(
            OaiRecord, OaiRecord.record_id == OaiRecordSet.record_id
        )
    else:
        stmt = stmt.select_from(OaiRecord)
    return stmt


def count(session: Session, query: Query) -> int:
    where, _, _ = _filters(query)
    stmt = _base(query, func.count()).where(*where)
    return int(session.scalar(stmt) or 0)


def page(
    session: Session,
    query: Query,
    after: tuple[int, str] | None,
    limit: int,
    *,
    with_payload: bool,
    max_bytes: int | None = None,
) -> tuple[list[Row], bool]:
    """Up to ``limit`` rows after the keyset cursor ``after``, and whether more follow.

    With payloads and ``max_bytes``: only the leading rows whose payloads fit in ``max_bytes``
    (always at least one). Sizes are read first (``length()``, no payload transferred), then the
    payloads of the rows kept, so a page of large METS never reads the ones it leaves out."""
    where, stamp, rid = _filters(query)
    payload_col = payload_column(query.prefix)
    columns: list[_Column] = [
        rid,
        stamp,
        OaiRecord.deleted,
        OaiRecord.version,
        OaiRecord.access_copy,
    ]
    if with_payload:
        columns.append(func.length(payload_col))
    stmt = _base(query, *columns).where(*where)
    if after is not None:
        stmt = stmt.where(tuple_(stamp, rid) > tuple_(literal(after[0]), literal(after[1])))
    found = list(session.execute(stmt.order_by(stamp, rid).limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    if not with_payload:
        return [Row(r[0], int(r[1]), bool(r[2]), None, int(r[3]), bool(r[4])) for r in found], more
    if max_bytes is not None:
        total = 0
        for index, r in enumerate(found):
            total += int(r[5] or 0)
            if total > max_bytes and index > 0:
                found, more = found[:index], True
                break
    kept = select(OaiRecord.record_id, payload_col).where(
        OaiRecord.record_id.in_([r[0] for r in found])
    )
    payloads = {record_id: payload for record_id, payload in session.execute(kept)}
    return [
        Row(r[0], int(r[1]), bool(r[2]), _bytes(payloads.get(r[0])), int(r[3]), bool(r[4]))
        for r in found
    ], more


def _bytes(value: bytes | memoryview | None) -> bytes | None:
    return bytes(value) if value is not None else None


def set_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(OaiSet)) or 0)


def set_page(session: Session, after: str | None, limit: int) -> list[tuple[str, str]]:
    stmt = select(OaiSet.spec, OaiSet.name).order_by(OaiSet.spec).limit(limit)
    if after is not None:
        stmt = stmt.where(OaiSet.spec > after)
    return [(spec, name) for spec, name in session.execute(stmt)]


def set_exists(session: Session, spec: str) -> bool:
    return session.get(OaiSet, spec) is not None
