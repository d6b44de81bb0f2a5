"""Are two cleaning runs' decisions identical? For speed work that must not change a decision.

    uv run python benchmarks/compare_results.py BEFORE/results.parquet AFTER/results.parquet

Compares, per record, every column of the results contract (status, person, corrected values,
confidence, reasons as a sorted list) and, if both run folders have one, the review candidates
(rank, person, probability, the comparison shown to the reviewer, reasons). Prints the number of
records that differ per column with a few examples, and exits non-zero when anything differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

RESULT_COLUMNS = ("status", "person_id", "corrected_full_name", "corrected_dob",
                  "corrected_gender", "corrected_id_number", "confidence", "reasons")


def _differences(con: duckdb.DuckDBPyConnection, before: Path, after: Path) -> int:
    con.execute(f"""CREATE TABLE b AS SELECT * REPLACE (list_sort(reasons) AS reasons)
                    FROM read_parquet('{before}')""")
    con.execute(f"""CREATE TABLE a AS SELECT * REPLACE (list_sort(reasons) AS reasons)
                    FROM read_parquet('{after}')""")
    counts = con.execute("SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM a), "
                         "(SELECT count(*) FROM b FULL JOIN a USING (record_id) "
                         " WHERE a.record_id IS NULL OR b.record_id IS NULL)").fetchall()[0]
    print(f"records: before {counts[0]:,}, after {counts[1]:,}, in one only {counts[2]:,}")
    different = counts[2]
    for column in RESULT_COLUMNS:
        # confidence is a float computed by the same SQL: compared to 1e-12
        test = ("abs(b.confidence - a.confidence) > 1e-12" if column == "confidence"
                else f"b.{column} IS DISTINCT FROM a.{column}")
        rows = con.execute(f"""SELECT b.record_id, b.{column}, a.{column}
                              FROM b JOIN a USING (record_id) WHERE {test}""").fetchall()
        different += len(rows)
        print(f"{column}: {len(rows):,} records differ" + (f", e.g. {rows[:3]}" if rows else ""))
    return different


def _review_differences(con: duckdb.DuckDBPyConnection, before: Path, after: Path) -> int:
    query = """SELECT record_id, rank, person_id, round(match_probability, 12) AS p,
                      comparison, list_sort(reasons) AS reasons
               FROM read_parquet('{}')"""
    rows = con.execute(f"""
        (({query.format(before)}) EXCEPT ALL ({query.format(after)}))
        UNION ALL
        (({query.format(after)}) EXCEPT ALL ({query.format(before)}))""").fetchall()
    print(f"review candidates: {len(rows):,} rows in one run only"
          + (f", e.g. {rows[:3]}" if rows else ""))
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    con = duckdb.connect()
    different = _differences(con, args.before, args.after)
    review = [path.parent / "review_candidates.parquet" for path in (args.before, args.after)]
    if all(path.is_file() for path in review):
        different += _review_differences(con, *review)
    print("IDENTICAL" if different == 0 else "DIFFERENT")
    sys.exit(0 if different == 0 else 1)


if __name__ == "__main__":
    main()
