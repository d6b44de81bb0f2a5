"""Issue 16: the focal officers directory (import with reasons, idempotent, scoped; export) and
the facility heads' accountability ranking."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tests.reports.generated import populate
from tests.store.cli import cli, invoke
from tests.store.conftest import snapshot as table_rows
from vaxtrust.app import officers, reports
from vaxtrust.errors import PermissionDenied
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor

HEADERS = ["Tỉnh", "Đơn vị", "Mã cơ sở tiêm chủng", "Họ và tên", "Chức vụ", "Điện thoại",
           "Email"]
ROWS = [
    ["01", "Sở Y tế", "", "Nguyễn Thị Hoa", "Phó Giám đốc", "0912 345 678", ""],   # 2
    ["Hà Nội", "CDC", "", "trần văn nam", "Trưởng khoa", "", "nam@cdc.example.vn"],  # 3
    ["01", "Cơ sở tiêm chủng", "HN-01", "Lê Văn Tâm", "Trạm trưởng", "01689123456", ""],  # 4
    ["79", "Cơ sở tiêm chủng", "HCM-01", "Phạm Thị Lan", "Giám đốc", "0903123456", ""],  # 5
    ["", "Bộ Y tế", "", "Đỗ Minh Quân", "Chuyên viên Cục CNTT", "0243 8264 545", ""],  # 6
    ["01", "Sở Y tế", "", "", "", "0912345678", ""],                                  # 7 no name
    ["01", "Phòng khám", "", "Vũ Văn Bình", "", "0912345679", ""],                      # 8 unit
    ["01", "CDC", "", "Hồ Thị Mai", "", "12345", ""],                                  # 9 phone
    ["01", "Cơ sở tiêm chủng", "HCM-01", "Ngô Văn Sơn", "", "0912345670", ""],          # 10 facility
    ["01", "CDC", "", "Đinh Văn Hải", "", "", "not-an-email"],                          # 11 email
    ["01", "Sở Y tế", "", "Nguyễn Thị Hoa", "Phó Giám đốc", "0912345678", ""],          # 12 twice
]


def _file(path: Path, rows: list[list[str]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate([HEADERS, *rows]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return path


def test_import_refuses_bad_rows_with_reasons_and_is_idempotent(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    path = _file(tmp_path / "officers.xlsx", ROWS)
    result = officers.import_officers(published, actors["minh"], path)
    assert (result.added, result.updated, result.unchanged) == (5, 0, 0)
    reasons = {r.row_number: r.reason for r in result.rejected}
    assert sorted(reasons) == [6, 7, 8, 9, 10, 11]
    assert "full name missing" in reasons[6] and "unknown unit" in reasons[7]
    assert "invalid phone" in reasons[8] and "no such facility" in reasons[9]
    assert "invalid email" in reasons[10] and "twice" in reasons[11]
    listed = officers.list_officers(published, actors["minh"])
    hoa = next(o for o in listed if o.full_name == "Nguyễn Thị Hoa")
    assert (hoa.unit, hoa.province_code, hoa.phone) == ("health_department", "01", "0912345678")
    tam = next(o for o in listed if o.full_name == "Lê Văn Tâm")
    assert tam.phone == "0389123456"            # the 2018 prefix change: 0168 -> 038
    assert next(o for o in listed if o.unit == "cdc").full_name == "Trần Văn Nam"
    before = table_rows(published)
    again = officers.import_officers(published, actors["minh"], path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert table_rows(published) == before      # not even an audit event
    changed = ROWS[:1]
    changed[0] = [*ROWS[0][:5], "0987654321", ""]
    updated = officers.import_officers(published, actors["minh"],
                                       _file(tmp_path / "changed.xlsx", changed))
    assert (updated.added, updated.updated) == (0, 1)


def test_officers_are_scoped(published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    path = _file(tmp_path / "officers.xlsx", ROWS[:5])
    hanoi = officers.import_officers(published, actors["hanoi"], path)
    assert hanoi.added == 3                      # Ha Noi's own three
    assert {r.row_number for r in hanoi.rejected} == {4, 5}     # data rows after the header
    assert all("outside your scope" in r.reason for r in hanoi.rejected)
    with pytest.raises(PermissionDenied):
        officers.import_officers(published, actors["hn01"], path)
    officers.import_officers(published, actors["minh"], path)
    seen = {o.full_name for o in officers.list_officers(published, actors["hcm"])}
    assert seen == {"Phạm Thị Lan", "Đỗ Minh Quân"}
    with pytest.raises(PermissionDenied):
        officers.list_officers(published, actors["an"])
    out = tmp_path / "export.xlsx"
    assert officers.export_officers(published, actors["hanoi"], out) == 4
    sheet = openpyxl.load_workbook(out)["Đầu mối"]
    assert [c.value for c in sheet[1]] == HEADERS
    names = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "Phạm Thị Lan" not in names and "Đỗ Minh Quân" in names
    # The export imports back unchanged.
    back = officers.import_officers(published, actors["minh"], out)
    assert (back.added, back.updated, len(back.rejected)) == (0, 0, 0)


def test_accountability_ranks_facilities_per_province(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    generated = populate(published)
    day = generated.day
    officers.import_officers(published, actors["minh"], _file(tmp_path / "o.xlsx", ROWS[:5]))
    ranked = reports.facility_accountability(published, actors["minh"], day=day, today=day)
    report = reports.progress(published, actors["minh"], day=day, today=day)
    units = {u.code: u for u in report.levels["facility"]}
    assert {a.facility_id for a in ranked} == set(units)
    for account in ranked:
        unit = units[account.facility_id]
        assert account.verified_unsigned == unit.counts["people_linked"] - \
            unit.counts["people_signed"]
        assert account.errors_over_days == unit.counts["review_over_7d"]
    for province in {a.province_code for a in ranked}:
        mine = [a for a in ranked if a.province_code == province]
        assert [a.rank for a in mine] == list(range(1, len(mine) + 1))
        unsigned = [a.verified_unsigned for a in mine]
        assert unsigned == sorted(unsigned, reverse=True)
    head = next(a for a in ranked if a.facility_id == "HN-01")
    assert (head.head_name, head.head_phone) == ("Lê Văn Tâm", "0389123456")
    thirty = reports.facility_accountability(published, actors["minh"], day=day, today=day,
                                             days=30)
    assert sum(a.errors_over_days for a in thirty) == report.total.counts["review_over_30d"]
    hanoi = reports.facility_accountability(published, actors["hanoi"], day=day, today=day)
    assert {a.province_code for a in hanoi} == {"01"}


def test_accountability_and_officers_from_the_command_line(
        published: Store, store_url: str, actors: dict[str, Actor], tmp_path: Path) -> None:
    path = _file(tmp_path / "officers.xlsx", ROWS)
    result = invoke(["officers", "import", str(path), "--as", "minh", "--db", store_url])
    assert result.exit_code == 1 and "5 added" in result.output and "invalid phone" in result.output
    listed = cli(store_url, "officers", "list", "--as", "hanoi")
    assert "Lê Văn Tâm" in listed and "Phạm Thị Lan" not in listed
    cli(store_url, "officers", "export", "--as", "minh", "--out", str(tmp_path / "e.xlsx"))
    said = cli(store_url, "report", "accountability", "--as", "hanoi", "--out",
               str(tmp_path / "a.xlsx"))
    assert "facilities" in said
    sheet = openpyxl.load_workbook(tmp_path / "a.xlsx")["Trách nhiệm"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {row[0] for row in rows} == {"01"}
    assert any(row[4] == "Lê Văn Tâm" for row in rows)
    workbook = tmp_path / "p.xlsx"
    cli(store_url, "report", "progress", "--as", "minh", "--out", str(workbook))
    assert {"Trách nhiệm", "Đầu mối"} <= set(openpyxl.load_workbook(workbook).sheetnames)

