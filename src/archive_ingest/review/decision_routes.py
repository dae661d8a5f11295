"""POST /review/item/{id}/{approve,reject,licence,edit,ocr}: an archivist's decisions.

Each decision waits for the item's lock in a decisions thread (offload.py); an OCR re-run
opens the new version under that lock and hands the OCR to a Prefect flow run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.ingest.services import Services
from archive_ingest.models import State
from archive_ingest.review import actions, users
from archive_ingest.review.context import ReviewContext
from archive_ingest.review.headers import SAFE_HEADERS

DECISION_NOTICES = {"reject": "rejected", "licence": "licence", "edit": "edited"}
DECISIONS = ("approve", "reject", "licence", "edit", "ocr")

Endpoint = Callable[[Request, str], Awaitable[Response]]


def decision_routes(ctx: ReviewContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for name in DECISIONS:
        router.add_api_route(
            f"/item/{{record_id}}/{name}",
            _endpoint(ctx, name),
            methods=["POST"],
            name=f"review_{name}",
        )
    return router


def _endpoint(ctx: ReviewContext, action: str) -> Endpoint:
    async def endpoint(request: Request, record_id: str) -> Response:
        return await decide(ctx, request, record_id, action)

    return endpoint


async def decide(ctx: ReviewContext, request: Request, record_id: str, action: str) -> Response:
    posted = await ctx.signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    fields, user = posted
    if user.role not in users.ROLES:
        return ctx.refuse(request, "Your role may not decide.")
    note = fields.get("note", "")
    try:
        if action == "ocr":
            langs = [x for x in fields.get("languages", "").replace(",", " ").split() if x]
            if not langs:
                raise actions.ReviewError("give the OCR languages, e.g. pt es")
            await ctx.pools.decide(_start_ocr_rerun, ctx, record_id, user, langs, note)
            code = "ocr-queued"
        else:
            outcome = await ctx.pools.decide(
                _act_locked, ctx, record_id, user, action, fields, note
            )
            code = DECISION_NOTICES.get(action) or {
                State.DEPOSITED.value: "deposited",
                State.UNDER_REPLICATED.value: "under-replicated",
            }.get(outcome.state, "approved")
    except ArchiveIngestError as exc:
        return ctx.page(
            request,
            "error.html",
            status=409,
            message=str(exc),
            user=user,
            back=f"/review/item/{record_id}",
        )
    target = f"/review/item/{record_id}?" + urlencode({"msg": code})
    return RedirectResponse(target, status_code=303, headers=SAFE_HEADERS)


def _start_ocr_rerun(
    ctx: ReviewContext, record_id: str, user: users.User, langs: list[str], note: str
) -> actions.Outcome:
    """Open the new version under the item's lock; a Prefect flow run does the OCR."""
    if ctx.ocr_rerun is None:
        raise actions.ReviewError(
            "OCR re-runs run on Prefect: this server was started without its flows "
            "(use `archive-ingest serve`)"
        )
    with ctx.item_lock(record_id):
        return actions.start_ocr_rerun(ctx.svc(), record_id, user, langs, note, ctx.ocr_rerun)


def _act_locked(
    ctx: ReviewContext,
    record_id: str,
    user: users.User,
    action: str,
    fields: dict[str, str],
    note: str,
) -> actions.Outcome:
    """A decision, once the item's lock is free (in a decisions thread)."""
    with ctx.item_lock(record_id):
        return _act(ctx.svc(), record_id, user, action, fields, note)


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
