"""The session cookie and CSRF tokens of the review UI (no I/O but the secret file).

The cookie is signed and timestamped (itsdangerous) and holds the CSRF token and, once signed
in, a random session id whose row in the catalogue says who it is and whether it still holds
(review/sessions.py); nothing secret. Login limits are in review/throttle.py.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from archive_ingest.secret_files import MIN_SECRET_CHARS, check_secret, ensure_secret
from archive_ingest.settings import Settings
from archive_ingest.workspace import ensure_home

COOKIE = "archive_ingest_review"
SECRET_FILE = "web-session-secret"


def session_secret(settings: Settings) -> str:
    """The configured secret, or one generated once under HOME (mode 0600, created atomically).

    An empty, short or garbled secret is refused (:class:`SecretFileError`): it would let
    anyone forge a session."""
    if settings.web_session_secret is not None:
        value = settings.web_session_secret.get_secret_value().encode("utf-8")
        return check_secret(value, MIN_SECRET_CHARS, source="setting web_session_secret").decode()
    ensure_home(settings.home)
    path: Path = settings.home / SECRET_FILE
    return ensure_secret(path, _new_secret, MIN_SECRET_CHARS).decode("ascii")


def _new_secret() -> bytes:
    return secrets.token_urlsafe(48).encode("ascii")


class SessionCodec:
    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="archive-ingest-review-session")
        self.max_age = max_age_seconds

    def dumps(self, data: dict[str, Any]) -> str:
        return self._serializer.dumps(data)

    def loads(self, value: str | None) -> dict[str, Any] | None:
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None


def new_session(session_id: str | None = None) -> dict[str, Any]:
    """Cookie contents: a fresh CSRF token and, when signed in, the server-side session id."""
    return {"sid": session_id, "csrf": secrets.token_urlsafe(32)}


def csrf_ok(session: dict[str, Any] | None, token: str | None) -> bool:
    expected = (session or {}).get("csrf")
    if not expected or not token:
        return False
    return hmac.compare_digest(str(expected), str(token))
