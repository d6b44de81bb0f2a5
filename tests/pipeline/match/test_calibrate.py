"""Calibrated link probabilities: learned from the run's own pairs, and the error-rate threshold."""

from __future__ import annotations

import random

import pytest

from tests.pipeline.match.test_probabilistic import as_record, population, run
from vaxtrust.engine import Engine
from vaxtrust.pipeline.match import MatchSettings
from vaxtrust.pipeline.match.calibrate import (
    CALIBRATION,
    NULL_LEVEL,
    Level,
    Pattern,
    calibration_summary,
    estimate,
)

# Two comparisons as the trained model gives them: name (agree, differ) and phone (agree,
# differ). u comes from random register pairs: a shared phone looks like proof.
LEVELS = [
    Level(0, 0, '"name_l" IS NULL', None, None),
    Level(0, 1, "name_l = name_r", 0.95, 0.01),
    Level(0, 2, "ELSE", 0.05, 0.99),
    Level(1, 0, '"phone_l" IS NULL', None, None),
    Level(1, 1, "phone_l = phone_r", 0.9, 0.00001),
    Level(1, 2, "ELSE", 0.1, 0.99999),
]


def _patterns(right: int, wrong: int, seed: int = 7) -> list[Pattern]:
    """Best candidates of one path: ``right`` right persons (name and phone agree as m says)
    and ``wrong`` relatives (other name, the household's phone half of the time)."""
    rng = random.Random(seed)
    counts: dict[tuple[int, ...], int] = {}
    for _ in range(right):
        key = (1 if rng.random() < 0.95 else 2, 1 if rng.random() < 0.9 else 2)
        counts[key] = counts.get(key, 0) + 1
    for _ in range(wrong):
        key = (1 if rng.random() < 0.02 else 2, 1 if rng.random() < 0.5 else 2)
        counts[key] = counts.get(key, 0) + 1
    return [Pattern("id_anchored", True, key, n) for key, n in counts.items()]


def test_the_share_of_right_pairs_is_learned_per_path() -> None:
    model = estimate(LEVELS, _patterns(right=9_000, wrong=1_000))
    assert model.priors["id_anchored"] == pytest.approx(0.9, abs=0.02)


def test_a_phone_shared_by_wrong_candidates_is_not_taken_for_proof() -> None:
    # Among random pairs a shared phone is one in 100,000; among the wrong persons the paths
    # propose (a household's) it is one in two, and the estimate says so.
    model = estimate(LEVELS, _patterns(right=9_000, wrong=1_000))
    assert model.u[(1, 1)] == pytest.approx(0.5, abs=0.1)
    assert model.log2_bayes_factor(1, 1) < 1.0


def test_a_field_unknown_on_either_side_weighs_nothing() -> None:
    patterns = [Pattern("probabilistic", True, (1, NULL_LEVEL), 500),
                Pattern("probabilistic", True, (2, NULL_LEVEL), 500)]
    model = estimate(LEVELS, patterns)
    assert (1, 0) not in model.m  # the null level has no m or u
    assert 0.0 < model.priors["probabilistic"] < 1.0


def test_every_link_carries_its_calibrated_probability_within_the_limit(engine: Engine) -> None:
    people = population(400)
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    lost = people[300]
    records.append(as_record("n1", lost, id_number=None, name=lost["name_fold"].title()))
    result = run(engine, records, people)
    settings = MatchSettings()
    links = [row for row in result.values() if row["status"] in ("verified", "corrected")]
    assert len(links) == 301
    assert all(1.0 - row["confidence"] <= settings.max_link_error for row in links)
    summary = calibration_summary(engine)
    assert summary is not None and summary["links"] == 301
    assert set(summary["path_priors"]) >= {"exact", "probabilistic"}
    bands = engine.to_arrow(CALIBRATION).to_pylist()
    assert sum(row["best_candidates"] for row in bands) == 301


def test_a_link_above_the_error_limit_goes_to_review_with_its_reason(engine: Engine) -> None:
    from tests.pipeline.match.std_tables import load
    from vaxtrust.console import RecordingConsole
    from vaxtrust.pipeline.decide import run_decide
    from vaxtrust.pipeline.match import run_matching

    people = population(400)
    records = [as_record(f"e{i}", who) for i, who in enumerate(people[:300])]
    lost = people[300]
    records.append(as_record("n1", lost, id_number=None, name=lost["name_fold"].title()))
    load(engine, records, people)
    strict = MatchSettings(max_link_error=0.0)  # only links the model calls certain
    run_matching(engine, strict, RecordingConsole())
    run_decide(engine, strict, RecordingConsole())
    rows = engine.to_arrow("decisions").to_pylist()
    held = [row for row in rows if row["status"] == "review"]
    assert held, "a limit of 0 holds back every link the model is not certain of"
    assert all("link_error_above_limit" in row["reasons"] and row["person_id"] is None
               for row in held)
    assert all(row["confidence"] == 1.0 for row in rows if row["person_id"] is not None)
    people_by_record = {f"e{i}": who["person_id"] for i, who in enumerate(people[:300])}
    people_by_record["n1"] = lost["person_id"]
    assert all(row["person_id"] in (None, people_by_record[row["record_id"]]) for row in rows)



# Folded name pairs reaching every level of the name comparison, and an unknown name.
_NAME_PAIRS = [
    ("NGUYEN VAN AN", "NGUYEN VAN AN"), ("VAN AN NGUYEN", "NGUYEN VAN AN"),
    ("HUYNH VAN AN", "HOANG VAN AN"), ("NGUYEN AN", "NGUYEN VAN AN"), ("TRAN THI THU HUONG", "TRAN THU HUONG"),
    ("NGUEN VAN AN", "NGUYEN VAN AN"), ("LE VAN BINH", "LE VAN BIHN"), ("NGO LU", "NGO THI LUC"),
    ("PHAM MINH", "HOANG LAN"),
    ("AN", "AN"), ("AN", "BINH"), (None, "NGUYEN VAN AN"),
]


def test_name_parts_computed_only_where_a_level_needs_them_give_the_same_levels() -> None:
    # The calibration writes the name parts (surname, given name, sorted tokens) into the
    # levels' conditions instead of splitting every candidate pair's names up front; each pair
    # must fall in the very level the precomputed parts give.
    import duckdb

    from vaxtrust.pipeline.match.calibrate import _name_parts_inline, gamma_sql
    from vaxtrust.pipeline.match.probabilistic import NAME_PARTS, _comparisons

    name = _comparisons()[0].get_comparison("duckdb")  # conditions as Splink writes them
    known = [None if level.is_null_level else 0.5 for level in name.comparison_levels]
    levels = [Level(0, n, level.sql_condition, known[n], known[n])
              for n, level in enumerate(name.comparison_levels)]
    inline = [Level(0, lv.level, _name_parts_inline(lv.sql_condition), lv.m, lv.u)
              for lv in levels]
    assert not any(part in lv.sql_condition for lv in inline for part in NAME_PARTS)
    con = duckdb.connect()
    con.execute("CREATE TABLE pairs (name_fold_l VARCHAR, name_fold_r VARCHAR)")
    con.executemany("INSERT INTO pairs VALUES (?, ?)", _NAME_PAIRS)
    parts = ", ".join(f"{part.format(name=f'name_fold_{side}')} AS {column}_{side}"
                      for column, part in NAME_PARTS.items() for side in "lr")
    precomputed = con.execute(f"SELECT name_fold_l, name_fold_r, {gamma_sql(levels)} FROM "
                              f"(SELECT *, {parts} FROM pairs) ORDER BY ALL").fetchall()
    assert con.execute(f"SELECT name_fold_l, name_fold_r, {gamma_sql(inline)} FROM pairs "
                       "ORDER BY ALL").fetchall() == precomputed
    assert {g for _, _, g in precomputed} == {NULL_LEVEL, 1, 2, 3, 4, 5, 6, 7, 8}
