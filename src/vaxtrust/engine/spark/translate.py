"""DuckDB SQL as Spark SQL: the rewrites sqlglot does not make.

Stages write DuckDB SQL (the reference dialect). sqlglot transpiles most of it; this module
fixes the places where the Spark text sqlglot emits would run but mean something else, and
replaces each call Spark has no faithful equivalent for by a call of a function DuckDB evaluates
(:class:`DuckDBFunction`, run by :mod:`vaxtrust.engine.spark.udfs`). Pure text in, text out: no
Spark session is needed. Each rewrite is pinned by a test that runs the same SQL on both engines.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

# POSIX classes: RE2 (DuckDB) knows them; java.util.regex (Spark) would read "[[:digit:]]" as
# a set of the characters ':', 'd', 'i', 'g', 't' and silently match something else
_POSIX_TO_JAVA = {
    "[:alpha:]": r"\p{Alpha}", "[:digit:]": r"\p{Digit}", "[:alnum:]": r"\p{Alnum}",
    "[:upper:]": r"\p{Upper}", "[:lower:]": r"\p{Lower}", "[:space:]": r"\s",
    "[:punct:]": r"\p{Punct}", "[:xdigit:]": r"\p{XDigit}", "[:blank:]": r"\p{Blank}",
    "[:cntrl:]": r"\p{Cntrl}", "[:print:]": r"\p{Print}", "[:graph:]": r"\p{Graph}",
}


# DuckDB functions Spark lacks or scores differently, evaluated by DuckDB under their own names:
# name -> (number of arguments, return type). Also what Splink's Spark SQL may call from our
# DuckDB-written comparison levels (see translate_splink).
DUCKDB_FUNCTIONS: dict[str, tuple[int, pa.DataType]] = {
    "strip_accents": (1, pa.string()),
    "nfc_normalize": (1, pa.string()),
    "jaro_winkler_similarity": (2, pa.float64()),  # Spark 4.3 has its own, scoring differently
    "jaro_similarity": (2, pa.float64()),
    "damerau_levenshtein": (2, pa.int64()),
    "hamming": (2, pa.int64()),
    "strftime": (2, pa.string()),
}


class TranslationError(ValueError):
    """DuckDB SQL that has no faithful Spark form (raised at translation, not at run time)."""


@dataclass(frozen=True)
class DuckDBFunction:
    """A DuckDB expression over arguments a0, a1, ... that Spark runs by calling DuckDB itself.

    Used where Spark has no function with DuckDB's exact meaning (date parsing with a list of
    layouts, DuckDB's lenient casts, its hash): the Spark SQL calls an Arrow UDF of this name,
    and the UDF evaluates the DuckDB expression on each Arrow batch.
    """

    template: str
    return_type: pa.DataType

    @property
    def name(self) -> str:
        digest = hashlib.sha1(f"{self.template}|{self.return_type}".encode()).hexdigest()
        return f"vaxtrust_duckdb_{digest[:16]}"


@dataclass
class Translation:
    sql: str
    functions: list[DuckDBFunction] = field(default_factory=list)


class _DuckDBIndexesAsWritten(DuckDB):
    """DuckDB as sqlglot reads it, but list indexes kept as written (1-based).

    sqlglot shifts an index to 0-based only when it can tell its type (a literal, len(...)),
    not for a plain column; keeping every index as written lets one rewrite (element_at,
    which also counts from 1) treat them all alike.
    """

    INDEX_OFFSET = 0

    class Parser(DuckDB.Parser):  # type: ignore[valid-type,misc,unused-ignore]
        # keep len() apart from length(): the stages write len() for lists, length() for text
        FUNCTIONS = {
            **DuckDB.Parser.FUNCTIONS,
            "LEN": lambda args: exp.Anonymous(this="len", expressions=args),
        }


def duckdb_to_spark(sql: str) -> str:
    """DuckDB-dialect SQL (one or more statements) as Spark SQL with DuckDB's meaning."""
    return translate(sql).sql


def translate(sql: str) -> Translation:
    """Spark SQL for ``sql`` and the DuckDB-evaluated functions it calls (to register first)."""
    translation = Translation(sql="")
    statements = sqlglot.parse(sql, read=_DuckDBIndexesAsWritten)
    spark_sql = []
    for statement in statements:
        if statement is None:
            continue
        rewritten = _rewrite_tree(cast(exp.Expression, statement.copy()), translation.functions)
        spark_sql.append(rewritten.sql(dialect="spark", pretty=False))
    translation.sql = ";\n".join(spark_sql)
    return translation


def translate_splink(sql: str) -> Translation:
    """Splink's Spark SQL with the DuckDB functions of our comparison levels made DuckDB's.

    Splink writes Spark SQL itself, but a custom level's condition is our DuckDB text; those
    calls (and jaro_winkler_similarity, which Spark 4.3 scores differently) run through DuckDB.
    """
    lowered = sql.lower()
    triggers = (*DUCKDB_FUNCTIONS, "pmod(hash(")
    if not any(name in lowered for name in triggers):
        return Translation(sql=sql)
    functions: list[DuckDBFunction] = []

    def lift(node: exp.Expression) -> exp.Expression:
        name = str(node.this).lower() if isinstance(node, exp.Anonymous) else ""
        if name == "pmod" and _is_call(node.expressions[0], "hash"):
            # Splink samples and chunks by a hash bucket of the ids: DuckDB's hash, so that
            # both engines train on the very same pairs
            hashed = node.expressions[0].expressions[0]
            modulus = node.expressions[1].sql(dialect="duckdb")
            function = DuckDBFunction(f"hash(a0) % {modulus}", pa.int64())
            functions.append(function)
            return exp.Anonymous(this=function.name, expressions=[hashed])
        if isinstance(node, exp.JarowinklerSimilarity):
            function, arguments = _lift(node, node, DUCKDB_FUNCTIONS["jaro_winkler_similarity"][1])
        elif name in DUCKDB_FUNCTIONS:
            function, arguments = _lift(node, node, DUCKDB_FUNCTIONS[name][1])
        else:
            return node
        functions.append(function)
        return exp.Anonymous(this=function.name, expressions=arguments)

    statements = [
        _post_order(cast(exp.Expression, statement), lift).sql(dialect="spark")
        for statement in sqlglot.parse(sql, read="spark") if statement is not None
    ]
    return Translation(sql=";\n".join(statements), functions=functions)


def _rewrite_tree(node: exp.Expression, functions: list[DuckDBFunction]) -> exp.Expression:
    return _post_order(node, lambda each: _rewrite_node(each, functions))


def _post_order(
    node: exp.Expression, rewrite: Callable[[exp.Expression], exp.Expression]
) -> exp.Expression:
    """Children first, then the node: what a rewrite builds is never rewritten again.

    (sqlglot's own transform does not descend into a node it has just replaced.)
    """
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _post_order(value, rewrite))
        elif isinstance(value, list):
            node.set(key, [_post_order(item, rewrite) if isinstance(item, exp.Expression)
                           else item for item in value])
    return rewrite(node)


def _rewrite_node(node: exp.Expression, functions: list[DuckDBFunction]) -> exp.Expression:
    via_duckdb = _duckdb_evaluated(node)
    if via_duckdb is not None:
        function, arguments = via_duckdb
        functions.append(function)
        return exp.Anonymous(this=function.name, expressions=arguments)
    rewrite = _REWRITES.get(type(node))
    return rewrite(node) if rewrite else node


# -- expressions evaluated by DuckDB inside Spark -----------------------------------------------
_DUCKDB_CAST_TARGETS: dict[Any, pa.DataType] = {  # sqlglot type enum -> Arrow
    exp.DataType.Type.BIGINT: pa.int64(),
    exp.DataType.Type.INT: pa.int32(),
    exp.DataType.Type.SMALLINT: pa.int16(),
    exp.DataType.Type.DOUBLE: pa.float64(),
    exp.DataType.Type.DATE: pa.date32(),
}


def _is_call(node: exp.Expression, name: str) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).lower() == name


def _duckdb_evaluated(node: exp.Expression) -> tuple[DuckDBFunction, list[exp.Expression]] | None:
    """If ``node`` must run with DuckDB's own semantics: the function and its Spark arguments."""
    if isinstance(node, exp.Cast | exp.TryCast) and _is_call(node.this, "try_strptime"):
        target = _DUCKDB_CAST_TARGETS.get(node.to.this)
        if target is not None:
            return _lift(node, node.this, target)
    if _is_call(node, "try_strptime") and not (
        isinstance(node.parent, exp.Cast | exp.TryCast)
        and node.parent.to.this in _DUCKDB_CAST_TARGETS
    ):  # a cast around it lifts both together
        return _lift(node, node, pa.timestamp("us"))
    if isinstance(node, exp.TryCast) and node.to.this in _DUCKDB_CAST_TARGETS:
        # DuckDB casts text leniently ('12.5' rounds, '1e5', '1_000', ' 12 '); Spark differs
        return _lift(node, node, _DUCKDB_CAST_TARGETS[node.to.this])
    if _is_call(node, "hash"):
        # DuckDB's 64-bit hash, unsigned: carried as DECIMAL(20, 0) so that order is kept
        return _lift(node, node, pa.decimal128(20, 0), wrap="CAST({} AS DECIMAL(20, 0))")
    if isinstance(node, exp.JarowinklerSimilarity):
        # Spark 4.3 has its own jaro_winkler_similarity, and it scores differently
        return _lift(node, node, DUCKDB_FUNCTIONS["jaro_winkler_similarity"][1])
    builtin = DUCKDB_FUNCTIONS.get(str(node.this).lower()) if isinstance(node, exp.Anonymous) else None
    if builtin is not None:
        return _lift(node, node, builtin[1])
    if isinstance(node, exp.RegexpReplace) and "g" not in _flags(node, "modifiers"):
        # DuckDB replaces only the first match unless 'g'; Spark always replaces all of them
        return _lift(node, node, pa.string())
    return None


def _lift(
    whole: exp.Expression, call: exp.Expression, return_type: pa.DataType, wrap: str = "{}"
) -> tuple[DuckDBFunction, list[exp.Expression]]:
    """Template of ``whole`` with each non-constant argument of ``call`` replaced by a<i>."""
    template = whole.copy()
    template_call = template if call is whole else template.this
    arguments: list[exp.Expression] = []
    for key, value in list(template_call.args.items()):
        values = value if isinstance(value, list) else [value]
        lifted = []
        for item in values:
            if isinstance(item, exp.Expression) and not _is_constant(item):
                lifted.append(exp.column(f"a{len(arguments)}"))
                arguments.append(item)
            else:
                lifted.append(item)
        template_call.set(key, lifted if isinstance(value, list) else lifted[0])
    sql = wrap.format(template.sql(dialect="duckdb"))
    return DuckDBFunction(sql, return_type), arguments


_STRING_EXPRESSIONS = (
    exp.Trim, exp.Upper, exp.Lower, exp.Concat, exp.ConcatWs, exp.DPipe, exp.RegexpReplace,
    exp.Substring, exp.Replace, exp.Pad, exp.RegexpExtract, exp.Left, exp.Right,
)
_LIST_EXPRESSIONS = (
    exp.Array, exp.Split, exp.RegexpSplit, exp.ArrayAgg, exp.ArrayConcat, exp.ArraySort,
    exp.ArrayFilter, exp.Transform, exp.ArrayDistinct, exp.Explode,
)


def _kind_of(node: exp.Expression) -> str | None:
    """'string' or 'list' when the expression's form tells (it often does not: a column)."""
    if isinstance(node, exp.Literal) and node.is_string:
        return "string"
    if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.TEXT_TYPES):
        return "string"
    if isinstance(node, _STRING_EXPRESSIONS):
        return "string"
    if isinstance(node, _LIST_EXPRESSIONS):
        return "list"
    if isinstance(node, exp.Coalesce):
        kinds = {_kind_of(part) for part in [node.this, *node.expressions]} - {None}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def _length(node: exp.Expression) -> exp.Expression:
    if _kind_of(node.this) == "list":
        return exp.ArraySize(this=node.this)
    return node


def _is_constant(node: exp.Expression) -> bool:
    """Literals, lists of literals, types and flags stay in the DuckDB template."""
    if isinstance(node, exp.Literal | exp.DataType | exp.Boolean | exp.Null):
        return True
    if isinstance(node, exp.Array):
        return all(_is_constant(item) for item in node.expressions)
    return False


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


def _table(node: exp.Expression) -> exp.Expression:
    """DuckDB's ``range(a, b) AS f(x)`` in FROM as a Spark subquery over ``range(a, b)``."""
    series = node.this
    if not isinstance(series, exp.GenerateSeries) or not series.args.get("is_end_exclusive"):
        return node
    alias = node.args.get("alias")
    columns = alias.columns if alias is not None else []
    column = columns[0].name if columns else "range"
    start, end = series.args.get("start"), series.args.get("end")
    bounds = ", ".join(part.sql(dialect="duckdb") for part in (start, end) if part is not None)
    subquery = sqlglot.parse_one(f"(SELECT id AS {column} FROM range({bounds}))", read="spark")
    return exp.Subquery(
        this=subquery.this if isinstance(subquery, exp.Subquery) else subquery,
        alias=exp.TableAlias(this=alias.this if alias is not None else exp.to_identifier("range")),
    )


def _select(node: exp.Expression) -> exp.Expression:
    """``unnest(l) AS v, generate_subscripts(l, 1) AS i`` (DuckDB zips them) as one Spark
    ``inline`` of (value, 1-based position) structs."""
    items = node.expressions
    for value_index, value in enumerate(items):
        if not (isinstance(value, exp.Alias) and isinstance(value.this, exp.Explode | exp.Unnest)):
            continue
        exploded = value.this.this if isinstance(value.this, exp.Explode) else value.this.expressions[0]
        for position_index, position in enumerate(items):
            if (isinstance(position, exp.Alias) and _is_call(position.this, "generate_subscripts")
                    and position.this.expressions[0] == exploded):
                zipped = sqlglot.parse_one(
                    f"INLINE(TRANSFORM(__l, (__v, __k) -> STRUCT(__v AS {value.alias}, "
                    f"__k + 1 AS {position.alias})))", read="spark",
                ).transform(
                    lambda n, listed=exploded: listed.copy()
                    if isinstance(n, exp.Column) and n.name == "__l" else n
                )
                kept = [item for i, item in enumerate(items) if i not in (value_index, position_index)]
                node.set("expressions", [*kept, zipped])
                return node
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
    distinct = isinstance(inner, exp.Distinct)
    if distinct:
        if len(inner.expressions) != 1 or keys:
            raise TranslationError("list(DISTINCT ...) takes one value and no ORDER BY on Spark")
        inner = inner.expressions[0]
    fields = [exp.alias_(inner.copy(), "v")] + [
        exp.alias_(key.this.copy(), f"k{index}") for index, key in enumerate(keys)
    ]
    collected = exp.Anonymous(this="COLLECT_LIST", expressions=[exp.Struct(expressions=fields)])
    sorted_sql = f"ARRAY_SORT(__c, {_comparator(keys)})" if keys else "__c"
    template = sqlglot.parse_one(f"TRANSFORM({sorted_sql}, __s -> __s.v)", read="spark")
    unwrapped = template.transform(
        lambda n: collected if isinstance(n, exp.Column) and n.name == "__c" else n
    )
    # DISTINCT: one of each value, NULL included as DuckDB does (collect_set would drop it)
    return exp.Anonymous(this="ARRAY_DISTINCT", expressions=[unwrapped]) if distinct else unwrapped


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
    if name == "len" and len(args) == 1:
        # DuckDB's len() takes a list or a string, Spark's size() only a list: a string here
        # fails loudly at analysis, never silently
        if _kind_of(args[0]) == "string":
            return exp.Length(this=args[0])
        return exp.ArraySize(this=args[0])
    if name == "strlen" and len(args) == 1:
        return exp.Anonymous(this="OCTET_LENGTH", expressions=args)
    if name in ("list_slice", "array_slice") and len(args) == 3:
        return _list_slice(args[0], args[1], args[2])
    if name == "list_element" or name == "list_extract":
        return exp.Anonymous(this="ELEMENT_AT", expressions=args)
    if name in ("regexp_split_to_array", "str_split_regex"):
        return _regexp_split(exp.RegexpSplit(this=args[0], expression=args[1]))
    return node


def _int_literal(node: exp.Expression) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        return int(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return -int(node.this.this)
    return None


def _list_slice(target: exp.Expression, begin: exp.Expression, end: exp.Expression) -> exp.Expression:
    """DuckDB's 1-based, inclusive, negative-from-the-end slice as Spark's slice(x, start, n)."""
    first, last = _int_literal(begin), _int_literal(end)
    size = "SIZE(__x)"
    if first is None:
        start = f"CASE WHEN __b < 0 THEN GREATEST(1, {size} + __b + 1) ELSE GREATEST(1, __b) END"
    else:
        start = f"GREATEST(1, {size} + {first} + 1)" if first < 0 else str(max(first, 1))
    if last is None:
        stop = f"CASE WHEN __e < 0 THEN {size} + __e + 1 ELSE LEAST(__e, {size}) END"
    else:
        stop = f"({size} + {last} + 1)" if last < 0 else f"LEAST({last}, {size})"
    template = sqlglot.parse_one(
        f"SLICE(__x, {start}, GREATEST(0, ({stop}) - ({start}) + 1))", read="spark"
    )
    parts = {"__x": target, "__b": begin, "__e": end}
    return template.transform(
        lambda n: parts[n.name].copy() if isinstance(n, exp.Column) and n.name in parts else n
    )


def _bracket(node: exp.Expression) -> exp.Expression:
    """List indexing: DuckDB gives NULL out of range and counts negatives from the end."""
    if len(node.expressions) != 1:
        return node
    index = node.expressions[0]
    if isinstance(index, exp.Slice):
        return _list_slice(node.this, index.this, index.expression)
    if isinstance(index, exp.Literal) and index.is_string:
        return node  # a struct field or map key
    # indexes are as written (see _DuckDBIndexesAsWritten): 1-based, negative from the end
    return exp.Anonymous(this="ELEMENT_AT", expressions=[node.this, index])


def _trim(node: exp.Expression) -> exp.Expression:
    """DuckDB's trim() strips every Unicode space separator (NBSP, U+3000, ...); Spark's only
    ' '. The same set (category Zs), at the very ends (\\A, \\z: Java's $ would also match
    before a final newline)."""
    if node.args.get("expression") is not None:
        return node  # trim(x, characters) means the same on both
    position = str(node.args.get("position") or "BOTH").upper()
    pattern = {"LEADING": r"\A\p{Zs}+", "TRAILING": r"\p{Zs}+\z"}.get(
        position, r"\A\p{Zs}+|\p{Zs}+\z"
    )
    return exp.RegexpReplace(
        this=node.this, expression=exp.Literal.string(pattern),
        replacement=exp.Literal.string(""),
    )


def _list_contains(node: exp.Expression) -> exp.Expression:
    """DuckDB answers false when the value is absent, even from a list holding a NULL."""
    position = exp.Anonymous(this="ARRAY_POSITION", expressions=[node.this, node.expression])
    return exp.GT(this=position, expression=exp.Literal.number(0))


def _list_distinct(node: exp.Expression) -> exp.Expression:
    """DuckDB's list_distinct drops NULLs; Spark's array_distinct keeps one."""
    distinct = exp.Anonymous(this="ARRAY_DISTINCT", expressions=[node.this])
    return exp.Anonymous(this="ARRAY_COMPACT", expressions=[distinct])


_REWRITES: dict[type[exp.Expression], Callable[[exp.Expression], exp.Expression]] = {
    exp.Create: _create,
    exp.Table: _table,
    exp.Length: _length,
    exp.Bracket: _bracket,
    exp.Select: _select,
    exp.RegexpReplace: _regexp_replace,
    exp.RegexpLike: _regexp_like,
    exp.RegexpFullMatch: _regexp_full_match,
    exp.RegexpExtract: _regexp_extract,
    exp.RegexpSplit: _regexp_split,
    exp.ArrayAgg: _array_agg,
    exp.Anonymous: _anonymous,
    exp.ArrayContains: _list_contains,
    exp.Trim: _trim,
    exp.ArrayDistinct: _list_distinct,
}
