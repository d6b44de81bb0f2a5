from __future__ import annotations

from collections.abc import Iterator

import pytest

from vaxtrust.engine import Engine, create_engine


@pytest.fixture
def engine() -> Iterator[Engine]:
    with create_engine("duckdb", threads=2) as engine:
        yield engine
