"""Speed and memory of the whole cleaning run (``vaxtrust clean``), stage by stage.

Generates N register persons (Parquet) and N dose records (UTF-8 CSV, Vietnamese headers) with
DuckDB (synthetic people only), then runs :func:`vaxtrust.pipeline.run.clean` and prints the
seconds of every stage and the peak memory of the process.

    python benchmarks/bench_clean_frame.py --persons 1000000 --records 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from vaxtrust.engine import create_engine
from vaxtrust.pipeline.run import clean
from vaxtrust.pipeline.settings import CleanSettings

_NAMES = """
    list_element(['Nguyễn','Trần','Lê','Phạm','Hoàng','Huỳnh','Phan','Vũ','Võ','Đặng','Bùi','Đỗ'],
                 1 + (h % 12)::INT) || ' ' ||
    list_element(['Văn','Thị','Hữu','Ngọc','Minh','Thanh','Quốc','Xuân'], 1 + (h // 12 % 8)::INT)
    || ' ' || list_element(['An','Bình','Cường','Dung','Giang','Hà','Khánh','Lan','Mai','Nam',
                 'Phúc','Quang','Sơn','Tâm','Uyên','Vinh','Yến','Hùng','Linh','Trang'],
                 1 + (h // 96 % 20)::INT) """


def make_inputs(folder: Path, persons: int, records: int) -> tuple[Path, Path]:
    con = duckdb.connect()
    register = folder / "register.parquet"
    con.execute(f"""
        COPY (
            SELECT lpad(CAST(i + 1000000000 AS VARCHAR), 12, '0') AS person_id,
                   {_NAMES} AS full_name,
                   strftime(DATE '1940-01-01' + CAST(h % 25000 AS INTEGER), '%Y-%m-%d') AS dob,
                   'day' AS dob_precision, CASE WHEN h % 2 = 0 THEN 'M' ELSE 'F' END AS gender,
                   '01' AS province_code, '001' AS district_code,
                   lpad(CAST(h % 300 AS VARCHAR), 5, '0') AS commune_code
            FROM (SELECT range AS i, hash(range) AS h FROM range({persons}))
        ) TO '{register}' (FORMAT parquet)""")
    doses = folder / "records.csv"
    con.execute(f"""
        COPY (
            SELECT 'R' || r AS "Mã bản ghi", {_NAMES} AS "Họ và tên",
                   strftime(DATE '1940-01-01' + CAST(h % 25000 AS INTEGER), '%d/%m/%Y')
                       AS "Ngày sinh",
                   CASE WHEN h % 2 = 0 THEN 'Nam' ELSE 'Nữ' END AS "Giới tính",
                   CASE WHEN r % 10 = 0 THEN NULL
                        ELSE lpad(CAST(i + 1000000000 AS VARCHAR), 12, '0') END AS "Số CCCD/CMND",
                   CAST(1 + r % 3 AS VARCHAR) AS "Mũi tiêm", 'AstraZeneca' AS "Loại vắc xin",
                   strftime(DATE '2021-06-01' + CAST(90 * (r % 3) AS INTEGER), '%d/%m/%Y')
                       AS "Ngày tiêm",
                   'F' || (h % 500) AS "Cơ sở tiêm", 'Hà Nội' AS "Tỉnh"
            FROM (SELECT range AS r, range % {persons} AS i, hash(range % {persons}) AS h
                  FROM range({records}))
        ) TO '{doses}' (FORMAT csv, HEADER true)""")
    con.close()
    return doses, register


class TimingConsole:
    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def stage_started(self, stage: str, total: int | None = None) -> None:
        self.started[stage] = time.perf_counter()

    def rows_processed(self, stage: str, rows: int) -> None:
        pass

    def stage_finished(self, stage: str, rows: int | None = None) -> None:
        seconds = time.perf_counter() - self.started.pop(stage, time.perf_counter())
        print(f"  {stage:<28} {seconds:8.2f} s  rows={rows}", flush=True)

    def message(self, text: str) -> None:
        pass


def time_ingest(folder: Path, doses: Path, register: Path, memory_limit: str) -> None:
    from vaxtrust.ingest.headers import SourceKind
    from vaxtrust.ingest.load import ingest

    inputs: list[tuple[SourceKind, Path]] = [("register", register), ("records", doses)]
    with create_engine("duckdb", memory_limit=memory_limit,
                       temp_directory=folder / "spill") as engine:
        for kind, path in inputs:
            start = time.perf_counter()
            [count] = ingest(engine, kind, [path], today=dt.date(2026, 1, 1))
            print(f"ingest {kind}: {count.rows_in:,} rows in {time.perf_counter() - start:.1f} s")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"peak RSS {peak_gb:.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--memory-limit", default="8GB")
    parser.add_argument("--no-probabilistic", action="store_true")
    parser.add_argument("--ingest-only", action="store_true",
                        help="Time ingest alone (both files), not the whole run.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vaxtrust-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        doses, register = make_inputs(folder, args.persons, args.records)
        print(f"inputs: {args.records:,} records, {args.persons:,} persons, "
              f"{doses.stat().st_size / 1e6:.0f} MB CSV, made in "
              f"{time.perf_counter() - start:.1f} s")
        if args.ingest_only:
            time_ingest(folder, doses, register, args.memory_limit)
            return
        from vaxtrust.pipeline.match.settings import MatchSettings

        settings = CleanSettings(today=dt.date(2026, 1, 1),
                                 match=MatchSettings(probabilistic=not args.no_probabilistic))
        start = time.perf_counter()
        with create_engine("duckdb", memory_limit=args.memory_limit,
                           temp_directory=folder / "spill") as engine:
            summary = clean([doses], register, folder / "run", settings=settings,
                            engine=engine, console=TimingConsole())
        total = time.perf_counter() - start
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(f"end to end: {total:.1f} s; peak RSS {peak_gb:.2f} GB; statuses "
              f"{summary.by_status}")
        print("stage seconds:", summary.stage_seconds)


if __name__ == "__main__":
    main()
