"""The Python-side runtime of the Spark engine: Arrow UDFs, and DuckDB inside the executors.

Two kinds of functions are registered on a Spark session, both as vectorised Arrow UDFs through
one registrar (:func:`register_arrow_function`):

- the stages' own Python functions (``Engine.register_function``), such as the name repair;
- :class:`~vaxtrust.engine.spark.translate.DuckDBFunction` s: DuckDB expressions Spark has no
  faithful form for, evaluated by an in-memory DuckDB in each Python worker, so that Spark gives
  DuckDB's exact answers. The DuckDB built-ins of
  :data:`~vaxtrust.engine.spark.translate.DUCKDB_FUNCTIONS` are registered under their own names.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa

from vaxtrust.engine.spark.translate import DUCKDB_FUNCTIONS, DuckDBFunction

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def register_arrow_function(
    spark: SparkSession, name: str, fn: Callable[..., pa.Array],
    arg_types: list[pa.DataType] | None, return_type: pa.DataType,
) -> None:
    """Register ``fn`` (Arrow arrays in, one Arrow array out) as a Spark SQL function.

    Arguments are cast to ``arg_types`` first (when given), as DuckDB does for a registered
    function, and the result to ``return_type``; NULLs reach ``fn`` (DuckDB's
    ``null_handling="special"``).
    """
    from pyspark.sql.functions import ArrowUDFType, arrow_udf
    from pyspark.sql.pandas.types import from_arrow_type

    def call(*arrays: pa.Array) -> pa.Array:
        cast = arrays if arg_types is None else [
            array.cast(kind) for array, kind in zip(arrays, arg_types, strict=True)]
        result = fn(*cast)
        if isinstance(result, pa.ChunkedArray):
            result = result.combine_chunks()
        return result.cast(return_type)

    with warnings.catch_warnings():  # PySpark prefers type hints, which a generic wrapper lacks
        warnings.simplefilter("ignore", UserWarning)
        udf = arrow_udf(call, from_arrow_type(return_type), ArrowUDFType.SCALAR)
    spark.udf.register(name, udf)


def register_duckdb_function(spark: SparkSession, function: DuckDBFunction) -> None:
    """Register a :class:`DuckDBFunction` on ``spark`` under its name."""
    evaluate = _duckdb_evaluator(function.template, function.return_type)
    register_arrow_function(spark, function.name, evaluate, None, function.return_type)


def register_duckdb_functions(spark: SparkSession) -> None:
    """DuckDB built-ins Spark lacks, under DuckDB's names, computed by DuckDB itself.

    Also for SQL that reaches Spark untranslated, such as Splink's custom comparison levels.
    """
    for name, (arity, return_type) in DUCKDB_FUNCTIONS.items():
        template = f"{name}({', '.join(f'a{i}' for i in range(arity))})"
        register_arrow_function(spark, name, _duckdb_evaluator(template, return_type), None,
                                return_type)


def _duckdb_evaluator(template: str, return_type: pa.DataType) -> Callable[..., pa.Array]:
    """A picklable function running ``SELECT template`` with DuckDB over Arrow arguments."""

    def evaluate(*arrays: pa.Array) -> pa.Array:
        import duckdb

        batch = pa.table({f"a{i}": array for i, array in enumerate(arrays)})
        if not arrays:
            raise ValueError("a DuckDB-evaluated function needs at least one argument")
        connection = _worker_connection(duckdb)
        relation = connection.from_arrow(batch)  # type: ignore[attr-defined]
        try:
            result = relation.project(f"{template} AS v").to_arrow_table()
        except duckdb.Error:
            # Spark evaluates a Python UDF on every row, also rows a CASE would never reach in
            # DuckDB (hamming of strings of unequal length): a row that fails gives NULL here
            result = relation.project(f"TRY({template}) AS v").to_arrow_table()
        column = result.column("v").combine_chunks()
        return column.cast(return_type)

    return evaluate


_WORKER_CONNECTION: list[object] = []


def _worker_connection(duckdb_module: object) -> object:
    """One in-memory DuckDB per Python worker; single-threaded (Spark gives the parallelism)."""
    if not _WORKER_CONNECTION:
        connection = duckdb_module.connect(":memory:")  # type: ignore[attr-defined]
        connection.execute("SET threads = 1")
        connection.execute("SET preserve_insertion_order = true")
        _WORKER_CONNECTION.append(connection)
    return _WORKER_CONNECTION[0]
