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
transport error, 408, 429 or 5xx is tried again after :data:`BACKOFF` seconds), given up
after :func:`delivery_deadline` in all (a receiver trickling its answer included); a redirect
(3xx) is not followed (a failed delivery: configure the final URL); it never raises. A
webhook URL often carries a token: it is never logged, shown or put in an error;
a failed delivery is one warning naming the alert's kind and the cause (the exception's type
or the HTTP status) only, and httpx's own request log lines are kept from naming it
(:class:`_HideUrl`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
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
#: seconds beyond the attempts' timeouts and back-offs before a delivery is given up
DEADLINE_MARGIN = 0.5
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
    """Drops httpx's and httpcore's log records that would name an alert webhook: a record
    whose arguments hold an ``httpx.URL`` equal to a hidden one, or whose text holds a hidden
    URL as configured or in the form httpx prints it (host in lower case, the path
    %-encoded, a default port dropped)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[httpx.URL] = set()
        self.texts: set[str] = set()

    def hide(self, url: str) -> None:
        try:
            parsed = httpx.URL(url)
        except Exception:  # httpx refuses it: the request never goes out, nothing logs it
            self.texts.add(url)
            return
        self.urls.add(parsed)
        self.texts.update({url, str(parsed)})

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.texts:
            return True
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        if any(isinstance(arg, httpx.URL) and arg in self.urls for arg in args):
            return False
        try:
            line = record.getMessage()
        except Exception:  # a record whose arguments do not format: nothing to hide
            return True
        return not any(text in line for text in self.texts)


_HIDE = _HideUrl()


def _hide_on_http_loggers() -> None:
    """Put :data:`_HIDE` on httpx's and httpcore's loggers, each of them: a filter on a parent
    logger does not see the records of its children (``httpcore.http11``, ...)."""
    names = ["httpx", "httpcore", *logging.Logger.manager.loggerDict]
    for name in names:
        if name.split(".")[0] in ("httpx", "httpcore"):
            logger = logging.getLogger(name)
            if _HIDE not in logger.filters:
                logger.addFilter(_HIDE)


_hide_on_http_loggers()


def delivery_deadline(settings: Settings) -> float:
    """The longest :func:`send_alert` takes: every attempt's ``alert_timeout`` and the
    back-offs between them. httpx's timeout bounds each step of a request (connect, each
    read), not the request: a receiver trickling its answer a byte at a time would hold it
    far longer, so the delivery runs on a thread of its own that is given up at this time.
    :data:`DEADLINE_MARGIN` on top lets a last attempt that times out say so itself."""
    return ATTEMPTS * settings.alert_timeout + sum(BACKOFF[: ATTEMPTS - 1]) + DEADLINE_MARGIN


def send_alert(settings: Settings, alert: Alert | None) -> bool:
    """POST ``alert`` to the webhook; True when it was delivered (a 2xx answer). False when
    there is no alert, no webhook, or every attempt failed (logged without the URL), and at
    the latest after :func:`delivery_deadline`. Never raises: an alert never fails the run
    that raised it. A redirect (3xx) is not followed: it is a failed delivery."""
    secret = settings.alert_webhook_url
    if alert is None or secret is None:
        return False
    url = secret.get_secret_value()
    _HIDE.hide(url)
    _hide_on_http_loggers()
    outcome = _Delivery(url, alert.model_dump(mode="json"), settings.alert_timeout)
    worker = threading.Thread(target=outcome.run, name="alert-delivery", daemon=True)
    worker.start()
    worker.join(delivery_deadline(settings))
    if worker.is_alive():
        outcome.given_up.set()  # no further attempt; the one under way ends on its own
        cause = "no answer within the delivery deadline"
    elif outcome.delivered:
        return True
    else:
        cause = outcome.cause
    log.warning(
        "alert %s (%s) not delivered to the alert webhook: %s",
        alert.kind,
        shorten(alert.summary, 120),
        cause,
    )
    return False


class _Delivery:
    """The attempts of one delivery, run on a thread (see :func:`delivery_deadline`)."""

    def __init__(self, url: str, body: dict[str, Any], timeout: float) -> None:
        self.url = url
        self.body = body
        self.timeout = timeout
        self.delivered = False
        self.cause = "not sent"
        self.given_up = threading.Event()

    def run(self) -> None:
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
                for attempt in range(ATTEMPTS):
                    if attempt and self.given_up.wait(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)]):
                        return
                    try:
                        response = client.post(self.url, json=self.body)
                    except httpx.HTTPError as exc:  # its text may hold the URL: the type only
                        self.cause = type(exc).__name__
                        continue
                    if response.is_success:
                        self.delivered = True
                        return
                    self.cause = f"HTTP {response.status_code}"
                    if response.status_code not in _RETRY_STATUS:
                        return
        except Exception as exc:  # anything else (a bad proxy setting, ...): still never raise
            self.cause = type(exc).__name__


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
