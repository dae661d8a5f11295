"""Alerts: one JSON POST to ``alert_webhook_url`` when something needs an operator.

Kinds (docs/OPERATIONS.md, "Alerts", says what each means and what to do):

- ``failed_items``: an ingest batch (the ``ingest`` command, a harvest, a batch or a deployment
  run of ``ingest-item``) ended with failed items;
- ``audit_finding``: an audit pass found damaged or missing copies, or a target did not answer;
- ``under_replicated``: items are stored on fewer targets than required (after an ingest, a
  harvest or ``replicate``);
- ``stuck_state``: items left in a non-terminal state longer than ``stalled_after_hours``
  (``archive-ingest alerts check``, and the end of every scheduled audit).

Delivery: httpx, ``alert_timeout`` seconds per attempt, up to :data:`ATTEMPTS` attempts (a
transport error, 408, 429 or 5xx is tried again after :data:`BACKOFF` seconds); it never
raises. A webhook URL often carries a token: it is never logged, shown or put in an error;
a failed delivery is one warning naming the alert's kind and the cause (the exception's type
or the HTTP status) only, and httpx's own request log lines are kept from naming it
(:class:`_HideUrl`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field

from archive_ingest.models import utcnow
from archive_ingest.settings import Settings

log = logging.getLogger(__name__)

AlertKind = Literal["failed_items", "audit_finding", "under_replicated", "stuck_state"]
ALERT_KINDS: tuple[AlertKind, ...] = (
    "failed_items",
    "audit_finding",
    "under_replicated",
    "stuck_state",
)
#: at most this many item ids (and details) in one alert; ``items_total`` says how many there were
MAX_ITEMS = 50
#: a detail's text is cut to this many characters
MAX_DETAIL = 240
ATTEMPTS = 3
BACKOFF = (0.5, 1.0)
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class RunInfo(BaseModel):
    """The run that raised an alert: a Prefect flow run, or one command."""

    id: str | None = None  # the flow run id, or a per-command id
    name: str | None = None  # the flow run's name, or the command ("archive-ingest ingest")
    flow: str | None = None  # the flow's name (None for a command)

    @classmethod
    def command(cls, name: str) -> RunInfo:
        """A command run: a fresh id (the alert and the command's lines can be told apart)."""
        return cls(id=f"cmd-{uuid.uuid4().hex[:12]}", name=f"archive-ingest {name}")


class Alert(BaseModel):
    """The JSON body of an alert (docs/OPERATIONS.md, "Alerts": the payload)."""

    source: str = "archive-ingest"
    kind: AlertKind
    summary: str
    #: the same summary, under the key chat tools (Slack, Mattermost, Rocket.Chat) show
    text: str = ""
    counts: dict[str, int] = Field(default_factory=dict)
    items: list[str] = Field(default_factory=list)  # record ids (or REFs), at most MAX_ITEMS
    items_total: int = 0
    details: list[dict[str, str]] = Field(default_factory=list)  # at most MAX_ITEMS
    run: RunInfo = Field(default_factory=RunInfo)
    time: dt.datetime = Field(default_factory=utcnow)
    review_url: str | None = None  # the review queue, when web_base_url is set


def shorten(text: str, limit: int = MAX_DETAIL) -> str:
    """``text`` on one line, cut to ``limit`` characters (an ellipsis says so)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def review_queue_url(settings: Settings) -> str | None:
    """The review queue's URL, when ``web_base_url`` says where ``serve`` is published."""
    return f"{settings.web_base_url}/review/" if settings.web_base_url else None


def review_item_url(settings: Settings, record_id: str) -> str | None:
    """One item's review page, when ``web_base_url`` is set."""
    if not settings.web_base_url:
        return None
    return f"{settings.web_base_url}/review/item/{quote(record_id, safe='')}"


def make_alert(
    settings: Settings,
    kind: AlertKind,
    summary: str,
    *,
    run: RunInfo,
    items: Iterable[str] = (),
    counts: Mapping[str, int] | None = None,
    details: Iterable[Mapping[str, Any]] = (),
) -> Alert:
    """An alert with its lists bounded and its texts shortened."""
    every = list(dict.fromkeys(items))
    kept = [{k: shorten(str(v)) for k, v in d.items() if v is not None} for d in details]
    return Alert(
        kind=kind,
        summary=shorten(summary, 500),
        text=f"[archive-ingest] {kind}: {shorten(summary, 500)}",
        counts=dict(counts or {}),
        items=every[:MAX_ITEMS],
        items_total=len(every),
        details=kept[:MAX_ITEMS],
        run=run,
        review_url=review_queue_url(settings),
    )


class _HideUrl(logging.Filter):
    """Drops httpx's request lines that would name an alert webhook (they carry its URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.urls:
            return True
        try:
            line = record.getMessage()
        except Exception:  # a record whose arguments do not format: nothing to hide
            return True
        return not any(url in line for url in self.urls)


_HIDE = _HideUrl()
logging.getLogger("httpx").addFilter(_HIDE)
logging.getLogger("httpcore").addFilter(_HIDE)


def send_alert(settings: Settings, alert: Alert | None) -> bool:
    """POST ``alert`` to the webhook; True when it was delivered (a 2xx answer). False when
    there is no alert, no webhook, or every attempt failed (logged without the URL). Never
    raises: an alert never fails the run that raised it."""
    secret = settings.alert_webhook_url
    if alert is None or secret is None:
        return False
    url = secret.get_secret_value()
    _HIDE.urls.add(url)
    body = alert.model_dump(mode="json")
    cause = "not sent"
    try:
        with httpx.Client(timeout=settings.alert_timeout, follow_redirects=False) as client:
            for attempt in range(ATTEMPTS):
                if attempt:
                    time.sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)])
                try:
                    response = client.post(url, json=body)
                except httpx.HTTPError as exc:  # its text may hold the URL: the type only
                    cause = type(exc).__name__
                    continue
                if response.is_success:
                    return True
                cause = f"HTTP {response.status_code}"
                if response.status_code not in _RETRY_STATUS:
                    break
    except Exception as exc:  # anything else (a bad proxy setting, ...): still never raise
        cause = type(exc).__name__
    log.warning(
        "alert %s (%s) not delivered to the alert webhook: %s",
        alert.kind,
        shorten(alert.summary, 120),
        cause,
    )
    return False


def fire(
    settings: Settings,
    kind: AlertKind,
    summary: str,
    *,
    run: RunInfo,
    items: Iterable[str] = (),
    counts: Mapping[str, int] | None = None,
    details: Iterable[Mapping[str, Any]] = (),
) -> bool:
    """:func:`make_alert` then :func:`send_alert` (nothing is built without a webhook)."""
    if settings.alert_webhook_url is None:
        return False
    alert = make_alert(
        settings, kind, summary, run=run, items=items, counts=counts, details=details
    )
    return send_alert(settings, alert)
