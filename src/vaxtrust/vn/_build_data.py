"""Rebuild the compact admin-unit tables in ``data/`` from the shared source files.

Run ``python -m vaxtrust.vn._build_data /path/to/shared/data`` after the sources change.
Sources and licences: ``data/README.md``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

DATA = Path(__file__).with_name("data")


def build(shared: Path) -> None:
    source = shared / "admin-units" / "gso_wards_pre2025_2025-01-04.csv"
    seen: set[str] = set()
    with source.open(encoding="utf-8", newline="") as fh, (DATA / "admin_units_pre2025.csv").open(
        "w", encoding="utf-8", newline=""
    ) as out:
        writer = csv.writer(out)
        writer.writerow(["province_code", "province", "district_code", "district",
                         "commune_code", "commune"])
        for row in csv.DictReader(fh):
            code = row["Mã PX"].strip()
            if not code or code in seen:
                continue
            seen.add(code)
            writer.writerow([row["Mã TP"], row["Tỉnh Thành Phố"], row["Mã QH"], row["Quận Huyện"],
                             code, row["Phường Xã"]])
    legacy = shared / "admin-units" / "vietnamadminunits_convert_legacy_2025_simple.csv"
    with legacy.open(encoding="utf-8", newline="") as fh, (DATA / "commune_2025.csv").open(
        "w", encoding="utf-8", newline=""
    ) as out:
        writer = csv.writer(out)
        writer.writerow(["commune_code", "new_province_code", "new_commune_code", "new_commune"])
        for row in csv.DictReader(fh):
            old = f"{int(float(row['wardCode'])):05d}" if row["wardCode"] else ""
            if old:
                writer.writerow([old, row["newProvinceCode"], row["newWardCode"], row["newWard"]])


if __name__ == "__main__":
    build(Path(sys.argv[1]))
