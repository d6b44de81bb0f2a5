"""signing_batch: signing batches started from the web app, their progress and result.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signing_batch",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("beat_at", sa.String(length=32), nullable=False),
        sa.Column("finished_at", sa.String(length=32), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('running', 'done', 'failed')",
                           name=op.f("ck_signing_batch_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_batch")),
    )
    where = sa.text("state = 'running'")
    op.create_index("uq_signing_batch_running", "signing_batch", ["state"], unique=True,
                    sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("uq_signing_batch_running", table_name="signing_batch")
    op.drop_table("signing_batch")
