"""Reference tables shipped inside the package (``vaxtrust/vn/data``), read once and cached."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib.resources import files


def read_rows(name: str) -> list[dict[str, str]]:
    """Rows of the CSV file ``name`` in the package data folder, as dicts."""
    text = files("vaxtrust.vn").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@cache
def cccd_province_names() -> dict[str, str]:
    """3-digit CCCD birth-registration code -> province name (Thông tư 07/2016/TT-BCA)."""
    return {row["cccd_code"]: row["province_short_tt07"]
            for row in read_rows("cccd_province_codes.csv")}


@cache
def cccd_country_names() -> dict[str, str]:
    """3-digit code (101+) -> country of a birth registered abroad."""
    text = files("vaxtrust.vn").joinpath("data", "cccd_country_codes.csv").read_text("utf-8")
    return {code: name for name, code in csv.reader(io.StringIO(text, newline=""))}
