"""One FastAPI application: the review UI (``/review/``) beside the OAI-PMH endpoint (``/oai``)
and the public access copies of deposited versions (``/access/{record_id}/v{version}``).

Each part is a router built from the settings; this module only assembles them and wraps
the whole application in the security headers middleware (review/headers.py), so 404 and 405
answers and static files carry the same headers as pages. The review pages need a session;
``/oai`` and ``/access/`` are public (harvesters), and serve only what is deposited and
exposed (web/access.py). ``/metrics`` gives Prometheus the archive's aggregate figures
(web/metrics.py): public on ``serve``'s address unless ``metrics_token`` is set.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from archive_ingest import __version__
from archive_ingest.oai.web import oai_router
from archive_ingest.review.actions import OcrRerunLauncher
from archive_ingest.review.headers import SecurityHeaders
from archive_ingest.review.web import review_router
from archive_ingest.settings import Settings, get_settings
from archive_ingest.web.access import access_router
from archive_ingest.web.metrics import metrics_router


def create_app(
    settings: Settings | None = None, *, ocr_rerun: OcrRerunLauncher | None = None
) -> FastAPI:
    """``ocr_rerun``: how the review UI starts an OCR re-run's Prefect flow run (the CLI
    passes flows/review.py's ``launch``; ``src/`` never imports ``flows/``)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="archive-ingest",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.add_middleware(SecurityHeaders)

    app.include_router(oai_router(settings))
    app.include_router(access_router(settings))
    app.include_router(review_router(settings, ocr_rerun=ocr_rerun))
    app.include_router(metrics_router(settings))

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/review/", status_code=303)

    return app
