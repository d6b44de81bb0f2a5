"""Open the operational store from a URL and keep its schema at the newest migration.

The URL comes from ``--db``, else ``VAXTRUST_DATABASE_URL``, else ``sqlite:///vaxtrust.db`` in the
working directory. SQLite is the embedded default; PostgreSQL (``postgresql+psycopg://...``) is the
production store.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from vaxtrust.errors import ConfigError, StoreError
from vaxtrust.files import make_private
from vaxtrust.redact import safe_url, without_passwords
from vaxtrust.store import audit_key
from vaxtrust.store.audit_key import AuditKey

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///vaxtrust.db"
URL_ENV = "VAXTRUST_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def resolve_url(explicit: str | None = None) -> str:
    """The store URL: the explicit one, else the environment, else the SQLite default."""
    return explicit or os.environ.get(URL_ENV) or DEFAULT_URL


def _enable_sqlite_rules(dbapi_connection: Any, _record: Any) -> None:
    # SQLite checks foreign keys only when asked, per connection; we want it to refuse like PG.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # We issue BEGIN ourselves (below) instead of the driver's lazy, deferred one.
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    # Every transaction takes SQLite's write lock at once: writers queue (busy_timeout) instead of
    # failing mid-way, and the audit chain's head cannot change between reading it and appending.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# Connections a process keeps open to PostgreSQL, and how many more it may open for a moment.
# The web server runs up to POOL_SIZE requests at once per worker (``vaxtrust.web.app``): with
# SQLAlchemy's default of 5 kept, every connection past the fifth was opened and closed again
# per request (a new PostgreSQL backend each time: one look-up in ten paid for one).
POOL_SIZE = 16
POOL_OVERFLOW = 8


def make_engine(url: str) -> Engine:
    """An engine for ``url``; refuses unknown back-ends with a clear message."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as error:
        raise ConfigError(f"store URL {safe_url(url)!r} is not a database URL: "
                          f"{without_passwords(str(error))}") from error
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"store URL {safe_url(url)!r}: only sqlite and postgresql are supported")
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW} if backend == "postgresql" \
        else {}
    try:
        engine = create_engine(url, **pool)
    except (ArgumentError, ValueError) as error:
        raise ConfigError(f"store URL {safe_url(url)!r} is not usable: "
                          f"{without_passwords(str(error))}") from error
    except ImportError as error:
        raise ConfigError(f"store URL {safe_url(url)!r} needs a driver that is not installed: "
                          f"{error}") from error
    if backend == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_rules)
        event.listen(engine, "begin", _begin_immediate)
    return engine


def alembic_config(engine: Engine) -> Any:
    """An Alembic config pointing at the migrations shipped inside the package (no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store to ``revision`` (newest by default)."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as error:
        raise StoreError(f"cannot reach the store at {engine.url!r}: "
                         f"{without_passwords(str(error.orig))}") from error
    except DBAPIError as error:
        raise StoreError(
            f"cannot migrate the store at {engine.url!r} "
            f"({without_passwords(str(error.orig))}): migrations run as the tables' owner "
            "(`vaxtrust store upgrade --db OWNER_URL`), not the application's role") from error


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def _default_head_dir(engine: Engine, database: str | None,
                      key_file: Path | None) -> Path | None:
    """SQLite: beside the store file. PostgreSQL: one folder per server and database, under
    ``$VAXTRUST_AUDIT_HEAD_DIR``, else beside the key file, else in the user's state folder."""
    if database:
        return None if database == ":memory:" else Path(database + audit_key.HEADS_SUFFIX)
    root = (Path(os.environ[audit_key.HEADS_ENV]) if os.environ.get(audit_key.HEADS_ENV)
            else key_file.parent / "audit-heads" if key_file
            else Path.home() / ".local" / "state" / "vaxtrust" / "audit-heads")
    url = engine.url
    return root / f"{url.host or 'local'}-{url.port or 5432}-{url.database}"


def _chain_is_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT 1 FROM audit_event LIMIT 1").first() is None


def is_current(engine: Engine) -> bool:
    """True when the store exists and is at the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        return MigrationContext.configure(connection).get_current_revision() == head


class Store:
    """An engine plus a session factory; ``Store.open(url)`` migrates to the newest schema.

    Its sessions carry the audit key (``session.info["audit_key"]``) that
    :func:`vaxtrust.store.audit.append` signs with; ``audit_head_dir`` is where the chain's
    signed head exports go.
    """

    def __init__(self, engine: Engine, audit_key: AuditKey | None = None,
                 audit_head_dir: Path | None = None) -> None:
        self.engine = engine
        self.audit_key = audit_key
        self.audit_head_dir = audit_head_dir
        self._sessions = sessionmaker(engine, expire_on_commit=False,
                                      info={"audit_key": audit_key})

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True,
             audit_key_file: Path | None = None, audit_head_dir: Path | None = None) -> Store:
        engine = make_engine(resolve_url(url))
        try:
            current = is_current(engine)
        except OperationalError as error:
            raise StoreError(f"cannot reach the store at {engine.url!r}: "
                             f"{without_passwords(str(error.orig))}") from error
        if not current:
            if not migrate:
                raise StoreError("the store's schema is not at the newest migration")
            logger.info("migrating store %r to the newest schema", engine.url)
            upgrade(engine)
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        if database and database != ":memory:":
            make_private(Path(database))
        key = audit_key.resolve(audit_key_file, sqlite_database=database,
                                chain_is_empty=_chain_is_empty(engine))
        if audit_head_dir is None:
            audit_head_dir = _default_head_dir(engine, database, audit_key_file)
        return cls(engine, key, audit_head_dir)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed at the end, rolled back on any error."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except OperationalError as error:
            raise StoreError(f"the store at {self.engine.url!r} failed: "
                             f"{without_passwords(str(error.orig))}") from error
        except DBAPIError as error:
            raise StoreError(f"the store refused the change: {error.orig}") from error

    def session(self) -> Session:
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()
