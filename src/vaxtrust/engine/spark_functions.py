"""DuckDB SQL on Spark: the rewrites sqlglot does not make, and DuckDB functions Spark lacks.

Stages write DuckDB SQL (the reference). sqlglot transpiles most of it; this module fixes the
places where the Spark text sqlglot emits would run but mean something else, and registers the
DuckDB functions Spark has no equivalent for as vectorised Arrow UDFs under DuckDB's own names.
Each rewrite here is pinned by a test that runs the same SQL on both engines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# DuckDB functions registered on every Spark session under the same name (see DUCKDB_SHIMS)
REGEXP_REPLACE_FIRST = "vaxtrust_regexp_replace_first"

# POSIX classes: RE2 (DuckDB) knows them; java.util.regex (Spark) would read "[[:digit:]]" as
# a set of the characters ':', 'd', 'i', 'g', 't' and silently match something else
_POSIX_TO_JAVA = {
    "[:alpha:]": r"\p{Alpha}", "[:digit:]": r"\p{Digit}", "[:alnum:]": r"\p{Alnum}",
    "[:upper:]": r"\p{Upper}", "[:lower:]": r"\p{Lower}", "[:space:]": r"\s",
    "[:punct:]": r"\p{Punct}", "[:xdigit:]": r"\p{XDigit}", "[:blank:]": r"\p{Blank}",
    "[:cntrl:]": r"\p{Cntrl}", "[:print:]": r"\p{Print}", "[:graph:]": r"\p{Graph}",
}


class TranslationError(ValueError):
    """DuckDB SQL that has no faithful Spark form (raised at translation, not at run time)."""


def duckdb_to_spark(sql: str) -> str:
    """DuckDB-dialect SQL (one or more statements) as Spark SQL with DuckDB's meaning."""
    statements = sqlglot.parse(sql, read="duckdb")
    spark_sql = [
        _rewrite(statement).sql(dialect="spark", pretty=False)
        for statement in statements if statement is not None
    ]
    return ";\n".join(spark_sql)


def _rewrite(tree: exp.Expression) -> exp.Expression:
    return tree.transform(_rewrite_node, copy=True)


def _rewrite_node(node: exp.Expression) -> exp.Expression:
    rewrite = _REWRITES.get(type(node))
    return rewrite(node) if rewrite else node


# -- statements ---------------------------------------------------------------------------------
def _create(node: exp.Expression) -> exp.Expression:
    """Views become temporary: a Spark permanent view may not read a temporary one."""
    if str(node.args.get("kind", "")).upper() != "VIEW":
        return node
    properties = node.args.get("properties") or exp.Properties(expressions=[])
    if not any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions):
        properties.append("expressions", exp.TemporaryProperty())
    node.set("properties", properties)
    node.set("replace", True)
    node.set("exists", False)
    return node


# -- regular expressions ------------------------------------------------------------------------
def _java_pattern(pattern: exp.Expression, flags: str) -> exp.Expression:
    """An RE2 pattern literal in java.util.regex form, with DuckDB's option letters applied."""
    unknown = set(flags) - set("gic")
    if unknown:
        raise TranslationError(f"regular expression options {''.join(sorted(unknown))!r} are not supported on Spark")
    if not isinstance(pattern, exp.Literal) or not pattern.is_string:
        if "i" in flags:
            return exp.Concat(expressions=[exp.Literal.string("(?i)"), pattern])
        return pattern
    text = pattern.this
    for posix, java in _POSIX_TO_JAVA.items():
        text = text.replace(posix, java)
    if "i" in flags and "c" not in flags.split("i")[-1]:
        text = "(?i)" + text
    return exp.Literal.string(text)


def _flags(node: exp.Expression, key: str) -> str:
    value = node.args.get(key)
    if value is None:
        return ""
    if not isinstance(value, exp.Literal):
        raise TranslationError("regular expression options must be a literal on Spark")
    return str(value.this)


def _java_replacement(replacement: exp.Expression) -> exp.Expression:
    """RE2 writes group references as \\1, Java as $1 (and a bare $ is special in Java)."""
    if not isinstance(replacement, exp.Literal) or not replacement.is_string:
        return replacement
    text = re.sub(r"\\(\d)|\\\\|\$", _replacement_token, replacement.this)
    return exp.Literal.string(text)


def _replacement_token(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return "$" + match.group(1)
    return r"\\" if match.group(0) == "\\\\" else r"\$"


def _regexp_replace(node: exp.Expression) -> exp.Expression:
    flags = _flags(node, "modifiers")
    replacement = node.args.get("replacement") or exp.Literal.string("")
    if "g" not in flags:
        # DuckDB replaces only the first match unless 'g'; Spark always replaces all of them
        pattern = node.expression
        if "i" in flags and isinstance(pattern, exp.Literal):
            pattern = exp.Literal.string("(?i)" + pattern.this)
        return exp.Anonymous(
            this=REGEXP_REPLACE_FIRST, expressions=[node.this, pattern, replacement]
        )
    return exp.RegexpReplace(
        this=node.this, expression=_java_pattern(node.expression, flags),
        replacement=_java_replacement(replacement),
    )


def _regexp_like(node: exp.Expression) -> exp.Expression:
    pattern = _java_pattern(node.expression, _flags(node, "flag"))
    return exp.RegexpLike(this=node.this, expression=pattern)


def _regexp_full_match(node: exp.Expression) -> exp.Expression:
    """DuckDB's whole-string match as Spark's search with \\A...\\z anchors."""
    pattern = node.expression
    if not isinstance(pattern, exp.Literal):
        raise TranslationError("regexp_full_match needs a literal pattern on Spark")
    anchored = exp.Literal.string(r"\A(?:" + _java_pattern(pattern, "").name + r")\z")
    return exp.RegexpLike(this=node.this, expression=anchored)


def _regexp_extract(node: exp.Expression) -> exp.Expression:
    flags = _flags(node, "parameters")
    group = node.args.get("group") or exp.Literal.number(0)
    return exp.RegexpExtract(
        this=node.this, expression=_java_pattern(node.expression, flags), group=group
    )


def _regexp_split(node: exp.Expression) -> exp.Expression:
    return exp.RegexpSplit(this=node.this, expression=_java_pattern(node.expression, ""))


# -- aggregates ---------------------------------------------------------------------------------
def _array_agg(node: exp.Expression) -> exp.Expression:
    """DuckDB's list()/array_agg keeps NULLs and honours ORDER BY; collect_list does neither.

    Each value travels inside a struct (a struct is never NULL, so it is kept) with its sort
    keys, the structs are sorted by the keys (NULLs last, as DuckDB orders), then unwrapped.
    """
    inner = node.this
    keys: list[exp.Ordered] = []
    if isinstance(inner, exp.Order):
        keys = [k if isinstance(k, exp.Ordered) else exp.Ordered(this=k) for k in inner.expressions]
        inner = inner.this
    fields = [exp.alias_(inner.copy(), "v")] + [
        exp.alias_(key.this.copy(), f"k{index}") for index, key in enumerate(keys)
    ]
    collected = exp.Anonymous(this="COLLECT_LIST", expressions=[exp.Struct(expressions=fields)])
    sorted_sql = f"ARRAY_SORT(__c, {_comparator(keys)})" if keys else "__c"
    template = sqlglot.parse_one(f"TRANSFORM({sorted_sql}, __s -> __s.v)", read="spark")
    return template.transform(
        lambda n: collected if isinstance(n, exp.Column) and n.name == "__c" else n
    )


def _comparator(keys: list[exp.Ordered]) -> str:
    """Spark lambda (l, r) -> -1/0/1 ordering structs by keys k0, k1, ... as DuckDB would."""
    parts = []
    for index, key in enumerate(keys):
        descending = bool(key.args.get("desc"))
        nulls_first = bool(key.args.get("nulls_first"))
        less, greater = ("1", "-1") if descending else ("-1", "1")
        null_low, null_high = ("-1", "1") if nulls_first else ("1", "-1")
        left, right = f"__l.k{index}", f"__r.k{index}"
        parts.append(
            f"CASE WHEN {left} IS NULL AND {right} IS NULL THEN 0 "
            f"WHEN {left} IS NULL THEN {null_low} WHEN {right} IS NULL THEN {null_high} "
            f"WHEN {left} < {right} THEN {less} WHEN {left} > {right} THEN {greater} ELSE 0 END"
        )
    body = parts[-1]
    for part in reversed(parts[:-1]):
        body = f"CASE WHEN ({part}) <> 0 THEN ({part}) ELSE ({body}) END"
    return f"(__l, __r) -> {body}"


# -- scalar functions ---------------------------------------------------------------------------
def _anonymous(node: exp.Expression) -> exp.Expression:
    name = str(node.this).lower()
    args = node.expressions
    if name == "list_element" or name == "list_extract":
        return exp.Anonymous(this="ELEMENT_AT", expressions=args)
    if name in ("regexp_split_to_array", "str_split_regex"):
        return _regexp_split(exp.RegexpSplit(this=args[0], expression=args[1]))
    return node


def _jaro_winkler(node: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="jaro_winkler_similarity", expressions=[node.this, node.expression])


_REWRITES: dict[type[exp.Expression], Callable[[exp.Expression], exp.Expression]] = {
    exp.Create: _create,
    exp.RegexpReplace: _regexp_replace,
    exp.RegexpLike: _regexp_like,
    exp.RegexpFullMatch: _regexp_full_match,
    exp.RegexpExtract: _regexp_extract,
    exp.RegexpSplit: _regexp_split,
    exp.ArrayAgg: _array_agg,
    exp.Anonymous: _anonymous,
    exp.JarowinklerSimilarity: _jaro_winkler,
}


# -- Arrow UDFs ---------------------------------------------------------------------------------
def register_arrow_function(
    spark: SparkSession, name: str, fn: Callable[..., pa.Array],
    arg_types: list[pa.DataType], return_type: pa.DataType,
) -> None:
    """Register ``fn`` (Arrow arrays in, one Arrow array out) as a Spark SQL function.

    Arguments are cast to ``arg_types`` first, as DuckDB does for a registered function, and
    the result to ``return_type``; NULLs reach ``fn`` (DuckDB's ``null_handling="special"``).
    """
    from pyspark.sql.functions import ArrowUDFType, arrow_udf
    from pyspark.sql.pandas.types import from_arrow_type

    def call(*arrays: pa.Array) -> pa.Array:
        cast = [array.cast(kind) for array, kind in zip(arrays, arg_types, strict=True)]
        result = fn(*cast)
        if isinstance(result, pa.ChunkedArray):
            result = result.combine_chunks()
        return result.cast(return_type)

    udf = arrow_udf(call, from_arrow_type(return_type), ArrowUDFType.SCALAR)
    spark.udf.register(name, udf)


def register_duckdb_functions(spark: SparkSession) -> None:
    """DuckDB built-ins the stages use that Spark lacks, with DuckDB's exact results."""
    for name, (fn, arg_types, return_type) in DUCKDB_SHIMS.items():
        register_arrow_function(spark, name, fn, arg_types, return_type)


def _strip_accents(values: pa.Array) -> pa.Array:
    # DuckDB (utf8proc) decomposes and drops combining marks; Đ/đ have no decomposition and stay
    return pa.array(
        [None if v is None else "".join(
            c for c in unicodedata.normalize("NFD", v) if not unicodedata.combining(c)
        ) for v in values.to_pylist()],
        pa.string(),
    )


def _nfc_normalize(values: pa.Array) -> pa.Array:
    return pc.utf8_normalize(values, form="NFC")


def _jaro_winkler_similarity(left: pa.Array, right: pa.Array) -> pa.Array:
    # DuckDB's jaro_winkler_similarity is rapidfuzz's (C++) algorithm: the same library here
    from rapidfuzz.distance import JaroWinkler

    return pa.array(
        [None if a is None or b is None else JaroWinkler.similarity(a, b)
         for a, b in zip(left.to_pylist(), right.to_pylist(), strict=True)],
        pa.float64(),
    )


def _regexp_replace_first(values: pa.Array, pattern: pa.Array, replacement: pa.Array) -> pa.Array:
    """DuckDB's regexp_replace without 'g': RE2 (Arrow uses RE2 as DuckDB does), first match."""
    if len(values) == 0:
        return pa.array([], pa.string())
    patterns = set(pattern.to_pylist())
    replacements = set(replacement.to_pylist())
    if len(patterns) != 1 or len(replacements) != 1:
        raise ValueError("regexp_replace without 'g' needs a constant pattern and replacement on Spark")
    (only_pattern,), (only_replacement,) = patterns, replacements
    if only_pattern is None or only_replacement is None:
        return pa.nulls(len(values), pa.string())
    return pc.replace_substring_regex(
        values, pattern=only_pattern, replacement=only_replacement, max_replacements=1
    )


DUCKDB_SHIMS: dict[str, tuple[Callable[..., pa.Array], list[pa.DataType], pa.DataType]] = {
    "strip_accents": (_strip_accents, [pa.string()], pa.string()),
    "nfc_normalize": (_nfc_normalize, [pa.string()], pa.string()),
    "jaro_winkler_similarity": (_jaro_winkler_similarity, [pa.string(), pa.string()], pa.float64()),
    REGEXP_REPLACE_FIRST: (
        _regexp_replace_first, [pa.string(), pa.string(), pa.string()], pa.string()
    ),
}
