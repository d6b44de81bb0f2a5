"""The standardise stage alone, on a real data set: its CPU time, and whether two versions of the
code give the same ``std_register`` and ``std_records``, row for row and column for column.

    uv run python benchmarks/std_tables.py prepare DATA_DIR RAW_DIR
    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/std_tables.py run RAW_DIR OUT_DIR
    uv run python benchmarks/std_tables.py compare OUT_DIR_A OUT_DIR_B

``prepare`` ingests ``DATA_DIR/register.parquet`` and ``DATA_DIR/records.csv`` once and keeps the
raw tables as Parquet; ``run`` standardises them as a cleaning run does (both read from Parquet,
as ``engine.create_parked_table`` leaves them), prints wall and CPU seconds per
table (CPU is the steadier figure on a shared machine) and writes both tables to ``OUT_DIR``;
``compare`` checks two such folders with EXCEPT ALL both ways and exits non-zero on any
difference. To run another version of the code, put its ``src`` first on the path::

    git archive main src | tar -x -C /tmp/main
    PYTHONPATH=/tmp/main/src uv run python benchmarks/std_tables.py run RAW_DIR OUT_MAIN
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from pathlib import Path

import duckdb

import vaxtrust
from vaxtrust.engine.duckdb import DuckDBEngine
from vaxtrust.ingest.load import ingest
from vaxtrust.pipeline.standardise import (
    register_vn_functions,
    standardise_records_sql,
    standardise_register_sql,
)

TABLES = ("std_register", "std_records")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def prepare(data: Path, raw: Path) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    with DuckDBEngine(threads=2) as engine:
        today = dt.date(2025, 6, 1)
        ingest(engine, "register", [data / "register.parquet"], today=today)
        ingest(engine, "records", [data / "records.csv"], today=today)
        for name in ("raw_register", "raw_records"):
            engine.write_parquet(name, raw / f"{name}.parquet")


def run(raw: Path, out: Path, threads: int) -> None:
    print(f"code: {Path(vaxtrust.__file__).parent}")
    out.mkdir(parents=True, exist_ok=True)
    with DuckDBEngine(threads=threads) as engine:
        engine.register("raw_register", raw / "raw_register.parquet")
        engine.register("raw_records", raw / "raw_records.parquet")
        started = (time.perf_counter(), _cpu())
        register_vn_functions(engine)
        for name, sql in zip(TABLES, (standardise_register_sql("raw_register"),
                                      standardise_records_sql("raw_records")), strict=True):
            table_started = (time.perf_counter(), _cpu())
            engine.create_table(name, sql)
            print(f"{name}: {time.perf_counter() - table_started[0]:.2f} s wall, "
                  f"{_cpu() - table_started[1]:.2f} s CPU, {engine.count(name):,} rows")
        print(f"standardise: {time.perf_counter() - started[0]:.2f} s wall, "
              f"{_cpu() - started[1]:.2f} s CPU")
        for name in TABLES:
            engine.write_parquet(name, out / f"{name}.parquet")


def compare(a: Path, b: Path) -> bool:
    con = duckdb.connect()
    same = True
    for name in TABLES:
        left, right = f"read_parquet('{a / name}.parquet')", f"read_parquet('{b / name}.parquet')"
        schemas = [con.execute(f"DESCRIBE SELECT * FROM {side}").fetchall()
                   for side in (left, right)]
        counts = [con.execute(f"SELECT count(*) FROM {side}").fetchall()[0][0]
                  for side in (left, right)]
        only = [con.execute(f"SELECT count(*) FROM (SELECT * FROM {x} EXCEPT ALL "
                            f"SELECT * FROM {y})").fetchall()[0][0]
                for x, y in ((left, right), (right, left))]
        identical = schemas[0] == schemas[1] and counts[0] == counts[1] and only == [0, 0]
        same = same and identical
        print(f"{name}: {counts[0]:,} vs {counts[1]:,} rows, schema "
              f"{'same' if schemas[0] == schemas[1] else 'DIFFERENT'}, only in A {only[0]:,}, "
              f"only in B {only[1]:,}: {'IDENTICAL' if identical else 'DIFFERENT'}")
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("data", type=Path)
    p.add_argument("raw", type=Path)
    r = commands.add_parser("run")
    r.add_argument("raw", type=Path)
    r.add_argument("out", type=Path)
    r.add_argument("--threads", type=int, default=2)
    c = commands.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.data, args.raw)
    elif args.command == "run":
        run(args.raw, args.out, args.threads)
    elif not compare(args.a, args.b):
        sys.exit(1)


if __name__ == "__main__":
    main()
