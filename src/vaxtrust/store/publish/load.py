"""Load staging rows into temporary tables of the store: ``COPY`` on PostgreSQL, batched inserts
on SQLite. Temporary tables vanish with the transaction's connection; they are dropped at the end
anyway."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection

from vaxtrust.console import Console
from vaxtrust.store.publish.prepare import STAGE_COLUMNS, STAGE_TYPES

_SQL_TYPES = {pa.float64(): "DOUBLE PRECISION", pa.int32(): "INTEGER", pa.int64(): "BIGINT"}
# SQLite has no hash joins: without these its planner loops over the staged rows.
_SQLITE_INDEXES = (("stage_records", "record_id"), ("stage_candidates", "record_id"),
                   ("stage_reasons", "record_id"), ("stage_doses", "record_id"),
                   ("stage_persons", "person_id"))


def create_stage_tables(connection: Connection) -> None:
    for table, columns in STAGE_COLUMNS.items():
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        spec = ", ".join(f"{column} {_SQL_TYPES.get(STAGE_TYPES.get(column, pa.string()), 'TEXT')}"
                         for column in columns)
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {table} ({spec})")


def drop_stage_tables(connection: Connection) -> None:
    # With the tables publish makes on its way (check.keep_linked_doses, apply's whole people).
    for table in (*STAGE_COLUMNS, "stage_context_doses", "stage_seen_doses", "stage_whole_people"):
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


def _copy_postgres(connection: Connection, table: str,
                   batches: Iterable[pa.RecordBatch]) -> int:
    raw = connection.connection.driver_connection
    assert raw is not None
    rows = 0
    options = pa_csv.WriteOptions(include_header=False)
    with raw.cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(STAGE_COLUMNS[table])}) FROM STDIN WITH (FORMAT csv)"
    ) as copy:
        for batch in batches:
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue())
            rows += batch.num_rows
    return rows


def _insert_sqlite(connection: Connection, table: str,
                   batches: Iterable[pa.RecordBatch]) -> int:
    raw = connection.connection.driver_connection
    assert raw is not None
    columns = STAGE_COLUMNS[table]
    statement = (f"INSERT INTO {table} ({', '.join(columns)}) "
                 f"VALUES ({', '.join('?' for _ in columns)})")
    rows = 0
    cursor = raw.cursor()
    for batch in batches:
        values = [batch.column(name).to_pylist() for name in columns]
        cursor.executemany(statement, zip(*values, strict=True))
        rows += batch.num_rows
    cursor.close()
    return rows


def ready_for_joins(connection: Connection, table: str, columns: tuple[str, ...]) -> None:
    """A staging table made on publish's way, ready to be joined on ``columns``: statistics for
    PostgreSQL's planner; on SQLite, which has no hash joins, an index on each column."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {table}")
        return
    for column in columns:
        connection.exec_driver_sql(f"CREATE INDEX {table}_{column} ON {table} ({column})")


def load_stage(connection: Connection, sources: Mapping[str, Iterable[pa.RecordBatch]],
               console: Console) -> dict[str, int]:
    """Stream every source into its staging table; returns rows per table."""
    postgres = connection.dialect.name == "postgresql"
    loader = _copy_postgres if postgres else _insert_sqlite
    counts = dict.fromkeys(STAGE_COLUMNS, 0)
    for table, batches in sources.items():
        console.stage_started(f"publish: load {table}")
        counts[table] = loader(connection, table, batches)
        console.stage_finished(f"publish: load {table}", counts[table])
    if postgres:
        for table in sources:
            connection.exec_driver_sql(f"ANALYZE {table}")
    else:
        for table, column in _SQLITE_INDEXES:
            connection.exec_driver_sql(f"CREATE INDEX {table}_{column} ON {table} ({column})")
        connection.exec_driver_sql("ANALYZE")
    return counts
