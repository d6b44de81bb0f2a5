"""The exact path writes its candidates without the verdict rules: they must say what the rules
would say of the same pairs."""

from __future__ import annotations

from typing import Any

from tests.pipeline.match.std_tables import load, person, record
from vaxtrust.engine import Engine
from vaxtrust.pipeline.match import CANDIDATE_COLUMNS
from vaxtrust.pipeline.match.compare import explain_pairs_sql
from vaxtrust.pipeline.match.exact import exact_candidates_sql

HUNG = person("001080000001", "Nguyễn Văn Hùng", "1980-05-12", "M", phone="0912345678")
HOA = dict(person("079192000002", "Lê Thị Hoà", "1992-03-07", "F"),
           name_flags=["name_tone_style"])
REGISTER = [HUNG, HOA]


def _rows(engine: Engine, sql: str) -> list[dict[str, Any]]:
    rows = engine.query(f"SELECT {', '.join(CANDIDATE_COLUMNS)} FROM ({sql}) "
                        "ORDER BY record_id").to_pylist()
    return [dict(row, reasons=list(row["reasons"])) for row in rows]


def test_exact_candidates_are_the_explained_pairs(engine: Engine) -> None:
    records = [
        record("r1", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001"),
        # the ID typed without its leading zero, repaired by the standardiser
        record("r2", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001",
               id_repairs=["id_leading_zero_lost"], phone="0987654321", commune="00002"),
        record("r3", "Lê Thị Hoà", "1992-03-07", "F", "079192000002"),  # the register's style
        dict(record("r4", "Lê Thị Hoà", "1992-03-07", "F", "079192000002"),
             name_flags=["name_tone_style"]),
        dict(record("r5", "Nguyễn Văn Hùng", "1980-05-12", "M", "001080000001",
                    id_repairs=["id_scientific_notation"]), name_flags=["name_tone_style"]),
        record("r6", "Nguyễn Văn Hưng", "1980-05-12", "M", "001080000001"),  # not exact
    ]
    load(engine, records, REGISTER)
    engine.create_table("open_records", "SELECT record_id FROM std_records")
    exact = _rows(engine, exact_candidates_sql("open_records"))

    assert [row["record_id"] for row in exact] == ["r1", "r2", "r3", "r4", "r5"]
    engine.create_table("exact_pairs", """
        SELECT record_id, person_id, 'exact' AS path, 'equal' AS id_verdict, 1.0 AS id_factor,
            CAST(NULL AS DOUBLE) AS probability
        FROM (SELECT record_id, id_clean AS person_id FROM std_records
              WHERE record_id IN ('r1', 'r2', 'r3', 'r4', 'r5'))""")
    assert exact == _rows(engine, explain_pairs_sql("exact_pairs"))
    reasons = {row["record_id"]: row["reasons"] for row in exact}
    assert reasons == {"r1": [], "r2": ["id_leading_zero_lost"], "r3": ["name_tone_style"],
                       "r4": [], "r5": ["id_scientific_notation", "name_tone_style"]}
    assert {row["match_probability"] for row in exact} == {1.0}
