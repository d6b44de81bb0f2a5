"""Files on the driver, handled by DuckDB: what the Spark engine deliberately does not give Spark.

Spark's CSV reader and writer differ from DuckDB's in what counts as a bad row, how rows are
numbered, which reject messages are given, and how values are quoted and formatted. The cleaning
must give the same rows, rejects and files on both engines, so:

- a file the driver can see (every CSV input, a local Parquet input) is parsed by DuckDB's reader
  on the driver (:func:`read_on_driver`), written as Parquet to the engine's scratch folder, and
  Spark reads that Parquet. Only a Parquet input on storage the driver cannot see (``hdfs://``,
  ``s3a://``, :func:`is_remote`) is read by Spark itself;
- a CSV output is written by DuckDB's writer from Parquet that Spark stages
  (:func:`write_csv_on_driver`).

The driver therefore needs local disk for the inputs (see ``docs/spark.md``). This is the only
place the Spark engine runs DuckDB on the driver; the executors run it only for the functions of
:mod:`vaxtrust.engine.spark.udfs`.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from vaxtrust.engine.base import FileFormat
from vaxtrust.engine.duckdb import DuckDBEngine


def is_remote(path: str) -> bool:
    """A URI of a Hadoop file system (hdfs://, s3a://, abfss://, ...), not a driver path."""
    scheme, separator, _ = path.partition("://")
    return bool(separator) and scheme.lower() != "file"


def read_on_driver(
    scratch_dir: Path, name: str, path: Path, *, file_format: FileFormat,
    delimiter: str | None, encoding: str, columns: Sequence[str] | None = None,
) -> tuple[Path, pa.Table]:
    """Parse ``path`` with DuckDB's reader into a staged Parquet file for Spark to read.

    Returns the staged file and the rows that could not be read (``LOAD_REJECT_SCHEMA``).
    """
    # a leading "_" or "." would make Spark skip the file as hidden
    staged = scratch_dir / "ingest" / f"staged-{name}.parquet"
    staged.parent.mkdir(parents=True, exist_ok=True)
    with DuckDBEngine(temp_directory=scratch_dir / "duckdb-spill") as reader:
        rejects = reader.load_file(
            name, path, file_format=file_format, delimiter=delimiter, encoding=encoding,
            columns=columns,
        )
        reader.write_parquet(name, staged)
    return staged, rejects


def write_csv_on_driver(scratch_dir: Path, staged: Path, path: Path) -> None:
    """Write the Parquet folder ``staged`` (then removed) as one CSV file with DuckDB's writer."""
    with DuckDBEngine(temp_directory=scratch_dir / "duckdb-spill") as writer:
        writer.register("staged", staged)
        writer.write_csv("staged", path)
    shutil.rmtree(staged, ignore_errors=True)
