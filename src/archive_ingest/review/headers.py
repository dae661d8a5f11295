"""Security headers on every response of the application, not only on rendered pages.

:data:`SAFE_HEADERS` is what a review page sends; :class:`SecurityHeaders` is a plain ASGI
middleware (web/app.py) that adds each of them to any response that lacks it: 404 and 405
answers from the router, static files, redirects and the OAI endpoint. A header a response set
itself wins (the PDF viewer's sandbox policy, for one).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; "
    "script-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_ENCODED = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SAFE_HEADERS.items()]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in _ENCODED if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
