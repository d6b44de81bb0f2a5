"""The progress report as the Excel workbook a ministry analyst expects (XlsxWriter).

One sheet per level with Vietnamese headers (the English below them would break filters, so it
sits in each header's comment), the header row frozen, thousands separators and percentages as
number formats, and a totals row written as values: no formula a spreadsheet could recalculate
differently. Text goes in as text (``write_string``), never as a formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from vaxtrust.reports.columns import LEVEL_SHEETS, REPORT_COLUMNS, Column
from vaxtrust.reports.progress import ProgressReport

TOTAL_LABEL = "Tổng cộng"
SUMMARY_SHEET = "Tổng hợp"
TREND_SHEET = "Xu hướng"


class _Formats:
    def __init__(self, book: Workbook) -> None:
        self.header = book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                       "bg_color": "#DDEBF7", "border": 1})
        self.count = book.add_format({"num_format": "#,##0"})
        self.share = book.add_format({"num_format": "0.0%"})
        self.text = book.add_format({})
        self.total_text = book.add_format({"bold": True, "top": 1})
        self.total_count = book.add_format({"bold": True, "top": 1, "num_format": "#,##0"})
        self.total_share = book.add_format({"bold": True, "top": 1, "num_format": "0.0%"})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.date = book.add_format({"num_format": "dd/mm/yyyy"})

    def of(self, kind: str, total: bool = False) -> Any:
        if kind == "share":
            return self.total_share if total else self.share
        if kind in ("count", "days"):
            return self.total_count if total else self.count
        return self.total_text if total else self.text


def write_cell(sheet: Worksheet, row: int, col: int, value: object, fmt: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def write_table(sheet: Worksheet, formats: _Formats, columns: Sequence[Column],
                rows: Sequence[Mapping[str, Any]], total: dict[str, object] | None) -> None:
    """Header row (frozen, with autofilter), the rows, then the totals row as values."""
    for col, column in enumerate(columns):
        sheet.write_string(0, col, column.vi, formats.header)
        sheet.write_comment(0, col, column.en)
        sheet.set_column(col, col, 28 if column.key == "name" else 14)
    sheet.set_row(0, 45)
    sheet.freeze_panes(1, 0)
    for index, values in enumerate(rows, start=1):
        for col, column in enumerate(columns):
            write_cell(sheet, index, col, values.get(column.key), formats.of(column.kind))
    if rows:
        sheet.autofilter(0, 0, len(rows), len(columns) - 1)
    if total is not None:
        last = len(rows) + 1
        for col, column in enumerate(columns):
            value = TOTAL_LABEL if col == 0 else (
                None if column.kind == "text" else total.get(column.key))
            write_cell(sheet, last, col, value, formats.of(column.kind, total=True))


def _summary(book: Workbook, formats: _Formats, report: ProgressReport) -> None:
    sheet = book.add_worksheet(SUMMARY_SHEET)
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, 4, 16)
    sheet.write_string(0, 0, "Báo cáo tiến độ làm sạch dữ liệu tiêm chủng COVID-19", formats.title)
    info = [("Chiến dịch", report.campaign.name), ("Mã chiến dịch", report.campaign.code),
            ("Số liệu đến hết ngày", report.as_of.strftime("%d/%m/%Y")),
            ("Phạm vi", report.scope), ("Nguồn số liệu", "ảnh chụp hằng ngày"
                                        if report.source == "snapshot" else "trực tiếp")]
    for row, (label, value) in enumerate(info, start=2):
        sheet.write_string(row, 0, label, formats.total_text)
        sheet.write_string(row, 1, value)
    start = len(info) + 3
    headers = ["Mốc thời hạn", "Hạn chót", "Số ngày còn lại", "Hiện đạt", "Mục tiêu", "Đạt"]
    for col, header in enumerate(headers):
        sheet.write_string(start, col, header, formats.header)
    for row, d in enumerate(report.deadlines, start=start + 1):
        share = d.measure.endswith("share")
        sheet.write_string(row, 0, d.label)
        sheet.write_string(row, 1, d.due_on.strftime("%d/%m/%Y"))
        sheet.write_number(row, 2, d.days_left)
        value_format = formats.share if share else formats.count
        write_cell(sheet, row, 3, d.value, value_format)
        write_cell(sheet, row, 4, d.target, value_format)
        write_cell(sheet, row, 5, None if d.met is None else ("Đạt" if d.met else "Chưa đạt"),
                   formats.text)


def _trend(book: Workbook, formats: _Formats, report: ProgressReport) -> None:
    sheet = book.add_worksheet(TREND_SHEET)
    columns = (Column("date", "Ngày", "Date", "text"),
               Column("records", "Mũi tiêm (bản ghi)", "Dose records"),
               Column("authenticated", "Đã xác thực", "Authenticated"),
               Column("people_linked", "Người đã xác thực", "People authenticated"),
               Column("people_signed", "Người đã ký", "People signed"),
               Column("complaints_open", "Phản ánh đang mở", "Complaints open"))
    write_table(sheet, formats, columns, report.trend, None)


def write(report: ProgressReport, out: Path,
          extra: Sequence[tuple[str, Sequence[Column], Sequence[Mapping[str, Any]]]] = ()) -> Path:
    """Write ``report`` (and ``extra`` sheets: name, columns, rows) to ``out``."""
    book = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False,
                                          "strings_to_numbers": False})
    formats = _Formats(book)
    _summary(book, formats, report)
    total = report.total.to_dict(report.as_of)
    for level, units in report.levels.items():
        sheet = book.add_worksheet(LEVEL_SHEETS[level][0])
        write_table(sheet, formats, REPORT_COLUMNS, [u.to_dict(report.as_of) for u in units],
                    total if level != "country" else None)
    _trend(book, formats, report)
    for name, columns, rows in extra:
        write_table(book.add_worksheet(name), formats, columns, rows, None)
    book.close()
    return out


def write_sheets(out: Path,
                 sheets: Sequence[tuple[str, Sequence[Column], Sequence[Mapping[str, Any]]]]
                 ) -> Path:
    """A workbook of plain tables (name, columns, rows), in the report's formats."""
    book = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False,
                                          "strings_to_numbers": False})
    formats = _Formats(book)
    for name, columns, rows in sheets:
        write_table(book.add_worksheet(name), formats, columns, rows, None)
    book.close()
    return out
