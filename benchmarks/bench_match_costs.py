"""What single pieces of the cleaning run cost: the edit distance of names, the run folder's
Parquet compression, and the probabilistic path's steps (issue 13, speed).

    uv run python benchmarks/bench_match_costs.py edit-distance [--pairs 2000000]
    uv run python benchmarks/bench_match_costs.py compression RUN_FOLDER
    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/bench_match_costs.py phases DATA OUT

To time another version of the code: ``git archive REV src | tar -x -C /tmp/REV`` and run with
``PYTHONPATH=/tmp/REV/src``.

``edit-distance`` times "within two edits" over generated pairs of folded names: DuckDB's
Damerau-Levenshtein, Levenshtein, and the bounded form the matcher uses
(``compare.at_most_two_edits_sql``), and checks that the bounded form gives the same answer.
``compression`` writes a run folder's records.parquet again with each codec and prints seconds
and size. ``phases`` runs ``clean`` on ``DATA/records.csv`` against ``DATA/register.parquet``
and prints wall and CPU seconds at every stage boundary and progress message (the probabilistic
path reports its inputs, u estimate, m estimate and predict).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from vaxtrust.pipeline.run import clean

# Folded names as the register holds them: pairs of these are mostly two different people.
_SURNAMES = ["NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "HUYNH", "VU", "VO", "DANG", "BUI"]
_MIDDLES = ["VAN", "THI", "DUC", "NGOC", "THU", "MINH", "THANH", "GIA", "", "THI NGOC"]
_GIVENS = ["HUNG", "LAN", "ANH", "BINH", "DUNG", "HOA", "TUAN", "MAI", "SON", "HUONG", "TUNG"]


def _seconds(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, float, list[tuple]]:
    wall, cpu = time.perf_counter(), time.process_time()
    rows = con.execute(sql).fetchall()
    return time.perf_counter() - wall, time.process_time() - cpu, rows


def edit_distance(pairs: int) -> None:
    # here, not at the top: `phases` also runs on versions of the code from before it
    from vaxtrust.pipeline.match.compare import at_most_two_edits_sql

    con = duckdb.connect()
    con.execute("SET threads = 2")
    words = {"s": _SURNAMES, "m": _MIDDLES, "g": _GIVENS}
    for name, values in words.items():
        con.execute(f"CREATE TABLE {name} AS SELECT unnest(?) AS w, "
                    "generate_subscripts(?, 1) - 1 AS i", [values, values])
    name = ("(SELECT s.w FROM s WHERE s.i = hash(k || '{side}s') % 10) || ' ' || "
            "(SELECT m.w FROM m WHERE m.i = hash(k || '{side}m') % 10) || ' ' || "
            "(SELECT g.w FROM g WHERE g.i = hash(k || '{side}g') % 11)")
    con.execute(f"""CREATE TABLE p AS SELECT replace({name.format(side='a')}, '  ', ' ') AS a,
                    replace({name.format(side='b')}, '  ', ' ') AS b
                    FROM (SELECT CAST(range AS VARCHAR) AS k FROM range({pairs}))""")
    forms = {"damerau_levenshtein <= 2": "damerau_levenshtein(a, b) <= 2",
             "levenshtein <= 2": "levenshtein(a, b) <= 2",
             "bounded (the matcher's)": at_most_two_edits_sql("a", "b")}
    for label, condition in forms.items():
        # inside CASE WHEN, as Splink's levels and the verdicts use it: DuckDB then evaluates
        # the OR and AND selectively (in an aggregate's FILTER it computes every operand)
        wall, cpu, rows = _seconds(
            con, f"SELECT sum(CASE WHEN {condition} THEN 1 ELSE 0 END) FROM p")
        print(f"{label:26s} {wall:6.2f} s wall {cpu:6.2f} s CPU  within two edits: {rows[0][0]:,}")
    differ = con.execute(f"SELECT count(*) FROM p WHERE ({at_most_two_edits_sql('a', 'b')}) "
                         "IS DISTINCT FROM (damerau_levenshtein(a, b) <= 2)").fetchall()[0][0]
    print(f"{pairs:,} pairs; the bounded form differs from Damerau-Levenshtein on {differ}")


def compression(run_folder: Path) -> None:
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(f"CREATE TABLE r AS SELECT * FROM read_parquet('{run_folder / 'records.parquet'}')")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "records.parquet"
        for codec in ("zstd", "zstd, COMPRESSION_LEVEL 1", "snappy"):
            wall, cpu, _ = _seconds(con, f"COPY r TO '{out}' (FORMAT parquet, "
                                         f"COMPRESSION {codec})")
            print(f"{codec:26s} {wall:6.2f} s wall {cpu:6.2f} s CPU "
                  f"{out.stat().st_size / 1e6:7.1f} MB")


class _TimedConsole:
    """Prints wall and CPU seconds since the start at each stage boundary and message."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def _print(self, *what: object) -> None:
        print(f"{time.perf_counter() - self.wall:8.1f} s wall {time.process_time() - self.cpu:8.1f}"
              " s CPU ", *what, flush=True)

    def stage_started(self, stage: str, total: int | None = None) -> None:
        self._print("start", stage)

    def rows_processed(self, stage: str, rows: int) -> None:
        pass

    def stage_finished(self, stage: str, rows: int | None = None) -> None:
        self._print("end", stage)

    def message(self, text: str) -> None:
        self._print(text)


def phases(data: Path, out: Path) -> None:
    clean([data / "records.csv"], data / "register.parquet", out, console=_TimedConsole())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    edit = commands.add_parser("edit-distance")
    edit.add_argument("--pairs", type=int, default=2_000_000)
    commands.add_parser("compression").add_argument("run_folder", type=Path)
    phase = commands.add_parser("phases")
    phase.add_argument("data", type=Path)
    phase.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "edit-distance":
        edit_distance(args.pairs)
    elif args.command == "compression":
        compression(args.run_folder)
    else:
        phases(args.data, args.out)


if __name__ == "__main__":
    main()
