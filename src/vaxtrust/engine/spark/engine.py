"""The Spark engine: an isolated session on the shared Spark application, tables on disk.

Every engine gets its own Spark session (``SparkSession.newSession``) on one shared SparkContext
and its own database, located in its scratch directory. Tables made by ``CREATE TABLE ... AS`` are
written as Parquet there: a materialised table never recomputes its lineage, so it cannot change
between two reads (a cached view could, when evicted), and it lives on disk, not in memory.
Views become session-scoped temporary views. Stages still write DuckDB SQL; :meth:`translate`
turns it into Spark SQL (:mod:`vaxtrust.engine.spark.translate`). Files the driver can see are
read, and CSV outputs written, by DuckDB on the driver (:mod:`vaxtrust.engine.spark.files`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from vaxtrust.engine.base import (
    LOAD_REJECT_SCHEMA,
    ROW_NUMBER_COLUMN,
    Dialect,
    Engine,
    FileFormat,
)
from vaxtrust.engine.spark import files, udfs
from vaxtrust.engine.spark import translate as to_spark
from vaxtrust.engine.spark.session import (
    default_shuffle_partitions,
    one_line_errors,
    require_pyspark,
    session_settings,
    shared_session,
)
from vaxtrust.errors import EngineError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)


class SparkEngine(Engine):
    """Spark SQL in local mode or on any cluster reachable through its master URL."""

    dialect = Dialect(name="spark")

    def __init__(
        self,
        master: str = "local[2]",
        *,
        app_name: str = "vaxtrust",
        driver_memory: str = "2g",
        shuffle_partitions: int | None = None,
        scratch_dir: str | Path | None = None,
        stop_session_on_close: bool = False,
        conf: dict[str, str] | None = None,
    ) -> None:
        """Start (or join) the Spark application and open an isolated session in it.

        ``scratch_dir`` holds this engine's tables and checkpoints; on a cluster it must be shared
        storage every executor reaches (an HDFS, S3 or NFS path). ``conf`` adds any Spark setting.
        ``stop_session_on_close`` stops the whole Spark application when this engine closes.
        """
        require_pyspark()
        self._owns_scratch = scratch_dir is None
        scratch = str(scratch_dir or tempfile.mkdtemp(prefix="vaxtrust-spark-"))
        self.scratch_dir = scratch.rstrip("/")
        self._stop_session_on_close = stop_session_on_close
        partitions = shuffle_partitions or default_shuffle_partitions(master)
        shared = shared_session(
            master, app_name=app_name, driver_memory=driver_memory,
            shuffle_partitions=partitions, conf=conf or {},
        )
        self.spark: SparkSession = shared.newSession()
        # newSession copies no runtime SQL settings: set ours on this session again
        for key, value in session_settings(partitions, conf or {}).items():
            self.spark.conf.set(key, value)
        self._duckdb_functions: set[str] = set()
        self.database = f"vaxtrust_{uuid.uuid4().hex[:12]}"
        self._run(f"CREATE DATABASE {self.database} LOCATION '{self.scratch_dir}/tables'")
        self._run(f"USE {self.database}")
        self.spark.sparkContext.setCheckpointDir(f"{self.scratch_dir}/checkpoints")
        udfs.register_duckdb_functions(self.spark)

    # -- primitives -----------------------------------------------------------------------------
    def translate(self, sql: str) -> str:
        try:
            translation = to_spark.translate(sql)
        except Exception as error:  # sqlglot parse errors and our TranslationError alike
            raise EngineError(
                f"cannot run this SQL on Spark: {str(error).splitlines()[0]}"
            ) from error
        self._register_duckdb_functions(translation.functions)
        return translation.sql

    def _run(self, sql: str) -> None:
        with one_line_errors():
            for statement in _split_statements(sql):
                self.spark.sql(statement)

    def _query_arrow(self, sql: str) -> pa.Table:
        with one_line_errors():
            *before, last = _split_statements(sql)
            for statement in before:
                self.spark.sql(statement)
            return self.spark.sql(last).toArrow()

    def register(self, name: str, data: pa.Table | Path | str) -> None:
        self.drop(name)
        if isinstance(data, pa.Table):
            # through the driver into this engine's Parquet tables: usable by every executor
            frame = self.spark.createDataFrame(_spark_compatible(data))
            frame.write.format("parquet").saveAsTable(name)
        else:
            path = str(data)
            reader = self.spark.read.option("recursiveFileLookup", "true")
            reader.parquet(path).createOrReplaceTempView(name)

    def load_file(
        self, name: str, path: Path, *, file_format: FileFormat, delimiter: str | None = None,
        encoding: str = "utf-8", columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Load a file: by DuckDB on the driver when the driver sees it, else by Spark.

        A file the driver can see (any CSV, a local Parquet file) is parsed by DuckDB's reader
        on the driver (:func:`~vaxtrust.engine.spark.files.read_on_driver`), so both engines give
        the same rows, row numbers and reject messages; Spark then reads the Parquet it staged.
        A Parquet input on storage only the cluster reaches (``hdfs://``, ``s3a://``) is read by
        Spark itself.
        """
        self.drop(name)
        if file_format == "parquet" and files.is_remote(str(path)):
            self._load_remote_parquet(name, str(path))
            return LOAD_REJECT_SCHEMA.empty_table()
        staged, rejects = files.read_on_driver(
            Path(self.scratch_dir), name, path, file_format=file_format, delimiter=delimiter,
            encoding=encoding, columns=columns,
        )
        self.spark.read.parquet(str(staged)).write.format("parquet").saveAsTable(name)
        return rejects

    def _load_remote_parquet(self, name: str, path: str) -> None:
        frame = self.spark.read.parquet(path)
        as_text = ", ".join(f"CAST(`{c}` AS STRING) AS `{c}`" for c in frame.columns)
        frame.createOrReplaceTempView(f"{name}__source")
        # row_index is the row's position in its file: the same numbering DuckDB gives a file
        self._run(
            f"CREATE TABLE {name} AS SELECT {as_text}, "
            f"CAST(_metadata.row_index + 1 AS BIGINT) AS {ROW_NUMBER_COLUMN} FROM {name}__source"
        )
        self.spark.catalog.dropTempView(f"{name}__source")

    def table_exists(self, name: str) -> bool:
        return bool(self.spark.catalog.tableExists(name))

    def drop(self, name: str) -> None:
        if not self.spark.catalog.tableExists(name):
            return
        if self.spark.catalog.dropTempView(name):
            return
        kind = self.spark.catalog.getTable(name).tableType
        self._run(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {name}")

    def write_parquet(self, name: str, path: Path) -> None:
        """Write a folder of Parquet part files (read it back with pyarrow or either engine)."""
        self.spark.table(name).write.mode("overwrite").option("compression", "zstd").parquet(
            str(path)
        )

    def write_csv(self, name: str, path: Path) -> None:
        """One CSV file written by DuckDB's writer on the driver, so both engines quote and
        format alike (:func:`~vaxtrust.engine.spark.files.write_csv_on_driver`).

        Spark stages the table as Parquet in the scratch folder; DuckDB streams it from there,
        so the driver never holds the table in memory.
        """
        staged = Path(self.scratch_dir, "csv", f"staged-{name}")
        self.write_parquet(name, staged)
        files.write_csv_on_driver(Path(self.scratch_dir), staged, path)

    def register_function(
        self, name: str, fn: Callable[..., pa.Array], arg_types: list[pa.DataType],
        return_type: pa.DataType,
    ) -> None:
        udfs.register_arrow_function(self.spark, name, fn, arg_types, return_type)

    def splink_db_api(self) -> Any:
        from splink import SparkAPI

        engine = self

        class VaxtrustSparkAPI(SparkAPI):  # type: ignore[misc,unused-ignore]
            """Splink on this session; our DuckDB comparison functions keep DuckDB's answers."""

            def _setup_for_execute_sql(self, sql: str, physical_name: str) -> str:
                translation = to_spark.translate_splink(
                    super()._setup_for_execute_sql(sql, physical_name)
                )
                engine._register_duckdb_functions(translation.functions)
                return translation.sql

        # parquet break-lineage: Splink's intermediate tables go to our checkpoint folder
        return VaxtrustSparkAPI(spark_session=self.spark, break_lineage_method="parquet")

    def _register_duckdb_functions(self, functions: list[to_spark.DuckDBFunction]) -> None:
        for function in functions:
            if function.name not in self._duckdb_functions:
                udfs.register_duckdb_function(self.spark, function)
                self._duckdb_functions.add(function.name)

    def close(self) -> None:
        try:
            self.spark.sql(f"DROP DATABASE IF EXISTS {self.database} CASCADE")
            for view in self.spark.catalog.listTables():
                if view.isTemporary:
                    self.spark.catalog.dropTempView(view.name)
        except Exception as error:  # the application may already be gone; nothing left to free
            logger.debug("closing Spark engine: %s", error)
        if self._stop_session_on_close:
            self.spark.stop()
        if self._owns_scratch:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)


# -- helpers ------------------------------------------------------------------------------------
def _split_statements(sql: str) -> list[str]:
    """Split on top-level semicolons (Spark runs one statement per call); literals stay whole."""
    from sqlglot.dialects.spark import Spark
    from sqlglot.tokens import TokenType

    statements: list[str] = []
    start = 0
    for token in Spark().tokenize(sql):
        if token.token_type == TokenType.SEMICOLON:
            statements.append(sql[start : token.start])
            start = token.end + 1
    statements.append(sql[start:])
    return [statement.strip() for statement in statements if statement.strip()] or [sql]


def _spark_compatible(table: pa.Table) -> pa.Table:
    """Arrow columns of the null type have no Parquet form: store them as text."""
    for index, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table
