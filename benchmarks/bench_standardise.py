"""Standardise N messy dose records inside DuckDB (every vn rule) and print the timings.

Usage: python benchmarks/bench_standardise.py [ROWS] [THREADS]   (defaults: 1000000, 2)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from vaxtrust.demo.messy import messy_records
from vaxtrust.engine.duckdb import DuckDBEngine
from vaxtrust.pipeline.standardise import register_vn_functions, standardise_records_sql


def main(rows: int, threads: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "raw_records.parquet"
        started = time.perf_counter()
        pq.write_table(messy_records(rows, seed=2022), path)
        print(f"generated {rows:,} messy records in {time.perf_counter() - started:.1f} s")
        engine = DuckDBEngine(threads=threads)
        register_vn_functions(engine)
        engine.execute(f"CREATE TABLE raw_records AS SELECT * FROM read_parquet('{path}')")
        python_rows = engine.query(
            "SELECT count(*) AS n FROM raw_records WHERE regexp_matches(full_name, "
            f"{_needs_python_literal()})").column("n")[0].as_py()
        started, cpu_started = time.perf_counter(), time.process_time()
        engine.create_table("std_records", standardise_records_sql("raw_records"))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        # CPU seconds of all threads: on a busy shared machine wall time overstates the cost.
        print(f"standardised {engine.count('std_records'):,} records on {threads} threads "
              f"in {elapsed:.2f} s wall, {cpu:.2f} s CPU ({rows / elapsed:,.0f} rows/s); "
              f"{python_rows:,} names ({python_rows / rows:.1%}) went through the Python UDF; "
              f"load average {os.getloadavg()[0]:.1f}")
        engine.close()


def _needs_python_literal() -> str:
    from vaxtrust.vn.sql import NEEDS_PYTHON_PATTERN, lit

    return lit(NEEDS_PYTHON_PATTERN)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
         int(sys.argv[2]) if len(sys.argv) > 2 else 2)
