from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from vaxtrust.engine import create_engine
from vaxtrust.errors import ConfigError, PipelineStageError


def test_register_query_and_parquet_round_trip(tmp_path: Path) -> None:
    with create_engine("duckdb") as engine:
        engine.register("people", pa.table({"id": ["1", "2"], "n": [1, 2]}))
        engine.create_table("doubled", "SELECT id, n * 2 AS n2 FROM people")
        assert engine.count("doubled") == 2
        out = tmp_path / "d.parquet"
        engine.write_parquet("doubled", out)
        engine.register("again", out)
        assert sorted(engine.to_arrow("again").column("n2").to_pylist()) == [2, 4]


def test_failing_sql_names_the_stage() -> None:
    with create_engine("duckdb") as engine:
        with pytest.raises(PipelineStageError) as info:
            engine.execute("SELECT * FROM missing_table", stage="match")
        assert info.value.stage == "match"
        assert "missing_table" in (info.value.sql or "")


def test_vectorised_function_is_callable_from_sql() -> None:
    with create_engine("duckdb") as engine:
        engine.register_function("shout", lambda a: pc.utf8_upper(a), [pa.string()], pa.string())
        assert engine.query("SELECT shout('hà') AS s").column("s")[0].as_py() == "HÀ"


def test_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        create_engine("oracle")
