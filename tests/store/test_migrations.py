"""The Alembic migrations produce exactly the ORM tables, on both back-ends, and go both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from vaxtrust.store.db import Store, alembic_config, downgrade, upgrade
from vaxtrust.store.tables import Base


def test_there_is_a_single_head(store: Store) -> None:
    heads = ScriptDirectory.from_config(alembic_config(store.engine)).get_heads()
    assert len(heads) == 1


def test_migrations_match_the_orm_metadata(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_downgrade_to_nothing_and_upgrade_again(store: Store) -> None:
    downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    upgrade(store.engine)
    assert set(Base.metadata.tables) <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
