"""Would other blocking rules find every pair the probabilistic path keeps? And at what cost?

    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/blocking_coverage.py DATA_DIR OUT_DIR \
        [--rule SQL ...]

Runs ``vaxtrust.pipeline.run.clean`` on ``DATA_DIR/records.csv`` against
``DATA_DIR/register.parquet``. When Splink's scored pairs are written (``match_splink_pairs``:
every pair at or above the candidate floor), it evaluates the given rules (default: the current
``BLOCKING_RULES``) on each of those pairs and prints how many no rule finds, by probability, and
the pairs each rule generates over the open records. Splink's scores do not depend on the
blocking (u is sampled at random, m comes from labelled pairs), so rules that find every kept
pair change no decision: only the pairs below the floor, which nothing reads, go.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vaxtrust.engine.duckdb import DuckDBEngine
from vaxtrust.pipeline.match.probabilistic import BLOCKING_RULES
from vaxtrust.pipeline.run import clean

_BANDS = (("≥ 0.01", 0.01), ("≥ 0.30", 0.30), ("≥ 0.90", 0.90))


class _CoverageEngine(DuckDBEngine):
    def __init__(self, rules: list[str], **options: Any) -> None:
        super().__init__(**options)
        self.rules = rules

    def _in_stage(self, stage: str, sql: str, action: Callable[[str], Any]) -> Any:
        result = super()._in_stage(stage, sql, action)
        if sql.lstrip().startswith("CREATE TABLE match_splink_pairs AS"):
            self._report()
        return result

    def _report(self) -> None:
        found = " OR ".join(f"coalesce({rule}, false)" for rule in self.rules)
        kept = ", ".join(f"count(*) FILTER (WHERE p.probability >= {floor})" for _, floor in _BANDS)
        lost = ", ".join(f"count(*) FILTER (WHERE NOT ({found}) AND p.probability >= {floor})"
                         for _, floor in _BANDS)
        counts = self.connection.execute(f"""
            SELECT {kept}, {lost}
            FROM match_splink_pairs AS p
            JOIN match_splink_records AS l ON l.unique_id = p.record_id
            JOIN match_splink_register AS r ON r.unique_id = p.person_id""").fetchall()[0]
        bands = len(_BANDS)
        for title, figures in (("kept pairs", counts[:bands]),
                               ("found by no rule", counts[bands:])):
            print(f"{title}: " + ", ".join(f"{n:,} ({label})" for (label, _), n
                                           in zip(_BANDS, figures, strict=True)), flush=True)
        for rule in self.rules:
            pairs = self.connection.execute(
                "SELECT count(*) FROM match_splink_records AS l "
                f"JOIN match_splink_register AS r ON {rule} WHERE l.is_open").fetchall()[0][0]
            print(f"pairs {pairs:>12,}  <- {rule}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--rule", action="append", default=[],
                        help="a blocking rule (l = record, r = register); default: the current")
    args = parser.parse_args()
    engine = _CoverageEngine(args.rule or list(BLOCKING_RULES),
                             temp_directory=args.out.with_name(args.out.name + ".spill"))
    try:
        clean([args.data / "records.csv"], args.data / "register.parquet", args.out,
              engine=engine)
    finally:
        engine.close()


if __name__ == "__main__":
    main()
