"""The cheap forms of "within two edits" and "within one edit" agree with Damerau-Levenshtein on
every kind of pair."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from vaxtrust.engine import Engine
from vaxtrust.pipeline.match.compare import at_most_one_edit_sql, at_most_two_edits_sql

NAMES = [
    "NGUYEN VAN HUNG", "NGUYEN VAN HUGN", "NGUYEN VNA HUGN",  # one and two transpositions
    "NUGYEN VAN HUGN",  # three transpositions: Levenshtein 6, Damerau-Levenshtein 3
    "NGUYEN VAN HUNGG", "NGUYEN VA HUNG", "NGUYEN VAN", "NGUYEN THI HUNG", "NGUEYN VAN HNUG",
    "TRAN DUC THANH", "NGUYEN", "", "ABCD", "BADC", "ACBD", "ABDC", "ABCDEF", "BADCFE",
    "ABC", "ABCDE", "ABCDEFG",  # lengths one, two and three apart
]


def _pairs(engine: Engine, cheap: str) -> list[dict[str, Any]]:
    values = ", ".join(f"('{a}', '{b}')" for a, b in itertools.product(NAMES, repeat=2))
    return engine.query(f"""
        SELECT a, b, damerau_levenshtein(a, b) AS distance, {cheap} AS cheap
        FROM (VALUES {values}, (NULL, 'AN'), ('AN', NULL)) AS pairs(a, b)""").to_pylist()


@pytest.mark.parametrize(("cheap", "edits"), [(at_most_two_edits_sql, 2),
                                              (at_most_one_edit_sql, 1)])
def test_matches_damerau_levenshtein_on_every_pair(
        engine: Engine, cheap: Callable[[str, str], str], edits: int) -> None:
    rows = _pairs(engine, cheap("a", "b"))
    differ = [row for row in rows if row["cheap"] != (
        None if row["distance"] is None else row["distance"] <= edits)]
    assert differ == []
    assert any(row["cheap"] for row in rows if row["a"] != row["b"])


def test_the_pairs_levenshtein_leaves_open_are_settled_by_damerau_levenshtein(
        engine: Engine) -> None:
    # Levenshtein 3 or 4, Damerau-Levenshtein 2: transpositions
    rows = _pairs(engine, at_most_two_edits_sql("a", "b"))
    assert {("ABCD", "BADC"), ("NGUYEN VAN HUNG", "NGUYEN VNA HUGN")} <= {
        (row["a"], row["b"]) for row in rows if row["cheap"] and row["distance"] == 2}
