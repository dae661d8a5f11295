"""Copies: one row per copy of an AIP version on a storage target, one per stored object.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "copies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(128), sa.ForeignKey("items.id", ondelete="CASCADE")),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("target", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bag_uri", sa.String(1024)),
        sa.Column("receipt_key", sa.String(1024)),
        sa.Column("receipt_version_id", sa.String(255)),
        sa.Column("receipt_sha256", sa.String(64)),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("deposited_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "version", "target", name="uq_copies_item_version_target"),
    )
    op.create_table(
        "stored_objects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(128), sa.ForeignKey("items.id", ondelete="CASCADE")),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("version_id", sa.String(255)),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sha512", sa.String(128), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True)),
        sa.Column("last_hashed_at", sa.DateTime(timezone=True)),
        sa.Column("last_status", sa.String(32)),
        sa.UniqueConstraint("target", "key", name="uq_stored_objects_target_key"),
    )
    op.create_index("ix_stored_objects_rehash", "stored_objects", ["target", "last_hashed_at"])


def downgrade() -> None:
    op.drop_index("ix_stored_objects_rehash", table_name="stored_objects")
    op.drop_table("stored_objects")
    op.drop_table("copies")
