"""File-level reading: which format and encoding a file has, and XLSX as Arrow.

CSV and Parquet are read by the engine itself (DuckDB-native, no Python row loops); XLSX files are
small (Excel stops at about a million rows) and are streamed with openpyxl in read-only mode.
Every problem with a file as a whole raises :class:`~vaxtrust.errors.InputError` naming the file.

Hostile files (docs/security.md, "Ingest limits"): a CSV is read in one fixed dialect (``"``
quotes, ``""`` escapes, the delimiter of its header row) and never sniffed, so one damaged row
cannot change how the other rows are read; an XLSX is checked as a zip (unpacked size, packing
ratio, member count) before it is opened, its XML is parsed by defusedxml, and a cell longer than
Excel's own limit rejects its row.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from vaxtrust.engine.base import LOAD_REJECT_SCHEMA, ROW_NUMBER_COLUMN
from vaxtrust.errors import InputError
from vaxtrust.ingest.validate import CONTROL_CHARACTER

InputFormat = Literal["csv", "xlsx", "parquet"]

_SNIFF_BYTES = 4 << 20
_HEADER_SEARCH_ROWS = 30  # XLSX: title rows above the header are common in facility exports
_LEGACY_SHARE = 0.05  # more undecodable lines than this in the sample: a wrong-encoding file
_SAVE_AS_HINT = "save it from Excel as 'CSV UTF-8' or 'Unicode Text', or as .xlsx"

CSV_DELIMITERS = (",", ";", "\t", "|")  # the header row decides; ties go to the earlier one
CSV_QUOTE = '"'

# XLSX limits, checked on the zip's directory before anything is inflated. Excel's own sheet
# limit (1,048,576 rows) is about 300 MB of sheet XML at 10 short columns.
MAX_XLSX_UNPACKED_BYTES = 1 << 30
MAX_XLSX_PACKING_RATIO = 100  # a real sheet packs 5-30 : 1; a zip bomb 1000 : 1
MAX_XLSX_RATIO_EXEMPT_BYTES = 16 << 20  # small members (styles, empty sheets) may pack tighter
MAX_XLSX_MEMBERS = 10_000
MAX_CELL_CHARS = 32_767  # Excel's own limit; a longer cell comes from a crafted file


@dataclass(frozen=True)
class InputFile:
    path: Path
    file_format: InputFormat
    encoding: str = "utf-8"  # CSV only: "utf-8" or "utf-16" (little-endian, as Excel writes it)
    delimiter: str = ","  # CSV only: from the header row
    header: tuple[str, ...] = ()  # CSV only: the header row's column names (unique)


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
    encoding = _csv_encoding(path, head)
    delimiter, header = _csv_header(path, head, encoding)
    return InputFile(path, "csv", encoding, delimiter, header)


def _codec(encoding: str, head: bytes) -> str:
    """Python's codec for a CSV file of ``encoding`` starting with ``head``."""
    if encoding == "utf-16":
        return "utf-16" if head[:2] == b"\xff\xfe" else "utf-16-le"
    return "utf-8-sig"


def _csv_header(path: Path, head: bytes, encoding: str) -> tuple[str, tuple[str, ...]]:
    """The delimiter and column names of a CSV file's first line, in the fixed dialect."""
    text = head.decode(_codec(encoding, head), errors="replace")
    line, newline, _ = text.partition("\n")
    if not newline and len(head) == _SNIFF_BYTES:
        raise InputError(f"the header row is longer than {_SNIFF_BYTES >> 20} MB", path=str(path),
                         line=1, field="header")
    line = line.rstrip("\r")
    parsed: dict[str, list[str]] = {}
    errors: list[str] = []
    for delimiter in CSV_DELIMITERS:
        try:
            parsed[delimiter] = next(csv.reader([line], delimiter=delimiter, quotechar=CSV_QUOTE,
                                                doublequote=True, strict=True), [])
        except csv.Error as error:  # e.g. quotes that only fit another delimiter
            errors.append(f"{error}")
    if not parsed:
        raise InputError(f"the header row does not fit the CSV format: {errors[0]}",
                         path=str(path), line=1, field="header")
    delimiter = max(parsed, key=lambda d: (len(parsed[d]), -CSV_DELIMITERS.index(d)))
    return delimiter, tuple(_unique_headers(parsed[delimiter], path))


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


def locate_csv_damage(source: InputFile) -> tuple[int, str] | None:
    """The first line (1 = header) where ``source`` leaves the fixed dialect, and why.

    Called only after the engine's reader refused the file as a whole, to name the line.
    """
    with source.path.open("rb") as file:
        codec = _codec(source.encoding, file.read(2))
    with source.path.open(encoding=codec, errors="replace", newline="\n") as lines:
        header_crlf = False
        for number, line in enumerate(lines, start=1):
            body = line.removesuffix("\n")
            crlf = body.endswith("\r")
            if "\r" in body.removesuffix("\r"):
                return number, "a carriage return inside a value (remove it from the cell)"
            if number == 1:
                header_crlf = crlf
            elif line.endswith("\n") and crlf != header_crlf:
                endings = ("CR LF", "LF") if crlf else ("LF", "CR LF")
                return number, (f"this line ends with {endings[0]}, the header with "
                                f"{endings[1]} (mixed line endings)")
    with source.path.open(encoding=codec, errors="replace", newline="") as text:
        reader = csv.reader(text, delimiter=source.delimiter, quotechar=CSV_QUOTE,
                            doublequote=True, strict=True)
        try:
            for _ in reader:
                pass
        except csv.Error as error:
            return reader.line_num, f"a misplaced quote ({error})"
    return None


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


def _unique_headers(cells: Sequence[str | None], path: Path) -> list[str]:
    """Column names: trimmed, line breaks as spaces (Excel headers wrap), unique, never empty.

    Any other control character (a NUL cuts a name short in SQL) refuses the file.
    """
    headers: list[str] = []
    taken: set[str] = set()
    for index, cell in enumerate(cells):
        name = " ".join((cell or "").split()) or f"column{index + 1}"
        if CONTROL_CHARACTER.search(name):
            raise InputError(f"the header of column {index + 1} holds a control character "
                             f"({name.encode('unicode_escape').decode('ascii')!r})",
                             path=str(path), field="header")
        while name.casefold() in taken:  # SQL names ignore case
            name += "_"
        taken.add(name.casefold())
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

    check_xlsx_zip(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for damaged files
        raise InputError(f"cannot be opened as an Excel workbook: {_first_line(error)}",
                         path=str(path)) from None
    try:
        rows = _text_rows(workbook.worksheets[0].iter_rows(values_only=True))
        header_cells, data_rows = _find_header(rows, looks_like_header)
        if header_cells is None:
            raise InputError("the first sheet is empty", path=str(path))
        while header_cells and header_cells[-1] is None:
            header_cells = header_cells[:-1]
        return _xlsx_table(data_rows, _unique_headers(header_cells, path))
    except InputError:
        raise
    except Exception as error:  # the sheet's XML is parsed lazily, row by row
        raise InputError(f"cannot be read as an Excel workbook: {_first_line(error)}",
                         path=str(path)) from None
    finally:
        workbook.close()


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def check_xlsx_zip(path: Path) -> None:
    """Refuse a workbook whose zip would unpack too large or too tightly packed, before opening it.

    The sizes are the zip directory's; Python's zip reader never inflates a member beyond its
    declared size, so a directory that lies only truncates the member (a damaged workbook).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InputError(f"cannot be opened as an Excel workbook: {error}", path=str(path)) \
            from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise InputError(f"holds {len(members):,} files, more than an Excel workbook has "
                         f"(limit {MAX_XLSX_MEMBERS:,})", path=str(path))
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise InputError(f"would unpack to {unpacked / 2**20:,.0f} MB, more than the limit of "
                         f"{MAX_XLSX_UNPACKED_BYTES / 2**20:,.0f} MB; split it or save it as "
                         "CSV UTF-8", path=str(path))
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > MAX_XLSX_RATIO_EXEMPT_BYTES and ratio > MAX_XLSX_PACKING_RATIO:
            raise InputError(
                f"{member.filename} is packed {ratio:,.0f} : 1 ({member.compress_size:,} bytes "
                f"unpack to {member.file_size:,}), beyond the limit of "
                f"{MAX_XLSX_PACKING_RATIO} : 1 for a real sheet; refused unopened (a zip bomb?)",
                path=str(path))


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
        longest = max((len(cell) for cell in row if cell is not None), default=0)
        if longest > MAX_CELL_CHARS:
            rejects.append({
                "row_number": number, "column_name": None,
                "error": f"CELL TOO LONG: a cell holds {longest:,} characters "
                         f"(limit {MAX_CELL_CHARS:,})",
                "line": " | ".join((cell or "")[:100] for cell in row),
            })
            continue
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
