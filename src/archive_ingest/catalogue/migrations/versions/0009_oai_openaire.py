"""OAI-PMH oai_openaire: the OpenAIRE v4 payload and whether an access copy is served.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oai_records") as batch:
        batch.add_column(sa.Column("openaire_xml", sa.LargeBinary))
        batch.add_column(
            sa.Column("access_copy", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("oai_records") as batch:
        batch.drop_column("access_copy")
        batch.drop_column("openaire_xml")
