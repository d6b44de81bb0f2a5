"""Ranking a record's candidates: one row per person, the best first, whatever paths proposed them."""

from __future__ import annotations

import pyarrow as pa

from vaxtrust.engine import create_engine
from vaxtrust.pipeline.match.guards import ranked_candidates_sql


def _ranked(rows: list[tuple[str, str, str, float]]) -> list[tuple[str, int, str, str, float]]:
    candidates = pa.table({
        "record_id": [r[0] for r in rows], "person_id": [r[1] for r in rows],
        "path": [r[2] for r in rows], "match_probability": [r[3] for r in rows],
        "reasons": pa.array([[r[2]] for r in rows], pa.list_(pa.string())),
    })
    with create_engine("duckdb") as engine:
        engine.register("candidates", candidates)
        engine.create_table("ranked", ranked_candidates_sql("candidates"))
        ranked = engine.query("SELECT record_id, rank, person_id, path, match_probability, "
                              "reasons FROM ranked ORDER BY record_id, rank").to_pylist()
    for row in ranked:  # the row kept is the candidate row itself, reasons and all
        assert row["reasons"] == [row["path"]]
    return [(r["record_id"], r["rank"], r["person_id"], r["path"], r["match_probability"])
            for r in ranked]


def test_a_record_with_one_candidate_has_it_first() -> None:
    assert _ranked([("r1", "p1", "exact", 0.2)]) == [("r1", 1, "p1", "exact", 0.2)]


def test_a_person_proposed_by_several_paths_keeps_the_best_pair_once() -> None:
    assert _ranked([
        ("r1", "p1", "probabilistic", 0.91),
        ("r1", "p1", "id_repair", 0.95),
        ("r1", "p2", "probabilistic", 0.93),
        ("r2", "p3", "probabilistic", 0.99),
        ("r2", "p3", "exact", 0.99),  # a tie: the stronger evidence's path stays
    ]) == [
        ("r1", 1, "p1", "id_repair", 0.95),
        ("r1", 2, "p2", "probabilistic", 0.93),
        ("r2", 1, "p3", "exact", 0.99),
    ]


def test_equal_candidates_of_one_path_are_ranked_by_person_id() -> None:
    assert _ranked([
        ("r1", "p9", "probabilistic", 0.5),
        ("r1", "p2", "probabilistic", 0.5),
        ("r1", "p5", "probabilistic", 0.7),
        ("r2", "p1", "exact", 1.0),
    ]) == [
        ("r1", 1, "p5", "probabilistic", 0.7),
        ("r1", 2, "p2", "probabilistic", 0.5),
        ("r1", 3, "p9", "probabilistic", 0.5),
        ("r2", 1, "p1", "exact", 1.0),
    ]
