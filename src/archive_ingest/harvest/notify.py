"""The notifications webhook: one JSON POST when a run failed or items wait for review.

``ARCHIVE_INGEST_NOTIFY_WEBHOOK_URL`` (unset: no notification). The body never carries
secrets: source, counts, the failed and held record ids, the flow run id. A webhook that does
not answer is logged and ignored: a notification never fails a harvest.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from archive_ingest.harvest.model import RunReport
from archive_ingest.settings import Settings, mask_url

log = logging.getLogger(__name__)


def notification_for(report: RunReport, *, run_id: str | None = None) -> dict[str, Any] | None:
    """The webhook body, or None when nothing needs a person (pure)."""
    failed = [r["id"] or r["source"] for r in report.rows if r.get("state") == "failed"]
    review = [r["id"] for r in report.rows if r.get("state") == "needs_review"]
    if not failed and not review and not report.problems:
        return None
    events = ["failed"] if failed or report.problems else []
    events += ["needs_review"] if review else []
    return {
        "event": events,
        "source": report.source,
        "counts": report.counts,
        "failed": failed,
        "needs_review": review,
        "problems": report.problems[:50],
        "flow_run_id": run_id,
        "text": f"archive-ingest harvest {report.source}: "
        + ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items())),
    }


def notify(settings: Settings, report: RunReport, *, run_id: str | None = None) -> bool:
    """POST the notification if one is due and a webhook is set; True if it was delivered."""
    body = notification_for(report, run_id=run_id)
    url = settings.notify_webhook_url
    if body is None or not url:
        return False
    try:
        response = httpx.post(url, json=body, timeout=10.0)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("notification webhook %s failed: %s", mask_url(url), type(exc).__name__)
        return False
    return True
