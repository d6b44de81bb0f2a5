"""Reference tables shipped inside the package (``vaxtrust/vn/data``), read once and cached."""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files


def read_rows(name: str) -> list[dict[str, str]]:
    """Rows of the CSV file ``name`` in the package data folder, as dicts."""
    with files("vaxtrust.vn").joinpath("data", name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def cccd_province_names() -> dict[str, str]:
    """3-digit CCCD birth-registration code -> province name (Thông tư 07/2016/TT-BCA)."""
    return {row["cccd_code"]: row["province_short_tt07"]
            for row in read_rows("cccd_province_codes.csv")}


@cache
def cccd_country_names() -> dict[str, str]:
    """3-digit code (101+) -> country of a birth registered abroad."""
    with files("vaxtrust.vn").joinpath("data", "cccd_country_codes.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        return {code: name for name, code in csv.reader(fh)}
