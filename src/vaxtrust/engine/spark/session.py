"""The Spark application a process shares: starting or joining it, and its SQL settings."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from vaxtrust.errors import EngineError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "install PySpark with `pip install 'vaxtrust[spark]'` and Java 17 with "
    "`apt-get install openjdk-17-jre-headless` (or set JAVA_HOME)"
)


def require_pyspark() -> None:
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


def default_shuffle_partitions(master: str) -> int:
    """Local mode: one partition per core (Spark's 200 would be 200 tiny tasks per shuffle)."""
    if master.startswith("local"):
        inside = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
        return max(1, os.cpu_count() or 1) if inside == "*" else max(1, int(inside or 1))
    return 200


def session_settings(shuffle_partitions: int, conf: dict[str, str]) -> dict[str, str]:
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


def shared_session(
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
    for key, value in {**session_settings(shuffle_partitions, conf), **conf}.items():
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
def one_line_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        if type(error).__module__.startswith(("pyspark", "py4j")):
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            raise SparkSQLError(lines[0] if lines else type(error).__name__) from error
        raise
