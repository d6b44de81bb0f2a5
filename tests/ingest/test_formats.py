"""Every format and encoding facilities send reads to the same rows, Vietnamese headers included."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from tests.ingest.conftest import ROWS, TODAY, VN_HEADER, write_delimited
from vaxtrust.engine import Engine
from vaxtrust.ingest.load import ingest


def _raw(engine: Engine) -> list[dict[str, object]]:
    return sorted(engine.to_arrow("raw_records").to_pylist(), key=lambda r: str(r["record_id"]))


def _check_standard_rows(engine: Engine, source: Path) -> None:
    rows = _raw(engine)
    assert [r["record_id"] for r in rows] == ["R1", "R2"]
    assert rows[0]["full_name"] == "Nguyễn Văn An"
    assert rows[0]["id_number"] == "001090000001"
    assert rows[1]["gender"] == "Nữ"
    assert rows[1]["phone"] is None  # empty cells are missing values
    assert rows[0]["vaccinated_on"] == "15/07/2021"
    assert [r["row_number"] for r in rows] == [1, 2]
    assert {r["source"] for r in rows} == {str(source)}


@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("utf-8", ","), ("utf-8-sig", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("utf-16", ","),
])
def test_csv_encodings_and_delimiters(engine: Engine, tmp_path: Path, encoding: str,
                                      delimiter: str) -> None:
    path = write_delimited(tmp_path / "doses.csv", ROWS, encoding=encoding, delimiter=delimiter)
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert count.encoding == ("utf-16" if encoding == "utf-16" else "utf-8")
    assert (count.rows_in, count.accepted, count.rejected) == (2, 2, 0)
    _check_standard_rows(engine, path)


def test_xlsx_with_a_title_row_above_the_header(engine: Engine, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["DANH SÁCH NGƯỜI ĐÃ TIÊM VẮC XIN COVID-19"])
    sheet.append([])
    sheet.append(VN_HEADER)
    for row in ROWS:
        sheet.append(row)
    path = tmp_path / "doses.xlsx"
    workbook.save(path)
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert count.file_format == "xlsx"
    _check_standard_rows(engine, path)


def test_xlsx_numbers_and_dates_become_text(engine: Engine, tmp_path: Path) -> None:
    import datetime as dt

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(VN_HEADER)
    sheet.append(["R1", "Lê Văn C", dt.datetime(1990, 2, 1), "Nam", 1090000001, None, 2.0,
                  "Moderna", dt.datetime(2021, 9, 1), "F1"])
    path = tmp_path / "doses.xlsx"
    workbook.save(path)
    ingest(engine, "records", [path], today=TODAY)
    [row] = _raw(engine)
    assert (row["dob"], row["id_number"], row["dose_number"], row["vaccinated_on"]) == (
        "1990-02-01", "1090000001", "2", "2021-09-01")


def test_parquet(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "doses.parquet"
    pq.write_table(pa.table({h: [r[i] or None for r in ROWS] for i, h in enumerate(VN_HEADER)}),
                   path)
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert count.file_format == "parquet"
    _check_standard_rows(engine, path)


def test_standard_english_headers_need_no_mapping(engine: Engine, tmp_path: Path) -> None:
    header = ["record_id", "full_name", "dob", "gender", "id_number", "phone", "dose_number",
              "vaccine", "vaccinated_on", "facility_id"]
    path = write_delimited(tmp_path / "doses.csv", ROWS, header=header)
    ingest(engine, "records", [path], today=TODAY)
    _check_standard_rows(engine, path)


def test_unused_headers_are_reported(engine: Engine, tmp_path: Path) -> None:
    path = write_delimited(tmp_path / "doses.csv", [row + ["ghi chú"] for row in ROWS],
                           header=VN_HEADER + ["Ghi chú"])
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert count.unused_headers == ["Ghi chú"]
    assert count.columns["full_name"] == "Họ và tên"
