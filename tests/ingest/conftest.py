"""Small input files in every format and encoding facilities send, written by the tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from vaxtrust.engine import Engine, create_engine

TODAY = dt.date(2026, 1, 1)

VN_HEADER = ["Mã bản ghi", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND",
             "Số điện thoại", "Mũi tiêm", "Loại vắc xin", "Ngày tiêm", "Cơ sở tiêm"]
ROWS = [
    ["R1", "Nguyễn Văn An", "01/02/1990", "Nam", "001090000001", "0912345678", "1",
     "AstraZeneca", "15/07/2021", "F1"],
    ["R2", "Trần Thị Bình", "04/03/1985", "Nữ", "001185000002", "", "2", "Pfizer",
     "01/09/2021", "F2"],
]


def write_delimited(path: Path, rows: list[list[str]], *, encoding: str = "utf-8",
                    delimiter: str = ",", header: list[str] | None = None) -> Path:
    lines = [delimiter.join(header or VN_HEADER)] + [delimiter.join(row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def engine() -> Iterator[Engine]:
    with create_engine("duckdb") as engine:
        yield engine
