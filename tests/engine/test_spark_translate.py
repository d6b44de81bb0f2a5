"""DuckDB SQL → Spark SQL: the rewrites that keep DuckDB's meaning (no Spark needed).

What each rewrite computes is checked on both engines in tests/spark; these pin the text, so a
sqlglot upgrade that changes it shows up in the fast suite.
"""

from __future__ import annotations

import pytest

from vaxtrust.engine.spark.translate import TranslationError, duckdb_to_spark, translate


def test_views_become_temporary_views() -> None:
    assert duckdb_to_spark("CREATE VIEW v AS SELECT 1 AS x") == (
        "CREATE OR REPLACE TEMPORARY VIEW v AS SELECT 1 AS x"
    )


def test_global_regexp_replace_uses_java_group_references_and_flags() -> None:
    sql = duckdb_to_spark(r"SELECT regexp_replace(x, '(a)[[:digit:]]', '\1$', 'gi') FROM t")
    assert sql == r"SELECT REGEXP_REPLACE(x, '(?i)(a)[\\p{Digit}]', '$1\\$') FROM t"


def test_first_match_regexp_replace_and_lenient_casts_run_through_duckdb() -> None:
    translation = translate(
        "SELECT regexp_replace(x, 'a', 'b'), TRY_CAST(y AS BIGINT), "
        "CAST(try_strptime(z, ['%d/%m/%Y', '%Y']) AS DATE) FROM t"
    )
    templates = [function.template for function in translation.functions]
    assert templates == [
        "REGEXP_REPLACE(a0, 'a', 'b')",
        "TRY_CAST(a0 AS BIGINT)",
        "CAST(TRY_STRPTIME(a0, ['%d/%m/%Y', '%Y']) AS DATE)",
    ]
    names = [function.name.upper() for function in translation.functions]
    assert translation.sql == (
        f"SELECT {names[0]}(x), {names[1]}(y), {names[2]}(z) FROM t"
    )


def test_trim_strips_unicode_spaces_as_duckdb_does() -> None:
    assert duckdb_to_spark("SELECT trim(x), rtrim(x), trim(x, 'ab') FROM t") == (
        r"SELECT REGEXP_REPLACE(x, '\\A\\p{Zs}+|\\p{Zs}+\\z', ''), "
        r"REGEXP_REPLACE(x, '\\p{Zs}+\\z', ''), TRIM('ab' FROM x) FROM t"
    )


def test_list_aggregate_keeps_nulls_and_order() -> None:
    sql = duckdb_to_spark("SELECT list(a ORDER BY b DESC) FROM t")
    assert sql.startswith("SELECT TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(a AS v, b AS k0)), ")
    assert sql.endswith("__s -> __s.v) FROM t")


def test_range_table_function_becomes_a_subquery() -> None:
    assert duckdb_to_spark("SELECT f.i FROM range(3) f(i)") == (
        "SELECT f.i FROM (SELECT id AS i FROM RANGE(0, 3)) AS f"
    )


def test_unsupported_regexp_options_are_refused_at_translation() -> None:
    with pytest.raises(TranslationError, match="options"):
        duckdb_to_spark("SELECT regexp_matches(x, 'a', 'm') FROM t")
