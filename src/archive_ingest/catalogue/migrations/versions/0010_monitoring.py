"""Operations figures: job runs, stage duration counters, copy totals, indexes for the figures.

- ``job_runs``: one row per audit, replicate or repair run (when, outcome).
- ``stage_durations``: the ingest stages' seconds as histogram counters (stage, bucket).
- ``copies.objects`` and ``copies.bytes``: each copy's stored objects counted and summed
  (filled here from ``stored_objects`` for the copies already recorded).
- indexes: versions by state (and last update), files by role (and size), stored objects by
  copy, and a partial index of the stored objects whose last check found a problem.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
FINDING = sa.text("last_status IS NOT NULL AND last_status <> 'ok'")


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(32), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_index(
        "ix_job_runs_job_outcome_finished", "job_runs", ["job", "outcome", "finished_at"]
    )
    op.create_table(
        "stage_durations",
        sa.Column("stage", sa.String(64), primary_key=True),
        sa.Column("le", sa.String(16), primary_key=True),
        sa.Column("runs", sa.BigInteger, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
    )
    with op.batch_alter_table("copies") as batch:
        batch.add_column(sa.Column("objects", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"))
    op.create_index("ix_stored_objects_copy", "stored_objects", ["item_id", "version", "target"])
    op.execute(
        """
        UPDATE copies SET
          objects = (SELECT COUNT(*) FROM stored_objects s WHERE s.item_id = copies.item_id
                     AND s.version = copies.version AND s.target = copies.target),
          bytes = (SELECT COALESCE(SUM(s.size), 0) FROM stored_objects s
                   WHERE s.item_id = copies.item_id AND s.version = copies.version
                   AND s.target = copies.target)
        """
    )
    op.create_index(
        "ix_stored_objects_findings",
        "stored_objects",
        ["target", "last_status"],
        sqlite_where=FINDING,
        postgresql_where=FINDING,
    )
    op.create_index("ix_versions_state_updated", "versions", ["state", "updated_at"])
    op.create_index("ix_files_role_size", "files", ["role", "size"])


def downgrade() -> None:
    op.drop_index("ix_files_role_size", table_name="files")
    op.drop_index("ix_versions_state_updated", table_name="versions")
    op.drop_index("ix_stored_objects_findings", table_name="stored_objects")
    op.drop_index("ix_stored_objects_copy", table_name="stored_objects")
    with op.batch_alter_table("copies") as batch:
        batch.drop_column("bytes")
        batch.drop_column("objects")
    op.drop_table("stage_durations")
    op.drop_index("ix_job_runs_job_outcome_finished", table_name="job_runs")
    op.drop_table("job_runs")
