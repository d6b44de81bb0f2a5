"""A small synthetic province as files: a register and two facility exports with known errors."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng"]
MIDDLES = ["Văn", "Thị", "Hữu", "Ngọc", "Minh"]
GIVENS = ["An", "Bình", "Cường", "Dung", "Giang", "Hà", "Khánh", "Lan", "Mai", "Nam", "Phúc"]
REGISTER_HEADER = ["Số định danh cá nhân", "Họ và tên", "Ngày sinh", "Giới tính", "Mã tỉnh"]
RECORD_HEADER = ["Mã bản ghi", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND",
                 "Mũi tiêm", "Loại vắc xin", "Ngày tiêm", "Cơ sở tiêm", "Tỉnh"]


@dataclass(frozen=True)
class Province:
    register: Path
    records: list[Path]
    persons: int


def _person(i: int) -> tuple[str, str, str, str]:
    name = f"{SURNAMES[i % 8]} {MIDDLES[i % 5]} {GIVENS[i % 11]}"
    dob = f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}"
    return f"0010{i:08d}", name, dob, "Nam" if i % 2 else "Nữ"


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def province(tmp_path: Path) -> Province:
    """60 persons; two doses each split over two facilities; a few damaged rows."""
    persons = [_person(i) for i in range(60)]
    _write(tmp_path / "register.csv", REGISTER_HEADER,
           [[pid, name, dob, gender, "01"] for pid, name, dob, gender in persons])
    north: list[list[str]] = []
    south: list[list[str]] = []
    for i, (pid, name, dob, gender) in enumerate(persons):
        y, m, d = dob.split("-")
        north.append([f"N{i}", name, f"{d}/{m}/{y}", gender, pid, "1", "AstraZeneca",
                      "15/07/2021", "F-NORTH", "Hà Nội"])
        south.append([f"S{i}", name, f"{d}/{m}/{y}", gender, pid, "2", "AstraZeneca",
                      "15/09/2021", "F-SOUTH", "Hà Nội"])
    south[0][0] = "N0"           # a conflicting duplicate record_id → rejected
    south.append(north[1])       # the same dose exported by both facilities → collapsed
    south.append(["S99", "", "", "", "", "1", "Pfizer", "01/10/2021", "F-SOUTH", "Hà Nội"])
    south.append(["S98", "Ai Đó", "01/01/1990", "Nam", "", "12", "Pfizer", "01/10/2021",
                  "F-SOUTH", "Hà Nội"])
    return Province(
        register=tmp_path / "register.csv",
        records=[_write(tmp_path / "north.csv", RECORD_HEADER, north),
                 _write(tmp_path / "south.csv", RECORD_HEADER, south)],
        persons=len(persons),
    )
