"""Row-level checks of ingested rows, as SQL (DuckDB dialect). Stages: no engine, no I/O.

Every check yields a problem ``{field, reason, value}`` of the row; a row may fail several checks. Parsing proper is the standardiser's job: here a date is only judged when one
of the common layouts parses it; dose numbers are read exactly as the standardiser reads them.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from vaxtrust.ingest.headers import MANDATORY_COLUMNS, STANDARD_COLUMNS, SourceKind
from vaxtrust.vn.sql import dose_number_sql

MAX_DOSE_NUMBER: Final = 10
MIN_YEAR: Final = 1900
MAX_VALUE_LENGTH: Final = 255

# Layouts tried when judging whether a date is absurd (others are left to the standardiser).
DATE_LAYOUTS: Final = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d",
                       "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y%m%d")

KEY_COLUMN: Final[dict[SourceKind, str]] = {"records": "record_id", "register": "person_id"}
# A dose record's date of birth is not judged here: an impossible one (01/08/9968) makes that
# field unknown, not the record rejected; its ID and name may still find the person (issue 13).
DATE_COLUMNS: Final[dict[SourceKind, tuple[str, ...]]] = {
    "records": ("vaccinated_on",),
    "register": ("dob",),
}


def _problem(field: str, reason: str, condition: str, value: str | None = None) -> str:
    return (f"CASE WHEN {condition} THEN {{'field': '{field}', 'reason': '{reason}', "
            f"'value': CAST({value or field} AS VARCHAR)}} END")


def parsed_date_sql(column: str) -> str:
    """The column as a DATE when a common layout (or a bare year) parses it, else NULL."""
    layouts = ", ".join(f"'{layout}'" for layout in DATE_LAYOUTS)
    return (f"coalesce(CAST(try_strptime(trim({column}), [{layouts}]) AS DATE), "
            f"CASE WHEN regexp_full_match(trim({column}), '\\d{{4}}') "
            f"THEN make_date(CAST(trim({column}) AS INTEGER), 1, 1) END)")


def row_problems_sql(kind: SourceKind, today: dt.date) -> str:
    """Every problem of one row, as a list of ``{field, reason, value}`` (empty: a good row).

    An expression over the standard columns (as text), so staging computes it in its one pass.
    """
    key = KEY_COLUMN[kind]
    checks = [_problem(key, f"missing_{key}", f"{key} IS NULL")]
    checks += [_problem(column, "missing_value", f"{column} IS NULL")
               for column in MANDATORY_COLUMNS[kind] if column != key]
    # strlen (bytes) first: cheap, and never below the length in characters
    checks += [_problem(column, "value_too_long",
                        f"strlen({column}) > {MAX_VALUE_LENGTH} AND "
                        f"length({column}) > {MAX_VALUE_LENGTH}",
                        value=f"left({column}, {MAX_VALUE_LENGTH}) || '…'")
               for column in STANDARD_COLUMNS[kind]]
    for column in DATE_COLUMNS[kind]:
        checks.append(_problem(
            column, "date_out_of_range",
            f"NOT {parsed_date_sql(column)} BETWEEN DATE '{MIN_YEAR}-01-01' "
            f"AND DATE '{today.isoformat()}'"))
    if kind == "records":
        number = dose_number_sql("dose_number")  # the standardiser's own reading
        checks.append(_problem("dose_number", "dose_number_not_a_number",
                               f"dose_number IS NOT NULL AND {number} IS NULL"))
        checks.append(_problem("dose_number", "dose_number_out_of_range",
                               f"{number} NOT BETWEEN 1 AND {MAX_DOSE_NUMBER}"))
    return f"list_filter([{', '.join(checks)}], lambda problem: problem IS NOT NULL)"


def repeated_keys_sql(table: str, kind: SourceKind) -> str:
    """Keys that more than one row of ``table`` holds (usually few)."""
    key = KEY_COLUMN[kind]
    return f"SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1"


def duplicates_sql(table: str, repeated: str, kind: SourceKind) -> str:
    """The rows of repeated keys, ranked: the first (by input file, then row) is kept.

    Adds ``duplicate_rank`` (1 = kept), ``first_source``/``first_row`` (the kept row) and
    ``same_as_first`` (every standard column equal to the kept row's: an exact duplicate).
    """
    key = KEY_COLUMN[kind]
    content = "[" + ", ".join(f"coalesce({c}, chr(1))" for c in STANDARD_COLUMNS[kind]) + "]"
    window = f"PARTITION BY {key} ORDER BY file_index, row_number"
    return f"""
        SELECT *,
               row_number() OVER ({window}) AS duplicate_rank,
               first_value(source) OVER ({window}) AS first_source,
               first_value(row_number) OVER ({window}) AS first_row,
               {content} = first_value({content}) OVER ({window}) AS same_as_first
        FROM {table} SEMI JOIN {repeated} USING ({key})
    """
