"""The /review router: login, queue, record page, decisions. Thin: logic is in actions.py.

Every page needs a signed-in user (anonymous requests are redirected to the login page);
every POST needs the session's CSRF token (403 otherwise); decisions need the archivist or
admin role, user management the admin role. Templates are Jinja2 with autoescape on.
Nothing blocking runs on the event loop: ``def`` endpoints run in the thread pool and the
``async def`` ones hand their catalogue, hashing and decision work to threads (offload.py).

The routes are in login_routes.py, item_routes.py, decision_routes.py, health_routes.py and
admin_routes.py; what they share (catalogue, locks, session cookie, pages) is a ReviewContext
(context.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from archive_ingest.review import actions
from archive_ingest.review.admin_routes import admin_routes
from archive_ingest.review.context import HERE, ReviewContext
from archive_ingest.review.decision_routes import decision_routes
from archive_ingest.review.health_routes import health_routes
from archive_ingest.review.item_routes import item_routes
from archive_ingest.review.login_routes import login_routes
from archive_ingest.settings import Settings


def review_router(
    settings: Settings, *, ocr_rerun: actions.OcrRerunLauncher | None = None
) -> APIRouter:
    """``ocr_rerun`` starts the Prefect flow run of an OCR re-run (``archive-ingest serve``
    injects flows/review.py's launcher); without one, OCR re-runs are refused."""
    ctx = ReviewContext(settings, ocr_rerun)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        """At the application's shutdown (requests finished): the hashing threads end and the
        catalogue closes; both open again on first use if the application starts again."""
        yield
        await ctx.shutdown()

    router = APIRouter(prefix="/review", include_in_schema=False, lifespan=lifespan)
    router.include_router(login_routes(ctx))
    router.include_router(item_routes(ctx))
    router.include_router(decision_routes(ctx))
    router.include_router(health_routes(ctx))

    @router.get("/static/review.css")
    def stylesheet() -> Response:
        return FileResponse(HERE / "static" / "review.css", media_type="text/css")

    router.include_router(admin_routes(ctx))
    return router
