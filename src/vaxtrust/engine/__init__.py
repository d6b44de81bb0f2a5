"""Batch engines. Pick one with :func:`create_engine`; stages only see :class:`Engine`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vaxtrust.engine.base import REFERENCE_DIALECT, Dialect, Engine, sql_string
from vaxtrust.errors import ConfigError

__all__ = ["REFERENCE_DIALECT", "Dialect", "Engine", "create_engine", "small_job_engine",
           "sql_string"]


def create_engine(kind: str = "duckdb", **options: Any) -> Engine:
    """Build the engine named ``kind`` ("duckdb" or "spark") with its options."""
    if kind == "duckdb":
        from vaxtrust.engine.duckdb import DuckDBEngine

        return DuckDBEngine(**options)
    if kind == "spark":
        from vaxtrust.engine.spark import SparkEngine  # type: ignore[import-not-found,unused-ignore]

        return SparkEngine(**options)
    raise ConfigError(f"unknown engine {kind!r}: choose duckdb or spark")


def small_job_engine(*, threads: int | None = 1, memory_limit: str | None = None,
                     temp_directory: str | Path | None = None) -> Engine:
    """An in-memory DuckDB engine for a small job beside the batch pipeline.

    The one way code outside the pipeline (the store, signing, evaluation) runs SQL over a
    run's Parquet files or small Arrow tables: the same dialect, error wrapping
    (:class:`~vaxtrust.errors.PipelineStageError`) and streaming (:meth:`Engine.query_batches`)
    as the pipeline, instead of a raw ``duckdb.connect()``. One thread by default, so a small job
    does not compete with a running batch; ``threads=None`` takes every core. ``temp_directory``
    is where it spills beyond ``memory_limit``. It never draws DuckDB's progress bar on the
    terminal. Use it as a context manager so it closes.
    """
    from vaxtrust.engine.duckdb import DuckDBEngine

    engine = DuckDBEngine(":memory:", threads=threads or os.cpu_count() or 1,
                          memory_limit=memory_limit, temp_directory=temp_directory)
    engine.execute("SET enable_progress_bar = false", stage="small job")
    return engine
