"""The PostgreSQL store the set-based benchmarks build (complaints, reports): the server, its
admin connection, and the run, provinces and facilities every generated record refers to.

Imported by the benchmark scripts beside it (``python benchmarks/bench_x.py`` puts this folder
on the path).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, create_engine, text

from vaxtrust.vn._data import read_rows

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
FACILITIES_PER_PROVINCE = 40
NOW = "2022-04-27T03:00:00.000000Z"


def admin_engine() -> Engine:
    return create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")


def drop_database(name: str) -> None:
    with admin_engine().connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def create_database(name: str, *, fresh: bool = False) -> None:
    """Create ``name`` if it is not there (``fresh``: drop it first)."""
    if fresh:
        drop_database(name)
    with admin_engine().connect() as c:
        if not c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                         {"n": name}).scalar():
            c.execute(text(f'CREATE DATABASE "{name}"'))


def provinces() -> list[str]:
    return sorted({row["province_code"] for row in read_rows("admin_units_pre2025.csv")})


def add_run_and_places(c: Connection, province_codes: list[str]) -> None:
    """The run ``bench``, the provinces and ``FACILITIES_PER_PROVINCE`` facilities in each
    (``F{province}-{n}``)."""
    c.execute(text("INSERT INTO run (run_id, content_hash, source_dir, published_at, "
                   "published_by, record_count, review_count, superseded_items, "
                   "kept_decisions) VALUES ('bench', 'bench', '-', :now, 'bench', 0, 0, 0, 0)"),
              {"now": NOW})
    c.execute(text("INSERT INTO province (code) SELECT unnest(CAST(:p AS text[]))"),
              {"p": province_codes})
    c.execute(text(
        "INSERT INTO facility (facility_id, province_code) SELECT 'F' || p || '-' || n, p "
        "FROM unnest(CAST(:p AS text[])) p, generate_series(1, :n) n"),
        {"p": province_codes, "n": FACILITIES_PER_PROVINCE})
