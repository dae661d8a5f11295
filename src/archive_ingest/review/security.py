"""Sessions, CSRF tokens and login rate limiting of the review UI (no I/O but the secret file).

The session is a signed, timestamped cookie (itsdangerous) holding the user id, the user's
session epoch (bumped on password change or disable) and the CSRF token; nothing secret.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
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


def new_session(uid: int | None = None, epoch: int = 0) -> dict[str, Any]:
    return {"uid": uid, "epoch": epoch, "csrf": secrets.token_urlsafe(32)}


def csrf_ok(session: dict[str, Any] | None, token: str | None) -> bool:
    expected = (session or {}).get("csrf")
    if not expected or not token:
        return False
    return hmac.compare_digest(str(expected), str(token))


class LoginLimiter:
    """At most ``attempts`` failed logins per (client IP, user name) per sliding window.

    Memory stays bounded under a spray of made-up names: only failures are remembered, keys
    whose failures all left the window are swept, and past ``max_keys`` the key that failed
    least recently goes.
    Per process: several web processes each count on their own (docs/REVIEW.md)."""

    def __init__(self, attempts: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = time.monotonic()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float] | None:
        times = self._failures.get(key)
        while times and now - times[0] > self.window:
            times.popleft()
        if times is not None and not times:
            del self._failures[key]
            return None
        return times

    def _sweep(self, now: float) -> None:
        if now - self._swept >= self.window / 4 or len(self._failures) >= self.max_keys:
            for key in list(self._failures):
                self._recent(key, now)
            self._swept = now
        while len(self._failures) >= self.max_keys:  # all recent: drop the oldest key
            del self._failures[next(iter(self._failures))]

    def blocked(self, ip: str, name: str) -> bool:
        with self._lock:
            times = self._recent((ip, name.lower()), time.monotonic())
            return times is not None and len(times) >= self.attempts

    def failed(self, ip: str, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            key = (ip, name.lower())
            times = self._recent(key, now)
            if times is None:
                self._sweep(now)
                times = deque()
            else:  # most recently failed last: eviction takes the quietest keys first
                del self._failures[key]
            self._failures[key] = times
            times.append(now)

    def succeeded(self, ip: str, name: str) -> None:
        with self._lock:
            self._failures.pop((ip, name.lower()), None)

    def __len__(self) -> int:
        return len(self._failures)
