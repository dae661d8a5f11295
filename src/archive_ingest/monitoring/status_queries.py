"""What `archive-ingest status` asks the catalogue beyond the archive figures
(:mod:`archive_ingest.monitoring.figures`): stuck items and the last ingest. Aggregate
queries only (one row each), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import func, select

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.rows import aware
from archive_ingest.catalogue.schema import Item
from archive_ingest.models import FINAL_STATES, IN_PROGRESS_STATES, State


class Stuck(BaseModel):
    """Items left in an in-progress state, or approved and not deposited, for longer than
    ``stalled_after_seconds``: what `reconcile` reports as stalled (reliability/reconcile.py)
    and `alerts check` alerts on, counted here in one query."""

    count: int
    oldest_update: dt.datetime | None


class LastIngest(BaseModel):
    """The item that most recently reached a final state: when, and which state."""

    at: dt.datetime
    state: str
    item_id: str


def stuck_items(catalogue: Catalogue, before: dt.datetime) -> Stuck:
    states = sorted({s.value for s in IN_PROGRESS_STATES} | {State.APPROVED.value})
    with catalogue.session() as session:
        count, oldest = session.execute(
            select(func.count(Item.id), func.min(Item.updated_at)).where(
                Item.state.in_(states), Item.updated_at < before
            )
        ).one()
    return Stuck(count=int(count), oldest_update=aware(oldest) if oldest else None)


def last_ingest(catalogue: Catalogue) -> LastIngest | None:
    states = sorted(s.value for s in FINAL_STATES)
    with catalogue.session() as session:
        row = session.execute(
            select(Item.updated_at, Item.state, Item.id)
            .where(Item.state.in_(states))
            .order_by(Item.updated_at.desc(), Item.id)
            .limit(1)
        ).one_or_none()
    if row is None:
        return None
    at, state, item_id = row
    return LastIngest(at=aware(at), state=state, item_id=item_id)
