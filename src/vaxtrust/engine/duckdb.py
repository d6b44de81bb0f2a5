"""DuckDB, the embedded default engine."""

from __future__ import annotations

import mmap
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from vaxtrust.engine.base import (
    LOAD_REJECT_SCHEMA,
    REFERENCE_DIALECT,
    ROW_NUMBER_COLUMN,
    Engine,
    FileFormat,
    sql_identifier,
    sql_string,
)
from vaxtrust.spreadsheet import safe_cell_sql

_ARROW_TO_DUCKDB = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
}


def _blank_data_rows(path: Path, encoding: str) -> list[int]:
    """Data-row numbers of blank lines in a CSV file, by a fast byte scan.

    Counts physical lines, which equal CSV rows unless a quoted value spans lines before them.
    One regular-expression pass over the mapped file (the file is never copied into memory;
    at 10 M records a search per needle over 16 MB chunks took 11 s of one core, this 1 s):
    a blank line starts after a line break followed by another one (``\\r`` between allowed).
    """
    codec = "utf-16-le" if encoding.lower().startswith("utf-16") else "utf-8"
    newline, carriage = "\n".encode(codec), "\r".encode(codec)
    # the second break is looked ahead, not consumed: in a run of blank lines each is found
    blank = re.compile(re.escape(newline) + b"(?=(?:" + re.escape(carriage) + b")?"
                       + re.escape(newline) + b")")
    if path.stat().st_size == 0:
        return []
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        # a blank line begins just after the first break of a match; the file's first line is
        # blank when the file starts with a break
        starts = [match.start() + len(newline) for match in blank.finditer(data)]
        head = data[:len(carriage + newline)]
        if head.startswith(newline) or head.startswith(carriage + newline):
            starts.insert(0, 0)
        rows: list[int] = []
        line, counted = 0, 0
        for begin in starts:  # line breaks counted once, incrementally: many blanks stay linear
            line += data[counted:begin].count(newline)
            counted = begin
            rows.append(line)  # breaks before the blank line = its data-row number
    return sorted(set(rows))


DEFAULT_MEMORY_SHARE = 0.6
"""Share of the machine's memory DuckDB may use when no limit is given (DuckDB's own is 80 %)."""

_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"),  # cgroup v2
                  Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))  # cgroup v1


def _machine_memory() -> int | None:
    """Bytes of memory this process may use: physical memory, or a smaller container limit."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None
    if total <= 0:
        return None
    for path in _CGROUP_LIMITS:
        try:
            limit = int(path.read_text().strip())
        except (OSError, ValueError):  # missing, or "max"
            continue
        if 0 < limit < total:
            total = limit
    return total


def default_memory_limit() -> str | None:
    """The DuckDB memory limit used when none is given: 60 % of the machine's memory.

    DuckDB's own default (80 %) leaves too little for the Python side of a run (vectorised UDFs,
    Arrow batches, Splink), which is not counted against it: a 10 M x 10 M run peaked at 19.3 GB
    of 24 GB with it, 14.9 GB with this. ``None`` when the memory cannot be read; DuckDB's default
    then applies.
    """
    total = _machine_memory()
    if total is None:
        return None
    return f"{max(int(total * DEFAULT_MEMORY_SHARE) >> 20, 256)}MiB"


class DuckDBEngine(Engine):
    """DuckDB in-process; a file database or memory, spilling to ``temp_directory``.

    Without ``memory_limit`` DuckDB may use :func:`default_memory_limit` (60 % of the machine).
    ``reuse_memory`` (for a batch run, closed when done) keeps the memory of dropped tables for
    the next ones instead of handing it back to the system: DuckDB's block allocator, sized to
    the memory limit. A run makes and drops tables of millions of rows, and taking memory back
    from the system page by page (page faults: the system CPU time) was a sixth of a 10 M run's
    CPU; the allocator cut the faults by an eighth and the run's time by 4-5 %. The memory goes
    back when the engine closes.
    """

    dialect = REFERENCE_DIALECT

    def __init__(
        self,
        database: str | Path = ":memory:",
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | Path | None = None,
        reuse_memory: bool = False,
    ) -> None:
        self.connection = duckdb.connect(str(database))
        # parked tables (create_parked_table) live here, beside the spill, and go when the
        # engine closes
        self._parked = Path(temp_directory, "parked") if temp_directory else None
        self._run(f"SET threads = {threads or os.cpu_count() or 1}")
        memory_limit = memory_limit or default_memory_limit()
        if memory_limit:
            self._run(f"SET memory_limit = {sql_string(memory_limit)}")
            if reuse_memory:
                self._run(f"SET block_allocator_memory = {sql_string(memory_limit)}")
        if temp_directory:
            self._run(f"SET temp_directory = {sql_string(temp_directory)}")
        self._run("SET preserve_insertion_order = false")
        # DuckDB draws its own progress bar on stdout for long statements, into the CLI's
        # output and logs; progress is the Console's to report.
        self._run("SET enable_progress_bar = false")

    def _run(self, sql: str) -> None:
        self.connection.execute(sql)

    def _query_arrow(self, sql: str) -> pa.Table:
        return self.connection.sql(sql).to_arrow_table()

    def _stream_arrow(self, sql: str, batch_size: int) -> Iterator[pa.RecordBatch]:
        return iter(self.connection.sql(sql).to_arrow_reader(batch_size))

    def register(self, name: str, data: pa.Table | Path | str) -> None:
        self.drop(name)
        if isinstance(data, pa.Table):
            self.connection.register(f"__arrow_{name}", data)
            self._run(f"CREATE TABLE {name} AS SELECT * FROM __arrow_{name}")
            self.connection.unregister(f"__arrow_{name}")
        else:
            path = Path(data)
            pattern = f"{path}/**/*.parquet" if path.is_dir() else str(path)
            self._run(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({sql_string(pattern)})")

    def load_file(
        self, name: str, path: Path, *, file_format: FileFormat, delimiter: str | None = None,
        encoding: str = "utf-8", columns: Sequence[str] | None = None,
    ) -> pa.Table:
        self.drop(name)
        if file_format == "parquet":
            self._load_parquet(name, path)
            return LOAD_REJECT_SCHEMA.empty_table()
        return self._load_csv(name, path, delimiter=delimiter, encoding=encoding, columns=columns)

    def _load_parquet(self, name: str, path: Path) -> None:
        source = f"read_parquet({sql_string(path)}, file_row_number = true)"
        columns = [row[0] for row in self.connection.execute(f"DESCRIBE SELECT * FROM {source}")
                   .fetchall() if row[0] != "file_row_number"]
        as_text = ", ".join(f"CAST({sql_identifier(c)} AS VARCHAR) AS {sql_identifier(c)}"
                            for c in columns)
        self._run(f"CREATE VIEW {name} AS SELECT {as_text}, "
                  f"file_row_number + 1 AS {ROW_NUMBER_COLUMN} FROM {source}")

    def _load_csv(self, name: str, path: Path, *, delimiter: str | None, encoding: str,
                  columns: Sequence[str] | None) -> pa.Table:
        """read_csv with rejects kept; data rows numbered as in the file despite skipped rows."""
        options = ["all_varchar = true", "header = true", "store_rejects = true",
                   f"rejects_table = '{name}__rejects'", f"rejects_scan = '{name}__scans'",
                   f"encoding = {sql_string(encoding)}", "max_line_size = 1048576"]
        if delimiter:
            options.append(f"delim = {sql_string(delimiter)}")
        if columns is not None:  # a fixed dialect: the sniffer would adapt to a damaged row
            types = ", ".join(f"{sql_string(column)}: 'VARCHAR'" for column in columns)
            options += ["auto_detect = false", "quote = '\"'", "escape = '\"'",
                        f"columns = {{{types}}}"]
        # Insertion order must follow the file so that rowid gives each read row its ordinal.
        self._run("SET preserve_insertion_order = true")
        try:
            self._run(f"CREATE TABLE {name}__read AS SELECT * FROM read_csv({sql_string(path)}, "
                      f"{', '.join(options)})")
        finally:
            self._run("SET preserve_insertion_order = false")
        rejects = self._query_arrow(
            f"SELECT CAST(line - 1 AS BIGINT) AS row_number, column_name, "
            f"CAST(error_type AS VARCHAR) || ': ' || error_message AS error, csv_line AS line "
            f"FROM {name}__rejects "
            f"QUALIFY row_number() OVER (PARTITION BY line ORDER BY column_idx) = 1 ORDER BY line"
        ).cast(LOAD_REJECT_SCHEMA)
        # read_csv skips blank lines silently but counts them in its line numbers.
        blank_rows = pa.table({"r": pa.array(_blank_data_rows(path, encoding), pa.int64())})
        self.connection.register(f"{name}__blank", blank_rows)
        # A read row of ordinal k is data row k + (rows skipped before it). With the skipped rows
        # r_1 < r_2 < ..., every row of ordinal >= r_j - j + 1 lies after at least j of them.
        self._run(f"""
            CREATE TABLE {name}__skipped AS
            SELECT r - j + 1 AS t, max(j) AS j
            FROM (SELECT r, row_number() OVER (ORDER BY r) AS j
                  FROM (SELECT line - 1 AS r FROM {name}__rejects
                        UNION SELECT r FROM {name}__blank))
            GROUP BY ALL
        """)
        self.connection.unregister(f"{name}__blank")
        for helper in (f"{name}__rejects", f"{name}__scans"):
            self.drop(helper)
        # A view, not a copy: the rows are read once more only by the query that uses them.
        if not self.connection.execute(f"SELECT 1 FROM {name}__skipped LIMIT 1").fetchall():
            self._run(f"CREATE VIEW {name} AS SELECT *, CAST(rowid + 1 AS BIGINT) AS "
                      f"{ROW_NUMBER_COLUMN} FROM {name}__read")
            return rejects
        self._run(f"""
            CREATE VIEW {name} AS
            WITH ordered AS (SELECT *, rowid + 1 AS __ordinal FROM {name}__read)
            SELECT ordered.* EXCLUDE (__ordinal),
                   CAST(ordered.__ordinal + coalesce(skipped.j, 0) AS BIGINT)
                       AS {ROW_NUMBER_COLUMN}
            FROM ordered ASOF LEFT JOIN {name}__skipped AS skipped ON ordered.__ordinal >= skipped.t
        """)
        return rejects

    def _table_type(self, name: str) -> str | None:
        """'BASE TABLE' or 'VIEW' for an existing table or view ``name``, else None."""
        rows = self.connection.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        return str(rows[0][0]) if rows else None

    def table_exists(self, name: str) -> bool:
        return self._table_type(name) is not None

    def drop(self, name: str) -> None:
        kind = self._table_type(name)
        if kind:
            self._run(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")
        # a CSV loaded by load_file is a view over these two tables
        for backing in (f"{name}__read", f"{name}__skipped"):
            if self.table_exists(backing):
                self._run(f"DROP TABLE {backing}")

    def create_parked_table(self, name: str, sql: str, *, stage: str | None = None) -> None:
        """Write the query's rows to Parquet in the spill folder and read them from there.

        A table is memory DuckDB would otherwise evict to the spill folder block by block and
        read back for every later statement (at 10 M records the raw inputs hold some 5 GB);
        a Parquet file is compressed, read only by the statement that needs it, and only its
        columns. Written straight from the query: a table first would be one more copy.
        """
        if self._parked is None:
            super().create_parked_table(name, sql, stage=stage)
            return
        self.drop(name)
        self._parked.mkdir(parents=True, exist_ok=True)
        path = self._parked / f"{name}.parquet"
        # A scratch file only DuckDB reads, once or twice: snappy (zstd took a third more CPU to
        # write), Parquet's version 2 pages (an eighth less CPU to write, a tenth smaller)
        self.execute(f"COPY ({sql}) TO {sql_string(path)} "
                     "(FORMAT parquet, COMPRESSION snappy, PARQUET_VERSION v2)",
                     stage=stage or name)
        self.register(name, path)

    def write_parquet(self, name: str, path: Path) -> None:
        # zstd's fastest level: files as small as its default level's (records.parquet at 1 M:
        # 62 MB either way), written with a fifth less CPU
        self._run(f"COPY (SELECT * FROM {name}) TO {sql_string(path)} "
                  "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)")

    def write_csv(self, name: str, path: Path) -> None:
        text_columns = {row[0] for row in self.connection.execute(f"DESCRIBE SELECT * FROM {name}")
                        .fetchall() if row[1] == "VARCHAR"}
        selected = ", ".join(
            f"{safe_cell_sql(sql_identifier(column))} AS {sql_identifier(column)}"
            if column in text_columns else sql_identifier(column)
            for column in self.columns(name))
        self._run(f"COPY (SELECT {selected} FROM {name}) TO {sql_string(path)} "
                  "(FORMAT csv, HEADER true)")

    def register_function(
        self, name: str, fn: Callable[..., pa.Array], arg_types: list[pa.DataType],
        return_type: pa.DataType,
    ) -> None:
        try:
            self.connection.remove_function(name)
        except Exception:  # not registered yet
            pass
        self.connection.create_function(  # type: ignore[call-overload]
            name, fn, [_ARROW_TO_DUCKDB[t] for t in arg_types], _ARROW_TO_DUCKDB[return_type],
            type="arrow", null_handling="special", side_effects=False,
        )

    def splink_db_api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.connection)

    def close(self) -> None:
        self.connection.close()
        if self._parked is not None:
            shutil.rmtree(self._parked, ignore_errors=True)
