"""The engine interface: the only place the batch pipeline meets DuckDB or Spark.

Stages produce SQL in the DuckDB dialect (the reference dialect); an engine whose dialect differs
transpiles it (sqlglot) before running. No stage imports an engine implementation.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, final

import pyarrow as pa

from vaxtrust.errors import PipelineStageError

logger = logging.getLogger(__name__)

SQL_LOG_LEVEL = 5  # below DEBUG: full SQL of every statement
logging.addLevelName(SQL_LOG_LEVEL, "SQL")


@dataclass(frozen=True)
class Dialect:
    """What an engine's SQL can do, so stages never ask which engine they run on."""

    name: str                      # sqlglot dialect name: "duckdb" | "spark"
    supports_list_lambdas: bool    # list_transform(x, lambda) style functions
    supports_python_udf: bool      # scalar vectorised Python functions over Arrow


FileFormat = Literal["csv", "parquet"]

ROW_NUMBER_COLUMN = "__vx_row_number"

# Rows a file reader could not read: where, which column (when known), why, and the raw line.
LOAD_REJECT_SCHEMA = pa.schema([
    ("row_number", pa.int64()), ("column_name", pa.string()), ("error", pa.string()),
    ("line", pa.string()),
])


class Engine(ABC):
    """A batch SQL engine holding named tables.

    Implementations provide the five primitives; everything else is built on them here.
    """

    dialect: Dialect

    # -- primitives -----------------------------------------------------------------------------
    @abstractmethod
    def _run(self, sql: str) -> None:
        """Run a statement in this engine's own dialect."""

    @abstractmethod
    def _query_arrow(self, sql: str) -> pa.Table:
        """Run a query in this engine's own dialect and return all rows as Arrow."""

    @abstractmethod
    def register(self, name: str, data: pa.Table | Path | str) -> None:
        """Make an Arrow table, or a Parquet file or folder, visible as table ``name``."""

    @abstractmethod
    def load_file(
        self, name: str, path: Path, *, file_format: FileFormat, delimiter: str | None = None,
        encoding: str = "utf-8",
    ) -> pa.Table:
        """Load a CSV or Parquet file as table ``name``, every column as text.

        Adds ``ROW_NUMBER_COLUMN`` (1-based data row, header not counted). Rows that cannot be
        read (wrong column count, bad encoding) are left out and returned as Arrow with the
        columns of ``LOAD_REJECT_SCHEMA``, one row per unreadable row (its first fault).
        """

    @abstractmethod
    def table_exists(self, name: str) -> bool: ...

    @abstractmethod
    def write_parquet(self, name: str, path: Path) -> None:
        """Write table ``name`` to a Parquet file (or folder, for distributed engines)."""

    @abstractmethod
    def register_function(
        self, name: str, fn: Callable[..., pa.Array], arg_types: list[pa.DataType],
        return_type: pa.DataType,
    ) -> None:
        """Register a vectorised scalar function over Arrow arrays, callable from SQL."""

    @abstractmethod
    def splink_db_api(self) -> Any:
        """The Splink DatabaseAPI that runs Splink on this same engine."""

    @abstractmethod
    def close(self) -> None: ...

    # -- shared behaviour -----------------------------------------------------------------------
    def translate(self, sql: str) -> str:
        """DuckDB-dialect SQL in this engine's dialect (identity for DuckDB)."""
        if self.dialect.name == "duckdb":
            return sql
        import sqlglot

        return ";\n".join(
            sqlglot.transpile(sql, read="duckdb", write=self.dialect.name, pretty=False)
        )

    @final
    def execute(self, sql: str, *, stage: str = "sql") -> None:
        """Run DuckDB-dialect SQL; failures carry the stage name and the SQL."""
        self._in_stage(stage, sql, self._run)

    @final
    def query(self, sql: str, *, stage: str = "sql") -> pa.Table:
        result: pa.Table = self._in_stage(stage, sql, self._query_arrow)
        return result

    def _in_stage(self, stage: str, sql: str, action: Callable[[str], Any]) -> Any:
        """Translate and run ``sql``; wrap any failure, translation included, once, here."""
        translated = sql
        try:
            translated = self.translate(sql)
            logger.log(SQL_LOG_LEVEL, "[%s] %s", stage, translated)
            return action(translated)
        except Exception as error:  # engines raise their own types
            first_line = (str(error).splitlines() or [type(error).__name__])[0]
            raise PipelineStageError(stage, first_line, translated) from error

    @final
    def create_table(self, name: str, sql: str, *, stage: str | None = None) -> None:
        """Materialise a query as table ``name`` (replacing it)."""
        self.drop(name)
        self.execute(f"CREATE TABLE {name} AS {sql}", stage=stage or name)

    def drop(self, name: str) -> None:
        self._run(f"DROP TABLE IF EXISTS {name}")
        self._run(f"DROP VIEW IF EXISTS {name}")

    @final
    def to_arrow(self, name: str) -> pa.Table:
        return self.query(f"SELECT * FROM {name}")

    def write_csv(self, name: str, path: Path) -> None:
        """Write table ``name`` (flat columns only) to one CSV file with a header row.

        The default goes through Arrow on the driver; engines override it with a native writer.
        """
        import pyarrow.csv as pacsv

        pacsv.write_csv(self.to_arrow(name), path)

    @final
    def columns(self, name: str) -> list[str]:
        return list(self.query(f"SELECT * FROM {name} LIMIT 0").schema.names)

    @final
    def count(self, name: str) -> int:
        return int(self.query(f"SELECT count(*) AS n FROM {name}").column("n")[0].as_py())

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
