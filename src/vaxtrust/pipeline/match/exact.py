"""Exact authentication: ID, name, date of birth and gender equal after canonicalisation.

This is the authentication the population register performs itself; most records end here, so the
path joins once and writes the comparison without running the verdict rules.
"""

from __future__ import annotations

from vaxtrust.pipeline.match.compare import PAIR_COLUMNS, explain_joined_sql


def exact_pairs_sql(open_records: str) -> str:
    """Pairs whose four identity fields equal the register person's of that ID."""
    return f"""
SELECT r.record_id, p.person_id, 'exact' AS path, 'equal' AS id_verdict, 1.0 AS id_factor,
    CAST(NULL AS DOUBLE) AS probability, {PAIR_COLUMNS}
FROM {open_records} AS o
JOIN std_records AS r ON r.record_id = o.record_id
JOIN std_register AS p
  ON p.person_id = r.id_clean
 AND p.name_canonical = r.name_canonical
 AND p.dob = r.dob AND p.dob_precision = r.dob_precision
 AND p.gender = r.gender"""


def exact_candidates_sql(open_records: str) -> str:
    """The exact pairs, explained (every verdict ``equal``)."""
    return explain_joined_sql(exact_pairs_sql(open_records), all_equal=True)
