"""Where a cleaning run spends its time: every SQL statement timed, with the rows it wrote.

    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/profile_clean.py DATA_DIR OUT_DIR \
        [--top 25] [--explain TABLE]

Runs ``vaxtrust.pipeline.run.clean`` on ``DATA_DIR/records.csv`` against
``DATA_DIR/register.parquet`` with a DuckDB engine that times each statement it runs (Splink's
own statements run on the same connection and show as the time between ours, as
``(between)``; they are also timed one by one, the largest printed; the engine's own statements
outside a stage, reading the CSV and writing Parquet, show as ``(engine)``). Prints the stage times,
then the statements that took most CPU time (steadier than wall time on a shared machine) with
the size of the table each created. ``--explain TABLE``
prints DuckDB's EXPLAIN ANALYZE of the statement that created TABLE, run once more right after
it (each time it is created). It also counts the pairs each blocking rule of the probabilistic
path makes, and its largest block. To see how stages grow, run it at 1 M, 2 M and 4 M.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vaxtrust.engine.duckdb import DuckDBEngine
from vaxtrust.pipeline.match.probabilistic import BLOCKING_RULES
from vaxtrust.pipeline.run import clean

_CREATED = re.compile(r"^\s*CREATE (?:OR REPLACE )?TABLE (\w+) AS", re.IGNORECASE)


class _TimedEngine(DuckDBEngine):
    """DuckDB that remembers how long each statement took and what it created."""

    _inside_stage = False  # a stage's statement runs through _run too: timed once, as the stage's

    def __init__(self, explain: list[str], **options: Any) -> None:
        super().__init__(**options)
        self.timings: list[tuple[str, str, float, float, int | None]] = []
        # after each statement: DuckDB's memory in use and its spill on disk (bytes), by stage
        self.memory: dict[str, tuple[int, int]] = {}
        self.explain = explain
        self.plans: list[tuple[str, str]] = []
        self.pairs: list[tuple[str, int, int, str]] = []
        self.splink_timings: list[tuple[str, float, float]] = []  # Splink's statements
        self._last_end = (time.perf_counter(), time.process_time())

    def _run(self, sql: str) -> None:
        """The engine's own statements outside a stage (reading a CSV, writing Parquet)."""
        if self._inside_stage:
            return super()._run(sql)
        start = (time.perf_counter(), time.process_time())
        super()._run(sql)
        seconds, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
        if seconds > 0.5:
            self.timings.append(("(engine)", " ".join(sql.split())[:110], seconds, cpu, None))
            self._last_end = (time.perf_counter(), time.process_time())

    def _in_stage(self, stage: str, sql: str, action: Callable[[str], Any]) -> Any:
        start = (time.perf_counter(), time.process_time())
        if start[0] - self._last_end[0] > 0.5:  # time outside our statements: Splink, Python
            self.timings.append(("(between)", f"(Splink or Python, before a {stage} statement)",
                                 start[0] - self._last_end[0], start[1] - self._last_end[1],
                                 None))
        self._inside_stage = True
        try:
            result = super()._in_stage(stage, sql, action)
        finally:
            self._inside_stage = False
        seconds, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
        rows = None
        created = _CREATED.match(sql)
        if created:
            if created[1] in self.explain:  # run once more, profiled
                plan = self.connection.execute(
                    "EXPLAIN ANALYZE " + _CREATED.sub("", sql, count=1)).fetchall()
                self.plans.append((created[1], plan[0][1]))
            rows = int(self.connection.execute(f"SELECT count(*) FROM {created[1]}")
                       .fetchall()[0][0])
        if "VIEW match_splink_register" in sql:  # Splink's inputs are ready: count its pairs
            self.pairs = _blocked_pairs(self.connection)
        self.timings.append((stage, " ".join(sql.split())[:110], seconds, cpu, rows))
        used, spilled = self.connection.execute(
            "SELECT sum(memory_usage_bytes), sum(temporary_storage_bytes) FROM duckdb_memory()"
        ).fetchall()[0]
        peak = self.memory.get(stage, (0, 0))
        self.memory[stage] = (max(peak[0], int(used or 0)), max(peak[1], int(spilled or 0)))
        self._last_end = (time.perf_counter(), time.process_time())
        return result

    def splink_db_api(self) -> Any:
        """Splink's DuckDB API on this connection, each of its statements timed too."""
        from splink import DuckDBAPI

        timings = self.splink_timings

        class _TimedAPI(DuckDBAPI):
            def _execute_sql_against_backend(self, final_sql: str) -> Any:
                start = (time.perf_counter(), time.process_time())
                result = super()._execute_sql_against_backend(final_sql)
                timings.append((" ".join(final_sql.split())[:110],
                                time.perf_counter() - start[0], time.process_time() - start[1]))
                return result

        return _TimedAPI(connection=self.connection)


def _terms(rule: str) -> list[str]:
    """The terms of a rule's top-level AND (a parenthesised OR stays one term)."""
    terms, depth, start = [], 0, 0
    for at, char in enumerate(rule):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and rule.startswith(" AND ", at):
            terms.append(rule[start:at])
            start = at + len(" AND ")
    return [*terms, rule[start:]]


def _blocked_pairs(connection: Any) -> list[tuple[str, int, int, str]]:
    """Per blocking rule of the probabilistic path: the (open record, register person) pairs it
    makes, and its largest block (pairs, key). An equality rule is counted by key without making
    the pairs; a rule that also filters its pairs is counted by joining."""
    found = []
    for rule in BLOCKING_RULES:
        terms = _terms(rule)
        sides = [term.split(" = ") for term in terms if re.fullmatch(r"l\.\w+ = r\.\w+", term)]
        left = ", ".join(f"{a.removeprefix('l.')} AS k{i}" for i, (a, _) in enumerate(sides))
        right = ", ".join(f"{b.removeprefix('r.')} AS k{i}" for i, (_, b) in enumerate(sides))
        on = " AND ".join(f"l.k{i} = r.k{i}" for i in range(len(sides)))
        if len(sides) == len(terms):
            query = f"""
            WITH l AS (SELECT {left}, count(*) AS n FROM match_splink_records WHERE is_open
                       GROUP BY ALL),
                 r AS (SELECT {right}, count(*) AS n FROM match_splink_register GROUP BY ALL)
            SELECT sum(l.n * r.n), max(l.n * r.n), CAST(arg_max(l, l.n * r.n) AS VARCHAR)
            FROM l JOIN r ON {on}"""
        else:
            keys = ", ".join(f"{a} AS k{i}" for i, (a, _) in enumerate(sides))
            query = f"""
            WITH blocks AS (
                SELECT {keys}, count(*) AS n
                FROM (SELECT * FROM match_splink_records WHERE is_open) AS l
                JOIN match_splink_register AS r ON {rule}
                GROUP BY ALL)
            SELECT sum(n), max(n), CAST(arg_max(blocks, n) AS VARCHAR) FROM blocks"""
        total, largest, key = connection.execute(query).fetchall()[0]
        found.append((rule, int(total or 0), int(largest or 0), str(key)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--explain", action="append", default=[])
    args = parser.parse_args()
    engine = _TimedEngine(args.explain, temp_directory=args.out.parent / f".{args.out.name}.spill")
    summary = clean([args.data / "records.csv"], args.data / "register.parquet", args.out,
                    engine=engine)
    print("stages:", summary.stage_seconds)
    per_stage: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for stage, _, seconds, cpu, _ in engine.timings:
        per_stage[stage][0] += seconds
        per_stage[stage][1] += cpu
    print("per statement stage (wall, CPU s):", {
        k: (round(v[0], 1), round(v[1], 1))
        for k, v in sorted(per_stage.items(), key=lambda kv: -kv[1][1])[:25]})
    print("DuckDB memory / spill after a statement, most per stage (GB):", {
        k: (round(v[0] / 2**30, 2), round(v[1] / 2**30, 2)) for k, v in engine.memory.items()})
    print("   wall      CPU         rows")
    for stage, sql, seconds, cpu, rows in sorted(engine.timings, key=lambda t: -t[3])[:args.top]:
        print(f"{seconds:7.2f} s {cpu:7.2f} s {rows if rows is not None else '':>11}  "
              f"[{stage}] {sql}")
    splink = engine.splink_timings
    print(f"Splink's statements: {sum(t[1] for t in splink):.1f} s wall, "
          f"{sum(t[2] for t in splink):.1f} s CPU; the largest:")
    for sql, seconds, cpu in sorted(splink, key=lambda t: -t[2])[:5]:
        print(f"{seconds:7.2f} s {cpu:7.2f} s  {sql}")
    for rule, total, largest, key in engine.pairs:
        print(f"pairs {total:>13,}  largest block {largest:>10,} {key}  <- {rule}")
    for table, plan in engine.plans:
        print(f"\n== EXPLAIN ANALYZE {table}\n{plan}")
    engine.close()


if __name__ == "__main__":
    main()
