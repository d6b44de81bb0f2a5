"""The engine interface: the only place the batch pipeline meets DuckDB or Spark.

Stages produce SQL in the DuckDB dialect (the reference dialect); an engine whose dialect differs
transpiles it (sqlglot) before running. No stage imports an engine implementation.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
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
    """The SQL dialect an engine runs, by its sqlglot name ("duckdb", "spark").

    Stages never ask for it: they all write the reference dialect, and the engine translates.
    """

    name: str


REFERENCE_DIALECT = Dialect(name="duckdb")
"""The dialect every stage writes its SQL in."""


FileFormat = Literal["csv", "parquet"]


def sql_string(value: str | Path) -> str:
    """``value`` as a SQL string literal (a file path, a name), quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a column of an input file may hold any character)."""
    return '"' + name.replace('"', '""') + '"'


ROW_NUMBER_COLUMN = "__vx_row_number"

# Rows a file reader could not read: where, which column (when known), why, and the raw line.
LOAD_REJECT_SCHEMA = pa.schema([
    ("row_number", pa.int64()), ("column_name", pa.string()), ("error", pa.string()),
    ("line", pa.string()),
])


class Engine(ABC):
    """A batch SQL engine holding named tables.

    Implementations provide the abstract methods below (running SQL in their own dialect,
    registering, loading and writing tables, Arrow functions, Splink); everything else is built
    on them here.
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
        encoding: str = "utf-8", columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Load a CSV or Parquet file as table ``name``, every column as text.

        Adds ``ROW_NUMBER_COLUMN`` (1-based data row, header not counted). Rows that cannot be
        read (wrong column count, bad encoding) are left out and returned as Arrow with the
        columns of ``LOAD_REJECT_SCHEMA``, one row per unreadable row (its first fault).
        With ``columns`` (the header's names, read by the caller) and ``delimiter``, a CSV is
        read in a fixed dialect (``"`` quotes, ``""`` escapes) without sniffing, so one damaged
        row cannot change how the whole file is read.
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
        """Reference-dialect (DuckDB) SQL in this engine's dialect (identity for DuckDB)."""
        if self.dialect == REFERENCE_DIALECT:
            return sql
        import sqlglot

        return ";\n".join(sqlglot.transpile(
            sql, read=REFERENCE_DIALECT.name, write=self.dialect.name, pretty=False))

    @final
    def execute(self, sql: str, *, stage: str = "sql") -> None:
        """Run DuckDB-dialect SQL; failures carry the stage name and the SQL."""
        self._in_stage(stage, sql, self._run)

    @final
    def query(self, sql: str, *, stage: str = "sql") -> pa.Table:
        result: pa.Table = self._in_stage(stage, sql, self._query_arrow)
        return result

    @final
    def query_batches(
        self, sql: str, *, stage: str = "sql", batch_size: int = 10_000
    ) -> Iterator[pa.RecordBatch]:
        """Run a DuckDB-dialect query and yield its rows in Arrow batches of ``batch_size``.

        For results too large to hold at once: an engine that streams (DuckDB) keeps one batch
        in memory. Failures while reading carry the stage name and the SQL, as in :meth:`query`.
        """
        batches: Iterator[pa.RecordBatch] = self._in_stage(
            stage, sql, lambda translated: self._stream_arrow(translated, batch_size)
        )
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except Exception as error:  # engines raise their own types
                raise _stage_error(stage, error, sql) from error
            yield batch

    def _stream_arrow(self, sql: str, batch_size: int) -> Iterator[pa.RecordBatch]:
        """Rows of a query in this engine's own dialect, in batches; the default collects first."""
        return iter(self._query_arrow(sql).to_batches(batch_size))

    def _in_stage(self, stage: str, sql: str, action: Callable[[str], Any]) -> Any:
        """Translate and run ``sql``; wrap any failure, translation included, once, here."""
        translated = sql
        try:
            translated = self.translate(sql)
            logger.log(SQL_LOG_LEVEL, "[%s] %s", stage, translated)
            return action(translated)
        except Exception as error:  # engines raise their own types
            raise _stage_error(stage, error, translated) from error

    @final
    def create_table(self, name: str, sql: str, *, stage: str | None = None) -> None:
        """Materialise a query as table ``name`` (replacing it)."""
        self.drop(name)
        self.execute(f"CREATE TABLE {name} AS {sql}", stage=stage or name)

    def drop(self, name: str) -> None:
        self._run(f"DROP TABLE IF EXISTS {name}")
        self._run(f"DROP VIEW IF EXISTS {name}")

    def create_parked_table(self, name: str, sql: str, *, stage: str | None = None) -> None:
        """Materialise a query as table ``name`` kept on disk instead of in memory.

        For a table that one stage reads and then only the end of the run (the raw inputs): an
        engine that holds its tables in memory writes the rows to its scratch folder and reads
        them from there; the default (tables on disk already, or no scratch folder) is
        :meth:`create_table`.
        """
        self.create_table(name, sql, stage=stage)

    @final
    def to_arrow(self, name: str) -> pa.Table:
        return self.query(f"SELECT * FROM {name}")

    def write_csv(self, name: str, path: Path) -> None:
        """Write table ``name`` (flat columns only) to one CSV file with a header row, for people.

        Text is spreadsheet-safe (:mod:`vaxtrust.spreadsheet`: a leading ``'`` before a formula
        start). The default goes through Arrow on the driver; engines override it with a native
        writer that does the same.
        """
        import pyarrow.csv as pacsv

        from vaxtrust.spreadsheet import safe_table

        pacsv.write_csv(safe_table(self.to_arrow(name)), path)

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


def _stage_error(stage: str, error: Exception, sql: str) -> PipelineStageError:
    first_line = (str(error).splitlines() or [type(error).__name__])[0]
    return PipelineStageError(stage, first_line, sql)
