"""The same DuckDB SQL gives the same answer on Spark: every rewrite of engine.spark.translate, pinned.

Each case is a DuckDB expression over a small table of Vietnamese names, IDs and dates (with
NULLs and awkward values); it runs on DuckDB as written and on Spark as translated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from tests.spark.conftest import SPARK_TEST_OPTIONS
from vaxtrust.engine import Engine, create_engine

pytestmark = pytest.mark.spark

Engines = tuple[Engine, Engine]

SAMPLE = pa.table({
    "k": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
    "name": ["Nguyễn Văn An", "  ĐỖ   thị  hoà ", None, "\u00a0Trần Thị Ánh\u3000\n",
             "\t", "Lê Ngọc Ẩn Đường\u00a0"],
    "id": ["001234567890", "1.23457E+11", "12345678", None, "0 0 1 2", "079-123-456-789"],
    "dob": ["1990-01-31", "31/01/1990", "1990", None, "", "1990-13-01"],
    "n": pa.array([1, 0, None, 7, -3, 12], pa.int64()),
    "tokens": pa.array([["a", "b"], [], None, ["c", None], ["x"], ["z", "y", "x"]],
                       pa.list_(pa.string())),
})

EXPRESSIONS = [
    # strings and Vietnamese text
    "strip_accents(name)",
    "upper(strip_accents(name))",
    "nfc_normalize(name)",
    "lower(name)",
    "trim(name)",
    "ltrim(name)",
    "rtrim(name)",
    "trim(name, ' Đ')",
    "trim(regexp_replace(name, '\\s+', ' ', 'g'))",
    "regexp_replace(name, 'n', 'N')",  # DuckDB: first match only
    "regexp_replace(name, 'N', '_', 'gi')",
    "regexp_replace(id, '([0-9]{3})-', '\\1', 'g')",
    "regexp_replace(id, '[^[:digit:]]', '', 'g')",
    "regexp_replace(id, '$', '!', 'g')",
    "regexp_matches(id, '^0')",
    "regexp_matches(name, 'nguyễn', 'i')",
    "regexp_full_match(id, '[0-9]{12}')",
    "regexp_full_match(dob, '[0-9]{4}')",
    "regexp_extract(dob, '([0-9]{4})')",
    "regexp_extract(dob, '([0-9]{2})/([0-9]{2})', 2)",
    "string_split(trim(name), ' ')",
    "string_split_regex(trim(name), '\\s+')",
    "list_transform(string_split(trim(name), ' '), lambda s: upper(s))",
    "array_to_string(list_sort(string_split(upper(strip_accents(name)), ' ')), ' ')",
    "string_split(trim(name), ' ')[1]",
    "string_split(trim(name), ' ')[10]",
    "list_element(tokens, 2)",
    "string_split(trim(name), ' ')[-1]",
    "tokens[2]",
    "list_slice(string_split(trim(name), ' '), 2, -2)",
    "array_to_string(list_slice(string_split(trim(name), ' '), 2, -2), ' ')",
    "list_slice(tokens, 1, 2)",
    "list_slice(tokens, -2, -1)",
    "list_slice(tokens, 2, 10)",
    "tokens[2:3]",
    "list_slice(tokens, 1, len(tokens) - 1)",
    "list_slice(tokens, n, n + 1)",
    "array_length(tokens)",
    "len(tokens)",
    "len(string_split(name, ' '))",
    "strlen(name)",
    "length(name)",
    "lpad(id, 12, '0')",
    "substr(id, 2, 3)",
    "left(id, 3)",
    "right(id, 3)",
    "starts_with(id, '0')",
    "contains(name, 'Thị')",
    "replace(id, '.', '')",
    "concat_ws(' ', name, id)",
    "name || '/' || id",
    "coalesce(nullif(trim(name), ''), 'none')",
    "levenshtein(name, 'Nguyễn Văn Ân')",
    "jaro_winkler_similarity(upper(strip_accents(name)), 'NGUYEN VAN AN')",
    "list_contains(tokens, 'x')",
    # numbers and dates
    "n // 2",
    "n / 2",
    "n % 5",
    "10 / nullif(n, 0)",
    "try_cast(id AS BIGINT)",
    "try_cast(dob AS DATE)",
    "try_cast(substr(dob, 1, 4) AS INTEGER)",
    "CAST(n AS VARCHAR)",
    "make_date(1990, 1, 31)",
    "CASE WHEN n > 5 THEN 'big' WHEN n >= 0 THEN 'small' ELSE 'neg' END",
    "greatest(n, 2)",
    "CAST(try_strptime(trim(dob), ['%d/%m/%Y', '%Y-%m-%d']) AS DATE)",
    "CAST(try_strptime(trim(dob), ['%m/%Y', '%Y-%m', '%Y']) AS DATE)",
    "try_strptime(dob, '%Y-%m-%d')",
    "strftime(try_cast(dob AS DATE), '%Y%m%d')",
    "strftime(try_cast(dob AS DATE), '%Y-%m')",
    "damerau_levenshtein(name, 'Nguyễn Vnă An')",
    "hash(id)",
    "CASE WHEN length(id) = 12 THEN hamming(id, '001234567899') END",
    "try_cast(NULLIF(regexp_extract(id, '\\d+'), '') AS BIGINT)",
    "to_json({'name': name, 'id': {'record': id, 'n': n}})",
    "CAST(to_json({'a': name}) AS VARCHAR)",
    "list_sort(list_distinct(list_concat([nullif(name, ''), NULL, 'x'], coalesce(tokens, []))))",
    "len(coalesce(tokens, [])) > 0",
]


@pytest.fixture(scope="module")
def engines(spark_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    """One engine of each kind for the module, with the sample registered once."""
    with (create_engine("duckdb", threads=2) as duckdb_engine,
          create_engine("spark", scratch_dir=tmp_path_factory.mktemp("parity"),
                        **SPARK_TEST_OPTIONS) as spark_engine):
        for engine in (duckdb_engine, spark_engine):
            engine.register("sample", SAMPLE)
        yield duckdb_engine, spark_engine


def _both(engines: Engines, sql: str) -> tuple[Any, Any]:
    duckdb_engine, spark_engine = engines
    return (duckdb_engine.query(sql).to_pylist(), spark_engine.query(sql).to_pylist())


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_expression_means_the_same_on_both_engines(engines: Engines, expression: str) -> None:
    reference, spark = _both(
        engines, f"SELECT k, {expression} AS v FROM sample ORDER BY k"
    )
    assert spark == reference


AGGREGATES = [
    "SELECT list(name ORDER BY k) AS v FROM sample",
    "SELECT list(n ORDER BY n DESC) AS v FROM sample",
    "SELECT list(n ORDER BY n) AS v FROM sample",
    "SELECT list(k ORDER BY n NULLS FIRST, k DESC) AS v FROM sample",
    "SELECT count(*) FILTER (WHERE n > 0) AS v FROM sample",
    "SELECT string_agg(id, ',' ORDER BY k) AS v FROM sample",
    "SELECT k, row_number() OVER (PARTITION BY n > 0 ORDER BY k DESC) AS v FROM sample ORDER BY k",
    "SELECT k FROM sample QUALIFY row_number() OVER (ORDER BY n) <= 2 ORDER BY k",
    "SELECT k, name FROM sample ORDER BY name, k",
    "SELECT k, n FROM sample ORDER BY n DESC, k",
    "SELECT arg_max(k, n) AS v, max(n) AS m, min(name) AS mn FROM sample",
    "SELECT * EXCLUDE (tokens, dob) FROM sample ORDER BY k",
    "SELECT k, unnest(tokens) AS t FROM sample ORDER BY k, t",
    "SELECT k, unnest(string_split(name, ' ')) AS w, generate_subscripts(string_split(name, ' '), 1)"
    " AS i FROM sample ORDER BY k, i",
    "SELECT k, string_agg(w, '-' ORDER BY i) AS v FROM (SELECT k, unnest(tokens) AS w,"
    " generate_subscripts(tokens, 1) AS i FROM sample) GROUP BY k ORDER BY k",
]


@pytest.mark.parametrize("sql", AGGREGATES)
def test_query_means_the_same_on_both_engines(engines: Engines, sql: str) -> None:
    reference, spark = _both(engines, sql)
    assert spark == reference


def test_dates_and_arrays_come_back_as_the_same_arrow_values(engines: Engines) -> None:
    reference, spark = _both(
        engines,
        "SELECT CAST('2021-07-01' AS DATE) AS d, ['a', NULL] AS l, CAST(3 AS BIGINT) AS b",
    )
    assert spark == reference == [{"d": dt.date(2021, 7, 1), "l": ["a", None], "b": 3}]
