"""Operations figures at 100,000 items: counters, and covering indexes for the figures' scans.

- ``counters``: counts that only grow, by name and label (``ocr_runs``, ``ocr_pages`` by gate
  decision), filled here from the versions' summaries (``summary.ocr``) recorded so far.
- covering indexes: copies by target and status with their totals, copies by version and
  status, items by state, source kind, licence outcome and source (the collection is read
  from the source): the figures read these indexes instead of the tables' wide rows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 2000


def _ocr_counts() -> Counter[tuple[str, str]]:
    """What the counters would hold had they been counted from the start: one OCR run and its
    pages per version whose summary has an ``ocr`` part (read in batches by id)."""
    bind = op.get_bind()
    versions = sa.table("versions", sa.column("id", sa.Integer), sa.column("summary", sa.JSON))
    counts: Counter[tuple[str, str]] = Counter()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(versions.c.id, versions.c.summary)
            .where(versions.c.id > last)
            .order_by(versions.c.id)
            .limit(BATCH)
        ).all()
        for _id, summary in rows:
            data: Any = json.loads(summary) if isinstance(summary, str) else summary
            ocr = data.get("ocr") if isinstance(data, dict) else None
            if not isinstance(ocr, dict):
                continue
            counts[("ocr_runs", "")] += 1
            for decision, pages in (ocr.get("decisions") or {}).items():
                if isinstance(pages, int) and pages > 0:
                    counts[("ocr_pages", str(decision))] += pages
        if len(rows) < BATCH:
            return counts
        last = rows[-1][0]


def upgrade() -> None:
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    counts = _ocr_counts()
    if counts:
        op.bulk_insert(
            counters,
            [{"name": n, "label": label, "value": v} for (n, label), v in sorted(counts.items())],
        )
    op.create_index("ix_copies_totals", "copies", ["target", "status", "objects", "bytes"])
    op.create_index("ix_copies_version_status", "copies", ["item_id", "version", "status"])
    op.create_index(
        "ix_items_figures", "items", ["state", "source_kind", "licence_outcome", "source"]
    )


def downgrade() -> None:
    op.drop_index("ix_items_figures", table_name="items")
    op.drop_index("ix_copies_version_status", table_name="copies")
    op.drop_index("ix_copies_totals", table_name="copies")
    op.drop_table("counters")
