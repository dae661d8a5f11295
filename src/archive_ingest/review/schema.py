"""ORM classes of the review UI's own tables: users (migration 0003), sessions and login
counters (migration 0006)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive_ingest.catalogue.schema import Base


class ReviewUser(Base):
    __tablename__ = "review_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # archivist | admin
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: bumped on password change / disable: old session cookies stop working
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReviewSession(Base):
    """A signed-in session (migration 0006): the cookie holds a random id, this row its digest.

    Times are epoch seconds (shared by every process, whatever the database's clock type)."""

    __tablename__ = "review_sessions"

    #: sha256 hex of the random session id in the cookie (the id itself is never stored)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("review_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[float] = mapped_column(Float, index=True)
    last_seen_at: Mapped[float] = mapped_column(Float)
    #: set by logout, a password change or disabling the user: the cookie is refused from then
    revoked_at: Mapped[float | None] = mapped_column(Float)


class LoginCounter(Base):
    """Login attempts in the current fixed window, per scope (migration 0006).

    scope ``pair`` (client + user name), ``client`` (client, every name) or ``total``; the key is
    a sha256 hex digest, so a password typed into the name field is never stored."""

    __tablename__ = "review_login_counters"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[float] = mapped_column(Float, index=True)
    count: Mapped[int] = mapped_column(Integer)
