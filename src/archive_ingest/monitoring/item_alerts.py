"""The alerts of an ingest batch (pure but for the POST): ``failed_items`` when items failed,
``under_replicated`` when items are stored on fewer targets than required.

``results`` are the JSON objects ``ingest_item`` returns (``id``, ``source``, ``state``,
``version``, ``reasons``): what the ``ingest`` command prints, what a harvest's report holds.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import State
from archive_ingest.monitoring.alerts import Alert, AlertKind, RunInfo, make_alert, send_alert
from archive_ingest.settings import Settings

log = logging.getLogger(__name__)
#: at most this many under_replicated items are read for one alert (it names MAX_ITEMS)
MAX_LISTED = 10_000

_WHAT: dict[AlertKind, tuple[str, str]] = {
    "failed_items": (State.FAILED.value, "failed"),
    "under_replicated": (
        State.UNDER_REPLICATED.value,
        "stored on fewer targets than required (under_replicated)",
    ),
}


def _reason(kind: AlertKind, reasons: Sequence[str]) -> str:
    if kind == "under_replicated":  # the copies line says which targets lack the copy
        for reason in reasons:
            if reason.startswith("copies: "):
                return reason.removeprefix("copies: ")
    return reasons[0] if reasons else ""


def item_alerts(
    settings: Settings,
    results: Sequence[Mapping[str, Any]],
    *,
    run: RunInfo,
    batch: str,
    capped: bool = False,
) -> list[Alert]:
    """The alerts ``results`` call for (none, one or both kinds); ``batch`` names the run in
    the summary ("ingest", "harvest scielo-books"). ``capped``: ``results`` is the first part
    of a longer list (a query's limit), so the summary says "at least N"."""
    counts = Counter(str(r.get("state")) for r in results)
    counts["total"] = len(results)
    alerts = []
    for kind, (state, phrase) in _WHAT.items():
        hit = [r for r in results if r.get("state") == state]
        if not hit:
            continue
        alerts.append(
            make_alert(
                settings,
                kind,
                (f"at least {len(hit)}" if capped else f"{len(hit)} of {len(results)}")
                + f" item(s) {phrase} in {batch}",
                run=run,
                items=[str(r.get("id") or r.get("source")) for r in hit],
                counts=dict(counts),
                details=[
                    {
                        "item": r.get("id") or r.get("source"),
                        "source": r.get("source"),
                        "version": r.get("version"),
                        "reason": _reason(kind, list(r.get("reasons") or [])),
                    }
                    for r in hit
                ],
            )
        )
    return alerts


def send_item_alerts(
    settings: Settings, results: Sequence[Mapping[str, Any]], *, run: RunInfo, batch: str
) -> list[AlertKind]:
    """Send what :func:`item_alerts` finds; the kinds delivered. Never raises."""
    if settings.alert_webhook_url is None:
        return []
    return [
        alert.kind
        for alert in item_alerts(settings, results, run=run, batch=batch)
        if send_alert(settings, alert)
    ]


def send_under_replicated(settings: Settings, catalogue: Catalogue, *, run: RunInfo) -> bool:
    """After ``replicate``: one ``under_replicated`` alert for the items the catalogue still
    holds ``under_replicated`` (a target still lacks their copy). Never raises."""
    if settings.alert_webhook_url is None:
        return False
    try:
        left = catalogue.list_items(state=State.UNDER_REPLICATED.value, limit=MAX_LISTED)
    except SQLAlchemyError as exc:
        log.warning("under_replicated items not listed for the alert: %s", type(exc).__name__)
        return False
    results = [
        {
            "id": i.id,
            "source": i.source,
            "state": i.state,
            "version": i.current_version,
            "reasons": list(i.reasons or []),
        }
        for i in left
    ]
    alerts = [
        a
        for a in item_alerts(
            settings,
            results,
            run=run,
            batch="the catalogue after replicate",
            capped=len(left) >= MAX_LISTED,
        )
        if a.kind == "under_replicated"
    ]
    return any([send_alert(settings, a) for a in alerts])
