"""Row numbers stay true in files large enough for DuckDB to read in parallel."""

from __future__ import annotations

from pathlib import Path

from tests.ingest.conftest import TODAY
from vaxtrust.engine import Engine
from vaxtrust.ingest.load import ingest

HEADER = "Mã bản ghi,Họ và tên,Ngày sinh,Mũi tiêm,Ngày tiêm,Cơ sở tiêm"


def test_row_numbers_after_bad_rows_far_into_a_large_file(engine: Engine,
                                                          tmp_path: Path) -> None:
    rows = 200_000
    short = {50_000, 150_001}       # too few columns
    undecodable = {180_000}          # invalid UTF-8 past the first megabytes
    blank = 120_000                  # a blank line
    lines = [HEADER.encode()]
    for n in range(1, rows + 1):
        if n == blank:
            lines.append(b"")
        elif n in short:
            lines.append(f"R{n},Nguyễn Văn An".encode())
        elif n in undecodable:
            lines.append(f"R{n},Nguy".encode() + b"\xe9n" + b",01/02/1990,1,15/07/2021,F1")
        else:
            lines.append(f"R{n},Nguyễn Văn An,01/02/1990,1,15/07/2021,F{n % 97}".encode())
    path = tmp_path / "large.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert path.stat().st_size > 8 << 20
    [count] = ingest(engine, "records", [path], today=TODAY)
    bad = sorted(short | undecodable)
    assert (count.rows_in, count.rejected) == (rows - 1, len(bad))
    rejected = engine.query("SELECT row_number, reason FROM rejects ORDER BY 1").to_pylist()
    assert [r["row_number"] for r in rejected] == bad
    assert {r["reason"] for r in rejected} == {"too_few_columns", "invalid_encoding"}
    mismatched = engine.query(
        "SELECT count(*) AS n FROM raw_records WHERE record_id <> 'R' || row_number"
    ).column("n")[0].as_py()
    assert mismatched == 0
