"""Server-side sessions of the review UI: a row per sign-in, revocable.

The signed cookie (review/security.py) carries a random session id; the catalogue keeps only its
sha256 digest with the user, when it began, when it was last used and when it was revoked.
A session is valid while its row exists, is not revoked, is younger than the session lifetime
and its user is active. Logout revokes the row; a password change or disabling the user revokes
all of the user's rows (users.revoke_sessions). Every process of a deployment sees the same rows.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import delete, or_

from archive_ingest.catalogue import Catalogue
from archive_ingest.review.schema import ReviewSession, ReviewUser
from archive_ingest.review.users import User, as_user

#: last_seen_at is written at most this often per session (a write per request is not needed)
TOUCH_SECONDS = 60.0


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def open_session(catalogue: Catalogue, user: User, lifetime: float) -> str:
    """A new session of ``user``; returns the random id for the cookie. Rows that ended more than
    a lifetime ago are removed on the way."""
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    with catalogue.session() as session:
        session.execute(
            delete(ReviewSession).where(
                or_(
                    ReviewSession.created_at < now - 2 * lifetime,
                    ReviewSession.revoked_at < now - lifetime,
                )
            )
        )
        session.add(
            ReviewSession(
                id=_digest(session_id),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                revoked_at=None,
            )
        )
    return session_id


def session_user(catalogue: Catalogue, session_id: str, lifetime: float) -> User | None:
    """The user of a valid session, else None (unknown, revoked, expired, user disabled)."""
    now = time.time()
    with catalogue.session() as session:
        row = session.get(ReviewSession, _digest(session_id))
        if row is None or row.revoked_at is not None or now - row.created_at > lifetime:
            return None
        user = session.get(ReviewUser, row.user_id)
        if user is None or not user.active:
            return None
        if now - row.last_seen_at > TOUCH_SECONDS:
            row.last_seen_at = now
        return as_user(user)


def revoke(catalogue: Catalogue, session_id: str) -> None:
    """End one session (logout). Unknown ids are ignored."""
    with catalogue.session() as session:
        row = session.get(ReviewSession, _digest(session_id))
        if row is not None and row.revoked_at is None:
            row.revoked_at = time.time()
