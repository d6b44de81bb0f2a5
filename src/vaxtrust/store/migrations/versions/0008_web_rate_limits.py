"""web_rate_limit: the citizen look-up limits, shared by every worker of ``vaxtrust serve``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_rate_limit",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", "bucket", name=op.f("pk_web_rate_limit")),
    )
    op.create_index(op.f("ix_web_rate_limit_expires"), "web_rate_limit", ["expires"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_web_rate_limit_expires"), table_name="web_rate_limit")
    op.drop_table("web_rate_limit")
