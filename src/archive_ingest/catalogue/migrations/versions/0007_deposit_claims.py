"""Deposit claims: the deposit of an approved version is claimed in the catalogue, so that two
depositors (an approval, `deposit-approved`, a re-run) never deposit it at the same time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("deposit_claim", sa.String(64), nullable=True))
        batch.add_column(sa.Column("deposit_claimed_at", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("deposit_claimed_at")
        batch.drop_column("deposit_claim")
