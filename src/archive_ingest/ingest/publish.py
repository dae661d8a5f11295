"""Publish: expose a deposited record over OAI-PMH, an after-deposit hook.

The deposit stage runs every hook of :data:`archive_ingest.ingest.deposit.AFTER_DEPOSIT` once
a deposit is recorded (and the fetch stage runs them again for an unchanged deposited item: a
run killed between the deposit's last commit and the publication left it unpublished). The
AIP is safely stored by then: a failure here is logged and recorded as a ``dissemination``
warning, never turned into a failed ingest; ``archive-ingest oai backfill`` publishes what was
missed. Publishing is idempotent (the datestamp moves only when the record changes).
"""

from __future__ import annotations

import logging

from archive_ingest.ingest.services import SOFTWARE, Services
from archive_ingest.models import Event
from archive_ingest.oai.store import publish_deposited

log = logging.getLogger(__name__)


def publish_for_harvesters(svc: Services, record_id: str) -> None:
    """Expose the deposited record over OAI-PMH (its datestamp moves only when it changes)."""
    try:
        publish_deposited(svc.catalogue, record_id)
    except Exception as exc:  # the deposit stands; report and go on
        log.warning("OAI-PMH publication of %s failed: %s", record_id, exc)
        svc.catalogue.add_events(
            record_id,
            None,
            [
                Event(
                    event_type="dissemination",
                    outcome="warning",
                    agent=SOFTWARE,
                    detail=f"OAI-PMH publication failed ({type(exc).__name__}); run `oai backfill`",
                )
            ],
        )
