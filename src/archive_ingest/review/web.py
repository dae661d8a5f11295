"""The /review router: login, queue, record page, decisions. Thin: logic is in actions.py.

Every page needs a signed-in user (anonymous requests are redirected to the login page);
every POST needs the session's CSRF token (403 otherwise); decisions need the archivist or
admin role, user management the admin role. Templates are Jinja2 with autoescape on.
Nothing blocking runs on the event loop: ``def`` endpoints run in the thread pool and the
``async def`` ones hand their catalogue, hashing and decision work to threads (offload.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.models import State
from archive_ingest.pipeline import (
    FetchCheckpoint,
    InspectCheckpoint,
    LicenceCheckpoint,
    OcrCheckpoint,
    Services,
)
from archive_ingest.review import actions, notices, queries, render, sessions, users
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

log = logging.getLogger(__name__)
FORM_REFUSED = "The form has expired or was not sent by this site."
HERE = Path(__file__).parent
DECISION_NOTICES = {"reject": "rejected", "licence": "licence", "edit": "edited"}


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,  # everywhere, whatever the template's name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


class Forbidden(Exception):
    pass


def review_router(
    settings: Settings, *, ocr_rerun: actions.OcrRerunLauncher | None = None
) -> APIRouter:
    """``ocr_rerun`` starts the Prefect flow run of an OCR re-run (``archive-ingest serve``
    injects flows/review.py's launcher); without one, OCR re-runs are refused."""
    env = templates()
    codec = SessionCodec(session_secret(settings), int(settings.web_session_hours * 3600))
    lifetime = settings.web_session_hours * 3600
    pools = Pools()
    state: dict[str, Services] = {}
    limits: dict[str, LoginThrottle] = {}
    open_lock = threading.Lock()
    item_locks: dict[str, threading.Lock] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        """At the application's shutdown (requests finished): the hashing threads end and the
        catalogue closes; both open again on first use if the application starts again."""
        yield
        await to_thread.run_sync(pools.close)
        with open_lock:
            services = state.pop("svc", None)
            limits.clear()
        if services is not None:
            await to_thread.run_sync(services.close)

    router = APIRouter(prefix="/review", include_in_schema=False, lifespan=lifespan)

    def svc() -> Services:
        with open_lock:
            if "svc" not in state:
                state["svc"] = Services.open(settings)
            return state["svc"]

    def item_lock(record_id: str) -> threading.Lock:
        with open_lock:
            return item_locks.setdefault(record_id, threading.Lock())

    def start_ocr_rerun(
        record_id: str, user: users.User, langs: list[str], note: str
    ) -> actions.Outcome:
        """Open the new version under the item's lock; a Prefect flow run does the OCR."""
        if ocr_rerun is None:
            raise actions.ReviewError(
                "OCR re-runs run on Prefect: this server was started without its flows "
                "(use `archive-ingest serve`)"
            )
        with item_lock(record_id):
            return actions.start_ocr_rerun(svc(), record_id, user, langs, note, ocr_rerun)

    def throttle() -> LoginThrottle:
        """One per router: it remembers full counters (a flood is refused without a write)."""
        services = svc()
        with open_lock:
            if "throttle" not in limits:
                limits["throttle"] = LoginThrottle.from_settings(services.catalogue, settings)
            return limits["throttle"]

    def act_locked(
        record_id: str, user: users.User, action: str, fields: dict[str, str], note: str
    ) -> actions.Outcome:
        """A decision, once the item's lock is free (in a decisions thread)."""
        with item_lock(record_id):
            return _act(svc(), record_id, user, action, fields, note)

    # --- session helpers -------------------------------------------------------------------
    def secure(request: Request) -> bool:
        if settings.web_cookie_secure == "always":
            return True
        if settings.web_cookie_secure == "never":
            return False
        return request.url.scheme == "https"

    def set_cookie(response: Response, request: Request, session: dict[str, Any]) -> None:
        response.set_cookie(
            COOKIE,
            codec.dumps(session),
            max_age=codec.max_age,
            path="/review",
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )

    def session_of(request: Request) -> dict[str, Any] | None:
        return codec.loads(request.cookies.get(COOKIE))

    def session_id(request: Request) -> str | None:
        sid = (session_of(request) or {}).get("sid")
        return sid if isinstance(sid, str) and sid else None

    def current_user(request: Request) -> users.User | None:
        """The user of the request's server-side session (catalogue: call it in a thread)."""
        sid = session_id(request)
        return sessions.session_user(svc().catalogue, sid, lifetime) if sid else None

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        session = session_of(request) or new_session()
        body = env.get_template(name).render(
            csrf=session["csrf"], user=context.pop("user", None), **context
        )
        response = HTMLResponse(body, status_code=status, headers=SAFE_HEADERS)
        if not request.cookies.get(COOKIE) or session_of(request) is None:
            set_cookie(response, request, session)
        return response

    def to_login(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = {"next": target}
        if session_id(request):  # it was signed in: ended by logout, an admin or its age
            query["msg"] = "session-ended"
        return RedirectResponse(
            "/review/login?" + urlencode(query), status_code=303, headers=SAFE_HEADERS
        )

    def refuse(request: Request, message: str, status: int = 403) -> HTMLResponse:
        return page(request, "error.html", status=status, message=message, user=None)

    async def checked_form(request: Request) -> dict[str, str] | None:
        """The form fields if the CSRF token matches the session's, else None."""
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not csrf_ok(session_of(request), fields.get("csrf_token")):
            return None
        return fields

    async def signed_in_form(request: Request) -> tuple[dict[str, str], users.User] | Response:
        """A POST by a signed-in user: (fields, user), or the response that refuses it."""
        fields = await checked_form(request)
        if fields is None:
            return refuse(request, FORM_REFUSED)
        user = await pools.short(current_user, request)
        if user is None:
            return to_login(request)
        return fields, user

    # --- login -----------------------------------------------------------------------------
    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/review/", msg: str = "") -> HTMLResponse:
        return page(
            request, "login.html", next=_safe_next(next), error=None, notice=notices.notice(msg)
        )

    @router.post("/login")
    async def login(request: Request) -> Response:
        fields = await checked_form(request)
        if fields is None:
            return refuse(request, FORM_REFUSED)
        name = fields.get("username", "").strip()
        ip = request.client.host if request.client else "?"
        nxt = _safe_next(fields.get("next", "/review/"))
        # counted (or refused) in the catalogue before any hashing, whether the name exists or not
        attempt = await pools.short(lambda: throttle().attempt(ip, name))
        if attempt is None:
            return page(
                request,
                "login.html",
                status=429,
                next=nxt,
                notice="",
                error="Too many failed attempts. Wait a while and try again.",
            )
        services = await pools.short(svc)  # the first call opens the catalogue
        user = await pools.hash(
            users.authenticate, services.catalogue, name, fields.get("password", "")
        )
        if user is None:
            return page(
                request,
                "login.html",
                status=401,
                next=nxt,
                notice="",
                error="Unknown user or wrong password.",
            )
        await pools.short(lambda: throttle().succeeded(attempt))
        sid = await pools.short(sessions.open_session, services.catalogue, user, lifetime)
        response = RedirectResponse(nxt, status_code=303, headers=SAFE_HEADERS)
        set_cookie(response, request, new_session(sid))  # fresh: no fixation
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        if await checked_form(request) is None:
            return refuse(request, FORM_REFUSED)
        sid = session_id(request)
        if sid:  # the session ends on the server: a copy of the cookie is worth nothing now
            await pools.short(lambda: sessions.revoke(svc().catalogue, sid))
        response = RedirectResponse(
            "/review/login?msg=logged-out", status_code=303, headers=SAFE_HEADERS
        )
        response.delete_cookie(COOKIE, path="/review")
        return response

    # --- queue -----------------------------------------------------------------------------
    @router.get("/", response_class=HTMLResponse)
    def queue_page(
        request: Request,
        reason: str = "",
        source: str = "",
        since: str = "",
        until: str = "",
        page_no: int = 1,
    ) -> Response:
        user = current_user(request)
        if user is None:
            return to_login(request)
        flt = queries.QueueFilter(
            reason=reason if reason in queries.REASON_KINDS else "",
            source=source[:200],
            since=_date(since),
            until=_date(until),
            page=page_no,
        )
        result = queries.queue(svc().catalogue, flt)
        base = {"reason": flt.reason, "source": flt.source, "since": since, "until": until}
        return page(
            request,
            "queue.html",
            user=user,
            result=result,
            flt=flt,
            kinds=queries.REASON_KINDS,
            since=since,
            until=until,
            link=lambda **kw: "/review/?" + urlencode({**base, **kw}),
            reason_kinds=queries.reason_kinds,
        )

    # --- record page -------------------------------------------------------------------------
    @router.get("/item/{record_id}", response_class=HTMLResponse)
    def item_page(
        request: Request, record_id: str, v: int | None = None, msg: str = ""
    ) -> Response:
        user = current_user(request)
        if user is None:
            return to_login(request)
        ctx = _item_context(svc(), record_id, v)
        if ctx is None:
            return page(request, "error.html", status=404, message="No such item.", user=user)
        return page(request, "item.html", user=user, msg=notices.notice(msg), **ctx)

    @router.get("/item/{record_id}/v{version}/file/{role}")
    def item_file(request: Request, record_id: str, version: int, role: str) -> Response:
        if current_user(request) is None:
            return to_login(request)
        path = _file_path(svc(), record_id, version, role)
        if path is None:
            return Response("not found", status_code=404, headers=SAFE_HEADERS)
        headers = {
            **SAFE_HEADERS,
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Content-Disposition": f'inline; filename="{record_id}-v{version}-{role}.pdf"',
        }
        return FileResponse(path, media_type="application/pdf", headers=headers)

    @router.get("/item/{record_id}/v{version}/page/{number}.png")
    def page_image(request: Request, record_id: str, version: int, number: int) -> Response:
        if current_user(request) is None:
            return to_login(request)
        path = _file_path(svc(), record_id, version, "original")
        if path is None or number < 1 or number > 10000:
            return Response("not found", status_code=404, headers=SAFE_HEADERS)
        cache = svc().workspace(record_id).version_dir(version) / "review-cache"
        try:
            png = render.page_png(path, number, cache)
        except render.RenderError as exc:
            return Response(str(exc), status_code=500, headers=SAFE_HEADERS)
        return FileResponse(png, media_type="image/png", headers=SAFE_HEADERS)

    @router.get("/item/{record_id}/v{version}/diff/{number}", response_class=HTMLResponse)
    def page_diff(request: Request, record_id: str, version: int, number: int) -> Response:
        user = current_user(request)
        if user is None:
            return to_login(request)
        original = _file_path(svc(), record_id, version, "original")
        access = _file_path(svc(), record_id, version, "access")
        if original is None or access is None or number < 1:
            return page(request, "error.html", status=404, message="No such page.", user=user)
        try:
            diff = render.text_diff(
                render.page_text(original, number), render.page_text(access, number)
            )
        except render.RenderError as exc:
            return page(request, "error.html", status=500, message=str(exc), user=user)
        return page(
            request,
            "diff.html",
            user=user,
            record_id=record_id,
            version=version,
            number=number,
            diff=diff,
        )

    # --- decisions ---------------------------------------------------------------------------
    async def decide(
        request: Request, record_id: str, action: str, bg: BackgroundTasks
    ) -> Response:
        posted = await signed_in_form(request)
        if isinstance(posted, Response):
            return posted
        fields, user = posted
        if user.role not in users.ROLES:
            return refuse(request, "Your role may not decide.")
        note = fields.get("note", "")
        try:
            if action == "ocr":
                langs = [x for x in fields.get("languages", "").replace(",", " ").split() if x]
                if not langs:
                    raise actions.ReviewError("give the OCR languages, e.g. pt es")
                await pools.decide(start_ocr_rerun, record_id, user, langs, note)
                code = "ocr-queued"
            else:
                outcome = await pools.decide(act_locked, record_id, user, action, fields, note)
                code = DECISION_NOTICES.get(action) or (
                    "deposited" if outcome.state == State.DEPOSITED.value else "approved"
                )
        except ArchiveIngestError as exc:
            return page(
                request,
                "error.html",
                status=409,
                message=str(exc),
                user=user,
                back=f"/review/item/{record_id}",
            )
        target = f"/review/item/{record_id}?" + urlencode({"msg": code})
        return RedirectResponse(target, status_code=303, headers=SAFE_HEADERS)

    def decision_endpoint(action: str) -> Any:
        async def endpoint(
            request: Request, record_id: str, background: BackgroundTasks
        ) -> Response:
            return await decide(request, record_id, action, background)

        return endpoint

    for name in ("approve", "reject", "licence", "edit", "ocr"):
        router.add_api_route(
            f"/item/{{record_id}}/{name}",
            decision_endpoint(name),
            methods=["POST"],
            name=f"review_{name}",
        )

    @router.get("/static/review.css")
    def stylesheet() -> Response:
        return FileResponse(HERE / "static" / "review.css", media_type="text/css")

    # --- users (admin) ---------------------------------------------------------------------
    @router.get("/admin/users", response_class=HTMLResponse)
    def users_page(request: Request, msg: str = "") -> Response:
        user = current_user(request)
        if user is None:
            return to_login(request)
        if not user.is_admin:
            return page(request, "error.html", status=403, message="Admins only.", user=user)
        return page(
            request,
            "users.html",
            user=user,
            rows=users.list_users(svc().catalogue),
            roles=users.ROLES,
            msg=notices.notice(msg),
            error="",
        )

    @router.post("/admin/users")
    async def users_post(request: Request) -> Response:
        posted = await signed_in_form(request)
        if isinstance(posted, Response):
            return posted
        fields, user = posted
        if not user.is_admin:
            return refuse(request, "Admins only.")
        services = await pools.short(svc)
        cat = services.catalogue
        name = fields.get("name", "").strip()
        try:
            op = fields.get("op")
            if op == "add":  # hashes the new password: the hashing pool
                role, password = fields.get("role", ""), fields.get("password", "")
                await pools.hash(users.add_user, cat, name, role, password)
                code = "user-added"
            elif op in ("disable", "enable"):
                if name == user.name:
                    raise users.UserError("you cannot disable yourself")
                await pools.short(users.set_active, cat, name, op == "enable")
                code = f"user-{op}d"
            else:
                raise users.UserError("unknown operation")
        except users.UserError as exc:  # shown by this response, never carried in a URL
            rows = await pools.short(users.list_users, cat)
            return page(
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


def _act(
    services: Services,
    record_id: str,
    user: users.User,
    action: str,
    fields: dict[str, str],
    note: str,
) -> actions.Outcome:
    if action == "approve":
        return actions.approve(
            services, record_id, user, note, licence_uri=fields.get("licence_uri") or None
        )
    if action == "reject":
        return actions.reject(services, record_id, user, fields.get("reason", ""))
    if action == "licence":
        uri = fields.get("licence_uri", "").strip()
        return actions.override_licence(
            services,
            record_id,
            user,
            None if uri in ("", "none") else uri,
            fields.get("reason", ""),
        )
    if action == "edit":
        form = {k: fields[k] for k in actions.EDITABLE if k in fields}
        return actions.edit_record(services, record_id, user, form, note)
    raise actions.ReviewError(f"unknown action {action!r}")


def _safe_next(value: str) -> str:
    """Only local /review paths: never an open redirect."""
    if value.startswith("/review") and not value.startswith("//") and "\\" not in value:
        return value
    return "/review/"


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _file_path(services: Services, record_id: str, version: int, role: str) -> Path | None:
    if role not in ("original", "access"):
        return None
    try:
        ws = services.workspace(record_id)
    except ValueError:
        return None
    data = ws.data_dir(version).resolve()
    for row in services.catalogue.files(record_id, version):
        if row.role == role:
            path = (data / row.path).resolve()
            if path.is_relative_to(data) and path.is_file():
                return path
    return None


def _item_context(services: Services, record_id: str, v: int | None) -> dict[str, Any] | None:
    cat = services.catalogue
    try:
        ws = services.workspace(record_id)
    except ValueError:
        return None
    item = cat.get_item(record_id)
    if item is None:
        return None
    version = v or item.current_version
    inspected = ws.load_checkpoint(version, "inspect", InspectCheckpoint) if version else None
    lic = ws.load_checkpoint(version, "licence", LicenceCheckpoint) if version else None
    ocr_ck = ws.load_checkpoint(version, "ocr", OcrCheckpoint) if version else None
    fetched = ws.load_checkpoint(version, "fetch", FetchCheckpoint) if version else None
    verdict = lic.verdict if lic else {}
    pdf_spans = [
        (c["text_span"]["start"], c["text_span"]["end"], c["text_span"]["text"])
        for c in verdict.get("evidence", [])
        if c.get("source") == "pdf" and c.get("text_span")
    ]
    first_page = inspected.inspection.first_page_text if inspected else ""
    candidates = sorted(
        {c["canonical_uri"] for c in verdict.get("evidence", []) if c.get("canonical_uri")}
    )
    return {
        "item": item,
        "version": version,
        "versions": cat.versions(record_id),
        "record": inspected.record if inspected else None,
        "inspection": inspected.inspection if inspected else None,
        "verdict": verdict,
        "columns": render.evidence_columns(verdict),
        "statement": render.highlight(first_page, pdf_spans),
        "candidates": candidates,
        "ocr": (ocr_ck.result if ocr_ck else None),
        "events": queries.history(cat, record_id),
        "files": cat.files(record_id, version) if version else [],
        "original": fetched.original.path if fetched else None,
        "held": item.state == State.NEEDS_REVIEW.value and version == item.current_version,
        "editable": item.state in (State.NEEDS_REVIEW.value, State.DEPOSITED.value)
        and version == item.current_version,
    }
