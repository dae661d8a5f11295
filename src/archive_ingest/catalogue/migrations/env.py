"""Alembic environment: run with the connection the catalogue hands over (never a URL string)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from archive_ingest.catalogue.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)

with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Several workers may start at once: one migrates, the others wait for it.
        connection.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
    context.run_migrations()
