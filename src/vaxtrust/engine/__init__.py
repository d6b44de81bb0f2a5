"""Batch engines. Pick one with :func:`create_engine`; stages only see :class:`Engine`."""

from __future__ import annotations

from typing import Any

from vaxtrust.engine.base import Dialect, Engine
from vaxtrust.errors import ConfigError

__all__ = ["Dialect", "Engine", "create_engine"]


def create_engine(kind: str = "duckdb", **options: Any) -> Engine:
    """Build the engine named ``kind`` ("duckdb" or "spark") with its options."""
    if kind == "duckdb":
        from vaxtrust.engine.duckdb import DuckDBEngine

        return DuckDBEngine(**options)
    if kind == "spark":
        from vaxtrust.engine.spark import SparkEngine  # type: ignore[import-not-found,unused-ignore]

        return SparkEngine(**options)
    raise ConfigError(f"unknown engine {kind!r}: choose duckdb or spark")
