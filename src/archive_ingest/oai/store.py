"""The OAI records' writes: publish, withdraw, publish a deposited version, backfill
(SQLAlchemy; SQLite and PostgreSQL). What the provider reads is in oai/queries.py."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive_ingest.catalogue.schema import File, Item, Version
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.errors import PackageError
from archive_ingest.models import SourceRecord, utcnow
from archive_ingest.oai.protocol import to_epoch
from archive_ingest.oai.sets import sets_from_catalogue
from archive_ingest.oai.tables import OaiRecord, OaiRecordSet, OaiSet
from archive_ingest.records.dc import DRIVER_DOCUMENT_TYPES, DRIVER_KIND_TYPES, EU_REPO
from archive_ingest.records.openaire import OAIRE_NS, AccessCopy, build_openaire
from archive_ingest.records.schemas import hardened_parser
from archive_ingest.records.vocab import is_open_access

log = logging.getLogger(__name__)

ROOTS = {
    "dc": "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc",
    "mets": "{http://www.loc.gov/METS/}mets",
    "openaire": f"{{{OAIRE_NS}}}resource",
}
#: stands for the access-copy URL in stored oai_openaire records: the URL depends on the
#: public baseURL, known only when answering (provider.py puts the URL in its place)
ACCESS_URL_PLACEHOLDER = "urn:x-archive-ingest:access-copy-url"


#: the DRIVER publication types our dc.xml writes in ``dc:type`` (records/dc.py), and the
#: ``dc:rights`` value of open access: what a DRIVER validator wants of a ``driver`` record
DRIVER_TYPES = frozenset(
    EU_REPO + name for name in (*DRIVER_KIND_TYPES.values(), *DRIVER_DOCUMENT_TYPES.values())
)
OPEN_ACCESS_RIGHTS = EU_REPO + "openAccess"
_DC = "{http://purl.org/dc/elements/1.1/}"


class PayloadError(ValueError):
    pass


def driver_ready(dc_xml: bytes) -> bool:
    """Whether an oai_dc record may go into the ``driver`` set: its ``dc:type`` carries a
    DRIVER publication type and its ``dc:rights`` ``info:eu-repo/semantics/openAccess``.
    A bag's dc.xml written before those values existed has neither."""
    try:
        root = etree.fromstring(dc_xml, hardened_parser())
    except etree.XMLSyntaxError:
        return False
    types = {(e.text or "").strip() for e in root.iter(f"{_DC}type")}
    rights = {(e.text or "").strip() for e in root.iter(f"{_DC}rights")}
    return bool(types & DRIVER_TYPES) and OPEN_ACCESS_RIGHTS in rights


def normalise_payload(xml: bytes, kind: str) -> bytes:
    """Parse untrusted-ish record bytes (hardened parser) and keep the root element only."""
    try:
        root = etree.fromstring(xml, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise PayloadError(f"{kind} record is not well-formed XML: {exc}") from exc
    if root.tag != ROOTS[kind]:
        raise PayloadError(f"{kind} record has the wrong root element {root.tag!s}")
    if root.getroottree().docinfo.doctype:
        raise PayloadError(f"{kind} record has a DOCTYPE")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=False)


@contextmanager
def _session(target: Catalogue | Session) -> Iterator[Session]:
    if isinstance(target, Session):
        yield target
    else:
        with target.session() as session:
            yield session


def _epoch(value: dt.datetime | int | None) -> int:
    if value is None:
        return to_epoch(utcnow())
    return value if isinstance(value, int) else to_epoch(value)


def _add_sets(session: Session, sets: Mapping[str, str]) -> None:
    """Create the sets not there yet: ``INSERT ... ON CONFLICT DO NOTHING``, so records of one
    new set (a new journal's ``issn:``) published at once by several workers never collide
    on its primary key (a read-then-insert did on PostgreSQL: both saw no set). The rows go
    in sorted by spec: two transactions inserting the same new specs lock them in one order
    (in opposite orders each could wait on the other's, a deadlock on PostgreSQL)."""
    if not sets:
        return
    rows = [{"spec": spec, "name": sets[spec]} for spec in sorted(sets)]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(OaiSet).values(rows).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(OaiSet).values(rows).on_conflict_do_nothing())
    else:
        raise ValueError(f"the OAI store supports SQLite and PostgreSQL, not {dialect}")


def _replace_sets(session: Session, record_id: str, sets: Mapping[str, str], stamp: int) -> None:
    session.execute(delete(OaiRecordSet).where(OaiRecordSet.record_id == record_id))
    _add_sets(session, sets)
    for spec in sets:
        session.add(OaiRecordSet(set_spec=spec, record_id=record_id, datestamp=stamp))
    session.flush()


def publish_record(
    target: Catalogue | Session,
    record_id: str,
    version: int,
    dc_xml: bytes,
    mets_xml: bytes | None,
    sets: Mapping[str, str],
    datestamp: dt.datetime | int | None = None,
    *,
    openaire_xml: bytes | None = None,
    access_copy: bool = False,
) -> int:
    """Expose (or re-expose) a record; returns its datestamp (epoch seconds).

    ``openaire_xml`` is the oai_openaire record (None: the record has no such format);
    ``access_copy`` says the version's access copy is served, so its URL goes into oai_dc.
    Publishing the same version with the same bytes and sets again is a no-op that keeps the
    datestamp; anything else (new version, edited metadata, a new format, new sets,
    un-withdrawal) stamps it.
    """
    dc = normalise_payload(dc_xml, "dc")
    mets = normalise_payload(mets_xml, "mets") if mets_xml is not None else None
    openaire = normalise_payload(openaire_xml, "openaire") if openaire_xml is not None else None
    with _session(target) as session:
        row = session.get(OaiRecord, record_id)
        if row is not None:
            old_sets = set(
                session.scalars(
                    select(OaiRecordSet.set_spec).where(OaiRecordSet.record_id == record_id)
                )
            )
            unchanged = (
                row.version == version
                and row.dc_xml == dc
                and row.mets_xml == mets
                and row.openaire_xml == openaire
                and bool(row.access_copy) == access_copy
                and not row.deleted
                and old_sets == set(sets)
            )
            if unchanged:
                return row.datestamp
        stamp = _epoch(datestamp)
        if row is None:
            row = OaiRecord(record_id=record_id)
            session.add(row)
        row.version = version
        row.datestamp = stamp
        row.deleted = False
        row.reason = None
        row.dc_xml = dc
        row.mets_xml = mets
        row.openaire_xml = openaire
        row.access_copy = access_copy
        session.flush()
        _replace_sets(session, record_id, sets, stamp)
        return stamp


def withdraw_record(
    target: Catalogue | Session,
    record_id: str,
    reason: str,
    datestamp: dt.datetime | int | None = None,
) -> bool:
    """Mark an exposed record deleted (it stays as a deleted header); False if never exposed."""
    with _session(target) as session:
        row = session.get(OaiRecord, record_id)
        if row is None:
            return False
        if row.deleted:
            return True
        stamp = _epoch(datestamp)
        row.deleted = True
        row.reason = reason
        row.datestamp = stamp
        for member in session.scalars(
            select(OaiRecordSet).where(OaiRecordSet.record_id == record_id)
        ):
            member.datestamp = stamp
        return True


def publish_deposited(catalogue: Catalogue, record_id: str) -> int | None:
    """Publish an item's deposited version from the catalogue + its workspace (hook/backfill)."""
    with catalogue.session() as session:
        item = session.get(Item, record_id)
        if item is None or not item.deposited_version:
            return None
        version = session.scalars(
            select(Version).where(
                Version.item_id == record_id, Version.version == item.deposited_version
            )
        ).one()
        if not version.work_dir:
            return None
        data = Path(version.work_dir) / "bag" / "data"
        dc_path, mets_path = data / "dc.xml", data / "mets.xml"
        if not dc_path.is_file():
            return None
        mets = mets_path.read_bytes() if mets_path.is_file() else None
        dc = dc_path.read_bytes()
        access = _access_copy(session, record_id, version.version)
        served = access is not None and is_open_access(item.licence_uri)
        sets = sets_from_catalogue(version.record or {}, item.licence_uri, full_text=served)
        if "driver" in sets and not driver_ready(dc):
            # an older bag's oai_dc: a DRIVER validator would reject it (docs/OAI.md)
            del sets["driver"]
        openaire = _openaire(record_id, version.record or {}, item.licence_uri, access)
        return publish_record(
            session,
            record_id,
            version.version,
            dc,
            mets,
            sets,
            None,  # now: a harvester that already went past the deposit time must see it
            openaire_xml=openaire,
            access_copy=served,
        )


def _access_copy(session: Session, record_id: str, version: int) -> AccessCopy | None:
    """The version's access copy as the catalogue lists it (URL: the placeholder)."""
    row = session.scalars(
        select(File)
        .where(File.item_id == record_id, File.version == version, File.role == "access")
        .order_by(File.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return AccessCopy(
        url=ACCESS_URL_PLACEHOLDER,
        size=row.size,
        media_type=row.media_type or "application/pdf",
        sha256=row.sha256,
    )


def _openaire(
    record_id: str, stored: Mapping[str, Any], licence_uri: str | None, access: AccessCopy | None
) -> bytes | None:
    """The oai_openaire record of a deposited version; None (logged) when its stored record
    cannot make one: oai_dc and METS are still published."""
    try:
        record = SourceRecord.model_validate(stored)
        return build_openaire(record, licence_uri=licence_uri, access=access)
    except (ValidationError, PackageError) as exc:
        log.warning("no oai_openaire record for %s: %s", record_id, exc)
        return None


def backfill(catalogue: Catalogue) -> int:
    """Publish every deposited item that is not exposed yet (or exposes an older version), and
    every exposed one published before oai_openaire existed (it gets that format, and oai_dc
    its access-copy URL: both re-stamp it, so incremental harvesters see the change), and
    every exposed one in ``driver`` whose oai_dc is not :func:`driver_ready` (it leaves the
    set, re-stamped: from the stored oai_dc, so also when the version's workspace is gone)."""
    with catalogue.session() as session:
        wanted = list(
            session.execute(
                select(
                    Item.id,
                    Item.deposited_version,
                    OaiRecord.version,
                    OaiRecord.datestamp,
                    OaiRecord.deleted,
                    OaiRecord.openaire_xml.is_(None),
                )
                .outerjoin(OaiRecord, OaiRecord.record_id == Item.id)
                .where(Item.deposited_version.is_not(None))
            )
        )
    count = 0
    for record_id, deposited, exposed, stamp, deleted, no_openaire in wanted:
        if exposed != deposited:
            count += publish_deposited(catalogue, record_id) is not None
        elif not deleted and no_openaire:
            # counted when it changed: a stored record that makes no oai_openaire record
            # (logged) is tried again by every backfill, and stays as it is
            count += publish_deposited(catalogue, record_id) not in (None, stamp)
    # an earlier backfill put records whose oai_dc lacks the DRIVER values in ``driver``
    # (a record published again above has had its sets computed anew: not listed here)
    for record_id in _misplaced_in_driver(catalogue):
        count += _leave_driver(catalogue, record_id)
    return count


def _leave_driver(catalogue: Catalogue, record_id: str) -> bool:
    """Take an exposed record whose stored oai_dc is not :func:`driver_ready` out of
    ``driver`` and re-stamp it (the record and its other sets), from what is stored: no
    workspace is needed, the payloads stay as they are. False when there was nothing to do."""
    with catalogue.session() as session:
        row = session.get(OaiRecord, record_id)
        if row is None or row.deleted or driver_ready(bytes(row.dc_xml)):
            return False
        left = session.execute(
            delete(OaiRecordSet).where(
                OaiRecordSet.record_id == record_id, OaiRecordSet.set_spec == "driver"
            )
        )
        if not getattr(left, "rowcount", 0):
            return False
        stamp = _epoch(None)
        row.datestamp = stamp
        session.execute(
            update(OaiRecordSet).where(OaiRecordSet.record_id == record_id).values(datestamp=stamp)
        )
        return True


def _misplaced_in_driver(catalogue: Catalogue) -> list[str]:
    """The exposed records in ``driver`` whose oai_dc is not :func:`driver_ready` (payloads
    read in batches)."""
    found: list[str] = []
    with catalogue.session() as session:
        rows = session.execute(
            select(OaiRecord.record_id, OaiRecord.dc_xml)
            .join(OaiRecordSet, OaiRecordSet.record_id == OaiRecord.record_id)
            .where(OaiRecordSet.set_spec == "driver", OaiRecord.deleted.is_(False))
            .execution_options(yield_per=200)
        )
        for record_id, dc in rows:
            if not driver_ready(bytes(dc)):
                found.append(record_id)
    return found
