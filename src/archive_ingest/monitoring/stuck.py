"""The ``stuck_state`` check: items left in a non-terminal state for too long.

"Too long" is the threshold the rest of the project already uses for a stalled item,
``Settings.stalled_after_seconds`` (``stalled_after_hours``, never less than twice the OCR
timeout plus 10 minutes): an item in progress (``resolved`` ... ``depositing``) or approved
and not deposited since then was left by a killed worker or waits for a deposit that does not
happen. They are the items ``reconcile`` reports as ``stalled-item`` (same states, same
threshold; queried here, as the reliability package reaches the command line through the
harvest, and the command line reaches this package), each with its next step. Run by
``archive-ingest alerts check`` (a scheduler or a deployment can run it) and at the end of
every scheduled audit flow run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.rows import aware
from archive_ingest.catalogue.schema import Item
from archive_ingest.errors import ConfigError
from archive_ingest.models import IN_PROGRESS_STATES, State
from archive_ingest.monitoring.alerts import RunInfo, make_alert, send_alert
from archive_ingest.settings import Settings

#: at most this many stuck items are listed (the alert names MAX_ITEMS of them)
MAX_LISTED = 10_000


class StuckItem(BaseModel):
    record_id: str
    version: int | None
    state: str
    since: dt.datetime
    detail: str


def _detail(item: Item, since: dt.datetime) -> str:
    when = f"{item.state} since {since:%Y-%m-%d %H:%M} UTC"
    if item.state == State.APPROVED.value:
        return f"{when}, not deposited: run `archive-ingest deposit-approved` (or its deployment)"
    return f"{when} (interrupted?): re-run `archive-ingest ingest {item.source}` to resume it"


def stuck_items(catalogue: Catalogue, settings: Settings) -> list[StuckItem]:
    """Items in progress, or approved and not deposited, untouched for longer than
    ``stalled_after_seconds``; oldest first."""
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=settings.stalled_after_seconds)
    states = sorted({s.value for s in IN_PROGRESS_STATES} | {State.APPROVED.value})
    with catalogue.session() as session:
        rows = session.scalars(
            select(Item)
            .where(Item.state.in_(states), Item.updated_at < before)
            .order_by(Item.updated_at, Item.id)
            .limit(MAX_LISTED)
        )
        return [
            StuckItem(
                record_id=item.id,
                version=item.current_version or None,
                state=item.state,
                since=aware(item.updated_at),
                detail=_detail(item, aware(item.updated_at)),
            )
            for item in rows
        ]


def _cause(exc: SQLAlchemyError) -> str:
    return type(getattr(exc, "orig", None) or exc).__name__


def check_stuck(settings: Settings, *, run: RunInfo) -> dict[str, Any]:
    """Find stuck items and, if there are any, send one ``stuck_state`` alert. Returns the
    JSON report: the threshold, the items (id, version, what to do) and whether the alert was
    delivered."""
    try:  # a check reads: the schema is the commands' to migrate (as ``status`` does)
        catalogue = Catalogue.open(settings.effective_database_url, migrate_schema=False)
    except SQLAlchemyError as exc:  # its text may carry the URL: only the kind of failure
        raise ConfigError(f"cannot open the catalogue database ({_cause(exc)})") from None
    try:
        found = stuck_items(catalogue, settings)
    except SQLAlchemyError as exc:  # the database went away, a schema not created yet, ...
        raise ConfigError(f"cannot read the catalogue database ({_cause(exc)})") from None
    finally:
        catalogue.close()
    hours = round(settings.stalled_after_seconds / 3600, 2)
    delivered = False
    if found:
        many = f"at least {len(found)}" if len(found) >= MAX_LISTED else str(len(found))
        alert = make_alert(
            settings,
            "stuck_state",
            f"{many} item(s) left in a non-terminal state for more than {hours} h",
            run=run,
            items=[f.record_id for f in found],
            counts={"stuck": len(found)},
            details=[
                {"item": f.record_id, "version": f.version, "detail": f.detail} for f in found
            ],
        )
        delivered = send_alert(settings, alert)
    return {
        "threshold_hours": hours,
        "stuck": [f.model_dump(mode="json") for f in found],
        "alert_delivered": delivered,
        "alert_webhook": settings.alert_webhook_url is not None,
    }
