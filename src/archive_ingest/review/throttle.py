"""Login attempt limits of the review UI, counted in the catalogue (every process shares them).

Three fixed-window counters, each checked before any password is hashed:

- ``pair``: one client and one user name (``web_login_max_attempts`` per
  ``web_login_window_seconds``);
- ``client``: one client over every user name, known or not (``web_login_max_client_attempts``
  per the same window), so a spray of made-up names from one client is stopped;
- ``total``: every client together (``web_login_max_total_attempts`` per
  ``web_login_total_window_seconds``), which bounds the hashing a spray from many clients costs.

An attempt is counted *before* the password is checked (so concurrent requests cannot all slip
under a limit) and forgiven when it succeeds: the counters count failures and attempts in
flight. A refused attempt counts nothing, so one blocked client does not use up the total.
One transaction per attempt: an upsert per counter (SQLite and PostgreSQL ``ON CONFLICT``),
rolled back when any counter is over its limit. Keys are sha256 digests; rows whose window is
over are deleted as attempts come in, so the table holds at most the attempts of one window.
A counter found full stays full until its window ends (counts only grow within a window, but
for a success's forgiveness), so each process remembers that and refuses the following
attempts without a database write: a flood of refused logins does not queue on the catalogue's
write lock, which the pipeline needs too.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive_ingest.catalogue import Catalogue
from archive_ingest.review.schema import LoginCounter
from archive_ingest.settings import Settings


@dataclass(frozen=True)
class Limit:
    scope: str
    attempts: int
    window: float


@dataclass(frozen=True)
class Attempt:
    """A counted attempt: the (scope, key, window start) of each counter it was added to."""

    counted: tuple[tuple[str, str, float], ...]


class _Full(Exception):
    def __init__(self, scope: str, key: str, until: float) -> None:
        super().__init__(scope)
        self.scope, self.key, self.until = scope, key, until


#: remembered full counters per process, at most this many (then forgotten all at once)
MAX_REMEMBERED = 10_000


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()


class LoginThrottle:
    def __init__(self, catalogue: Catalogue, pair: Limit, client: Limit, total: Limit) -> None:
        self.catalogue = catalogue
        self.limits = (total, client, pair)  # one order everywhere: no lock-order deadlocks
        self._full_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._insert = (
            postgresql.insert if catalogue.engine.dialect.name == "postgresql" else sqlite.insert
        )

    @classmethod
    def from_settings(cls, catalogue: Catalogue, settings: Settings) -> LoginThrottle:
        window = float(settings.web_login_window_seconds)
        return cls(
            catalogue,
            pair=Limit("pair", settings.web_login_max_attempts, window),
            client=Limit("client", settings.web_login_max_client_attempts, window),
            total=Limit(
                "total",
                settings.web_login_max_total_attempts,
                float(settings.web_login_total_window_seconds),
            ),
        )

    def _keys(self, client: str, name: str) -> dict[str, str]:
        return {
            "total": _key("total"),
            "client": _key("client", client),
            "pair": _key("pair", client, name.strip().lower()),
        }

    def _count(self, session: Session, limit: Limit, key: str, now: float) -> tuple[int, float]:
        expired = LoginCounter.window_start <= now - limit.window
        stmt = (
            self._insert(LoginCounter)
            .values(scope=limit.scope, key=key, window_start=now, count=1)
            .on_conflict_do_update(
                index_elements=[LoginCounter.scope, LoginCounter.key],
                set_={
                    "count": case((expired, 1), else_=LoginCounter.count + 1),
                    "window_start": case((expired, now), else_=LoginCounter.window_start),
                },
            )
        )
        session.execute(stmt)
        count, window_start = session.execute(
            select(LoginCounter.count, LoginCounter.window_start).where(
                LoginCounter.scope == limit.scope, LoginCounter.key == key
            )
        ).one()
        return int(count), float(window_start)

    def attempt(self, client: str, name: str, now: float | None = None) -> Attempt | None:
        """Count one login attempt; None (and nothing counted) when a limit is reached."""
        now = time.time() if now is None else now
        keys = self._keys(client, name)
        with self._lock:
            if any(self._full_until.get((s, k), 0.0) > now for s, k in keys.items()):
                return None
        counted: list[tuple[str, str, float]] = []
        try:
            with self.catalogue.session() as session:
                for limit in self.limits:
                    key = keys[limit.scope]
                    count, start = self._count(session, limit, key, now)
                    if count > limit.attempts:  # rolls the whole transaction back
                        raise _Full(limit.scope, key, start + limit.window)
                    counted.append((limit.scope, key, start))
                oldest = now - max(limit.window for limit in self.limits)
                session.execute(delete(LoginCounter).where(LoginCounter.window_start < oldest))
        except _Full as full:
            with self._lock:
                if len(self._full_until) >= MAX_REMEMBERED:
                    self._full_until.clear()
                self._full_until[(full.scope, full.key)] = full.until
            return None
        return Attempt(tuple(counted))

    def succeeded(self, attempt: Attempt) -> None:
        """Forgive a successful attempt: the pair starts afresh, the others count one less."""
        with self._lock:
            for scope, key, _ in attempt.counted:
                self._full_until.pop((scope, key), None)
        with self.catalogue.session() as session:
            for scope, key, start in attempt.counted:
                where = (
                    LoginCounter.scope == scope,
                    LoginCounter.key == key,
                    LoginCounter.window_start == start,
                )
                if scope == "pair":
                    session.execute(delete(LoginCounter).where(*where))
                else:
                    session.execute(
                        update(LoginCounter)
                        .where(*where, LoginCounter.count > 0)
                        .values(count=LoginCounter.count - 1)
                    )

    def rows(self) -> int:
        with self.catalogue.session() as session:
            return int(session.scalar(select(func.count()).select_from(LoginCounter)) or 0)
