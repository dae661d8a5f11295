"""Initial catalogue: items, versions, files, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("source", sa.String(1024), nullable=False, unique=True),
        sa.Column("source_kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False, index=True),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("licence_uri", sa.String(255)),
        sa.Column("licence_outcome", sa.String(32)),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("deposited_version", sa.Integer),
        sa.Column("bag_uri", sa.String(1024)),
        sa.Column("source_etag", sa.String(255)),
        sa.Column("source_last_modified", sa.String(64)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False, index=True),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "item_id",
            sa.String(128),
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("original_sha256", sa.String(64), index=True),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("work_dir", sa.String(2048)),
        sa.Column("bag_uri", sa.String(1024)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("item_id", "version", name="uq_versions_item_version"),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "item_id",
            sa.String(128),
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sha512", sa.String(128), nullable=False),
        sa.Column("md5", sa.String(32)),
        sa.Column("media_type", sa.String(128)),
        sa.Column("puid", sa.String(32)),
        sa.Column("format_name", sa.String(255)),
        sa.Column("s3_key", sa.String(1024)),
        sa.Column("s3_version_id", sa.String(255)),
        sa.UniqueConstraint("item_id", "version", "path", name="uq_files_item_version_path"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "item_id",
            sa.String(128),
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("datetime", TS, nullable=False),
        sa.Column("agent", sa.String(255), nullable=False),
        sa.Column("agent_type", sa.String(32), nullable=False),
        sa.Column("agent_id", sa.String(255)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("outcome_detail", sa.JSON, nullable=False),
        sa.Column("object_roles", sa.JSON, nullable=False),
    )
    op.create_index("ix_events_item_time", "events", ["item_id", "datetime"])


def downgrade() -> None:
    op.drop_index("ix_events_item_time", table_name="events")
    op.drop_table("events")
    op.drop_table("files")
    op.drop_table("versions")
    op.drop_table("items")
