"""Apache Spark (PySpark 4), the engine for runs that outgrow one machine.

Every engine gets its own Spark session (``SparkSession.newSession``) on one shared SparkContext
and its own database, located in its scratch directory. Tables made by ``CREATE TABLE ... AS`` are
written as Parquet there: a materialised table never recomputes its lineage, so it cannot change
between two reads (a cached view could, when evicted), and it lives on disk, not in memory.
Views become session-scoped temporary views. Stages still write DuckDB SQL; :meth:`translate`
turns it into Spark SQL (sqlglot plus the rewrites of :mod:`vaxtrust.engine.spark_functions`).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from vaxtrust.errors import EngineError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "install PySpark with `pip install 'vaxtrust[spark]'` and Java 17 with "
    "`apt-get install openjdk-17-jre-headless` (or set JAVA_HOME)"
)


def _require_pyspark() -> None:
    """Fail with one line when PySpark or Java is missing, before Spark prints pages of errors."""
    try:
        import pyspark  # noqa: F401
    except ImportError as error:
        raise EngineError(f"the Spark engine needs PySpark, which is not installed: {INSTALL_HINT}") from error
    java_home = os.environ.get("JAVA_HOME")
    java_found = (java_home and Path(java_home, "bin", "java").exists()) or shutil.which("java")
    if not java_found:
        raise EngineError(f"the Spark engine needs Java 17, which was not found: {INSTALL_HINT}")


def _splink_jar() -> str | None:
    """Splink's Scala similarity functions (jaro_winkler, ...) for Spark 4, shipped in its wheel."""
    try:
        from splink.backends.spark import similarity_jar_location

        return str(similarity_jar_location())
    except Exception:  # Splink without its Spark backend: Splink comparisons will say so
        return None


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
        _require_pyspark()
        self._owns_scratch = scratch_dir is None
        scratch = str(scratch_dir or tempfile.mkdtemp(prefix="vaxtrust-spark-"))
        self.scratch_dir = scratch.rstrip("/")
        self._stop_session_on_close = stop_session_on_close
        partitions = shuffle_partitions or _default_shuffle_partitions(master)
        shared = _shared_session(
            master, app_name=app_name, driver_memory=driver_memory,
            shuffle_partitions=partitions, conf=conf or {},
        )
        self.spark: SparkSession = shared.newSession()
        # newSession copies no runtime SQL settings: set ours on this session again
        for key, value in _session_settings(partitions, conf or {}).items():
            self.spark.conf.set(key, value)
        self._duckdb_functions: set[str] = set()
        self.database = f"vaxtrust_{uuid.uuid4().hex[:12]}"
        self._run(f"CREATE DATABASE {self.database} LOCATION '{self.scratch_dir}/tables'")
        self._run(f"USE {self.database}")
        self.spark.sparkContext.setCheckpointDir(f"{self.scratch_dir}/checkpoints")
        from vaxtrust.engine.spark_functions import register_duckdb_functions

        register_duckdb_functions(self.spark)

    # -- primitives -----------------------------------------------------------------------------
    def translate(self, sql: str) -> str:
        from vaxtrust.engine import spark_functions

        try:
            translation = spark_functions.translate(sql)
        except Exception as error:  # sqlglot parse errors and our TranslationError alike
            raise EngineError(
                f"cannot run this SQL on Spark: {str(error).splitlines()[0]}"
            ) from error
        self._register_duckdb_functions(translation.functions)
        return translation.sql

    def _run(self, sql: str) -> None:
        with _one_line_errors():
            for statement in _split_statements(sql):
                self.spark.sql(statement)

    def _query_arrow(self, sql: str) -> pa.Table:
        with _one_line_errors():
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
        encoding: str = "utf-8",
    ) -> pa.Table:
        """Read a file the driver can see with DuckDB's reader, so both engines read it alike.

        The same parser gives the same rows, row numbers and reject messages on both engines;
        its output goes to Parquet in the scratch folder and Spark reads that. A Parquet input
        on storage only the cluster reaches (``hdfs://``, ``s3a://``) is read by Spark itself.
        """
        self.drop(name)
        if file_format == "parquet" and _is_remote(str(path)):
            self._load_remote_parquet(name, str(path))
            return LOAD_REJECT_SCHEMA.empty_table()
        from vaxtrust.engine.duckdb import DuckDBEngine

        # a leading "_" or "." would make Spark skip the file as hidden
        staged = Path(self.scratch_dir, "ingest", f"staged-{name}.parquet")
        staged.parent.mkdir(parents=True, exist_ok=True)
        with DuckDBEngine(temp_directory=Path(self.scratch_dir, "duckdb-spill")) as reader:
            rejects = reader.load_file(
                name, path, file_format=file_format, delimiter=delimiter, encoding=encoding
            )
            reader.write_parquet(name, staged)
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
        """One CSV file written by DuckDB's writer, so both engines quote and format alike.

        Spark stages the table as Parquet in the scratch folder; DuckDB streams it from there,
        so the driver never holds the table in memory.
        """
        from vaxtrust.engine.duckdb import DuckDBEngine

        staged = Path(self.scratch_dir, "csv", f"staged-{name}")
        self.write_parquet(name, staged)
        with DuckDBEngine(temp_directory=Path(self.scratch_dir, "duckdb-spill")) as writer:
            writer.register(name, staged)
            writer.write_csv(name, path)
        shutil.rmtree(staged, ignore_errors=True)

    def register_function(
        self, name: str, fn: Callable[..., pa.Array], arg_types: list[pa.DataType],
        return_type: pa.DataType,
    ) -> None:
        from vaxtrust.engine.spark_functions import register_arrow_function

        register_arrow_function(self.spark, name, fn, arg_types, return_type)

    def splink_db_api(self) -> Any:
        from splink import SparkAPI

        from vaxtrust.engine import spark_functions

        engine = self

        class VaxtrustSparkAPI(SparkAPI):  # type: ignore[misc,unused-ignore]
            """Splink on this session; our DuckDB comparison functions keep DuckDB's answers."""

            def _setup_for_execute_sql(self, sql: str, physical_name: str) -> str:
                translation = spark_functions.translate_splink(
                    super()._setup_for_execute_sql(sql, physical_name)
                )
                engine._register_duckdb_functions(translation.functions)
                return translation.sql

        # parquet break-lineage: Splink's intermediate tables go to our checkpoint folder
        return VaxtrustSparkAPI(spark_session=self.spark, break_lineage_method="parquet")

    def _register_duckdb_functions(self, functions: list[Any]) -> None:
        from vaxtrust.engine import spark_functions

        for function in functions:
            if function.name not in self._duckdb_functions:
                spark_functions.register_duckdb_function(self.spark, function)
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


# -- the shared Spark application ---------------------------------------------------------------
def _default_shuffle_partitions(master: str) -> int:
    """Local mode: one partition per core (Spark's 200 would be 200 tiny tasks per shuffle)."""
    if master.startswith("local"):
        inside = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
        return max(1, os.cpu_count() or 1) if inside == "*" else max(1, int(inside or 1))
    return 200


def _session_settings(shuffle_partitions: int, conf: dict[str, str]) -> dict[str, str]:
    """Runtime SQL settings that make Spark SQL behave as the DuckDB reference does."""
    settings = {
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        # DuckDB gives NULL for x / 0 and for a list index out of range; ANSI mode raises
        "spark.sql.ansi.enabled": "false",
        "spark.sql.sources.default": "parquet",
        "spark.sql.parquet.compression.codec": "zstd",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # DuckDB: the length of a NULL list is NULL (Spark's legacy answer is -1)
        "spark.sql.legacy.sizeOfNull": "false",
        # DuckDB's to_json writes "field": null; Spark would leave the field out
        "spark.sql.jsonGenerator.ignoreNullFields": "false",
    }
    settings.update({key: value for key, value in conf.items() if key.startswith("spark.sql.")})
    return settings


def _shared_session(
    master: str, *, app_name: str, driver_memory: str, shuffle_partitions: int,
    conf: dict[str, str],
) -> SparkSession:
    """The process's one Spark application (started on first use, joined afterwards)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:  # spark-submit, a notebook, or an engine made earlier
        logger.info("joining the running Spark application (master %s)", active.sparkContext.master)
        return active
    # the Python workers must run this interpreter (the one with pyarrow), not PATH's python3
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master).appName(app_name)
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    jar = _splink_jar()
    if jar:
        builder = builder.config("spark.jars", jar)
    for key, value in {**_session_settings(shuffle_partitions, conf), **conf}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:
        raise EngineError(
            f"Spark did not start ({str(error).splitlines()[0]}): {INSTALL_HINT}"
        ) from error
    # failures reach the caller as exceptions; Spark's own ERROR lines would only repeat them
    session.sparkContext.setLogLevel("FATAL")
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).disabled = True
    return session


class SparkSQLError(RuntimeError):
    """A Spark failure reduced to its first meaningful line (Spark's own text starts blank)."""


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        if type(error).__module__.startswith(("pyspark", "py4j")):
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            raise SparkSQLError(lines[0] if lines else type(error).__name__) from error
        raise


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


def _is_remote(path: str) -> bool:
    """A URI of a Hadoop file system (hdfs://, s3a://, abfss://, ...), not a driver path."""
    scheme, separator, _ = path.partition("://")
    return bool(separator) and scheme.lower() != "file"


def _spark_compatible(table: pa.Table) -> pa.Table:
    """Arrow columns of the null type have no Parquet form: store them as text."""
    for index, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table
