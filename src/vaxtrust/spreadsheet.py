"""Text made safe for the spreadsheets officers open our CSV and XLSX files in.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel and LibreOffice
(``=HYPERLINK(...)`` leaks data, ``=cmd|...`` ran programs in old versions); a leading tab or
carriage return hides such a start. Every text value in a file written for people gets a leading
``'`` before these characters (OWASP's CSV injection advice): the spreadsheet then shows the
text, apostrophe included, and never evaluates it. Machine-read files (Parquet) keep the values.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START_RE2: Final = r"^[=+\-@\t\r]"


def safe_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it literally."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_cell_sql(expression: str) -> str:
    """The SQL (DuckDB dialect) of :func:`safe_cell` over a text expression."""
    return (f"CASE WHEN regexp_matches({expression}, '{_FORMULA_START_RE2}') "
            f"THEN '''' || {expression} ELSE {expression} END")


def safe_table(table: pa.Table) -> pa.Table:
    """``table`` with :func:`safe_cell` applied to every text column."""
    for index, column in enumerate(table.schema):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            values = table.column(index)
            escaped = pc.if_else(pc.match_substring_regex(values, _FORMULA_START_RE2),
                                 pc.binary_join_element_wise("'", values, ""), values)
            table = table.set_column(index, column, escaped)
    return table
