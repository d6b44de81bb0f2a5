"""Citizens' complaints (phản ánh, 9458/BYT-CNTT): the complaint and its attachments.

Open complaints are indexed by deadline (overall, per facility, per province) with partial
indexes, so an officer's inbox pages by keyset however many complaints were settled before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("state NOT IN ('resolved', 'refused')")


def upgrade() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("dob", sa.String(length=10), nullable=True),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("dose_number", sa.Integer(), nullable=True),
        sa.Column("vaccine", sa.String(length=64), nullable=True),
        sa.Column("vaccinated_on", sa.String(length=10), nullable=True),
        sa.Column("claimed_facility_id", sa.String(length=64), nullable=True),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("proposal", sa.String(length=24), nullable=True),
        sa.Column("proposal_detail", sa.Text(), nullable=False),
        sa.Column("routing", sa.String(length=12), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=True),
        sa.Column("province_code", sa.String(length=64), nullable=True),
        sa.Column("district_code", sa.String(length=64), nullable=True),
        sa.Column("commune_code", sa.String(length=64), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.String(length=32), nullable=False),
        sa.Column("deadline_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("escalated_at", sa.String(length=32), nullable=True),
        sa.Column("resolved_at", sa.String(length=32), nullable=True),
        sa.Column("refusal_ground", sa.String(length=40), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('received', 'assigned', 'in_progress', 'resolved', "
                           "'refused', 'escalated')", name=op.f("ck_complaint_state")),
        sa.CheckConstraint("category IN ('missing_dose', 'wrong_personal_info', "
                           "'wrong_dose_info', 'duplicate_dose', 'no_certificate')",
                           name=op.f("ck_complaint_category")),
        sa.CheckConstraint("routing IN ('facility', 'province', 'district', 'pickup')",
                           name=op.f("ck_complaint_routing")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("external_id", name=op.f("uq_complaint_external_id")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_id_number"), ["id_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_complaint_facility_state", ["facility_id", "state"],
                              unique=False)
        batch_op.create_index("ix_complaint_inbox", ["deadline_at", "id"], unique=False,
                              sqlite_where=_OPEN, postgresql_where=_OPEN)
        batch_op.create_index("ix_complaint_inbox_facility", ["facility_id", "deadline_at", "id"],
                              unique=False, sqlite_where=_OPEN, postgresql_where=_OPEN)
        batch_op.create_index("ix_complaint_inbox_province",
                              ["province_code", "deadline_at", "id"], unique=False,
                              sqlite_where=_OPEN, postgresql_where=_OPEN)
    op.create_table(
        "complaint_attachment",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"],
                                name=op.f("fk_complaint_attachment_complaint_id_complaint")),
        sa.PrimaryKeyConstraint("complaint_id", "sha256", name=op.f("pk_complaint_attachment")),
    )


def downgrade() -> None:
    op.drop_table("complaint_attachment")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        for name in ("ix_complaint_inbox_province", "ix_complaint_inbox_facility",
                     "ix_complaint_inbox", "ix_complaint_facility_state",
                     "ix_complaint_person_id", "ix_complaint_id_number"):
            batch_op.drop_index(name)
    op.drop_table("complaint")
