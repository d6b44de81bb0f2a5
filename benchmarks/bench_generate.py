"""Generate a synthetic data set and score a perfect results file; print time, memory and sizes.

Usage: python benchmarks/bench_generate.py [PERSONS] [OUT_DIR]   (defaults: 1000000, a temp folder)

The budget: 1 million persons (about 2.3 million dose records) in at most 2 minutes on 2 cores.
Run heavy sizes under ``flock /tmp/vaxtrust-bench.lock`` (the machine is shared).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from vaxtrust.demo.evaluate import score
from vaxtrust.demo.generate import GenerateOptions, generate


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _perfect_results(folder: Path, target: Path) -> None:
    duckdb.sql(f"""
        COPY (SELECT record_id,
                     CASE WHEN true_person_id IS NULL THEN 'unmatched'
                          WHEN len(error_kinds) = 0 THEN 'verified' ELSE 'corrected' END AS status,
                     true_person_id AS person_id, true_full_name AS corrected_full_name,
                     true_dob AS corrected_dob, true_gender AS corrected_gender,
                     true_id_number AS corrected_id_number, 1.0 AS confidence, error_kinds AS reasons
              FROM read_parquet('{folder}/truth/records_truth.parquet'))
        TO '{target}' (FORMAT parquet)""")


def main(persons: int, out: Path) -> None:
    started = time.perf_counter()
    cpu_started = time.process_time()
    manifest = generate(GenerateOptions(persons=persons, seed=2022, out=out, overwrite=True))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    counts = manifest["counts"]
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    print(f"generated {persons:,} persons, {counts['records']:,} records in {wall:.1f} s wall "
          f"({cpu:.1f} s CPU; {counts['records'] / wall:,.0f} records/s); "
          f"peak RSS {_peak_rss_mb():,.0f} MB; files {size_mb:,.0f} MB")
    print(f"shares: {manifest['shares']}")

    results = out / "perfect_results.parquet"
    _perfect_results(out, results)
    started = time.perf_counter()
    result = score(out, results)   # streamed from the file by DuckDB
    print(f"scored {result.records:,} results in {time.perf_counter() - started:.1f} s "
          f"(precision {result.precision}, recall {result.recall})")
    results.unlink()


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if len(sys.argv) > 2:
        main(count, Path(sys.argv[2]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(count, Path(folder) / "generated")
