"""Alembic environment: runs with the engine the caller put in ``config.attributes``.

There is no alembic.ini; :func:`vaxtrust.store.db.alembic_config` builds the config in code.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from vaxtrust.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("vaxtrust migrations need an engine or sqlalchemy.url")
        engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
