"""Several doses on one complaint form (issue 15): the complaints of one filing share its id.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 00:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch:
        batch.add_column(sa.Column("filing_id", sa.Integer(), nullable=True))
        batch.create_index("ix_complaint_filing_id", ["filing_id"])


def downgrade() -> None:
    with op.batch_alter_table("complaint") as batch:
        batch.drop_index("ix_complaint_filing_id")
        batch.drop_column("filing_id")
