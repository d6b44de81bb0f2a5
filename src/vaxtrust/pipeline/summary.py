"""The run summary: counts per status and reason, per province and facility, and the inputs.

It is written as ``summary.json`` and printed as tables by the CLI. ``rows_in = accepted +
rejected`` holds for every input file and in total.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vaxtrust.engine import Engine
from vaxtrust.ingest.load import SourceCount
from vaxtrust.pipeline.match.calibrate import calibration_summary
from vaxtrust.schema import Status

STATUS_ORDER = tuple(status.value for status in Status)


@dataclass
class InputTotals:
    rows_in: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates_collapsed: int = 0

    @classmethod
    def of(cls, counts: list[SourceCount]) -> InputTotals:
        return cls(*(sum(getattr(c, name) for c in counts)
                     for name in ("rows_in", "accepted", "rejected", "duplicates_collapsed")))


@dataclass
class RunSummary:
    """What a cleaning run did, in numbers; ``summary.json`` holds exactly this."""

    run_id: str
    out_dir: str
    records: InputTotals
    register: InputTotals
    sources: list[dict[str, Any]]
    results: int
    by_status: dict[str, int]
    by_reason: dict[str, int]
    rejects_by_reason: dict[str, int]
    by_province: list[dict[str, Any]]
    by_facility: list[dict[str, Any]]
    review_candidates: int
    persons_with_doses: int
    dose_history_rows: int
    dose_flags: dict[str, int]
    outputs: dict[str, str]
    stage_seconds: dict[str, float] = field(default_factory=dict)
    evaluation: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    """Calibrated links: expected wrong links per path and band (pipeline.match.calibrate)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, default=str)

    def write(self, path: Path) -> None:
        """Write ``summary.json`` whole or not at all."""
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(self.to_json() + "\n", encoding="utf-8")
        os.replace(partial, path)

    @classmethod
    def read(cls, path: Path) -> RunSummary:
        data = json.loads(path.read_text(encoding="utf-8"))
        data.setdefault("run_id", "")  # summaries written before runs had ids
        data["records"] = InputTotals(**data["records"])
        data["register"] = InputTotals(**data["register"])
        return cls(**data)


def _counts(engine: Engine, sql: str) -> dict[str, int]:
    rows = engine.query(sql, stage="summary").to_pylist()
    return {str(row["key"]): int(row["n"]) for row in rows}


def _status_pivot(engine: Engine, group: str) -> list[dict[str, Any]]:
    """Per ``group`` (province / facility): total and count per status, largest first."""
    pivots = ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS {s}" for s in STATUS_ORDER)
    return engine.query(f"""
        SELECT coalesce({group}, '(unknown)') AS {group}, count(*) AS total, {pivots}
        FROM __summary_places GROUP BY ALL ORDER BY total DESC, {group}
    """, stage="summary").to_pylist()


def summarise(engine: Engine, run_id: str, out_dir: Path, sources: list[SourceCount],
              outputs: dict[str, str], stage_seconds: dict[str, float]) -> RunSummary:
    """Count what the run's tables hold (``results``, ``rejects``, ``dose_history``, ...)."""
    engine.create_table("__summary_places", """
        SELECT res.status, coalesce(std.province_code, raw.province, rej.province) AS province,
               coalesce(raw.facility_id, rej.facility_id) AS facility
        FROM results AS res
        LEFT JOIN raw_records AS raw USING (record_id)
        LEFT JOIN std_records AS std USING (record_id)
        LEFT JOIN rejected_records AS rej USING (record_id)
    """, stage="summary")
    by_status = {status: 0 for status in STATUS_ORDER}
    by_status.update(_counts(engine, "SELECT status AS key, count(*) AS n FROM results GROUP BY 1"))
    summary = RunSummary(
        run_id=run_id,
        out_dir=str(out_dir),
        records=InputTotals.of([c for c in sources if c.kind == "records"]),
        register=InputTotals.of([c for c in sources if c.kind == "register"]),
        sources=[asdict(c) for c in sources],
        results=engine.count("results"),
        by_status=by_status,
        by_reason=_counts(engine, "SELECT reason AS key, count(*) AS n FROM "
                          "(SELECT unnest(reasons) AS reason FROM results) GROUP BY 1 "
                          "ORDER BY n DESC, key"),
        rejects_by_reason=_counts(engine, "SELECT reason AS key, count(*) AS n FROM rejects "
                                  "GROUP BY 1 ORDER BY n DESC, key"),
        by_province=_status_pivot(engine, "province"),
        by_facility=_status_pivot(engine, "facility"),
        review_candidates=engine.count("review_candidates"),
        persons_with_doses=int(engine.query(
            "SELECT count(DISTINCT person_id) AS n FROM dose_history").column("n")[0].as_py()),
        dose_history_rows=engine.count("dose_history"),
        dose_flags=_counts(engine, "SELECT flag AS key, count(*) AS n FROM "
                           "(SELECT unnest(flags) AS flag FROM dose_history) GROUP BY 1 "
                           "ORDER BY n DESC, key"),
        outputs=outputs,
        stage_seconds=stage_seconds,
        calibration=calibration_summary(engine),
    )
    engine.drop("__summary_places")
    return summary
