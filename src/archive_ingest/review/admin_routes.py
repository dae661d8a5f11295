"""/review/admin/users: the user list, adding users and disabling or enabling them (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from archive_ingest.review import notices, users
from archive_ingest.review.context import ReviewContext
from archive_ingest.review.headers import SAFE_HEADERS


def admin_routes(ctx: ReviewContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/admin/users", response_class=HTMLResponse)
    def users_page(request: Request, msg: str = "") -> Response:
        user = ctx.current_user(request)
        if user is None:
            return ctx.to_login(request)
        if not user.is_admin:
            return ctx.page(request, "error.html", status=403, message="Admins only.", user=user)
        return ctx.page(
            request,
            "users.html",
            user=user,
            rows=users.list_users(ctx.svc().catalogue),
            roles=users.ROLES,
            msg=notices.notice(msg),
            error="",
        )

    @router.post("/admin/users")
    async def users_post(request: Request) -> Response:
        posted = await ctx.signed_in_form(request)
        if isinstance(posted, Response):
            return posted
        fields, user = posted
        if not user.is_admin:
            return ctx.refuse(request, "Admins only.")
        services = await ctx.pools.short(ctx.svc)
        cat = services.catalogue
        name = fields.get("name", "").strip()
        try:
            op = fields.get("op")
            if op == "add":  # hashes the new password: the hashing pool
                role, password = fields.get("role", ""), fields.get("password", "")
                await ctx.pools.hash(users.add_user, cat, name, role, password)
                code = "user-added"
            elif op in ("disable", "enable"):
                if name == user.name:
                    raise users.UserError("you cannot disable yourself")
                await ctx.pools.short(users.set_active, cat, name, op == "enable")
                code = f"user-{op}d"
            else:
                raise users.UserError("unknown operation")
        except users.UserError as exc:  # shown by this response, never carried in a URL
            rows = await ctx.pools.short(users.list_users, cat)
            return ctx.page(
                request,
                "users.html",
                status=400,
                user=user,
                rows=rows,
                roles=users.ROLES,
                msg="",
                error=str(exc),
            )
        return RedirectResponse(
            f"/review/admin/users?msg={code}", status_code=303, headers=SAFE_HEADERS
        )

    return router
