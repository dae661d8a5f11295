"""/review/health: the archive's health at a glance (archivists and admins).

Four charts drawn on the server as inline SVG (review/health.py, review/charts.py): outcomes
per day, the review queue by age, the audit's re-hash coverage and the copies per target, with
the archive's headline figures. The catalogue is read in the thread pool (a ``def`` endpoint);
nothing on the page needs a script, so the review CSP holds.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from archive_ingest.monitoring.history import health_history
from archive_ingest.review.context import ReviewContext
from archive_ingest.review.health import COPY_SERIES, copy_rows, health_charts
from archive_ingest.storage.targets import resolve_targets

#: who may see the health page
HEALTH_ROLES = frozenset({"archivist", "admin"})


def health_routes(ctx: ReviewContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/health", response_class=HTMLResponse)
    def health_page(request: Request) -> Response:
        user = ctx.current_user(request)
        if user is None:
            return ctx.to_login(request)
        if user.role not in HEALTH_ROLES:
            return ctx.page(
                request, "error.html", status=403, message="Archivists and admins only.", user=user
            )
        settings = ctx.settings
        history = health_history(
            ctx.svc().catalogue,
            [t.name for t in resolve_targets(settings)],
            cycle_days=settings.audit_rehash_cycle_days,
        )
        return ctx.page(
            request,
            "health.html",
            user=user,
            history=history,
            charts=health_charts(history),
            copy_rows=copy_rows(history),
            copy_series=COPY_SERIES,
        )

    return router
