"""Spark test set-up: one local Spark application per test run, a fresh engine per test.

Starting the JVM costs seconds, so the application is session-scoped and lazy (only tests that
ask for an engine start it). Each test gets its own engine: its own Spark session and database
on that application, so tests never see each other's tables or functions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from vaxtrust.engine import Engine, create_engine
from vaxtrust.errors import EngineError

SPARK_TEST_OPTIONS = {"master": "local[2]", "shuffle_partitions": 2, "driver_memory": "2g"}


@pytest.fixture(scope="session")
def spark_scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one folder per xdist worker, should anyone run this group in parallel
    return tmp_path_factory.mktemp(f"spark-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")


@pytest.fixture(scope="session")
def spark_available(spark_scratch: Path) -> Iterator[None]:
    """Start the shared Spark application once; skip locally (fail in CI) without PySpark/Java."""
    try:
        first = create_engine("spark", scratch_dir=spark_scratch / "warmup", **SPARK_TEST_OPTIONS)
    except EngineError as error:
        require_service(str(error))
    first.close()
    yield


@pytest.fixture()
def spark_engine(spark_available: None, tmp_path: Path) -> Iterator[Engine]:
    with create_engine("spark", scratch_dir=tmp_path / "spark", **SPARK_TEST_OPTIONS) as engine:
        yield engine


@pytest.fixture()
def duckdb_engine() -> Iterator[Engine]:
    with create_engine("duckdb", threads=2) as engine:
        yield engine
