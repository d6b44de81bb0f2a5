"""The daily runs' file ledger: each facility file (by its SHA-256) is processed once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_file",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=80), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("processed_at", sa.String(length=32), nullable=False),
        sa.Column("processed_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["run.run_id"],
                                name=op.f("fk_daily_file_run_id_run")),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_daily_file")),
    )
    with op.batch_alter_table("daily_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_file_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("daily_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_file_run_id"))
    op.drop_table("daily_file")
