"""vaccination_record.input_order and an index of decided records, for dose histories.

The store recomputes a person's dose history when an officer links or unlinks a record; like the
cleaning, it keeps the first of two doses on one day by input order. Records published before
this revision have none (NULL) and fall back to their record id until a run publishes them again.
Publish recomputes the people with decided records: a partial index finds them without a scan.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:42:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vaccination_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("input_order", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_vaccination_record_decided", ["person_id"], unique=False,
                              sqlite_where=sa.text("decided"),
                              postgresql_where=sa.text("decided"))


def downgrade() -> None:
    with op.batch_alter_table("vaccination_record", schema=None) as batch_op:
        batch_op.drop_index("ix_vaccination_record_decided")
        batch_op.drop_column("input_order")
