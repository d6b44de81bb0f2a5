"""File-level reading: which format and encoding a file has, and XLSX as Arrow.

CSV and Parquet are read by the engine itself (DuckDB-native, no Python row loops); XLSX files are
small (Excel stops at about a million rows) and are streamed with openpyxl in read-only mode.
Every problem with a file as a whole raises :class:`~vaxtrust.errors.InputError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from vaxtrust.engine.base import LOAD_REJECT_SCHEMA, ROW_NUMBER_COLUMN
from vaxtrust.errors import InputError

InputFormat = Literal["csv", "xlsx", "parquet"]

_SNIFF_BYTES = 4 << 20
_HEADER_SEARCH_ROWS = 30  # XLSX: title rows above the header are common in facility exports
_LEGACY_SHARE = 0.05  # more undecodable lines than this in the sample: a wrong-encoding file
_SAVE_AS_HINT = "save it from Excel as 'CSV UTF-8' or 'Unicode Text', or as .xlsx"


@dataclass(frozen=True)
class InputFile:
    path: Path
    file_format: InputFormat
    encoding: str = "utf-8"  # CSV only: "utf-8" or "utf-16" (little-endian, as Excel writes it)


def inspect_file(path: Path) -> InputFile:
    """Check that ``path`` is a readable, non-empty CSV, XLSX or Parquet file and say which."""
    if not path.exists():
        raise InputError("file does not exist", path=str(path))
    if path.is_dir():
        raise InputError("is a folder; give the data files themselves", path=str(path))
    with path.open("rb") as file:
        head = file.read(_SNIFF_BYTES)
    if not head.strip(b"\xef\xbb\xbf\xff\xfe\r\n\t ,;\x00"):
        raise InputError("file is empty", path=str(path))
    suffix = path.suffix.lower()
    if head.startswith(b"PAR1") or suffix in {".parquet", ".pq"}:
        return InputFile(path, "parquet")
    if head.startswith(b"PK\x03\x04") or suffix in {".xlsx", ".xlsm"}:
        return InputFile(path, "xlsx")
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("old Excel 97-2003 (.xls) files are not read; " + _SAVE_AS_HINT,
                         path=str(path))
    return InputFile(path, "csv", _csv_encoding(path, head))


def _csv_encoding(path: Path, head: bytes) -> str:
    if head.startswith(b"\xff\xfe"):
        return "utf-16"
    if head.startswith(b"\xfe\xff"):
        raise InputError("is UTF-16 big-endian, which is not read; " + _SAVE_AS_HINT,
                         path=str(path))
    if head.count(b"\x00") > len(head) // 4:  # UTF-16 without a byte order mark
        if head[1::2].count(b"\x00") > len(head) // 4:
            return "utf-16"
        raise InputError("looks like UTF-16 big-endian, which is not read; " + _SAVE_AS_HINT,
                         path=str(path))
    lines = head.split(b"\n")
    if len(head) == _SNIFF_BYTES:
        lines = lines[:-1]  # possibly cut off
    bad = [number for number, line in enumerate(lines) if not _is_utf8(line)]
    # A few bad rows are rejected one by one; a bad header or many bad rows mean the whole file
    # is in another encoding.
    if bad and (bad[0] == 0 or len(bad) > _LEGACY_SHARE * len(lines)):
        raise InputError(
            f"is not UTF-8 ({len(bad)} of the first {len(lines)} lines are not); it looks like a "
            f"legacy Vietnamese encoding (Windows-1258, TCVN3 or VNI): {_SAVE_AS_HINT}",
            path=str(path), row=bad[0] or None, field="header" if bad[0] == 0 else None,
        )
    return "utf-8"


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _cell_text(value: Any) -> str | None:
    """An Excel cell as the text a CSV export would hold (dates ISO, whole numbers without .0)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _unique_headers(cells: Sequence[str | None]) -> list[str]:
    headers: list[str] = []
    for index, cell in enumerate(cells):
        name = (cell or "").strip() or f"column{index + 1}"
        while name in headers:
            name += "_"
        headers.append(name)
    return headers


def read_xlsx(
    path: Path, looks_like_header: Callable[[list[str]], bool],
) -> tuple[pa.Table, pa.Table]:
    """The first sheet as an all-text Arrow table with data-row numbers, and its unreadable rows.

    The header is the first row ``looks_like_header`` accepts within the first rows (title rows
    above it are skipped); failing that, the first non-empty row.
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for damaged files
        raise InputError(f"cannot be opened as an Excel workbook: {error}", path=str(path)) \
            from None
    try:
        rows = _text_rows(workbook.worksheets[0].iter_rows(values_only=True))
        header_cells, data_rows = _find_header(rows, looks_like_header)
        if header_cells is None:
            raise InputError("the first sheet is empty", path=str(path))
        while header_cells and header_cells[-1] is None:
            header_cells = header_cells[:-1]
        return _xlsx_table(data_rows, _unique_headers(header_cells))
    finally:
        workbook.close()


def _text_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[str | None]]:
    for row in rows:
        yield [_cell_text(value) for value in row]


def _find_header(
    rows: Iterator[list[str | None]], looks_like_header: Callable[[list[str]], bool],
) -> tuple[list[str | None] | None, Iterator[list[str | None]]]:
    """The header row and the rows after it."""
    first_rows = list(itertools.islice(rows, _HEADER_SEARCH_ROWS))
    non_empty = [index for index, row in enumerate(first_rows) if any(row)]
    if not non_empty:
        return None, rows
    chosen = next((index for index in non_empty
                   if looks_like_header([cell or "" for cell in first_rows[index]])), non_empty[0])
    return first_rows[chosen], itertools.chain(first_rows[chosen + 1:], rows)


def _xlsx_table(
    rows: Iterator[list[str | None]], headers: list[str],
) -> tuple[pa.Table, pa.Table]:
    columns: list[list[str | None]] = [[] for _ in headers]
    numbers: list[int] = []
    rejects: list[dict[str, Any]] = []
    width = len(headers)
    for number, row in enumerate(rows, start=1):
        if not any(row):
            continue
        extra = [cell for cell in row[width:] if cell is not None]
        if extra:
            rejects.append({
                "row_number": number, "column_name": None,
                "error": f"TOO MANY COLUMNS: Expected Number of Columns: {width} "
                         f"Found: {width + len(extra)}",
                "line": " | ".join(cell or "" for cell in row),
            })
            continue
        for index in range(width):
            columns[index].append(row[index] if index < len(row) else None)
        numbers.append(number)
    arrays = {header: pa.array(values, pa.string()) for header, values in zip(headers, columns, strict=True)}
    arrays[ROW_NUMBER_COLUMN] = pa.array(numbers, pa.int64())
    return pa.table(arrays), pa.Table.from_pylist(rejects, schema=LOAD_REJECT_SCHEMA)
