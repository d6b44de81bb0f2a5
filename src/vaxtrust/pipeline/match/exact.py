"""Exact authentication: ID, name, date of birth and gender equal after canonicalisation.

This is the authentication the population register performs itself; most records end here.
"""

from __future__ import annotations


def exact_pairs_sql(open_records: str) -> str:
    """Pairs whose four identity fields equal the register person's of that ID."""
    return f"""
SELECT r.record_id, p.person_id, 'exact' AS path, 'equal' AS id_verdict, 1.0 AS id_factor,
    CAST(NULL AS DOUBLE) AS probability
FROM {open_records} AS o
JOIN std_records AS r ON r.record_id = o.record_id
JOIN std_register AS p
  ON p.person_id = r.id_clean
 AND p.name_canonical = r.name_canonical
 AND p.dob = r.dob AND p.dob_precision = r.dob_precision
 AND p.gender = r.gender
"""
