"""Fixtures of the vn tests: one DuckDB engine with the vn functions registered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vaxtrust.engine.duckdb import DuckDBEngine
from vaxtrust.pipeline.standardise import register_vn_functions


@pytest.fixture(scope="module")
def vn_engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(threads=2)
    register_vn_functions(engine)
    yield engine
    engine.close()
