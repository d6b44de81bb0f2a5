"""Store fixtures: every store test runs on SQLite (fast group) and PostgreSQL (``postgres``).

PostgreSQL: one uniquely named template database is migrated per test session; each test gets
its own copy (``CREATE DATABASE ... TEMPLATE``), so tests that use several connections or kill a
process still start from a clean, migrated store. Every database made here is dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import require_service
from vaxtrust.store.db import Store, make_engine, upgrade
from vaxtrust.store.scope import Actor, load_actor
from vaxtrust.store.users import add_user

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/vaxtrust_test"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pg_base_url() -> str:
    return os.environ.get("VAXTRUST_TEST_DATABASE_URL", DEFAULT_PG_URL)


class PostgresDatabases:
    """Creates and drops databases on the test server through an AUTOCOMMIT admin engine."""

    def __init__(self, base_url: str) -> None:
        self.base = make_url(base_url)
        self.admin = None
        last_error: Exception | None = None
        for admin_db in (self.base.database, "postgres"):
            engine = create_engine(self.base.set(database=admin_db), isolation_level="AUTOCOMMIT")
            try:
                with engine.connect():
                    pass
            except Exception as error:  # noqa: BLE001 - any failure means: try the next database
                last_error = error
                engine.dispose()
                continue
            self.admin = engine
            break
        if self.admin is None:
            require_service(f"PostgreSQL unreachable at {base_url}: {last_error}")
        self.prefix = f"vaxtrust_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        assert self.admin is not None
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return self.url(name)

    def drop(self, name: str) -> None:
        assert self.admin is not None
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(reversed(self.created)):
            self.drop(name)
        if self.admin is not None:
            self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(pg_base_url())
    template = f"{databases.prefix}_template"
    engine = make_engine(databases.create(template))
    upgrade(engine)
    engine.dispose()
    databases.template = template  # type: ignore[attr-defined]
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


_counter = iter(range(1, 1_000_000))

ACTOR_SPECS: list[tuple[str, str, dict[str, str]]] = [
    ("hanoi", "province", {"province_code": "01"}),
    ("hcm", "province", {"province_code": "79"}),
    ("hn01", "facility", {"facility_id": "HN-01", "province_code": "01"}),
    ("hn02", "facility", {"facility_id": "HN-02", "province_code": "01"}),
    ("hcm01", "facility", {"facility_id": "HCM-01", "province_code": "79"}),
    ("police4", "commune_police", {"commune_code": "00004"}),
    ("police26734", "commune_police", {"commune_code": "26734"}),
    ("an", "citizen", {"person_id": "001090000001"}),
]
ACTOR_NAMES = ["minh", *(spec[0] for spec in ACTOR_SPECS)]


def _add_actors(store: Store) -> None:
    """One user per role and scope: ministry, two provinces, three facilities, police, citizen;
    each with the password ``tests.store.cli.password_of(username)``."""
    from tests.store.cli import password_of

    with store.transaction() as session:
        add_user(session, by=None, username="minh", role="ministry", password=password_of("minh"))
        ministry = load_actor(session, "minh")
        for username, role, scope in ACTOR_SPECS:
            add_user(session, by=ministry, username=username, role=role,
                     password=password_of(username), **scope)


def _publish_baseline(store: Store, run_dir: Path) -> None:
    from tests.store.factory import baseline
    from vaxtrust.store.publish import RunFolder, publish_run

    baseline().write(run_dir)
    with store.transaction() as session:
        publish_run(session, load_actor(session, "minh"), RunFolder.open(run_dir))


def _prepare(url: str, run_dir: Path) -> None:
    store = Store.open(url)
    _add_actors(store)
    _publish_baseline(store, run_dir)
    store.close()


@pytest.fixture(scope="session")
def sqlite_published_template(sqlite_template: Path,
                              tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("published-template")
    path = folder / "published.db"
    shutil.copy(sqlite_template, path)
    _prepare(f"sqlite:///{path}", folder / "run1")
    return path


@pytest.fixture(scope="session")
def pg_published_template(pg_databases: PostgresDatabases,
                          tmp_path_factory: pytest.TempPathFactory) -> str:
    name = f"{pg_databases.prefix}_published"
    url = pg_databases.create(name, template=pg_databases.template)  # type: ignore[attr-defined]
    _prepare(url, tmp_path_factory.mktemp("pg-published") / "run1")
    Store.open(url).close()
    return name


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated store on each back-end: empty, or (for tests that ask for
    ``published``) holding the users and the published baseline run."""
    wants_published = "published" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        template = "sqlite_published_template" if wants_published else "sqlite_template"
        shutil.copy(request.getfixturevalue(template), path)
        yield f"sqlite:///{path}"
        return
    databases: PostgresDatabases = request.getfixturevalue("pg_databases")
    template = (request.getfixturevalue("pg_published_template") if wants_published
                else databases.template)  # type: ignore[attr-defined]
    name = f"{databases.prefix}_{next(_counter)}"
    yield databases.create(name, template=template)
    databases.drop(name)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    yield opened
    opened.close()


@pytest.fixture
def actors(request: pytest.FixtureRequest, store: Store) -> dict[str, Actor]:
    """Every test user as an Actor (created here unless the store came published)."""
    if "published" not in request.fixturenames:
        _add_actors(store)
    with store.transaction() as session:
        return {name: load_actor(session, name) for name in ACTOR_NAMES}


@pytest.fixture
def run1(tmp_path: Path) -> Path:
    from tests.store.factory import baseline

    return baseline().write(tmp_path / "run1")


@pytest.fixture
def published(store: Store) -> Store:
    """The store after the ministry user published the baseline run (a copy of a template)."""
    return store


def table_counts(store: Store) -> dict[str, int]:
    from vaxtrust.store.tables import Base

    with store.engine.connect() as connection:
        return {name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in Base.metadata.tables}


def snapshot(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: two equal snapshots mean nothing changed."""
    from vaxtrust.store.tables import Base

    with store.engine.connect() as connection:
        return {name: sorted((tuple(row) for row in connection.execute(table.select())), key=repr)
                for name, table in Base.metadata.tables.items()}
