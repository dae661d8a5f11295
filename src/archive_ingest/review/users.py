"""Local accounts of the review UI: argon2 password hashes, two roles.

Functions take a :class:`Catalogue` (the same database as the items) and never log a password.
A password change or disabling a user revokes every session of that user (review/sessions.py).
"""

from __future__ import annotations

import functools
import re
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.models import utcnow
from archive_ingest.review.schema import ReviewSession, ReviewUser
from archive_ingest.settings import Settings

ROLES = ("archivist", "admin")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 8
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so that a wrong name costs as much as a wrong
    password; made on first use, not at import: every `archive-ingest` command imports this
    module, and an argon2 hash is ~0.1 s of CPU."""
    return _HASHER.hash("not-a-password-of-anyone")


class UserError(ArchiveIngestError):
    """A user could not be created or changed (bad name, role, password, duplicate)."""


@dataclass(frozen=True)
class User:
    """What the web layer knows about the signed-in person."""

    id: int
    name: str
    role: str
    epoch: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def agent_id(self) -> str:
        return f"review-user:{self.id}"


def as_user(row: ReviewUser) -> User:
    return User(id=row.id, name=row.name, role=row.role, epoch=row.session_epoch)


def revoke_sessions(session: Session, user_id: int) -> None:
    """End every open session of the user (in the caller's transaction)."""
    session.execute(
        update(ReviewSession)
        .where(ReviewSession.user_id == user_id, ReviewSession.revoked_at.is_(None))
        .values(revoked_at=time.time())
    )


def _check(name: str, role: str, password: str) -> None:
    if not NAME_RE.fullmatch(name):
        raise UserError("a user name is 1-64 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")


def add_user(catalogue: Catalogue, name: str, role: str, password: str) -> User:
    _check(name, role, password)
    now = utcnow()
    with catalogue.session() as session:
        if session.scalars(select(ReviewUser).where(ReviewUser.name == name)).first():
            raise UserError(f"user {name!r} exists")
        row = ReviewUser(
            name=name,
            role=role,
            password_hash=_HASHER.hash(password),
            active=True,
            session_epoch=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return as_user(row)


def set_password(catalogue: Catalogue, name: str, password: str) -> User:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    with catalogue.session() as session:
        row = session.scalars(select(ReviewUser).where(ReviewUser.name == name)).first()
        if row is None:
            raise UserError(f"no user {name!r}")
        row.password_hash = _HASHER.hash(password)
        row.session_epoch += 1
        row.active = True
        row.updated_at = utcnow()
        revoke_sessions(session, row.id)
        return as_user(row)


def set_active(catalogue: Catalogue, name: str, active: bool) -> User:
    with catalogue.session() as session:
        row = session.scalars(select(ReviewUser).where(ReviewUser.name == name)).first()
        if row is None:
            raise UserError(f"no user {name!r}")
        row.active = active
        row.session_epoch += 1
        row.updated_at = utcnow()
        revoke_sessions(session, row.id)
        return as_user(row)


def list_users(catalogue: Catalogue) -> list[tuple[User, bool]]:
    with catalogue.session() as session:
        rows = session.scalars(select(ReviewUser).order_by(ReviewUser.name))
        return [(as_user(r), r.active) for r in rows]


def get_user(catalogue: Catalogue, user_id: int) -> User | None:
    with catalogue.session() as session:
        row = session.get(ReviewUser, user_id)
        return as_user(row) if row is not None and row.active else None


def authenticate(catalogue: Catalogue, name: str, password: str) -> User | None:
    """The user if name and password match an active account, else None (constant-ish time)."""
    with catalogue.session() as session:
        row = session.scalars(select(ReviewUser).where(ReviewUser.name == name)).first()
        stored = row.password_hash if row is not None else _dummy_hash()
        try:
            _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        if _HASHER.check_needs_rehash(stored):
            row.password_hash = _HASHER.hash(password)
        return as_user(row)


DEMO_USER = "demo-archivist"


def ensure_demo_user(settings: Settings) -> tuple[str, str]:
    """Create (or reset) the demo archivist with a fresh random password; return both."""
    password = secrets.token_urlsafe(12)
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        try:
            add_user(catalogue, DEMO_USER, "archivist", password)
        except UserError:
            set_password(catalogue, DEMO_USER, password)
    finally:
        catalogue.close()
    return DEMO_USER, password
