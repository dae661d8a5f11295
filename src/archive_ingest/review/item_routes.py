"""The review queue and an item's pages: record page, its PDFs, page images, text diffs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from archive_ingest.catalogue.copies import copies_of
from archive_ingest.ingest import checkpoints
from archive_ingest.ingest.checkpoints import (
    FetchCheckpoint,
    InspectCheckpoint,
    LicenceCheckpoint,
    OcrCheckpoint,
)
from archive_ingest.ingest.services import Services
from archive_ingest.models import State
from archive_ingest.review import notices, queries, render
from archive_ingest.review.context import ReviewContext
from archive_ingest.review.headers import SAFE_HEADERS


def item_routes(ctx: ReviewContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def queue_page(
        request: Request,
        reason: str = "",
        source: str = "",
        since: str = "",
        until: str = "",
        page_no: int = 1,
    ) -> Response:
        user = ctx.current_user(request)
        if user is None:
            return ctx.to_login(request)
        flt = queries.QueueFilter(
            reason=reason if reason in queries.QUEUE_KINDS else "",
            source=source[:200],
            since=_date(since),
            until=_date(until),
            page=page_no,
        )
        result = queries.queue(ctx.svc().catalogue, flt)
        base = {"reason": flt.reason, "source": flt.source, "since": since, "until": until}
        return ctx.page(
            request,
            "queue.html",
            user=user,
            result=result,
            flt=flt,
            kinds=queries.QUEUE_KINDS,
            since=since,
            until=until,
            link=lambda **kw: "/review/?" + urlencode({**base, **kw}),
            reason_kinds=queries.reason_kinds,
        )

    @router.get("/item/{record_id}", response_class=HTMLResponse)
    def item_page(
        request: Request, record_id: str, v: int | None = None, msg: str = ""
    ) -> Response:
        user = ctx.current_user(request)
        if user is None:
            return ctx.to_login(request)
        context = item_context(ctx.svc(), record_id, v)
        if context is None:
            return ctx.page(request, "error.html", status=404, message="No such item.", user=user)
        return ctx.page(request, "item.html", user=user, msg=notices.notice(msg), **context)

    @router.get("/item/{record_id}/v{version}/file/{role}")
    def item_file(request: Request, record_id: str, version: int, role: str) -> Response:
        if ctx.current_user(request) is None:
            return ctx.to_login(request)
        path = _file_path(ctx.svc(), record_id, version, role)
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
        if ctx.current_user(request) is None:
            return ctx.to_login(request)
        path = _file_path(ctx.svc(), record_id, version, "original")
        if path is None or number < 1 or number > 10000:
            return Response("not found", status_code=404, headers=SAFE_HEADERS)
        cache = ctx.svc().workspace(record_id).version_dir(version) / "review-cache"
        try:
            png = render.page_png(path, number, cache)
        except render.RenderError as exc:
            return Response(str(exc), status_code=500, headers=SAFE_HEADERS)
        return FileResponse(png, media_type="image/png", headers=SAFE_HEADERS)

    @router.get("/item/{record_id}/v{version}/diff/{number}", response_class=HTMLResponse)
    def page_diff(request: Request, record_id: str, version: int, number: int) -> Response:
        user = ctx.current_user(request)
        if user is None:
            return ctx.to_login(request)
        original = _file_path(ctx.svc(), record_id, version, "original")
        access = _file_path(ctx.svc(), record_id, version, "access")
        if original is None or access is None or number < 1:
            return ctx.page(request, "error.html", status=404, message="No such page.", user=user)
        try:
            diff = render.text_diff(
                render.page_text(original, number), render.page_text(access, number)
            )
        except render.RenderError as exc:
            return ctx.page(request, "error.html", status=500, message=str(exc), user=user)
        return ctx.page(
            request,
            "diff.html",
            user=user,
            record_id=record_id,
            version=version,
            number=number,
            diff=diff,
        )

    return router


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


def item_context(services: Services, record_id: str, v: int | None) -> dict[str, Any] | None:
    cat = services.catalogue
    try:
        ws = services.workspace(record_id)
    except ValueError:
        return None
    item = cat.get_item(record_id)
    if item is None:
        return None
    version = v or item.current_version
    inspected = checkpoints.load(ws, version, InspectCheckpoint) if version else None
    lic = checkpoints.load(ws, version, LicenceCheckpoint) if version else None
    ocr_ck = checkpoints.load(ws, version, OcrCheckpoint) if version else None
    fetched = checkpoints.load(ws, version, FetchCheckpoint) if version else None
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
        "copies": copies_of(cat, record_id, version) if version else [],
        "original": fetched.original.path if fetched else None,
        "held": item.state == State.NEEDS_REVIEW.value and version == item.current_version,
        "editable": item.state in (State.NEEDS_REVIEW.value, State.DEPOSITED.value)
        and version == item.current_version,
    }
