"""DuckDB, the embedded default engine."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from vaxtrust.engine.base import Dialect, Engine

_ARROW_TO_DUCKDB = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
}


class DuckDBEngine(Engine):
    """DuckDB in-process; a file database or memory, spilling to ``temp_directory``."""

    dialect = Dialect(name="duckdb", supports_list_lambdas=True, supports_python_udf=True)

    def __init__(
        self,
        database: str | Path = ":memory:",
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | Path | None = None,
    ) -> None:
        self.connection = duckdb.connect(str(database))
        self._run(f"SET threads = {threads or os.cpu_count() or 1}")
        if memory_limit:
            self._run(f"SET memory_limit = '{memory_limit}'")
        if temp_directory:
            self._run(f"SET temp_directory = '{temp_directory}'")
        self._run("SET preserve_insertion_order = false")

    def _run(self, sql: str) -> None:
        self.connection.execute(sql)

    def _query_arrow(self, sql: str) -> pa.Table:
        return self.connection.execute(sql).to_arrow_table()

    def register(self, name: str, data: pa.Table | Path | str) -> None:
        self.drop(name)
        if isinstance(data, pa.Table):
            self.connection.register(f"__arrow_{name}", data)
            self._run(f"CREATE TABLE {name} AS SELECT * FROM __arrow_{name}")
            self.connection.unregister(f"__arrow_{name}")
        else:
            path = Path(data)
            pattern = f"{path}/**/*.parquet" if path.is_dir() else str(path)
            self._run(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{pattern}')")

    def table_exists(self, name: str) -> bool:
        rows = self.connection.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        return bool(rows)

    def drop(self, name: str) -> None:
        kind = self.connection.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        if kind:
            self._run(f"DROP {'VIEW' if kind[0][0] == 'VIEW' else 'TABLE'} {name}")

    def write_parquet(self, name: str, path: Path) -> None:
        self._run(f"COPY (SELECT * FROM {name}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")

    def register_function(
        self, name: str, fn: Callable[..., pa.Array], arg_types: list[pa.DataType],
        return_type: pa.DataType,
    ) -> None:
        try:
            self.connection.remove_function(name)
        except Exception:  # not registered yet
            pass
        self.connection.create_function(
            name, fn, [_ARROW_TO_DUCKDB[t] for t in arg_types], _ARROW_TO_DUCKDB[return_type],
            type="arrow", null_handling="special", side_effects=False,
        )

    def splink_db_api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.connection)

    def close(self) -> None:
        self.connection.close()
