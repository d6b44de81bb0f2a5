"""Each applied answered 2262 list with its outcome and refused rows (issue 16's lists page).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 17:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "police_list_import",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("list_ids", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.String(length=32), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("already_applied", sa.Integer(), nullable=False),
        sa.Column("unanswered", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_list_import")),
    )
    op.create_index(op.f("ix_police_list_import_imported_by"), "police_list_import",
                    ["imported_by"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_police_list_import_imported_by"), table_name="police_list_import")
    op.drop_table("police_list_import")
