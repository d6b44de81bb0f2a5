"""Report tests use the store's fixtures: SQLite in the fast group, PostgreSQL with ``postgres``."""

from tests.store.conftest import (  # noqa: F401 - fixtures
    actors,
    pg_databases,
    pg_published_template,
    published,
    sqlite_published_template,
    sqlite_template,
    store,
    store_url,
)
