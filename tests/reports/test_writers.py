"""Issue 16: the Excel workbook reopens with the expected sheets, Vietnamese headers, frozen header
row, totals as values; the JSON is the same report; the command line writes both, scoped."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import require_service
from tests.reports.generated import populate
from tests.store.cli import cli, invoke
from vaxtrust.app import reports
from vaxtrust.errors import PermissionDenied
from vaxtrust.reports.columns import REPORT_COLUMNS
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor

DAY = dt.date(2022, 4, 28)


def test_the_workbook_reopens_with_sheets_headers_and_totals(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    populate(published)
    report = reports.progress(published, actors["minh"], day=DAY, today=DAY)
    path = reports.write_progress(report, tmp_path / "progress.xlsx", "xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tổng hợp", "Toàn quốc", "Tỉnh", "Quận huyện", "Xã phường",
                               "Cơ sở tiêm chủng", "Xu hướng", "Trách nhiệm", "Đầu mối"]
    sheet = book["Tỉnh"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [column.vi for column in REPORT_COLUMNS]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    body, total = rows[:-1], rows[-1]
    assert [row[0] for row in body] == ["01", "48", "79"]
    assert total[0] == "Tổng cộng"
    records = headers.index("Mũi tiêm (bản ghi)")
    assert total[records] == sum(row[records] for row in body) == report.total.counts["records"]
    share = headers.index("Tỷ lệ xác thực")
    assert total[share] == pytest.approx(report.total.authenticated_share, abs=1e-6)
    assert sheet.cell(2, share + 1).number_format == "0.0%"
    assert sheet.cell(2, records + 1).number_format == "#,##0"
    assert not any(isinstance(value, str) and value.startswith("=")
                   for row in rows for value in row)
    summary = [row[0] for row in book["Tổng hợp"].iter_rows(values_only=True) if row[0]]
    assert any("1908/BYT-CNTT" in str(value) for value in summary)


def test_the_command_line_writes_json_and_xlsx_in_scope(
        published: Store, store_url: str, actors: dict[str, Actor], tmp_path: Path) -> None:
    populate(published)
    out = tmp_path / "hanoi.json"
    said = cli(store_url, "report", "progress", "--as", "hanoi", "--format", "json",
               "--level", "province", "--out", str(out))
    assert "wrote" in said
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [u["code"] for u in data["levels"]["province"]] == ["01"]
    assert set(data["levels"]) == {"country", "province"}
    assert "79" not in json.dumps(data["levels"])
    cli(store_url, "report", "progress", "--as", "minh", "--out", str(tmp_path / "all.xlsx"))
    assert openpyxl.load_workbook(tmp_path / "all.xlsx").sheetnames[0] == "Tổng hợp"
    said = cli(store_url, "report", "snapshot", "--as", "minh")
    assert "snapshot" in said
    refused = invoke(["report", "snapshot", "--as", "hanoi", "--db", store_url])
    assert isinstance(refused.exception, PermissionDenied)
    shown = cli(store_url, "report", "campaign", "--as", "hanoi")
    assert "1975-2022" in shown and "2022-04-30" in shown
    bad = invoke(["report", "progress", "--as", "minh", "--format", "doc", "--out",
                  str(tmp_path / "x"), "--db", store_url])
    assert bad.exit_code != 0


def test_the_pdf_renders(published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    populate(published)
    reports.take_snapshot(published, actors["minh"], day=DAY, today=DAY)
    report = reports.progress(published, actors["minh"], day=DAY, today=DAY)
    path = reports.write_progress(report, tmp_path / "progress.pdf", "pdf")
    assert path.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm") is None:
        require_service("pdftoppm missing (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "3", str(path),
                    str(tmp_path / "page")], check=True, capture_output=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2 and all(page.stat().st_size > 1000 for page in pages)
