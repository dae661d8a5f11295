"""Catalogue rows from the pipeline's models and back; marking sessions that wrote."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import ORMExecuteState, Session

from archive_ingest.catalogue.schema import EventRow, File
from archive_ingest.models import Event, FileInfo

#: ``Session.info`` key: the transaction wrote something (a commit worth a pause point)
WROTE = "archive_ingest_wrote"


def mark_written(session: Session, _context: Any) -> None:
    session.info[WROTE] = True


def mark_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


def file_row(record_id: str, version: int, info: FileInfo, row: File | None = None) -> File:
    row = row or File(item_id=record_id, version=version, path=info.path)
    row.role = info.role
    row.size = info.digests.size
    row.sha256 = info.digests.sha256
    row.sha512 = info.digests.sha512
    row.md5 = info.digests.md5
    row.media_type = info.media_type
    row.puid = info.puid
    row.format_name = info.format_name
    return row


def event_row(record_id: str, version: int | None, ev: Event) -> EventRow:
    return EventRow(
        item_id=record_id,
        version=version,
        event_type=ev.event_type,
        datetime=ev.datetime,
        agent=ev.agent,
        agent_type=ev.agent_type,
        agent_id=ev.agent_id,
        outcome=ev.outcome,
        detail=ev.detail,
        outcome_detail=ev.outcome_detail,
        object_roles=ev.object_roles,
    )


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
