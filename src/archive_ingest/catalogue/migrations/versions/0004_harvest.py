"""Harvest watermarks and runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "harvest_watermarks",
        sa.Column("source", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "harvest_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(128), nullable=False, index=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("watermark_before", sa.String(255)),
        sa.Column("watermark_after", sa.String(255)),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("problems", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("harvest_runs")
    op.drop_table("harvest_watermarks")
