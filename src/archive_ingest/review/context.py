"""What the /review routes share: the catalogue, the locks, the session cookie and the pages.

One :class:`ReviewContext` per router (review/web.py builds it); the route modules
(login_routes, item_routes, decision_routes, admin_routes) take it as their only argument.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from archive_ingest.ingest.services import Services
from archive_ingest.review import actions, sessions, users
from archive_ingest.review.headers import SAFE_HEADERS
from archive_ingest.review.offload import Pools
from archive_ingest.review.security import (
    COOKIE,
    SessionCodec,
    csrf_ok,
    new_session,
    session_secret,
)
from archive_ingest.review.throttle import LoginThrottle
from archive_ingest.settings import Settings

FORM_REFUSED = "The form has expired or was not sent by this site."
HERE = Path(__file__).parent


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,  # everywhere, whatever the template's name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


class ReviewContext:
    """The state of one review router: its catalogue connection (opened on first use), login
    throttle, per-item locks, thread pools, session codec and templates."""

    def __init__(
        self, settings: Settings, ocr_rerun: actions.OcrRerunLauncher | None = None
    ) -> None:
        self.settings = settings
        self.ocr_rerun = ocr_rerun
        self.env = templates()
        self.codec = SessionCodec(session_secret(settings), int(settings.web_session_hours * 3600))
        self.lifetime = settings.web_session_hours * 3600
        self.pools = Pools()
        self._services: Services | None = None
        self._throttle: LoginThrottle | None = None
        self._open_lock = threading.Lock()
        self._item_locks: dict[str, threading.Lock] = {}

    async def shutdown(self) -> None:
        """The hashing threads end and the catalogue closes; both open again on first use."""
        await to_thread.run_sync(self.pools.close)
        with self._open_lock:
            services, self._services = self._services, None
            self._throttle = None
        if services is not None:
            await to_thread.run_sync(services.close)

    def svc(self) -> Services:
        with self._open_lock:
            if self._services is None:
                self._services = Services.open(self.settings)
            return self._services

    def item_lock(self, record_id: str) -> threading.Lock:
        with self._open_lock:
            return self._item_locks.setdefault(record_id, threading.Lock())

    def throttle(self) -> LoginThrottle:
        """One per router: it remembers full counters (a flood is refused without a write)."""
        services = self.svc()
        with self._open_lock:
            if self._throttle is None:
                self._throttle = LoginThrottle.from_settings(services.catalogue, self.settings)
            return self._throttle

    # --- session cookie ------------------------------------------------------------------------
    def secure(self, request: Request) -> bool:
        if self.settings.web_cookie_secure == "always":
            return True
        if self.settings.web_cookie_secure == "never":
            return False
        return request.url.scheme == "https"

    def set_cookie(self, response: Response, request: Request, session: dict[str, Any]) -> None:
        response.set_cookie(
            COOKIE,
            self.codec.dumps(session),
            max_age=self.codec.max_age,
            path="/review",
            httponly=True,
            samesite="strict",
            secure=self.secure(request),
        )

    def session_of(self, request: Request) -> dict[str, Any] | None:
        return self.codec.loads(request.cookies.get(COOKIE))

    def session_id(self, request: Request) -> str | None:
        sid = (self.session_of(request) or {}).get("sid")
        return sid if isinstance(sid, str) and sid else None

    def current_user(self, request: Request) -> users.User | None:
        """The user of the request's server-side session (catalogue: call it in a thread)."""
        sid = self.session_id(request)
        return sessions.session_user(self.svc().catalogue, sid, self.lifetime) if sid else None

    # --- responses ------------------------------------------------------------------------------
    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        session = self.session_of(request) or new_session()
        body = self.env.get_template(name).render(
            csrf=session["csrf"], user=context.pop("user", None), **context
        )
        response = HTMLResponse(body, status_code=status, headers=SAFE_HEADERS)
        if not request.cookies.get(COOKIE) or self.session_of(request) is None:
            self.set_cookie(response, request, session)
        return response

    def to_login(self, request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = {"next": target}
        if self.session_id(request):  # it was signed in: ended by logout, an admin or its age
            query["msg"] = "session-ended"
        return RedirectResponse(
            "/review/login?" + urlencode(query), status_code=303, headers=SAFE_HEADERS
        )

    def refuse(self, request: Request, message: str, status: int = 403) -> HTMLResponse:
        return self.page(request, "error.html", status=status, message=message, user=None)

    # --- forms ----------------------------------------------------------------------------------
    async def checked_form(self, request: Request) -> dict[str, str] | None:
        """The form fields if the CSRF token matches the session's, else None."""
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not csrf_ok(self.session_of(request), fields.get("csrf_token")):
            return None
        return fields

    async def signed_in_form(
        self, request: Request
    ) -> tuple[dict[str, str], users.User] | Response:
        """A POST by a signed-in user: (fields, user), or the response that refuses it."""
        fields = await self.checked_form(request)
        if fields is None:
            return self.refuse(request, FORM_REFUSED)
        user = await self.pools.short(self.current_user, request)
        if user is None:
            return self.to_login(request)
        return fields, user
