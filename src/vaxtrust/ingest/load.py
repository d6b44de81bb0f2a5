"""Ingest: input files → ``raw_records`` / ``raw_register`` and ``rejects`` (engine tables).

Rules (docs/cleaning.md):
- a file given twice (same resolved path) is read once;
- rows whose every cell is empty are skipped (they hold nothing to lose);
- a row with a problem (missing key or mandatory value, absurd value, unreadable) goes to
  ``rejects`` with row number, field and reason, one reject row per problem;
- rows sharing a key: the first (by input order, then row) is kept; a later row equal to it in
  every standard column is an exact duplicate and collapses silently (counted); a later row that
  differs is rejected as ``duplicate_record_id`` / ``duplicate_person_id``;
- per file, rows in = accepted + rejected (collapsed exact duplicates count as accepted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from vaxtrust.console import Console, NoopConsole
from vaxtrust.engine.base import ROW_NUMBER_COLUMN, Engine, sql_identifier, sql_string
from vaxtrust.errors import ConfigError, InputError
from vaxtrust.ingest.headers import (
    MANDATORY_COLUMNS,
    STANDARD_COLUMNS,
    SourceKind,
    resolve_headers,
)
from vaxtrust.ingest.readers import InputFile, inspect_file, locate_csv_damage, read_xlsx
from vaxtrust.ingest.validate import (
    KEY_COLUMN,
    duplicates_sql,
    repeated_keys_sql,
    staged_problems_sql,
    without_control_characters,
)
from vaxtrust.schema import REJECT_COLUMNS

RAW_TABLE: Final[dict[SourceKind, str]] = {"records": "raw_records", "register": "raw_register",
                                           "complaints": "raw_complaints"}
REJECTS_TABLE: Final = "rejects"
REJECTED_RECORDS_TABLE: Final = "rejected_records"  # record_id, source, province, facility_id,
#                                                     reasons: one per rejected record_id

@dataclass
class SourceCount:
    """What happened to the rows of one input file."""

    source: str
    kind: SourceKind
    file_format: str
    encoding: str | None
    columns: dict[str, str] = field(default_factory=dict)  # standard column → file header
    unused_headers: list[str] = field(default_factory=list)
    rows_in: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates_collapsed: int = 0


def _looks_like_header(kind: SourceKind, mapping: dict[str, str]) -> Callable[[list[str]], bool]:
    def check(cells: list[str]) -> bool:
        chosen, _ = resolve_headers(cells, kind, mapping)
        return any(column in chosen for column in MANDATORY_COLUMNS[kind])
    return check


def _load_file(
    engine: Engine, table: str, source: InputFile, kind: SourceKind, mapping: dict[str, str],
) -> pa.Table:
    """Load one file as ``table`` (all text + row numbers); return its unreadable rows."""
    if source.file_format == "xlsx":
        data, unreadable = read_xlsx(source.path, _looks_like_header(kind, mapping))
        engine.register(table, data)
        return unreadable
    is_csv = source.file_format == "csv"
    try:
        unread = engine.load_file(table, source.path, file_format=source.file_format,
                                  encoding=source.encoding,
                                  delimiter=source.delimiter if is_csv else None,
                                  columns=source.header if is_csv else None)
    except Exception as error:  # the engine's reader failed on the file as a whole
        message = str(error).split("\n")[0].removeprefix("stage sql: ")
        damage = locate_csv_damage(source) if is_csv else None
        if damage:
            raise InputError(f"does not fit the CSV format: {damage[1]}", path=str(source.path),
                             line=damage[0]) from error
        raise InputError(f"cannot be read as {source.file_format}: {message}",
                         path=str(source.path)) from error
    if is_csv:
        _refuse_values_across_lines(engine, table, unread, source)
    return unread


_ACROSS_LINES_ADVICE = ("values may not span lines: close the quote, or remove the line break "
                        "from the cell, and save the file again")


def _refuse_values_across_lines(engine: Engine, table: str, unread: pa.Table,
                                source: InputFile) -> None:
    """Fail loudly when a quoted value runs over a line break (the file does not fit the dialect).

    An unclosed quote swallows the lines after it into one value; two stray quotes merge the
    rows between them. Either way rows would vanish or be numbered wrongly, so the whole file is
    refused, naming the line, instead of rejecting or accepting rows silently.
    """
    for number, line in zip(unread.column("row_number").to_pylist(),
                            unread.column("line").to_pylist(), strict=True):
        line = (line or "").strip("\r\n")  # a reader may keep line endings around it
        if "\n" in line or "\r" in line:
            raise InputError(f"a quote opened in this line is never closed, so the "
                             f"{line.count(chr(10))} line(s) after it would be read as one "
                             f"value; {_ACROSS_LINES_ADVICE}", path=str(source.path),
                             line=number + 1)
    headers = [h for h in engine.columns(table) if h != ROW_NUMBER_COLUMN]
    spans = " OR ".join(
        f"contains({sql_identifier(h)}, chr(10)) OR contains({sql_identifier(h)}, chr(13))"
        for h in headers)
    found = engine.query(f"SELECT min({ROW_NUMBER_COLUMN}) AS row FROM {table} WHERE {spans}")
    row = found.column("row")[0].as_py()
    if row is not None:
        raise InputError(f"a quoted value starting in this line runs over a line break; "
                         f"{_ACROSS_LINES_ADVICE}", path=str(source.path), line=row + 1)


def _staging_sql(
    table: str, file_index: int, source: str, headers: Sequence[str], columns: dict[str, str],
    kind: SourceKind,
) -> str:
    def cleaned(header: str) -> str:
        return f"NULLIF(trim(CAST({sql_identifier(header)} AS VARCHAR)), '')"

    selected = [
        f"{cleaned(columns[c])} AS {c}" if c in columns else f"CAST(NULL AS VARCHAR) AS {c}"
        for c in STANDARD_COLUMNS[kind]
    ]
    # a row is empty when every cell is: mapped cells by their cleaned value, others directly
    mapped = set(columns.values())
    others = [f"{cleaned(h)} IS NOT NULL" for h in headers if h not in mapped]
    not_empty = " OR ".join([f"{c} IS NOT NULL" for c in columns] + ["__other_cells"])
    standard = ", ".join(STANDARD_COLUMNS[kind])
    return (f"SELECT file_index, source, row_number, {standard} FROM ("
            f"SELECT {file_index} AS file_index, {sql_string(source)} AS source, "
            f"CAST({ROW_NUMBER_COLUMN} AS BIGINT) AS row_number, {', '.join(selected)}, "
            f"{' OR '.join(others) or 'false'} AS __other_cells FROM {table}) "
            f"WHERE {not_empty}")


def _check_headers(source: InputFile, kind: SourceKind, headers: list[str],
                   mapping: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    columns, unused = resolve_headers(headers, kind, mapping)
    missing = [c for c in MANDATORY_COLUMNS[kind] if c not in columns]
    if not columns:
        raise InputError(
            f"no recognisable header: found {', '.join(repr(h) for h in headers)}; expected e.g. "
            "'Họ và tên', 'Ngày sinh', 'Số CCCD/CMND' or a --mapping file",
            path=str(source.path), field="header")
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} (found {', '.join(repr(h) for h in headers)}"
            "); name them in a --mapping file", path=str(source.path), field="header")
    return columns, unused


def ingest(
    engine: Engine, kind: SourceKind, paths: Sequence[Path], *, mapping: dict[str, str] | None
    = None, today: dt.date | None = None, console: Console | None = None,
) -> list[SourceCount]:
    """Read ``paths`` into ``raw_records`` or ``raw_register``; append problems to ``rejects``."""
    if not paths:
        raise ConfigError(f"no {kind} file given")
    console = console or NoopConsole()
    mapping = mapping or {}
    today = today or dt.date.today()
    stage = f"ingest {kind}"
    console.stage_started(stage, len(paths))
    inputs = _distinct_inputs(paths, console)
    counts: list[SourceCount] = []
    staging: list[str] = []
    unreadable: list[pa.Table] = []
    for index, source in enumerate(inputs):
        table = f"__src_{kind}_{index}"
        unread = _load_file(engine, table, source, kind, mapping)
        headers = [h for h in engine.columns(table) if h != ROW_NUMBER_COLUMN]
        columns, unused = _check_headers(source, kind, headers, mapping)
        if engine.count(table) == 0 and unread.num_rows == 0:
            raise InputError("has a header but no data rows", path=str(source.path))
        staging.append(_staging_sql(table, index, str(source.path), headers, columns, kind))
        standard_of = {header: column for column, header in columns.items()}
        unreadable.append(_unreadable_rejects(unread, index, str(source.path), standard_of))
        counts.append(SourceCount(
            str(source.path), kind, source.file_format,
            source.encoding if source.file_format == "csv" else None, columns, unused))
        if unused:
            console.message(f"{source.path}: columns not used: {', '.join(unused)}")
        console.rows_processed(stage, index + 1)
    # A view, not a copy of every row: the row checks read it once, their dates' values once more
    engine.drop(f"__rows_{kind}")
    engine.execute(f"CREATE VIEW __rows_{kind} AS {' UNION ALL '.join(staging)}", stage=stage)
    engine.create_table(f"__staged_{kind}", staged_problems_sql(f"__rows_{kind}", kind, today),
                        stage=stage)
    engine.drop(f"__rows_{kind}")
    for index in range(len(inputs)):
        engine.drop(f"__src_{kind}_{index}")
    _split_rows(engine, kind, pa.concat_tables(unreadable), stage)
    _fill_counts(engine, kind, counts)
    console.stage_finished(stage, sum(c.accepted for c in counts))
    return counts


def _distinct_inputs(paths: Sequence[Path], console: Console) -> list[InputFile]:
    seen: set[Path] = set()
    inputs: list[InputFile] = []
    for path in paths:
        resolved = Path(path).resolve()
        if resolved in seen:
            console.message(f"{path}: given twice, read once")
            continue
        seen.add(resolved)
        inputs.append(inspect_file(Path(path)))
    return inputs


_UNREADABLE_SCHEMA = pa.schema([
    ("file_index", pa.int64()), ("source", pa.string()), ("row_number", pa.int64()),
    ("record_id", pa.string()), ("field", pa.string()), ("value", pa.string()),
    ("reason", pa.string()),
])


_UNREADABLE_REASONS: Final = {
    "MISSING COLUMNS": "too_few_columns",
    "TOO MANY COLUMNS": "too_many_columns",
    "INVALID ENCODING": "invalid_encoding",
    "UNQUOTED VALUE": "unbalanced_quotes",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
    "CELL TOO LONG": "cell_too_long",
}


def _unreadable_reason(error: str) -> str:
    return _UNREADABLE_REASONS.get(error.split(":")[0].strip(), "unreadable_row")


def _unreadable_rejects(unread: pa.Table, file_index: int, source: str,
                        standard_of: dict[str, str]) -> pa.Table:
    """The reader's unreadable rows as rejects; fields named as standard columns when mapped."""
    rows = unread.num_rows
    fields = [standard_of.get(header, header) if header else None
              for header in unread.column("column_name").to_pylist()]
    reasons = [_unreadable_reason(error or "") for error in unread.column("error").to_pylist()]
    return pa.table({
        "file_index": pa.array([file_index] * rows, pa.int64()),
        "source": pa.array([source] * rows, pa.string()),
        "row_number": unread.column("row_number"),
        "record_id": pa.nulls(rows, pa.string()),
        "field": pa.array(fields, pa.string()),
        "value": without_control_characters(pc.utf8_trim(unread.column("line"), "\r\n")),
        "reason": pa.array(reasons, pa.string()),
    }, schema=_UNREADABLE_SCHEMA)


def _split_rows(engine: Engine, kind: SourceKind, unreadable: pa.Table, stage: str) -> None:
    """Staged rows → problems, ranked duplicates, the raw table, and reject rows."""
    staged, key = f"__staged_{kind}", KEY_COLUMN[kind]
    engine.create_table(f"__problems_{kind}", f"""
        SELECT file_index, source, row_number, record_id, problem.field AS field,
               problem.value AS value, problem.reason AS reason
        FROM (SELECT file_index, source, row_number, {key} AS record_id,
                     unnest(problems) AS problem
              FROM {staged} WHERE len(problems) > 0)""", stage=stage)
    engine.register(f"__unreadable_{kind}", unreadable)
    valid = f"(SELECT * EXCLUDE (problems) FROM {staged} WHERE len(problems) = 0)"
    engine.create_table(f"__repeated_{kind}", repeated_keys_sql(valid, kind), stage=stage)
    engine.create_table(f"__ranked_{kind}", duplicates_sql(valid, f"__repeated_{kind}", kind),
                        stage=stage)
    standard = ", ".join(STANDARD_COLUMNS[kind])
    # Read again only by standardise and the run folder: on disk, the raw rows leave the
    # engine's memory to the tables every stage reads.
    engine.create_parked_table(RAW_TABLE[kind], f"""
        SELECT source, row_number, {standard} FROM {valid} ANTI JOIN __repeated_{kind} USING ({key})
        UNION ALL
        SELECT source, row_number, {standard} FROM __ranked_{kind} WHERE duplicate_rank = 1
    """, stage=stage)
    reject_columns = ", ".join(REJECT_COLUMNS)
    engine.create_table(f"__rejects_{kind}", f"""
        SELECT file_index, {reject_columns} FROM __problems_{kind}
        UNION ALL SELECT file_index, {reject_columns} FROM __unreadable_{kind}
        UNION ALL
        SELECT file_index, source, row_number, {key} AS record_id, '{key}' AS field,
               {key} || ' (kept: ' || first_source || ' row ' || first_row || ')' AS value,
               'duplicate_{key}' AS reason
        FROM __ranked_{kind} WHERE duplicate_rank > 1 AND NOT same_as_first
    """, stage=stage)
    if kind == "records":
        _keep_rejected_records(engine, stage)
    if not engine.table_exists(REJECTS_TABLE):
        engine.create_table(REJECTS_TABLE, f"SELECT {reject_columns} FROM __rejects_{kind} "
                            "WHERE false", stage=stage)
    engine.execute(f"INSERT INTO {REJECTS_TABLE} SELECT {reject_columns} FROM __rejects_{kind}",
                   stage=stage)


def _keep_rejected_records(engine: Engine, stage: str) -> None:
    """Rejected record rows that have a record_id no accepted row has: they get a result row."""
    engine.create_table(REJECTED_RECORDS_TABLE, """
        SELECT s.record_id, arg_min(s.source, s.file_index * 1e12 + s.row_number) AS source,
               min_by(s.province, s.file_index * 1e12 + s.row_number) AS province,
               min_by(s.facility_id, s.file_index * 1e12 + s.row_number) AS facility_id,
               list_sort(list(DISTINCT r.reason)) AS reasons
        FROM __staged_records AS s
        JOIN __rejects_records AS r USING (file_index, row_number)
        WHERE s.record_id IS NOT NULL
          AND s.record_id NOT IN (SELECT record_id FROM raw_records)
        GROUP BY s.record_id
    """, stage=stage)


def _fill_counts(engine: Engine, kind: SourceKind, counts: list[SourceCount]) -> None:
    per_file = engine.query(f"""
        WITH staged AS (SELECT file_index, count(*) AS n FROM __staged_{kind} GROUP BY ALL),
        rejected AS (SELECT file_index, count(DISTINCT row_number) AS n
                     FROM __rejects_{kind} GROUP BY ALL),
        unreadable AS (SELECT file_index, count(DISTINCT row_number) AS n FROM __unreadable_{kind} GROUP BY ALL),
        collapsed AS (SELECT file_index, count(*) AS n FROM __ranked_{kind}
                      WHERE duplicate_rank > 1 AND same_as_first GROUP BY ALL)
        SELECT f.file_index, coalesce(s.n, 0) + coalesce(u.n, 0) AS rows_in,
               coalesce(r.n, 0) AS rejected, coalesce(c.n, 0) AS collapsed
        FROM range({len(counts)}) f(file_index)
        LEFT JOIN staged s USING (file_index) LEFT JOIN rejected r USING (file_index)
        LEFT JOIN unreadable u USING (file_index) LEFT JOIN collapsed c USING (file_index)
    """).to_pylist()
    for row in per_file:
        count = counts[row["file_index"]]
        count.rows_in, count.rejected = row["rows_in"], row["rejected"]
        count.duplicates_collapsed = row["collapsed"]
        count.accepted = count.rows_in - count.rejected
    for table in ("staged", "problems", "repeated", "ranked", "rejects", "unreadable"):
        engine.drop(f"__{table}_{kind}")
