"""Campaigns, daily progress snapshots, focal officers and the commune police lists (issue 16).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SNAPSHOT_COUNTS = (
    "records", "verified", "corrected", "review", "unmatched", "rejected", "review_open",
    "review_over_7d", "review_over_30d", "people_linked", "people_signed",
    "certificates_revoked", "certificates_reissued", "complaints_received", "complaints_open",
    "complaints_overdue", "complaints_resolved", "complaints_refused",
)


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("starts_on", sa.String(length=10), nullable=False),
        sa.Column("deadlines", sa.Text(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_campaign")),
    )
    op.create_table(
        "progress_snapshot",
        sa.Column("snapshot_date", sa.String(length=10), nullable=False),
        sa.Column("province_code", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _SNAPSHOT_COUNTS[:9]),
        sa.Column("review_oldest_at", sa.String(length=32), nullable=True),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _SNAPSHOT_COUNTS[9:]),
        sa.Column("taken_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_date", "province_code", "commune_code", "facility_id",
                                name=op.f("pk_progress_snapshot")),
    )
    op.create_table(
        "focal_officer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("province_code", sa.String(length=64), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("unit IN ('ministry', 'health_department', 'cdc', 'facility')",
                           name=op.f("ck_focal_officer_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_focal_officer")),
    )
    op.create_index("ix_focal_officer_scope", "focal_officer", ["province_code", "unit"],
                    unique=False)
    op.create_index(op.f("ix_focal_officer_facility_id"), "focal_officer", ["facility_id"],
                    unique=False)
    op.create_table(
        "police_list",
        sa.Column("list_id", sa.String(length=40), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=False),
        sa.Column("exported_at", sa.String(length=32), nullable=False),
        sa.Column("exported_by", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("list_id", name=op.f("pk_police_list")),
    )
    op.create_index(op.f("ix_police_list_commune_code"), "police_list", ["commune_code"],
                    unique=False)
    op.create_table(
        "police_list_row",
        sa.Column("list_id", sa.String(length=40), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["list_id"], ["police_list.list_id"],
                                name=op.f("fk_police_list_row_list_id_police_list")),
        sa.PrimaryKeyConstraint("list_id", "row_number", name=op.f("pk_police_list_row")),
    )
    op.create_index(op.f("ix_police_list_row_record_id"), "police_list_row", ["record_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_police_list_row_record_id"), table_name="police_list_row")
    op.drop_table("police_list_row")
    op.drop_index(op.f("ix_police_list_commune_code"), table_name="police_list")
    op.drop_table("police_list")
    op.drop_index(op.f("ix_focal_officer_facility_id"), table_name="focal_officer")
    op.drop_index("ix_focal_officer_scope", table_name="focal_officer")
    op.drop_table("focal_officer")
    op.drop_table("progress_snapshot")
    op.drop_table("campaign")
