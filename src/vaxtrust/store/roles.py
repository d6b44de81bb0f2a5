"""PostgreSQL least privilege: the application connects as a role that owns no table.

The tables' owner (the role migrations run as: ``vaxtrust store upgrade --db OWNER_URL``) grants
the application role (``vaxtrust store grant ROLE --db OWNER_URL``):

- SELECT, INSERT, UPDATE, DELETE on the working tables;
- only SELECT and INSERT on the append-only tables (``audit_event``, ``decision``,
  ``correction``): the role cannot change or delete their rows even without the triggers;
- SELECT on ``alembic_version`` (to see the schema is current), the sequences, TEMPORARY on the
  database (publish stages rows in temporary tables).

Not being the owner, the role cannot DROP or DISABLE a trigger, ALTER or DROP a table, or
TRUNCATE one. Grants name the tables that exist: run ``store grant`` again after each upgrade
(``store upgrade --app-role ROLE`` does both).
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, inspect, text

from vaxtrust.errors import ConfigError

APPEND_ONLY_TABLES = ("audit_event", "decision", "correction")
READ_ONLY_TABLES = ("alembic_version",)
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _quoted(role: str) -> str:
    if not _ROLE.match(role):
        raise ConfigError(f"role {role!r}: use lower-case letters, digits and '_'")
    return f'"{role}"'


def grant_statements(tables: list[str], role: str, database: str) -> list[str]:
    """The statements that give ``role`` exactly the application's rights on ``tables``."""
    who = _quoted(role)
    quoted_database = database.replace('"', '""')
    statements = [f'GRANT CONNECT, TEMPORARY ON DATABASE "{quoted_database}" TO {who}',
                  f"GRANT USAGE ON SCHEMA public TO {who}",
                  f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {who}",
                  f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}"]
    for table in sorted(tables):
        rights = ("SELECT" if table in READ_ONLY_TABLES
                  else "SELECT, INSERT" if table in APPEND_ONLY_TABLES
                  else "SELECT, INSERT, UPDATE, DELETE")
        statements.append(f'GRANT {rights} ON TABLE "{table}" TO {who}')
    return statements


def grant_app_role(engine: Engine, role: str) -> list[str]:
    """Grant ``role`` the application's rights on the store (run as the tables' owner)."""
    if engine.dialect.name != "postgresql":
        raise ConfigError("application roles are a PostgreSQL feature (SQLite has no roles)")
    database = engine.url.database or ""
    with engine.begin() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :role"),
                                   {"role": role})
        if not exists:
            raise ConfigError(f"PostgreSQL has no role {role!r}: create it first "
                              f"(CREATE ROLE {role} LOGIN PASSWORD '...')")
        owner = connection.scalar(text(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'audit_event'"))
        if owner == role:
            raise ConfigError(f"{role!r} owns the tables: the application must connect as "
                              "another role")
        tables = inspect(connection).get_table_names()
        statements = grant_statements(tables, role, database)
        for statement in statements:
            connection.execute(text(statement))
    return statements
