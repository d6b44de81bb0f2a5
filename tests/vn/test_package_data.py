"""The reference tables ship inside the package and agree with the shared sources."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vaxtrust.vn import admin, phones, vaccines
from vaxtrust.vn._data import cccd_country_names, cccd_province_names, read_rows


def test_package_tables_are_complete() -> None:
    rows = read_rows("admin_units_pre2025.csv")
    assert len({r["province_code"] for r in rows}) == 63
    assert len({r["commune_code"] for r in rows}) == len(rows) > 10_000
    assert len(cccd_province_names()) == 63 and cccd_province_names()["079"] == "Hồ Chí Minh"
    assert cccd_country_names()["101"] == "Afghanistan"
    assert len(phones.old_mobile_prefixes()) == 21
    assert len(vaccines.products()) == 11
    assert len({admin.to_2025(code).province_code for code in
                {r["province_code"] for r in rows}}) == 34


@pytest.mark.shared_data
def test_package_tables_match_the_shared_sources(shared_dir: Path) -> None:
    with (shared_dir / "data" / "phone" / "mobile_prefix_11_to_10_digits_2018.csv").open(
        encoding="utf-8"
    ) as fh:
        shared = {row["old_prefix"]: row["new_prefix"] for row in csv.DictReader(fh)}
    assert shared == phones.old_mobile_prefixes()
    with (shared_dir / "data" / "admin-units" / "gso_wards_pre2025_2025-01-04.csv").open(
        encoding="utf-8"
    ) as fh:
        codes = {row["Mã PX"] for row in csv.DictReader(fh) if row["Mã PX"]}
    assert codes == {row["commune_code"] for row in read_rows("admin_units_pre2025.csv")}
