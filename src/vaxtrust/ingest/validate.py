"""Row-level checks of ingested rows, as SQL (DuckDB dialect). Stages: no engine, no I/O.

Every check yields a problem ``{field, reason, value}`` of the row; a row may fail several
checks. Dates and dose numbers are read exactly as the standardiser reads them (``vn.sql``): a
date written in full is judged out of range when that reading gives a calendar date before 1900
or after today; other forms are left to the standardiser.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from vaxtrust.ingest.headers import MANDATORY_COLUMNS, STANDARD_COLUMNS, SourceKind
from vaxtrust.vn.legacy import MOJIBAKE_CONTROL_RE2
from vaxtrust.vn.sql import chain, date_parts_stages, days_in_month_sql, dose_number_sql

MAX_DOSE_NUMBER: Final = 10
MIN_YEAR: Final = 1900
MAX_VALUE_LENGTH: Final = 255

# Date forms judged here (as vn.sql.date_parts_stages names them), besides day-first dates with a
# four-digit year: ISO (with or without a time), a bare year, eight digits. Two-digit years,
# month and year alone, and Excel serials are left to the standardiser and consolidation.
JUDGED_FORMS: Final = ("ymd", "y", "eight")

# Characters no value may hold: C0 and C1 controls (NUL, tab, line breaks, escape...), DEL, the
# Unicode line separators and the bidirectional overrides that make text display unlike its
# content. One RE2 class, for DuckDB and for Arrow.
_CONTROL_RANGES: Final = ((0x00, 0x1F), (0x7F, 0x9F), (0x2028, 0x2029), (0x202A, 0x202E),
                         (0x2066, 0x2069))
CONTROL_CHARACTERS: Final = "[" + "".join(
    f"\\x{{{low:x}}}-\\x{{{high:x}}}" for low, high in _CONTROL_RANGES) + "]"  # RE2 syntax
CONTROL_CHARACTER: Final = re.compile("[" + "".join(
    f"{chr(low)}-{chr(high)}" for low, high in _CONTROL_RANGES) + "]")  # Python's re
CONTROL_REPLACEMENT: Final = "\ufffd"  # how a rejected value shows a control character


def without_control_characters(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Text with every control character replaced by U+FFFD (for reject values)."""
    return pc.replace_substring_regex(values, CONTROL_CHARACTERS, CONTROL_REPLACEMENT)

KEY_COLUMN: Final[dict[SourceKind, str]] = {"records": "record_id", "register": "person_id",
                                             "complaints": "complaint_id"}
# A dose record's date of birth is not judged here: an impossible one (01/08/9968) makes that
# field unknown, not the record rejected; its ID and name may still find the person (issue 13).
DATE_COLUMNS: Final[dict[SourceKind, tuple[str, ...]]] = {
    "records": ("vaccinated_on",),
    "register": ("dob",),
    "complaints": ("dob", "vaccinated_on"),
}


# Name columns: a control character inside a Vietnamese letter's UTF-8 bytes read as cp1252
# (Nguyá»\x85n) is not a fault of the row; the standardiser repairs the name (vaxtrust.vn.legacy).
NAME_COLUMNS: Final = ("full_name",)


def _without_mojibake_controls(column: str) -> str:
    if column not in NAME_COLUMNS:
        return column
    return f"regexp_replace({column}, '{MOJIBAKE_CONTROL_RE2}', '', 'g')"


@dataclass(frozen=True)
class _Check:
    """One row check: the problem ``{field, reason, value}`` where ``condition`` holds."""

    field: str
    reason: str
    condition: str
    value: str | None = None

    def problem(self) -> str:
        return (f"CASE WHEN {self.condition} THEN {{'field': '{self.field}', "
                f"'reason': '{self.reason}', 'value': CAST({self.value or self.field} AS VARCHAR)"
                "} END")


_NO_PROBLEMS: Final = "CAST([] AS STRUCT(field VARCHAR, reason VARCHAR, value VARCHAR)[])"


def _parsed_dates_sql(table: str, column: str) -> str:
    """``column``'s distinct values of ``table`` with ``__{column}_ymd``: the date as yyyymmdd
    when it is written in full (:data:`JUDGED_FORMS`) and the standardiser's reading gives a
    calendar date, else NULL. The range of years is not checked here: that is what is judged."""
    p = f"__{column}"
    y, m, d = f"{p}_y0", f"coalesce({p}_m0, 1)", f"coalesce({p}_d0, 1)"
    forms = ", ".join(f"'{form}'" for form in JUDGED_FORMS)
    full = (f"({p}_kind IN ({forms}) OR ({p}_kind = 'dmy' "
            f"AND regexp_matches({p}_t, '[0-9]{{4}}$')))")
    ymd = (f"CASE WHEN {full} AND {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND "
           f"{days_in_month_sql(y, m)} THEN {y} * 10000 + {m} * 100 + {d} END")
    parts = chain(f"(SELECT DISTINCT {column} AS {p}_key FROM {table})",
                  date_parts_stages(f"{p}_key", p), [f"{p}_key", f"{ymd} AS {p}_ymd"],
                  prefix=f"{p}_v")
    return f"LEFT JOIN ({parts}) ON s.{column} IS NOT DISTINCT FROM {p}_key"


def staged_problems_sql(table: str, kind: SourceKind, today: dt.date) -> str:
    """The rows of ``table`` (standard columns as text) with ``problems``: see
    :func:`row_problems_sql`. Dates are read once per distinct value, as the standardiser
    reads them (``vn.sql.date_parts_stages``)."""
    joins = " ".join(_parsed_dates_sql(table, column) for column in DATE_COLUMNS[kind])
    return f"SELECT s.*, {row_problems_sql(kind, today)} AS problems FROM {table} s {joins}"


def row_problems_sql(kind: SourceKind, today: dt.date) -> str:
    """Every problem of one row, as a list of ``{field, reason, value}`` (empty: a good row).

    An expression over the standard columns (as text) and the parsed dates that
    :func:`staged_problems_sql` joins.
    """
    key = KEY_COLUMN[kind]
    checks = [_Check(key, f"missing_{key}", f"{key} IS NULL")]
    checks += [_Check(column, "missing_value", f"{column} IS NULL")
               for column in MANDATORY_COLUMNS[kind] if column != key]
    # strlen (bytes) first: cheap, and never below the length in characters
    checks += [_Check(column, "value_too_long",
                      f"strlen({column}) > {MAX_VALUE_LENGTH} AND "
                      f"length({column}) > {MAX_VALUE_LENGTH}",
                      value=f"left({column}, {MAX_VALUE_LENGTH}) || '…'")
               for column in STANDARD_COLUMNS[kind]]
    controls = [_Check(column, "control_character",
                       f"regexp_matches({_without_mojibake_controls(column)}, "
                       f"'{CONTROL_CHARACTERS}')",
                       value=f"regexp_replace({column}, '{CONTROL_CHARACTERS}', "
                             f"'{CONTROL_REPLACEMENT}', 'g')")
                for column in STANDARD_COLUMNS[kind]]
    # One search over the row's cells joined finds whether any cell has one (a character, so
    # no cell boundary can make or hide one); only then is each cell searched, for the problem
    # to name its field. A name's mojibake controls are controls too: the cells as typed are
    # searched first, and only a row with some is searched again without them (a CASE: DuckDB
    # would compute both sides of an AND for every row).
    as_typed = (f"regexp_matches(concat({', '.join(STANDARD_COLUMNS[kind])}), "
                f"'{CONTROL_CHARACTERS}')")
    all_cells = ", ".join(_without_mojibake_controls(c) for c in STANDARD_COLUMNS[kind])
    any_control = (f"CASE WHEN {as_typed} THEN regexp_matches(concat({all_cells}), "
                   f"'{CONTROL_CHARACTERS}') ELSE false END")
    latest = today.year * 10000 + today.month * 100 + today.day
    later: list[_Check] = []
    for column in DATE_COLUMNS[kind]:  # __{column}_ymd: joined by staged_problems_sql
        later.append(_Check(
            column, "date_out_of_range",
            f"NOT __{column}_ymd BETWEEN {MIN_YEAR}0101 AND {latest}"))
    if "dose_number" in STANDARD_COLUMNS[kind]:
        number = dose_number_sql("dose_number")  # the standardiser's own reading
        later.append(_Check("dose_number", "dose_number_not_a_number",
                            f"dose_number IS NOT NULL AND {number} IS NULL"))
        later.append(_Check("dose_number", "dose_number_out_of_range",
                            f"{number} NOT BETWEEN 1 AND {MAX_DOSE_NUMBER}"))
    # Nearly every row passes: the list of problems is built only for a row where a check holds
    # (DuckDB evaluates a CASE branch for the rows that take it), not 30-odd NULLs filtered away.
    # The cells' control characters are screened once, over the joined cells.
    any_problem = " OR ".join([f"({check.condition})" for check in [*checks, *later]]
                              + [any_control])
    problems = ", ".join(check.problem() for check in [*checks, *controls, *later])
    return (f"CASE WHEN {any_problem} THEN list_filter([{problems}], "
            f"lambda problem: problem IS NOT NULL) ELSE {_NO_PROBLEMS} END")


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
