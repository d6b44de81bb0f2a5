"""A run's corrections found by index (issue 17): publish reads them by run id (the audit
digest of the run, the people a run unlinked), which without an index scans every correction
the store ever made: a day's cost must follow the day's file, not the store.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 03:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("correction") as batch:
        batch.create_index("ix_correction_run_id", ["run_id"])


def downgrade() -> None:
    with op.batch_alter_table("correction") as batch:
        batch.drop_index("ix_correction_run_id")
