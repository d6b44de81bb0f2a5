"""The cheap form of "within two edits" agrees with Damerau-Levenshtein on every kind of pair."""

from __future__ import annotations

import itertools

from vaxtrust.engine import Engine
from vaxtrust.pipeline.match.compare import at_most_two_edits_sql

NAMES = [
    "NGUYEN VAN HUNG", "NGUYEN VAN HUGN", "NGUYEN VNA HUGN",  # one and two transpositions
    "NUGYEN VAN HUGN",  # three transpositions: Levenshtein 6, Damerau-Levenshtein 3
    "NGUYEN VAN HUNGG", "NGUYEN VA HUNG", "NGUYEN VAN", "NGUYEN THI HUNG", "NGUEYN VAN HNUG",
    "TRAN DUC THANH", "NGUYEN", "", "ABCD", "BADC", "ACBD", "ABDC", "ABCDEF", "BADCFE",
]


def test_matches_damerau_levenshtein_on_every_pair(engine: Engine) -> None:
    values = ", ".join(f"('{a}', '{b}')" for a, b in itertools.product(NAMES, repeat=2))
    rows = engine.query(f"""
        SELECT a, b, damerau_levenshtein(a, b) AS distance,
               {at_most_two_edits_sql('a', 'b')} AS cheap
        FROM (VALUES {values}, (NULL, 'AN'), ('AN', NULL)) AS pairs(a, b)""").to_pylist()
    differ = [row for row in rows
              if row["cheap"] != (None if row["distance"] is None else row["distance"] <= 2)]
    assert differ == []
    # the pairs whose Levenshtein distance (3 or 4) leaves the answer to Damerau-Levenshtein
    assert {("ABCD", "BADC"), ("NGUYEN VAN HUNG", "NGUYEN VNA HUGN")} <= {
        (row["a"], row["b"]) for row in rows if row["cheap"] and row["distance"] == 2}
