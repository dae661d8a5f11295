"""Listing + selection: the plan a harvest run (or a dry run) works from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select as sql_select

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.schema import EventRow, Item
from archive_ingest.errors import ArchiveIngestError, RefError
from archive_ingest.harvest.listing import Listing, OfferedItem, list_articles, list_books
from archive_ingest.harvest.model import Candidate, HarvestPlan, Source
from archive_ingest.harvest.store import get_watermark
from archive_ingest.http import SourceHttp
from archive_ingest.models import State
from archive_ingest.settings import Settings
from archive_ingest.sources import allowed_hosts


def select(
    offered: Iterable[OfferedItem],
    known: Mapping[str, str],
    *,
    retry_failed: bool = True,
    stalled: frozenset[str] = frozenset(),
    exhausted: frozenset[str] = frozenset(),
) -> list[Candidate]:
    """Why each offered item is (not) ingested. ``known`` maps record id → catalogue state.

    new: never seen; changed: the source says it changed since the watermark; retry-failed:
    its last attempt failed (retry-exhausted, not selected: it failed for a permanent reason
    too often, ``exhausted``); retry-stalled: a run left it mid-pipeline long ago (``stalled``
    record ids; see Settings.stalled_after_hours); unchanged: none of these. Each record id
    appears once. An item in progress that is not stalled is left to the run working on it.
    """
    out: list[Candidate] = []
    seen: set[str] = set()
    for item in offered:
        if item.record_id in seen:
            continue
        seen.add(item.record_id)
        state = known.get(item.record_id)
        if state is None:
            reason = "new"
        elif item.changed:
            reason = "changed"
        elif retry_failed and state == State.FAILED.value:
            reason = "retry-exhausted" if item.record_id in exhausted else "retry-failed"
        elif retry_failed and item.record_id in stalled:
            reason = "retry-stalled"
        else:  # unchanged (or a failed item while retries are off)
            reason = "unchanged"
        out.append(Candidate(item.ref, item.record_id, reason, item.title))
    return out


def known_states(catalogue: Catalogue, record_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted(set(record_ids))
    out: dict[str, str] = {}
    with catalogue.session() as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for rid, state in session.execute(
                sql_select(Item.id, Item.state).where(Item.id.in_(chunk))
            ):
                out[rid] = state
    return out


@dataclass(frozen=True)
class Retries:
    """What a harvest offers again beyond its listing, and what it no longer retries."""

    offered: list[OfferedItem]
    stalled: frozenset[str]
    exhausted: frozenset[str]  # failed for a permanent reason harvest_retry_limit times


def retry_items(
    catalogue: Catalogue, source: Source, stalled_before: dt.datetime, limit: int
) -> Retries:
    """Items of this source offered again: those whose last attempt failed, and those stalled
    (in progress, untouched since ``stalled_before``: a killed worker's). A failed item whose
    last failure was permanent (a 404, no PDF, a broken file) and that has failed for a
    permanent reason ``limit`` times is exhausted: not retried until its source changes."""
    prefix = (
        "scielo-books:" if source.kind == "scielo-books" else f"scielo-article:{source.collection}/"
    )
    with catalogue.session() as session:
        rows = session.execute(
            sql_select(Item.id, Item.source, Item.title).where(
                Item.state == State.FAILED.value, Item.source.startswith(prefix)
            )
        ).all()
        failures = session.execute(
            sql_select(EventRow.item_id, EventRow.outcome_detail)
            .where(
                EventRow.item_id.in_([r[0] for r in rows]),
                EventRow.event_type == "ingestion end",
                EventRow.outcome == "failure",
            )
            .order_by(EventRow.item_id, EventRow.datetime, EventRow.id)
        ).all()
    permanent: dict[str, int] = {}
    last_transient: dict[str, bool] = {}
    for rid, detail in failures:
        transient = bool((detail or {}).get("transient"))
        last_transient[rid] = transient
        permanent[rid] = permanent.get(rid, 0) + (0 if transient else 1)
    exhausted = frozenset(
        rid for rid, n in permanent.items() if n >= limit and not last_transient.get(rid)
    )
    stalled = catalogue.stalled_items(stalled_before, source_prefix=prefix)
    offered = [OfferedItem(ref=src, record_id=rid, group="", title=t) for rid, src, t in rows]
    offered += [OfferedItem(ref=i.source, record_id=i.id, group="", title=i.title) for i in stalled]
    return Retries(offered, frozenset(i.id for i in stalled), exhausted)


def list_source(
    http: SourceHttp,
    settings: Settings,
    source: Source,
    *,
    watermark: str | None,
    since: dt.date | None,
) -> Listing:
    if source.kind == "scielo-books":
        return list_books(http, settings.scielo_books_url, watermark=watermark, since=since)
    if source.collection is None:
        raise RefError(f"{source.key} names no SciELO collection (scielo-articles:COLLECTION)")
    return list_articles(
        http,
        settings.scielo_articlemeta_url,
        source.collection,
        watermark=watermark,
        since=since,
    )


def plan_harvest(
    settings: Settings,
    catalogue: Catalogue,
    source: Source,
    *,
    since: dt.date | None = None,
    limit: int | None = None,
) -> HarvestPlan:
    """List and select. A listing error does not raise: it is a problem in the plan (with no
    next watermark, so a run from this plan never moves the watermark)."""
    watermark = get_watermark(catalogue, source.key)
    plan = HarvestPlan(
        source=source.key,
        since=since.isoformat() if since else watermark,
        next_watermark=None,
        limit=limit,
    )
    try:
        with SourceHttp(settings, allowed_hosts(settings)) as http:
            listing = list_source(http, settings, source, watermark=watermark, since=since)
    except ArchiveIngestError as exc:
        plan.problems.append(f"listing {source.key}: {exc}")
        return plan
    retries = Retries([], frozenset(), frozenset())
    if settings.harvest_retry_failed:
        before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=settings.stalled_after_seconds)
        retries = retry_items(catalogue, source, before, settings.harvest_retry_limit)
        listing.items += retries.offered
    known = known_states(catalogue, (i.record_id for i in listing.items))
    plan.candidates = select(
        listing.items,
        known,
        retry_failed=settings.harvest_retry_failed,
        stalled=retries.stalled,
        exhausted=retries.exhausted,
    )
    plan.problems += listing.problems
    if listing.deleted:
        plan.notes.append(
            f"{len(listing.deleted)} document(s) deleted at the source (kept in the archive): "
            + ", ".join(listing.deleted[:10])
        )
    plan.next_watermark = listing.next_watermark
    for cand in plan.selected:
        if known.get(cand.record_id) == State.NEEDS_REVIEW.value:
            plan.notes.append(f"{cand.record_id}: waiting for review; a new version is made")
    return plan
