"""Read-only views of the catalogue for the review pages (queue, history)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.schema import EventRow, Item
from archive_ingest.models import State

REASON_KINDS = ("licence", "ocr", "metadata", "failure")
#: what the queue filters by: the reason kinds, and ``copies`` (items stored on fewer
#: storage targets than required, counted only when there are some)
QUEUE_KINDS = (*REASON_KINDS, "copies")
PAGE_SIZE = 25


def reason_kinds(item: Item) -> set[str]:
    """The reason families of an item: licence, ocr, metadata (from prefixes), failure."""
    if item.state == State.FAILED.value:
        return {"failure"}
    if item.state == State.UNDER_REPLICATED.value:
        return {"copies"}
    kinds = set()
    for reason in item.reasons or []:
        head = reason.split(":", 1)[0].strip().lower()
        kinds.add(head if head in REASON_KINDS else "metadata" if head == "metadata" else "other")
    return kinds


@dataclass
class QueueFilter:
    reason: str = ""
    source: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    page: int = 1


@dataclass
class QueuePage:
    items: list[Item]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)


def queue(catalogue: Catalogue, flt: QueueFilter, page_size: int = PAGE_SIZE) -> QueuePage:
    """Items waiting for a person (and failures, and items stored on fewer targets than
    required: kind ``copies``), newest first, filtered and paginated."""
    states = [State.NEEDS_REVIEW.value, State.FAILED.value, State.UNDER_REPLICATED.value]
    with catalogue.session() as session:
        query = select(Item).where(Item.state.in_(states))
        if flt.source:
            like = f"%{flt.source.strip().lower()}%"
            query = query.where((Item.source.ilike(like)) | (Item.source_kind.ilike(like)))
        if flt.since:
            start = dt.datetime.combine(flt.since, dt.time.min, tzinfo=dt.UTC)
            query = query.where(Item.updated_at >= start)
        if flt.until:
            end = dt.datetime.combine(flt.until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
            query = query.where(Item.updated_at < end)
        rows = list(session.scalars(query.order_by(Item.updated_at.desc(), Item.id)))
    counts = {kind: 0 for kind in REASON_KINDS}
    for row in rows:
        for kind in reason_kinds(row) & set(REASON_KINDS):
            counts[kind] += 1
    copies = sum(1 for row in rows if "copies" in reason_kinds(row))
    if copies:
        counts["copies"] = copies
    if flt.reason in QUEUE_KINDS:
        rows = [r for r in rows if flt.reason in reason_kinds(r)]
    elif not flt.reason:
        rows = [r for r in rows if r.state == State.NEEDS_REVIEW.value]
    total = len(rows)
    pages = max(1, -(-total // page_size))
    page = min(max(1, flt.page), pages)
    first = (page - 1) * page_size
    return QueuePage(rows[first : first + page_size], total, page, pages, counts)


def history(catalogue: Catalogue, record_id: str) -> list[dict[str, Any]]:
    """Every event of the item, with the version it belongs to, oldest first."""
    with catalogue.session() as session:
        rows = session.scalars(
            select(EventRow)
            .where(EventRow.item_id == record_id)
            .order_by(EventRow.datetime, EventRow.id)
        )
        return [
            {
                "version": r.version,
                "type": r.event_type,
                "datetime": r.datetime,
                "agent": r.agent,
                "agent_type": r.agent_type,
                "agent_id": r.agent_id,
                "outcome": r.outcome,
                "detail": r.detail,
            }
            for r in rows
        ]
