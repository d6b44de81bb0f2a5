from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from vaxtrust.engine import Engine, create_engine, small_job_engine, sql_string
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


def test_a_parked_table_reads_the_same_from_disk_until_the_engine_closes(tmp_path: Path) -> None:
    engine = create_engine("duckdb", temp_directory=tmp_path / "spill")
    engine.register("rows", pa.table({"id": ["a", "b", None], "n": [1, 2, 3]}))
    engine.create_parked_table("raw", "SELECT id, n FROM rows WHERE n > 1")
    engine.create_parked_table("raw", "SELECT id, n FROM rows")  # replaced, as a table is
    parked = list((tmp_path / "spill").rglob("*.parquet"))
    assert [path.name for path in parked] == ["raw.parquet"]
    assert "raw" not in engine.query("SELECT table_name FROM duckdb_tables()").column(
        "table_name").to_pylist()  # no copy in memory
    assert sorted(engine.to_arrow("raw").to_pylist(), key=lambda row: row["n"]) == [
        {"id": "a", "n": 1}, {"id": "b", "n": 2}, {"id": None, "n": 3}]
    engine.close()
    assert not parked[0].exists()


def test_without_a_spill_folder_a_parked_table_stays_in_memory() -> None:
    with create_engine("duckdb") as engine:
        engine.register("rows", pa.table({"n": [1, 2]}))
        engine.create_parked_table("raw", "SELECT n FROM rows")
        assert engine.count("raw") == 2
        assert "raw" in engine.query("SELECT table_name FROM duckdb_tables()").column(
            "table_name").to_pylist()


def test_duckdb_draws_no_progress_bar_of_its_own() -> None:
    # it would write bars into the CLI's output after two seconds of any statement (progress is
    # the Console's); setting its delay would turn it back on, so the setting itself is checked
    with create_engine("duckdb") as engine:
        setting = engine.query("SELECT current_setting('enable_progress_bar') AS on_")
        assert setting.column("on_").to_pylist() == [False]


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


def _memory_limit(engine: Engine) -> str:
    return str(engine.query("SELECT current_setting('memory_limit') AS m").column("m")[0])


def _memory_limit_as_duckdb_shows(limit: str) -> str:
    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = '{limit}'")
    shown = connection.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    connection.close()
    return str(shown)


def test_default_memory_limit_is_a_share_of_the_machine() -> None:
    import os

    from vaxtrust.engine.duckdb import DEFAULT_MEMORY_SHARE, default_memory_limit

    limit = default_memory_limit()
    assert limit is not None and limit.endswith("MiB")
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert int(limit.removesuffix("MiB")) << 20 <= physical * DEFAULT_MEMORY_SHARE
    with create_engine("duckdb") as engine:
        assert _memory_limit(engine) == _memory_limit_as_duckdb_shows(limit)


def test_an_explicit_memory_limit_wins() -> None:
    with create_engine("duckdb", memory_limit="1GB") as engine:
        assert _memory_limit(engine) == _memory_limit_as_duckdb_shows("1GB")


def _block_allocator_memory(engine: Engine) -> str:
    return str(engine.query("SELECT current_setting('block_allocator_memory') AS m")
               .column("m")[0])


def test_a_batch_engine_keeps_memory_up_to_its_limit_and_others_give_it_back() -> None:
    with create_engine("duckdb", memory_limit="1GB", reuse_memory=True) as batch:
        assert _block_allocator_memory(batch) == _memory_limit(batch)
    with create_engine("duckdb", memory_limit="1GB") as small:
        assert _block_allocator_memory(small) == "0 bytes"


def test_a_smaller_container_limit_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vaxtrust.engine import duckdb as engine_module

    unlimited, limited = tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes"
    unlimited.write_text("max\n")
    limited.write_text(f"{2 << 30}\n")
    monkeypatch.setattr(engine_module, "_CGROUP_LIMITS", (unlimited, limited))
    assert engine_module.default_memory_limit() == f"{int((2 << 30) * 0.6) >> 20}MiB"


def test_small_job_engine_streams_a_query_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "it's here.parquet"  # a quote in the path must not break the SQL
    pq.write_table(pa.table({"n": list(range(25))}), path)
    with small_job_engine() as engine:
        batches = list(engine.query_batches(
            f"SELECT n FROM read_parquet({sql_string(path)}) ORDER BY n", batch_size=10))
    assert [batch.num_rows for batch in batches] == [10, 10, 5]
    assert pa.Table.from_batches(batches).column("n").to_pylist() == list(range(25))


def test_small_job_engine_names_the_stage_when_a_streamed_query_fails(tmp_path: Path) -> None:
    with small_job_engine() as engine, pytest.raises(PipelineStageError) as failure:
        list(engine.query_batches(
            f"SELECT * FROM read_parquet({sql_string(tmp_path / 'missing.parquet')})",
            stage="people"))
    assert failure.value.stage == "people"
    assert "missing.parquet" in str(failure.value)


@pytest.mark.parametrize(("text", "rows"), [
    ("h\na\nb\n", []),
    ("h\n\na\n", [1]),
    ("h\r\n\r\na\r\n\r\n\r\n", [1, 3, 4]),     # a run of blank lines: each found
    ("h\n\n\n\na", [1, 2, 3]),
    ("\nh\na\n", [0]),                         # the first line blank
    ("h\na\n\r\n", [2]),
    ("h\na\n\r", []),                          # a lone CR at the end is no line
])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_blank_lines_are_found_by_data_row(tmp_path: Path, text: str, rows: list[int],
                                           encoding: str) -> None:
    from vaxtrust.engine.duckdb import _blank_data_rows

    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding))
    assert _blank_data_rows(path, encoding) == rows
