"""run.settings: the settings a published run was cleaned with (its run.json), as JSON.

The store recomputes dose histories when officers link records; it uses the campaign start, the
dose intervals and the fixed "today" of the run that published the records, so a history it
recomputes equals the run's. Runs published before this revision have none and fall back to the
defaults.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 08:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settings", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("settings")
