"""OAI-PMH: record datestamps, withdrawn records, sets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oai_records",
        sa.Column("record_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("datestamp", sa.BigInteger, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("dc_xml", sa.LargeBinary, nullable=False),
        sa.Column("mets_xml", sa.LargeBinary),
    )
    op.create_index("ix_oai_records_datestamp", "oai_records", ["datestamp", "record_id"])
    op.create_table(
        "oai_record_sets",
        sa.Column("set_spec", sa.String(255), primary_key=True),
        sa.Column(
            "record_id",
            sa.String(128),
            sa.ForeignKey("oai_records.record_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("datestamp", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_oai_record_sets_keyset", "oai_record_sets", ["set_spec", "datestamp", "record_id"]
    )
    op.create_index("ix_oai_record_sets_record", "oai_record_sets", ["record_id"])
    op.create_table(
        "oai_sets",
        sa.Column("spec", sa.String(255), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("oai_sets")
    op.drop_index("ix_oai_record_sets_record", table_name="oai_record_sets")
    op.drop_index("ix_oai_record_sets_keyset", table_name="oai_record_sets")
    op.drop_table("oai_record_sets")
    op.drop_index("ix_oai_records_datestamp", table_name="oai_records")
    op.drop_table("oai_records")
