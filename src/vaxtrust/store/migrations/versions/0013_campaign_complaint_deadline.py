"""A campaign's complaint deadline (issue 15): hours from recording and the working-day option.

Both are empty for campaigns saved before: their complaints keep the settings' rule
(``[complaints] deadline_hours``, ``working_days``; 48 hours round the clock by default).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 16:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("complaint_hours", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("complaint_working_days", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("complaint_working_days")
        batch.drop_column("complaint_hours")
