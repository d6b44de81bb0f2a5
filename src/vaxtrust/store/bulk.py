"""Bulk rows into the store: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

Used where a whole file's worth of rows goes in at once (complaint imports and their triage);
the caller's transaction commits them with the rest of its work.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

from sqlalchemy import Connection

SQLITE_BATCH: Final = 10_000


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def insert_rows(connection: Connection, table: str, columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> int:
    """Append ``rows`` (tuples in ``columns`` order) to ``table``; returns how many."""
    raw = connection.connection.driver_connection
    assert raw is not None
    names = ", ".join(columns)
    count = 0
    if is_postgres(connection):
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    statement = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"
    cursor = raw.cursor()
    try:
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == SQLITE_BATCH:
                cursor.executemany(statement, batch)
                count, batch = count + len(batch), []
        cursor.executemany(statement, batch)
        count += len(batch)
    finally:
        cursor.close()
    return count


def reserve_ids(connection: Connection, table: str, count: int) -> list[int]:
    """``count`` fresh values of ``table``'s integer ``id`` for rows inserted with their id.

    PostgreSQL draws them from the column's sequence (concurrent imports get disjoint ids);
    SQLite holds the write lock for the whole transaction, so the next ids after the largest
    are free until it commits.
    """
    if count == 0:
        return []
    if is_postgres(connection):
        return [row[0] for row in connection.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
            f"FROM generate_series(1, {int(count)})")]
    # A write (of no row) takes the write lock before the read, so no one else takes these ids.
    connection.exec_driver_sql(f"UPDATE {table} SET id = id WHERE 0")
    last = connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar()
    first = int(last or 0) + 1
    return list(range(first, first + count))


class ClaimKeys:
    """Temporary tables of a batch of complaints' keys, for joins against the store.

    ``ids``: the ID numbers claimed; ``persons``: the register persons they name (by ID or old
    ID); ``facilities``: the facilities named with a dose date.
    """

    ids: Final = "triage_ids"
    persons: Final = "triage_persons"
    facilities: Final = "triage_facilities"

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.drop()
        for table, column in ((self.ids, "id_number"), (self.persons, "person_id"),
                              (self.facilities, "facility_id")):
            connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {table} ({column} TEXT PRIMARY KEY)")

    def load(self, ids: Iterable[str], facilities: Iterable[str]) -> None:
        insert_rows(self.connection, self.ids, ("id_number",), ((v,) for v in sorted(ids)))
        insert_rows(self.connection, self.facilities, ("facility_id",),
                    ((v,) for v in sorted(facilities)))
        self.connection.exec_driver_sql(
            f"INSERT INTO {self.persons} (person_id) "
            f"SELECT p.person_id FROM person p JOIN {self.ids} k ON k.id_number = p.person_id "
            f"UNION SELECT p.person_id FROM person p JOIN {self.ids} k ON k.id_number = p.old_id")
        if is_postgres(self.connection):
            for table in (self.ids, self.persons, self.facilities):
                self.connection.exec_driver_sql(f"ANALYZE {table}")

    def rows(self, sql: str) -> Iterator[Any]:
        """The rows of a read joining these tables (attribute access by column name)."""
        yield from self.connection.exec_driver_sql(sql).all()   # fetchall: one round trip

    def drop(self) -> None:
        for table in (self.ids, self.persons, self.facilities):
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
