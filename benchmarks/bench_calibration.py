"""How close the calibrated probabilities come to the truth, on generated data.

    uv run python benchmarks/bench_calibration.py RUN_FOLDER DATA_FOLDER

RUN_FOLDER is a ``vaxtrust clean`` run; DATA_FOLDER the data it cleaned with its truth
(``truth/records_truth.parquet``): the project's generator (``vaxtrust generate``) or the
independent evaluation set (``benchmarks/independent``: for measuring only, never tuning).
Links and review items carry the calibrated probability of their best candidate as their
confidence (:mod:`vaxtrust.pipeline.match.calibrate`). Per band of expected error (one minus the
confidence) it prints the records, the wrong persons the calibration expected (the sum of the
expected errors) and the wrong persons there were: for links, the linked person; for review
items, the first candidate. Also the run summary's own table (``calibration``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vaxtrust.pipeline.match.calibrate import ERROR_BANDS, band_sql  # noqa: E402


def measure(run: Path, data: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    error = "(1.0 - r.confidence)"
    return con.sql(f"""
        WITH truth AS (SELECT record_id, true_person_id
                       FROM '{data}/truth/records_truth.parquet'),
        best AS (
            SELECT r.record_id, r.status, r.confidence,
                coalesce(r.person_id, c.person_id) AS person_id
            FROM '{run}/results.parquet' AS r
            LEFT JOIN (SELECT record_id, person_id FROM '{run}/review_candidates.parquet'
                       WHERE rank = 1) AS c ON c.record_id = r.record_id
            WHERE r.status IN ('verified', 'corrected', 'review')
        )
        SELECT CASE WHEN r.status = 'review' THEN 'review' ELSE 'link' END AS kind,
            {band_sql(error)} AS band, count(*) AS records,
            round(sum({error}), 3) AS expected_wrong,
            count(*) FILTER (WHERE t.true_person_id IS DISTINCT FROM r.person_id) AS wrong
        FROM best AS r LEFT JOIN truth AS t ON t.record_id = r.record_id
        GROUP BY ALL ORDER BY kind, min({error})""").fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("data", type=Path)
    args = parser.parse_args()
    summary = json.loads((args.run / "summary.json").read_text(encoding="utf-8"))
    calibration = summary.get("calibration")
    if calibration is None:
        raise SystemExit("the run has no calibration (no model: the probabilistic path skipped)")
    print(f"bands of expected error: {', '.join(f'<= {b:g}' for b in ERROR_BANDS)}, more")
    print("path priors:", {k: round(v, 6) for k, v in calibration["path_priors"].items()})
    print("\n| best candidate of | expected error | records | wrong expected | wrong |")
    print("| --- | --- | ---: | ---: | ---: |")
    for kind, band, records, expected, wrong in measure(args.run, args.data):
        print(f"| {kind} | {band} | {records:,} | {expected:,.3f} | {wrong:,} |")
    print(f"\nlinks {calibration['links']:,}: wrong expected "
          f"{calibration['expected_wrong_links']:.3f} "
          f"({calibration['expected_wrong_per_100k_links']} per 100,000)")


if __name__ == "__main__":
    main()
