"""Apache Spark (PySpark 4), the engine for runs that outgrow one machine.

The package, along its seams:

- :mod:`~vaxtrust.engine.spark.engine` - :class:`SparkEngine`, the :class:`~vaxtrust.engine.Engine`
  on an isolated session with its tables on disk;
- :mod:`~vaxtrust.engine.spark.session` - starting or joining the process's Spark application and
  the SQL settings that make Spark behave as the DuckDB reference;
- :mod:`~vaxtrust.engine.spark.translate` - DuckDB SQL as Spark SQL with DuckDB's meaning (sqlglot
  plus rewrites; pure text, no Spark needed);
- :mod:`~vaxtrust.engine.spark.udfs` - the Python-side runtime: Arrow UDFs and DuckDB evaluating
  inside the executors the functions Spark lacks;
- :mod:`~vaxtrust.engine.spark.files` - files the driver sees, read and written by DuckDB on the
  driver so both engines give the same rows, rejects and CSV files.

PySpark is imported only when an engine starts, so this package imports without it.
"""

from vaxtrust.engine.spark.engine import SparkEngine

__all__ = ["SparkEngine"]
