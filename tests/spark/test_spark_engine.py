"""The Spark engine keeps the Engine contract exactly as DuckDB does."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from vaxtrust.engine import Engine
from vaxtrust.errors import PipelineStageError

pytestmark = pytest.mark.spark

PEOPLE = pa.table({
    "id": ["001", "002", "003"],
    "name": ["Nguyễn Văn An", None, "Trần Thị Ánh"],
    "born": pa.array([19900101, None, 20011231], pa.int64()),
    "dob": pa.array([None, None, None], pa.null()),
})


def test_register_create_count_and_parquet_round_trip(spark_engine: Engine, tmp_path: Path) -> None:
    spark_engine.register("people", PEOPLE)
    spark_engine.create_table("named", "SELECT id, upper(name) AS name FROM people WHERE name IS NOT NULL")
    assert spark_engine.count("named") == 2
    out = tmp_path / "named.parquet"
    spark_engine.write_parquet("named", out)
    # what Spark writes, pyarrow reads, and the engine registers back
    assert sorted(pq.read_table(out).column("name").to_pylist()) == ["NGUYỄN VĂN AN", "TRẦN THỊ ÁNH"]
    spark_engine.register("again", out)
    assert sorted(spark_engine.to_arrow("again").column("id").to_pylist()) == ["001", "003"]


def test_create_table_replaces_an_existing_table(spark_engine: Engine) -> None:
    spark_engine.register("people", PEOPLE)
    spark_engine.create_table("t", "SELECT id FROM people")
    spark_engine.create_table("t", "SELECT id, name FROM people WHERE id = '001'")
    assert spark_engine.to_arrow("t").to_pylist() == [{"id": "001", "name": "Nguyễn Văn An"}]


def test_views_tables_exist_and_drop(spark_engine: Engine) -> None:
    spark_engine.register("people", PEOPLE)
    spark_engine.execute("CREATE VIEW adults AS SELECT * FROM people WHERE born < 20040101")
    spark_engine.execute("CREATE VIEW adult_names AS SELECT name FROM adults")  # view on a view
    assert spark_engine.table_exists("adults") and spark_engine.table_exists("people")
    assert spark_engine.count("adult_names") == 2
    spark_engine.drop("adult_names")
    spark_engine.drop("people")
    spark_engine.drop("never_made")  # dropping nothing is fine
    assert not spark_engine.table_exists("adult_names")
    assert not spark_engine.table_exists("people")


def test_engines_do_not_see_each_others_tables(spark_engine: Engine, tmp_path: Path) -> None:
    from vaxtrust.engine import create_engine

    spark_engine.register("people", PEOPLE)
    with create_engine("spark", scratch_dir=tmp_path / "other") as other:
        assert not other.table_exists("people")
        other.register("people", PEOPLE.slice(0, 1))
        assert other.count("people") == 1
    assert spark_engine.count("people") == 3


def test_failing_sql_names_the_stage_and_the_spark_sql(spark_engine: Engine) -> None:
    with pytest.raises(PipelineStageError) as info:
        spark_engine.execute("SELECT * FROM missing_table", stage="match")
    assert info.value.stage == "match"
    assert "missing_table" in str(info.value)
    assert "missing_table" in (info.value.sql or "")
    assert "\n" not in str(info.value)  # one line for the CLI


def test_vectorised_function_gets_nulls_and_is_callable_from_sql(spark_engine: Engine) -> None:
    spark_engine.register("people", PEOPLE)

    def shout_or_missing(names: pa.Array) -> pa.Array:
        return pc.coalesce(pc.utf8_upper(names), pa.scalar("MISSING"))

    spark_engine.register_function("shout", shout_or_missing, [pa.string()], pa.string())
    names = spark_engine.query("SELECT shout(name) AS s FROM people ORDER BY id").column("s")
    assert names.to_pylist() == ["NGUYỄN VĂN AN", "MISSING", "TRẦN THỊ ÁNH"]


def test_function_arguments_are_cast_as_declared(spark_engine: Engine) -> None:
    spark_engine.register_function(
        "plus_one", lambda n: pc.add(n, 1), [pa.int64()], pa.int64()
    )
    assert spark_engine.query("SELECT plus_one(CAST(41 AS INTEGER)) AS n").column("n")[0].as_py() == 42


def test_query_runs_several_statements_and_returns_the_last(spark_engine: Engine) -> None:
    result = spark_engine.query(
        "CREATE TABLE semi AS SELECT 'a;b' AS s; SELECT s || ';' AS s FROM semi"
    )
    assert result.column("s").to_pylist() == ["a;b;"]


def test_null_typed_arrow_columns_are_kept(spark_engine: Engine) -> None:
    spark_engine.register("people", PEOPLE)
    assert spark_engine.query("SELECT count(*) AS n FROM people WHERE dob IS NULL").column("n")[0].as_py() == 3


def test_csv_is_written_exactly_as_duckdb_writes_it(
    spark_engine: Engine, tmp_path: Path
) -> None:
    from vaxtrust.engine import create_engine

    texts = []
    with create_engine("duckdb") as duckdb_engine:
        for index, engine in enumerate((spark_engine, duckdb_engine)):
            engine.register("people", PEOPLE.drop_columns(["dob"]))
            engine.write_csv("people", tmp_path / f"{index}.csv")
            lines = (tmp_path / f"{index}.csv").read_text(encoding="utf-8").splitlines()
            texts.append(sorted(lines))
    assert texts[0] == texts[1]
    assert "001,Nguyễn Văn An,19900101" in texts[0]
