"""Keyed audit chain: ``audit_event.key_id``; decisions and corrections become append-only.

Rows made before this revision keep their plain SHA-256 hashes (``key_id`` NULL) and are
reported by ``audit verify`` until ``vaxtrust audit rekey --admin`` re-hashes them with the audit
key (kept outside the database) and adopts the decisions and corrections made before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 08:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARDED = ("decision", "correction")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION vaxtrust_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;
"""


def _guard(table: str) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return [f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION vaxtrust_refuse_change()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION vaxtrust_refuse_change()"]
    return [f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            for verb in ("UPDATE", "DELETE")]


def _unguard(table: str) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"]
    return [f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete")]


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
    for table in GUARDED:
        for statement in _guard(table):
            op.execute(statement)


def downgrade() -> None:
    for table in GUARDED:
        for statement in _unguard(table):
            op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS vaxtrust_refuse_change()")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("key_id")
