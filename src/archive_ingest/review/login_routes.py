"""/review/login and /review/logout: sign-in with the login throttle, server-side sessions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from archive_ingest.review import notices, sessions, users
from archive_ingest.review.context import FORM_REFUSED, ReviewContext
from archive_ingest.review.headers import SAFE_HEADERS
from archive_ingest.review.security import COOKIE, new_session


def login_routes(ctx: ReviewContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/review/", msg: str = "") -> HTMLResponse:
        return ctx.page(
            request, "login.html", next=safe_next(next), error=None, notice=notices.notice(msg)
        )

    @router.post("/login")
    async def login(request: Request) -> Response:
        fields = await ctx.checked_form(request)
        if fields is None:
            return ctx.refuse(request, FORM_REFUSED)
        name = fields.get("username", "").strip()
        ip = request.client.host if request.client else "?"
        nxt = safe_next(fields.get("next", "/review/"))
        # counted (or refused) in the catalogue before any hashing, whether the name exists or not
        attempt = await ctx.pools.short(lambda: ctx.throttle().attempt(ip, name))
        if attempt is None:
            return ctx.page(
                request,
                "login.html",
                status=429,
                next=nxt,
                notice="",
                error="Too many failed attempts. Wait a while and try again.",
            )
        services = await ctx.pools.short(ctx.svc)  # the first call opens the catalogue
        user = await ctx.pools.hash(
            users.authenticate, services.catalogue, name, fields.get("password", "")
        )
        if user is None:
            return ctx.page(
                request,
                "login.html",
                status=401,
                next=nxt,
                notice="",
                error="Unknown user or wrong password.",
            )
        await ctx.pools.short(lambda: ctx.throttle().succeeded(attempt))
        sid = await ctx.pools.short(sessions.open_session, services.catalogue, user, ctx.lifetime)
        response = RedirectResponse(nxt, status_code=303, headers=SAFE_HEADERS)
        ctx.set_cookie(response, request, new_session(sid))  # fresh: no fixation
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        if await ctx.checked_form(request) is None:
            return ctx.refuse(request, FORM_REFUSED)
        sid = ctx.session_id(request)
        if sid:  # the session ends on the server: a copy of the cookie is worth nothing now
            await ctx.pools.short(lambda: sessions.revoke(ctx.svc().catalogue, sid))
        response = RedirectResponse(
            "/review/login?msg=logged-out", status_code=303, headers=SAFE_HEADERS
        )
        response.delete_cookie(COOKIE, path="/review")
        return response

    return router


def safe_next(value: str) -> str:
    """Only local /review paths: never an open redirect."""
    if value.startswith("/review") and not value.startswith("//") and "\\" not in value:
        return value
    return "/review/"
