"""One current certificate per person, decided by the store; UVCIs reserved before signing.

``certificate`` gains the states ``reserved`` (a UVCI handed to an issuance journal before it
signs) and ``void`` (a reservation its journal proves was never signed), what the certificate
says (fingerprint, signer, kid, signature, expiry: enough for a revocation list) and the journal
that holds it. Two partial unique indexes make "one current certificate per person" and "one
signer at a time per person" rules of the store, on SQLite and PostgreSQL alike. Claims name their
journal, and ``signing_block`` keeps the people no batch may sign again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW_COLUMNS = (
    ("journal_id", sa.String(length=64)), ("fingerprint", sa.String(length=64)),
    ("signer", sa.String(length=64)), ("kid", sa.String(length=64)), ("signature", sa.Text()),
    ("expires_at", sa.String(length=32)),
)


def _partial(state: str) -> dict[str, sa.TextClause]:
    where = sa.text(f"state = '{state}'")
    return {"sqlite_where": where, "postgresql_where": where}


def upgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_certificate_state"), type_="check")
        batch_op.create_check_constraint(
            "state", "state IN ('reserved', 'issued', 'revoked', 'void')")
        for name, kind in _NEW_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index("uq_certificate_current", ["person_id"], unique=True, **_partial("issued"))
        batch_op.create_index("uq_certificate_reserved", ["person_id"], unique=True,
                              **_partial("reserved"))
        batch_op.create_index("ix_certificate_journal_id", ["journal_id", "state"], unique=False)
    with op.batch_alter_table("signing_queue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("journal_id", sa.String(length=64), nullable=True))
    op.create_table(
        "signing_block",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("blocked_at", sa.String(length=32), nullable=False),
        sa.Column("blocked_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_signing_block")),
    )


def downgrade() -> None:
    op.drop_table("signing_block")
    with op.batch_alter_table("signing_queue", schema=None) as batch_op:
        batch_op.drop_column("journal_id")
    op.execute("DELETE FROM certificate WHERE state IN ('reserved', 'void')")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_journal_id")
        batch_op.drop_index("uq_certificate_reserved")
        batch_op.drop_index("uq_certificate_current")
        for name, _ in reversed(_NEW_COLUMNS):
            batch_op.drop_column(name)
        batch_op.drop_constraint(op.f("ck_certificate_state"), type_="check")
        batch_op.create_check_constraint("state", "state IN ('issued', 'revoked')")
