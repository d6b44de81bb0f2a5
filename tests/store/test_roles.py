"""PostgreSQL least privilege: the application's role works, but cannot rewrite the audit trail,
decisions or corrections, nor drop or disable their triggers (issue 12, item 5)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.store.cli import cli
from tests.store.conftest import PostgresDatabases, _prepare
from vaxtrust.app import review
from vaxtrust.errors import ConfigError, PermissionDenied, StoreError
from vaxtrust.review.queue import AcceptCandidate
from vaxtrust.store.auth import administrator
from vaxtrust.store.db import Store
from vaxtrust.store.roles import grant_statements
from vaxtrust.store.scope import load_actor

FORBIDDEN = [
    "UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event", "TRUNCATE audit_event",
    "UPDATE decision SET note = 'x'", "DELETE FROM correction",
    "DROP TRIGGER audit_event_no_update_delete ON audit_event",
    "ALTER TABLE audit_event DISABLE TRIGGER USER", "ALTER TABLE decision DISABLE TRIGGER ALL",
    "DROP TABLE correction", "ALTER TABLE audit_event DROP COLUMN key_id",
]


def test_append_only_tables_get_select_and_insert_only() -> None:
    statements = grant_statements(["audit_event", "decision", "person", "alembic_version"],
                                  "vaxtrust_app", "vt")
    assert 'GRANT SELECT, INSERT ON TABLE "audit_event" TO "vaxtrust_app"' in statements
    assert 'GRANT SELECT, INSERT ON TABLE "decision" TO "vaxtrust_app"' in statements
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "person" TO "vaxtrust_app"' \
        in statements
    assert 'GRANT SELECT ON TABLE "alembic_version" TO "vaxtrust_app"' in statements
    with pytest.raises(ConfigError, match="role"):
        grant_statements([], 'x"; DROP TABLE person; --', "vt")


def test_sqlite_has_no_roles(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PostgreSQL feature"):
        cli(f"sqlite:///{tmp_path / 's.db'}", "store", "grant", "vaxtrust_app")


@pytest.mark.postgres
def test_the_application_role_cannot_rewrite_history(
    pg_databases: PostgresDatabases, tmp_path: Path
) -> None:
    name = f"{pg_databases.prefix}_roles"
    owner_url = pg_databases.create(name, template=pg_databases.template)  # type: ignore[attr-defined]
    role = f"vaxtrust_app_{uuid.uuid4().hex[:8]}"
    assert pg_databases.admin is not None
    with pg_databases.admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        _prepare(owner_url, tmp_path / "run1")
        with pytest.raises(ConfigError, match="no role"):
            cli(owner_url, "store", "grant", "nobody_at_all")
        assert "grants" in cli(owner_url, "store", "grant", role)
        app_url = make_url(owner_url).set(username=role).render_as_string(hide_password=False)
        app = Store.open(app_url)
        try:
            with app.transaction() as session:
                hn01 = load_actor(session, "hn01")
            item = review.list_items(app, hn01).items[0]
            review.decide(app, hn01, item.id, AcceptCandidate(1))   # it works
            for sql in FORBIDDEN:
                with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                    with app.engine.begin() as connection:
                        connection.execute(text(sql))
            with pytest.raises(PermissionDenied, match="owns the store"):
                administrator(app, command="test")
        finally:
            app.close()
        pg_databases.drop(name)
        fresh = pg_databases.create(name)
        grantable = make_url(fresh).set(username=role).render_as_string(hide_password=False)
        with pytest.raises(StoreError, match="tables' owner"):
            Store.open(grantable)
    finally:
        pg_databases.drop(name)
        with pg_databases.admin.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
