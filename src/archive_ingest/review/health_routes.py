"""/review/health: the archive's health at a glance (archivists and admins).

The archive's headline figures (monitoring/figures.py), then four charts drawn on the server as
inline SVG (review/health.py, review/charts.py): outcomes per day, the review queue by age, the
audit's re-hash coverage and the copies per target (monitoring/history.py). The catalogue is
read in the thread pool (a ``def`` endpoint), at most once per 30 s per process and one read
at a time (review/health_cache.py): the page's figures may be up to 30 s old. Nothing on the
page needs a script, so the review CSP holds.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from archive_ingest.monitoring.figures import ArchiveFigures, archive_figures
from archive_ingest.monitoring.history import HealthHistory, health_history
from archive_ingest.review.context import ReviewContext
from archive_ingest.review.health import (
    COPY_SERIES,
    byte_size,
    copy_rows,
    glances,
    health_charts,
)
from archive_ingest.review.health_cache import Cached
from archive_ingest.storage.targets import resolve_targets

#: who may see the health page
HEALTH_ROLES = frozenset({"archivist", "admin"})


def health_routes(ctx: ReviewContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def read() -> tuple[ArchiveFigures, HealthHistory]:
        settings = ctx.settings
        catalogue = ctx.svc().catalogue
        figures = archive_figures(catalogue)
        history = health_history(
            catalogue,
            [t.name for t in resolve_targets(settings)],
            figures,
            cycle_days=settings.audit_rehash_cycle_days,
        )
        return figures, history

    data = Cached(read)  # per process: at most one read per 30 s, one at a time

    @router.get("/health", response_class=HTMLResponse)
    def health_page(request: Request) -> Response:
        user = ctx.current_user(request)
        if user is None:
            return ctx.to_login(request)
        if user.role not in HEALTH_ROLES:
            return ctx.page(
                request, "error.html", status=403, message="Archivists and admins only.", user=user
            )
        figures, history = data.get()
        return ctx.page(
            request,
            "health.html",
            user=user,
            history=history,
            glances=glances(figures),
            charts=health_charts(history),
            copy_rows=copy_rows(history),
            copy_series=COPY_SERIES,
            stored={t.target: t for t in figures.targets},
            byte_size=byte_size,
        )

    return router
